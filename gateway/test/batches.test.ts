// Associations are relayed in one `associateBatchBySig` transaction whatever its items: the batch
// applies the valid ones and reports the others (BatchItemSkipped), so nobody can make it fail by
// relaying one of its items first, and the gateway never falls back to relaying one by one. An
// item someone else relayed first is associated, not failed; an item the registry refuses is
// reported with its rule. The worker is paused while requests queue up, so that the batch holds
// exactly them.
import { expect } from "chai";
import { parseEventLogs, type Hash } from "viem";
import { associateBatchBySig, associateBySig, fromWireAssociation, iomtRegistryAbi, issueToken, isAuthenticated, signAssociation, type AssocResponse, type GatewayClient, type WireAssociation, type WriteClient } from "@iomt-auth/sdk";
import { enrolDevice, type RunningGateway } from "../src/index.js";
import { createHarness, eventually, type Device, type Harness } from "./support/harness.js";

describe("gateway: association batches against anvil", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  const sentBy = (wallet: WriteClient) => harness.publicClient.getTransactionCount({ address: wallet.account.address });

  before(async () => {
    harness = await createHarness();
    gateway = await harness.start();
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  /** Enrols `count` devices and has each send its association while the worker is paused: they stay queued. */
  async function queueAssociations(names: string[]): Promise<{ devices: Device[]; clients: GatewayClient[]; answers: AssocResponse[] }> {
    const devices = names.map((name) => harness.device(name));
    const clients: GatewayClient[] = [];
    for (const device of devices) {
      await enrolDevice(gateway.store, { gid: harness.gid, oid: device.oid, address: device.account.address });
      const client = device.client(gateway.url);
      await client.keySession();
      clients.push(client);
    }
    const answers = await Promise.all(clients.map(async (client) => client.associate({ token: await client.getTicket() })));
    return { devices, clients, answers };
  }

  /** The device's item index in the batch that carried its request, as the store recorded it. */
  const itemIndex = (device: Device) => BigInt(gateway.store.association(device.account.address)!.tx_index!);
  const storedRequest = (device: Device) => fromWireAssociation(JSON.parse(gateway.store.association(device.account.address)!.request) as WireAssociation);

  it("associates the others and reports a front-run item associated, not failed, in one transaction", async () => {
    await gateway.worker.stop();
    try {
      const { devices, clients, answers } = await queueAssociations(["fr-0", "fr-1", "fr-2", "fr-3"]);
      expect(answers.map((answer) => answer.status)).to.deep.equal(["queued", "queued", "queued", "queued"]);
      // A third party copies fr-2's signed request and relays it first.
      const frontRunner = await harness.fundedWallet();
      await harness.publicClient.waitForTransactionReceipt({ hash: await associateBySig(frontRunner, { registry: harness.registry, association: storedRequest(devices[2]) }) });

      const gatewayTxs = await sentBy(harness.masterWallet);
      await gateway.worker.tick();
      expect(await sentBy(harness.masterWallet)).to.equal(gatewayTxs + 1);

      const statuses = await Promise.all(clients.map((client) => client.associationStatus()));
      expect(statuses.map((status) => status.status)).to.deep.equal(["associated", "associated", "associated", "associated"]);
      expect(new Set(statuses.map((status) => status.txHash)).size).to.equal(1);
      for (const [i, device] of devices.entries()) {
        expect(statuses[i].entry?.device).to.equal(device.account.address);
        expect(statuses[i].entry?.entryHash).to.match(/^0x[0-9a-f]{64}$/);
        expect(await isAuthenticated(harness.publicClient, { registry: harness.registry, gid: harness.gid, oid: device.oid, device: device.account.address })).to.equal(true);
      }
      const receipt = await harness.publicClient.getTransactionReceipt({ hash: statuses[0].txHash as Hash });
      const skipped = parseEventLogs({ abi: iomtRegistryAbi, eventName: "BatchItemSkipped", logs: receipt.logs });
      expect(skipped.map((log) => [log.args.index, log.args.status])).to.deep.equal([[itemIndex(devices[2]), 1]]); // AlreadyApplied
      expect(parseEventLogs({ abi: iomtRegistryAbi, eventName: "DeviceAssociated", logs: receipt.logs })).to.have.length(3);
      expect(gateway.store.association(devices[2].account.address)).to.deep.include({ status: "associated", error_code: null });
    } finally {
      gateway.worker.start();
    }
  });

  it("relays a batch with one bad item as ONE transaction (no one-by-one fallback): the others associated, the bad one rejected with its rule", async () => {
    await gateway.worker.stop();
    try {
      const { devices, clients } = await queueAssociations(["bad-0", "bad-1", "bad-2", "bad-3", "bad-4"]);
      // Another key takes bad-1's oid in the group first, with a token of the same Master.
      const squatter = harness.device("squatter");
      const token = await issueToken(harness.master, { gid: harness.gid, oid: devices[1].oid, device: squatter.account.address });
      const association = await signAssociation(squatter.account, { domain: harness.domain, token, deadline: BigInt(Math.floor(Date.now() / 1000) + 600) });
      const frontRunner = await harness.fundedWallet();
      await harness.publicClient.waitForTransactionReceipt({ hash: await associateBySig(frontRunner, { registry: harness.registry, association }) });

      const gatewayTxs = await sentBy(harness.masterWallet);
      await gateway.worker.tick();
      expect(await sentBy(harness.masterWallet)).to.equal(gatewayTxs + 1);

      const statuses = await Promise.all(clients.map((client) => client.associationStatus()));
      expect(statuses.map((status) => status.status)).to.deep.equal(["associated", "rejected", "associated", "associated", "associated"]);
      expect(statuses[1].error?.code).to.equal("GroupRegistryOidTaken");
      expect(new Set(statuses.map((status) => status.txHash)).size).to.equal(1);
      const receipt = await harness.publicClient.getTransactionReceipt({ hash: statuses[0].txHash as Hash });
      expect(receipt.status).to.equal("success");
      const skipped = parseEventLogs({ abi: iomtRegistryAbi, eventName: "BatchItemSkipped", logs: receipt.logs });
      expect(skipped.map((log) => [log.args.index, log.args.status])).to.deep.equal([[itemIndex(devices[1]), 2]]); // Rejected
      expect(parseEventLogs({ abi: iomtRegistryAbi, eventName: "DeviceAssociated", logs: receipt.logs })).to.have.length(4);
      // The next tick sends nothing more for this batch.
      await gateway.worker.tick();
      expect(await sentBy(harness.masterWallet)).to.equal(gatewayTxs + 1);
    } finally {
      gateway.worker.start();
    }
  });

  it("resumes after a crash between sending a batch and reading its receipt: each item's outcome is read back by its index, nothing is sent again", async () => {
    await gateway.worker.stop();
    const { devices } = await queueAssociations(["crash-0", "crash-1", "crash-2"]);
    // crash-0 will be relayed by someone else first, crash-1's oid taken, crash-2 applied.
    const frontRunner = await harness.fundedWallet();
    await harness.publicClient.waitForTransactionReceipt({ hash: await associateBySig(frontRunner, { registry: harness.registry, association: storedRequest(devices[0]) }) });
    const squatter = harness.device("crash-squatter");
    const token = await issueToken(harness.master, { gid: harness.gid, oid: devices[1].oid, device: squatter.account.address });
    const squat = await signAssociation(squatter.account, { domain: harness.domain, token, deadline: BigInt(Math.floor(Date.now() / 1000) + 600) });
    await harness.publicClient.waitForTransactionReceipt({ hash: await associateBySig(frontRunner, { registry: harness.registry, association: squat }) });

    // The worker's first two steps, then the crash: the batch is on chain, the store says
    // "submitted" with each item's index, and the receipt was never read.
    const rows = gateway.store.associationsWithStatus("queued", 10);
    expect(rows.map((row) => row.device)).to.have.members(devices.map((device) => device.account.address));
    const hash = await associateBatchBySig(harness.masterWallet, { registry: harness.registry, associations: rows.map((row) => fromWireAssociation(JSON.parse(row.request) as WireAssociation)) });
    gateway.store.transaction(() => rows.forEach((row, index) => gateway.store.setAssociation({ device: row.device, status: "submitted", tx_hash: hash, tx_index: index })));
    const databasePath = gateway.store.db.name;
    await gateway.close();
    const gatewayTxs = await sentBy(harness.masterWallet);

    gateway = await harness.start({ databasePath });
    const outcome = await eventually("the batch's outcomes", () => {
      const stored = devices.map((device) => gateway.store.association(device.account.address)!);
      return stored.every((row) => row.status !== "submitted") ? stored : undefined;
    });
    expect(outcome.map((row) => [row.status, row.tx_hash, row.error_code])).to.deep.equal([
      ["associated", hash, null],
      ["rejected", hash, "GroupRegistryOidTaken"],
      ["associated", hash, null],
    ]);
    expect(await sentBy(harness.masterWallet)).to.equal(gatewayTxs);
  });
});
