// "Acknowledged means kept" on a really full disk, end to end: the gateway's database lies on a
// small tmpfs that another file fills up while devices send data through the SDK's client. Every
// request the gateway cannot commit is refused loudly (503 StoreUnavailable), never acknowledged;
// iomt_gateway_messages_accepted_total counts exactly the acknowledged messages, which are exactly
// the stored ones (the review saw 132 counted, 52 stored); /health/ready answers 503 `failing`
// while /health/live stays 200; once space is back the gateway is ready again by itself, the
// refused messages are accepted when resent, and every acknowledged message is anchored.
import { expect } from "chai";
import { join } from "node:path";
import { GatewayError, type GatewayClient, type Receipt } from "@iomt-auth/sdk";
import type { RunningGateway } from "../src/index.js";
import { skipBecause } from "../../sdk/test/support/skips.js";
import { metricValue } from "./support/admin.js";
import { expectError } from "./support/expect.js";
import { mountTmpfs, type Tmpfs } from "./support/faults.js";
import { createHarness, eventually, inclusionWith, type Device, type Harness } from "./support/harness.js";

/** A reading big enough to fill the disk in a few dozen messages. */
const READING = "spo2 97 % ".repeat(400);


describe("gateway on a full disk (its database on a real tmpfs, filled up)", () => {
  let disk: Tmpfs | undefined;
  let harness: Harness;
  let gateway: RunningGateway;
  let alice: Device;
  let client: GatewayClient;

  before(async function () {
    disk = mountTmpfs(4096);
    if (disk === undefined) skipBecause(this, "no-tmpfs-mount", "mounting a tmpfs needs root or CAP_SYS_ADMIN");
    harness = await createHarness();
    gateway = await harness.start({ databasePath: join(disk.dir, "gateway.db") });
    alice = harness.device("alice");
    client = await harness.onboard(gateway, alice);
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
    disk?.unmount();
  });

  it("refuses with 503 StoreUnavailable what it cannot commit, acknowledges and counts only what it stored, is not ready while live, and keeps and anchors all of it once space is back", async () => {
    const fs = disk as Tmpfs;
    const acceptedBefore = await metricValue(gateway, "iomt_gateway_messages_accepted_total");
    fs.fill(0);

    const receipts: Receipt[] = [];
    const refusals: GatewayError[] = [];
    let next = 1n;
    // As a device does: a refused message is sent again (same nonce) until it is acknowledged.
    for (let attempt = 0; refusals.length < 5 && attempt < 2_000; attempt++) {
      try {
        receipts.push(...(await client.sendData({ messages: [await alice.sign(next, { payload: `${READING}${next}` })] })));
        next++;
      } catch (error) {
        refusals.push(error as GatewayError);
      }
    }
    expect(refusals.length, "the disk filled up").to.equal(5);
    for (const refusal of refusals) {
      expectError(refusal, GatewayError, "StoreUnavailable");
      expect(refusal.status, refusal.message).to.equal(503);
      expect(refusal.details?.reason).to.match(/^SQLITE_FULL/);
    }

    // Counted = acknowledged = stored.
    expect((await metricValue(gateway, "iomt_gateway_messages_accepted_total")) - acceptedBefore).to.equal(receipts.length);
    expect(gateway.store.db.prepare("SELECT count(*) FROM messages WHERE device = ?").pluck().get(alice.account.address)).to.equal(receipts.length);
    expect(await metricValue(gateway, "iomt_gateway_store_up")).to.equal(0);

    const ready = await fetch(`${gateway.url}/health/ready`);
    expect(ready.status).to.equal(503);
    expect(((await ready.json()) as { status: string }).status).to.equal("failing");
    expect((await fetch(`${gateway.url}/health/live`)).status).to.equal(200);

    fs.free();
    await eventually("readiness to come back", async () => ((await fetch(`${gateway.url}/health/ready`)).status === 200 ? true : undefined));
    for (const nonce of [next, next + 1n]) receipts.push(...(await client.sendData({ messages: [await alice.sign(nonce, { payload: `${READING}${nonce}` })] })));
    expect((await metricValue(gateway, "iomt_gateway_messages_accepted_total")) - acceptedBefore).to.equal(receipts.length);
    expect(receipts.map((receipt) => receipt.nonce)).to.deep.equal(Array.from({ length: receipts.length }, (_, i) => String(i + 1)));
    for (const receipt of receipts) await inclusionWith(client, receipt, "anchored");
  });
});
