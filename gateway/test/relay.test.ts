// The `relay` policy against anvil: acknowledged messages are recorded on chain with
// `recordDataBatchBySig`, which emits a DataMessageRecorded event per message and consumes each
// device's nonce; the batch never reverts for one message. A message the chain refuses (its
// deadline passed on chain) is anchored in a batch instead, and one that someone else relayed
// first counts as relayed, in that other transaction, so nothing acknowledged is lost or doubled.
import { expect } from "chai";
import { parseEventLogs, type Hex } from "viem";
import {
  getNonce,
  iomtRegistryAbi,
  recordDataBySig,
  verifyAnchoredMessageOnChain,
  verifyBatchProof,
  type GatewayClient,
  type WriteClient,
} from "@iomt-auth/sdk";
import type { RunningGateway } from "../src/index.js";
import { inclusionWith, storedMessage, startWithTwoDevices, type Device, type Harness, type TwoDevices } from "./support/harness.js";

describe("gateway: policy relay against anvil", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let alice: Device;
  let bob: Device;
  let aliceClient: GatewayClient;
  let bobClient: GatewayClient;
  const chainNonce = (device: Device) => getNonce(harness.publicClient, { registry: harness.registry, gid: harness.gid, oid: device.oid });
  const sentBy = (wallet: WriteClient) => harness.publicClient.getTransactionCount({ address: wallet.account.address });

  let fixture: TwoDevices | undefined;

  before(async () => {
    fixture = await startWithTwoDevices({ policy: "relay" });
    ({ harness, gateway, alice, bob, aliceClient, bobClient } = fixture);
  });

  after(async () => {
    await fixture?.close();
  });

  describe("messages the chain accepts", () => {
    it("are relayed in one recordDataBatchBySig transaction, which records each for its device and nonce and advances the nonce on chain", async () => {
      const first = await chainNonce(alice);
      const messages = [await alice.sign(first, { payload: "hr=72" }), await alice.sign(first + 1n, { payload: "hr=74" })];
      const receipts = await aliceClient.sendData({ messages });

      const txHashes = new Set<Hex>();
      for (const [i, receipt] of receipts.entries()) {
        const inclusion = await inclusionWith(aliceClient, receipt, "relayed");
        expect(inclusion.batch).to.equal(undefined);
        const txReceipt = await harness.publicClient.getTransactionReceipt({ hash: inclusion.relay!.txHash });
        expect(txReceipt.status).to.equal("success");
        expect(inclusion.relay!.blockNumber).to.equal(txReceipt.blockNumber.toString());
        const events = parseEventLogs({ abi: iomtRegistryAbi, eventName: "DataMessageRecorded", logs: txReceipt.logs });
        const { message } = messages[i];
        const event = events.find((log) => log.args.nonce === message.nonce);
        expect(event?.address).to.equal(harness.registry.toLowerCase());
        expect(event?.args).to.deep.equal({ gid: harness.gid, device: alice.account.address, oid: alice.oid, nonce: message.nonce, payloadHash: message.payloadHash, timestamp: message.timestamp, deadline: message.deadline });
        expect(parseEventLogs({ abi: iomtRegistryAbi, eventName: "BatchItemSkipped", logs: txReceipt.logs })).to.have.length(0);
        txHashes.add(inclusion.relay!.txHash);
      }
      // Both were waiting when the worker looked (one request): one transaction, not one each.
      expect(txHashes.size).to.equal(1);
      expect(await chainNonce(alice)).to.equal(first + 2n);
      expect(gateway.store.counts().batches).to.deep.equal({});
    });
  });

  describe("a message someone else relayed first (front-run)", () => {
    it("is reported relayed in the front-runner's transaction, the others in the gateway's one transaction, and nothing is anchored", async () => {
      await gateway.worker.stop();
      try {
        const first = await chainNonce(alice);
        const messages = await Promise.all([0n, 1n, 2n].map((k) => alice.sign(first + k, { payload: `front-run ${k}` })));
        const receipts = await aliceClient.sendData({ messages });
        // A third party copies the first message out of the gateway's view and records it first.
        const frontRunner = await harness.fundedWallet();
        const frontRun = await recordDataBySig(frontRunner, { registry: harness.registry, signed: messages[0] });
        await harness.publicClient.waitForTransactionReceipt({ hash: frontRun });

        const gatewayTxs = await sentBy(harness.masterWallet);
        await gateway.worker.tick();
        expect(await sentBy(harness.masterWallet)).to.equal(gatewayTxs + 1);

        const inclusions = await Promise.all(receipts.map((receipt) => aliceClient.getInclusion(receipt)));
        expect(inclusions.map((inclusion) => inclusion.status)).to.deep.equal(["relayed", "relayed", "relayed"]);
        expect(inclusions[0].relay!.txHash).to.equal(frontRun);
        expect(inclusions[1].relay!.txHash).to.equal(inclusions[2].relay!.txHash).and.not.equal(frontRun);
        const batchReceipt = await harness.publicClient.getTransactionReceipt({ hash: inclusions[1].relay!.txHash });
        const skipped = parseEventLogs({ abi: iomtRegistryAbi, eventName: "BatchItemSkipped", logs: batchReceipt.logs });
        expect(skipped.map((log) => [log.args.index, log.args.status])).to.deep.equal([[0n, 1]]); // item 0 AlreadyApplied
        expect(storedMessage(gateway.store, receipts[0])).to.deep.include({ route: "relay", status: "relayed", relay_error: null });
        expect(await chainNonce(alice)).to.equal(first + 3n);
        expect(gateway.store.counts().batches).to.deep.equal({});
      } finally {
        gateway.worker.start();
      }
    });
  });

  describe("a message the chain refuses", () => {
    it("is anchored in a batch instead when its deadline passed on chain before it was relayed, with a proof that verifies", async () => {
      const nonce = await chainNonce(bob);
      // The chain's clock runs 5 minutes ahead of the gateway's: a deadline one minute ahead for
      // the gateway (so it acknowledges the message) has passed for the registry.
      await harness.publicClient.request({ method: "evm_increaseTime" as never, params: [300] as never });
      await harness.publicClient.request({ method: "evm_mine" as never, params: [] as never });
      const signed = await bob.sign(nonce, { deadline: BigInt(Math.floor(Date.now() / 1000) + 60) });
      const [receipt] = await bobClient.sendData({ messages: [signed] });

      const inclusion = await inclusionWith(bobClient, receipt, "anchored");
      expect(inclusion.relay).to.equal(undefined);
      const { root, proof, txHash } = inclusion.batch!;
      expect((await harness.publicClient.getTransactionReceipt({ hash: txHash! })).status).to.equal("success");
      expect(verifyBatchProof({ root, leaf: receipt.digest, proof })).to.equal(true);
      expect(await verifyAnchoredMessageOnChain(harness.publicClient, { registry: harness.registry, message: signed.message, root, proof })).to.equal(true);
      expect(storedMessage(gateway.store, receipt)).to.deep.include({ route: "anchor", relay_tx: null, relay_error: "RequestExpired" });
      expect(await chainNonce(bob)).to.equal(nonce);
    });
  });
});
