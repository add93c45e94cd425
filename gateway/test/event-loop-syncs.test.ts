// A running gateway never waits on the disk on its event loop: with durability `full`, every write
// it makes while serving — a device's request, and the chain worker's associations, relays and
// batches — goes through the group commit, whose WAL sync runs on libuv's thread pool. A sync on
// the event loop (store.transaction, for the CLI) would stall every request for the length of an
// fsync (11–16 ms on this machine's disk under load). The same holds for the operator's rarer
// writes through the console (enrol, unenrol, revoke) and for the mirror dropping a revoked
// device's enrolment. Read from the gateway's own counters (the count of
// iomt_gateway_store_wal_fsync_seconds by thread) on real gateways against anvil. The hierarchical
// anchoring's writes are checked in aggregation.test.ts.
import { expect } from "chai";
import { join } from "node:path";
import { revoke } from "@iomt-auth/sdk";
import { createAdminTokenFile, readAdminTokenFile } from "../src/console/token.js";
import { consoleRoutes } from "../src/console/routes.js";
import { enrolDevice, type RawSettings, type RunningGateway } from "../src/index.js";
import { metricValue } from "./support/admin.js";
import { createHarness, eventually, inclusionWith, type Harness } from "./support/harness.js";

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
    // The CLI's command, made on the gateway's store by this test: counted before the rest.
    await enrolDevice(gateway.store, { gid: harness.gid, oid: device.oid, address: device.account.address });
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

  it("enrols, unenrols and revokes from the console, and drops an enrolment when the mirror sees a revocation, with every sync on the thread pool", async () => {
    const tokenFile = join(harness.dir, "event-loop-syncs.admin.token");
    createAdminTokenFile(tokenFile);
    const token = readAdminTokenFile(tokenFile);
    const gateway = await harness.start({ adminTokenFile: tokenFile, publicUrl: "https://gateway.example" });
    try {
      const act = async (route: string, body: object) => {
        const response = await fetch(`${gateway.adminUrl}${route}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
        expect(response.status, `${route}: ${await response.clone().text()}`).to.equal(200);
      };
      const [revokedHere, revokedElsewhere, spare] = [harness.device("revoked from the console"), harness.device("revoked by another tool"), harness.device("unenrolled")];
      await harness.onboard(gateway, revokedHere);
      await harness.onboard(gateway, revokedElsewhere);
      const before = await syncs(gateway);

      await act(consoleRoutes.enrol, { oid: spare.oid, address: spare.account.address, secret: false });
      await act(consoleRoutes.unenrol, { oid: spare.oid });
      await act(consoleRoutes.revoke, { oid: revokedHere.oid });
      await harness.publicClient.waitForTransactionReceipt({ hash: await revoke(harness.masterWallet, { registry: harness.registry, gid: harness.gid, oid: revokedElsewhere.oid }) });
      await eventually("the mirror to drop the enrolment of the device revoked by another tool", () => (gateway.store.enrolmentByAddress(revokedElsewhere.account.address) === undefined ? true : undefined));

      const after = await syncs(gateway);
      expect(after.main - before.main, "syncs the event loop waited for").to.equal(0);
      // Enrol, unenrol, the console's revoke and the mirror's drop each committed, off the event loop.
      expect(after.pool - before.pool).to.be.at.least(4);
    } finally {
      await gateway.close();
    }
  });
});
