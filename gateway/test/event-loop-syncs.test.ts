// A running gateway never waits on the disk on its event loop: with durability `full`, every write
// it makes while serving — a device's request, and the chain worker's associations, relays and
// batches — goes through the group commit, whose WAL sync runs on libuv's thread pool. A sync on
// the event loop (store.transaction, for the CLI) would stall every request for the length of an
// fsync (11–16 ms on this machine's disk under load). Read from the gateway's own counters
// (the count of iomt_gateway_store_wal_fsync_seconds by thread) on real gateways against anvil. The hierarchical
// anchoring's writes are checked in aggregation.test.ts. `enrolDevice` is the CLI's command, made
// on the gateway's store by these tests, so each count starts after it.
import { expect } from "chai";
import { enrolDevice, type RawSettings, type RunningGateway } from "../src/index.js";
import { metricValue } from "./support/admin.js";
import { createHarness, inclusionWith, type Harness } from "./support/harness.js";

const syncs = async (gateway: RunningGateway) => ({
  main: await metricValue(gateway, "iomt_gateway_store_wal_fsync_seconds_count", { thread: "main" }),
  pool: await metricValue(gateway, "iomt_gateway_store_wal_fsync_seconds_count", { thread: "pool" }),
});

describe("gateway: the event loop never waits for a WAL sync (durability full)", function () {
  this.timeout(120_000);
  let harness: Harness;

  before(async () => {
    harness = await createHarness();
  });

  after(async () => {
    await harness?.close();
  });

  /** Enrols a device (the CLI's step), then relays its association and has `count` of its messages reach `status` through `gateway`; the WAL syncs of that part. */
  async function serve(gateway: RunningGateway, status: "anchored" | "relayed", count: number) {
    const device = harness.device(`device of ${status}`);
    enrolDevice(gateway.store, { gid: harness.gid, oid: device.oid, address: device.account.address });
    const before = await syncs(gateway);
    const client = device.client(gateway.url);
    await client.keySession();
    await client.associate({ token: await client.getTicket() });
    expect((await client.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 })).status).to.equal("associated");
    const first = await client.getNextNonce();
    const receipts = await client.sendData({ messages: await Promise.all(Array.from({ length: count }, (_, i) => device.sign(first + BigInt(i)))) });
    for (const receipt of receipts) await inclusionWith(client, receipt, status);
    const after = await syncs(gateway);
    return { main: after.main - before.main, pool: after.pool - before.pool };
  }

  for (const [policy, status] of [["anchor", "anchored"], ["relay", "relayed"]] as const) {
    it(`relays associations and ${policy === "anchor" ? "anchors batches" : "relays messages"} (policy ${policy}) with every sync on the thread pool`, async () => {
      const settings: RawSettings = { policy };
      const gateway = await harness.start(settings);
      try {
        const counted = await serve(gateway, status, 3);
        expect(counted.main, "syncs the event loop waited for").to.equal(0);
        // The association's, the data's and the chain worker's commits were synced, off the event loop.
        expect(counted.pool).to.be.at.least(3);
      } finally {
        await gateway.close();
      }
    });
  }
});
