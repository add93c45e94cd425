// A cluster head's gateway after the hospital revoked the cluster head in the root group: the
// registry takes away every Master power at once (GroupRegistryMasterRevoked). Its devices stay
// members (membership is group-local), so the gateway keeps acknowledging and storing their
// messages, but it does not try to anchor them: /health names the refusal, the messages stay
// pending and survive a restart, and a new association is reported rejected with the rule.
import { expect } from "chai";
import { parseAbiItem } from "viem";
import { getGroup, revoke, type GatewayClient, type Receipt } from "@iomt-auth/sdk";
import { enrolDevice, type RunningGateway } from "../src/index.js";
import { createHarness, eventually, inclusionWith, storedMessage, type Device, type Harness } from "./support/harness.js";

type Health = { status: string; standing: { gid: string; status: string }[]; backlog: { pendingMessages: number } };

describe("gateway: a cluster head revoked in the parent group", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let device: Device;
  let client: GatewayClient;
  const health = async () => (await (await fetch(`${gateway.adminUrl}/health/ready`)).json()) as Health;
  const sentByGateway = () => harness.publicClient.getTransactionCount({ address: harness.master.address });
  const anchored = () =>
    harness.publicClient.getLogs({ address: harness.registry, event: parseAbiItem("event BatchAnchored(bytes32 indexed gid, bytes32 indexed root, address indexed anchorer, uint32 messageCount)"), fromBlock: 0n });

  before(async () => {
    harness = await createHarness({ hierarchy: true, groupLabel: "cluster-2" });
    gateway = await harness.start();
    device = harness.device("pump");
    client = await harness.onboard(gateway, device);
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("anchors while the cluster head has its powers", async () => {
    const [receipt] = await client.sendData({ messages: [await device.sign(1n)] });
    await inclusionWith(client, receipt, "anchored");
    const answer = await health();
    expect(answer.status).to.equal("ok");
    expect(answer.standing).to.deep.equal([{ gid: harness.gid, status: "ok" }]);
  });

  describe("after the revocation", () => {
    let receipts: Receipt[];
    let anchorsBefore: number;
    let gatewayTxs: number;

    before(async () => {
      const root = harness.root!;
      await harness.publicClient.waitForTransactionReceipt({ hash: await revoke(root.wallet, { registry: harness.registry, gid: root.gid, oid: root.masterOid }) });
      expect((await getGroup(harness.publicClient, { registry: harness.registry, gid: harness.gid })).masterRevoked).to.equal(true);
      anchorsBefore = (await anchored()).length;
      gatewayTxs = await sentByGateway();
    });

    it("keeps acknowledging the devices' messages (membership is group-local)", async () => {
      receipts = await client.sendData({ messages: [await device.sign(2n), await device.sign(3n)] });
      expect(receipts.map((receipt) => receipt.nonce)).to.deep.equal(["2", "3"]);
    });

    it("reports the refusal in /health and does not try to anchor: the messages stay pending", async () => {
      const answer = await eventually("health to report the revoked Master", async () => {
        const current = await health();
        return current.standing[0].status === "ok" ? undefined : current;
      });
      expect(answer.status).to.equal("degraded");
      expect(answer.standing).to.deep.equal([{ gid: harness.gid, status: "GroupRegistryMasterRevoked" }]);
      // Well past batchMaxAgeMs (200 ms) and several worker ticks.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      for (const receipt of receipts) expect((await client.getInclusion(receipt)).status).to.equal("pending");
      expect((await health()).backlog.pendingMessages).to.equal(2);
      expect(gateway.store.counts().batches.failed).to.equal(undefined);
      expect((await anchored()).length).to.equal(anchorsBefore);
      expect(await sentByGateway()).to.equal(gatewayTxs);
    });

    it("reports a new association rejected with the registry's rule", async () => {
      const late = harness.device("late");
      await enrolDevice(gateway.store, { gid: harness.gid, oid: late.oid, address: late.account.address });
      const lateClient = late.client(gateway.url);
      await lateClient.keySession();
      await lateClient.associate({ token: await lateClient.getTicket() });
      const status = await lateClient.waitForAssociation({ pollIntervalMs: 50 });
      expect(status.status).to.equal("rejected");
      expect(status.error?.code).to.equal("GroupRegistryMasterRevoked");
    });

    it("starts again after a restart (it does not refuse its own group) and still holds every acknowledged message", async () => {
      const databasePath = gateway.store.db.name;
      await gateway.close();
      gateway = await harness.start({ databasePath });
      const answer = await eventually("health after the restart", async () => {
        const current = await health();
        return current.standing[0].status === "ok" ? undefined : current;
      });
      expect(answer.standing).to.deep.equal([{ gid: harness.gid, status: "GroupRegistryMasterRevoked" }]);
      expect(answer.backlog.pendingMessages).to.equal(2);
      const restarted = device.client(gateway.url);
      await restarted.keySession();
      for (const receipt of receipts) {
        expect(storedMessage(gateway.store, receipt)).to.deep.include({ status: "pending", route: "anchor" });
        expect((await restarted.getInclusion(receipt)).status).to.equal("pending");
      }
      expect((await anchored()).length).to.equal(anchorsBefore);
    });
  });
});
