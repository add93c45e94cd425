// The `relay` policy against anvil: each acknowledged message is recorded on chain in its own
// `recordData` transaction, which emits its DataMessageRecorded event and consumes the device's
// nonce; a message the chain refuses (its deadline passed on chain) is anchored in a batch
// instead, so nothing acknowledged is lost.
import { expect } from "chai";
import { parseEventLogs, type Hex } from "viem";
import {
  getNonce,
  iomtRegistryAbi,
  verifyAnchoredMessageOnChain,
  verifyBatchProof,
  type GatewayClient,
} from "@iomt-auth/sdk";
import type { RunningGateway } from "../src/index.js";
import { inclusionWith, startWithTwoDevices, type Device, type Harness, type TwoDevices } from "./support/harness.js";

describe("gateway: policy relay against anvil", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let alice: Device;
  let bob: Device;
  let aliceClient: GatewayClient;
  let bobClient: GatewayClient;
  const chainNonce = (device: Device) => getNonce(harness.publicClient, { registry: harness.registry, device: device.account.address });

  let fixture: TwoDevices | undefined;

  before(async () => {
    fixture = await startWithTwoDevices({ policy: "relay" });
    ({ harness, gateway, alice, bob, aliceClient, bobClient } = fixture);
  });

  after(async () => {
    await fixture?.close();
  });

  describe("a message the chain accepts", () => {
    it("is relayed in its own transaction, which records it for its device and nonce and advances the device's nonce on chain", async () => {
      const first = await chainNonce(alice);
      const messages = [await alice.sign(first, { payload: "hr=72" }), await alice.sign(first + 1n, { payload: "hr=74" })];
      const receipts = await aliceClient.sendData({ messages });

      const txHashes = new Set<Hex>();
      for (const [i, receipt] of receipts.entries()) {
        const inclusion = await inclusionWith(aliceClient, receipt.digest, "relayed");
        expect(inclusion.batch).to.equal(undefined);
        const txReceipt = await harness.publicClient.getTransactionReceipt({ hash: inclusion.relay!.txHash });
        expect(txReceipt.status).to.equal("success");
        expect(inclusion.relay!.blockNumber).to.equal(txReceipt.blockNumber.toString());
        const events = parseEventLogs({ abi: iomtRegistryAbi, eventName: "DataMessageRecorded", logs: txReceipt.logs });
        expect(events).to.have.length(1);
        expect(events[0].address).to.equal(harness.registry.toLowerCase());
        const { message } = messages[i];
        expect(events[0].args).to.deep.equal({ gid: harness.gid, device: alice.account.address, nonce: message.nonce, payloadHash: message.payloadHash, timestamp: message.timestamp });
        txHashes.add(inclusion.relay!.txHash);
      }
      expect(txHashes.size).to.equal(2);
      expect(await chainNonce(alice)).to.equal(first + 2n);
      expect(gateway.store.counts().batches).to.deep.equal({});
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

      const inclusion = await inclusionWith(bobClient, receipt.digest, "anchored");
      expect(inclusion.relay).to.equal(undefined);
      const { root, proof, txHash } = inclusion.batch!;
      expect((await harness.publicClient.getTransactionReceipt({ hash: txHash! })).status).to.equal("success");
      expect(verifyBatchProof({ root, leaf: receipt.digest, proof })).to.equal(true);
      expect(await verifyAnchoredMessageOnChain(harness.publicClient, { registry: harness.registry, message: signed.message, root, proof })).to.equal(true);
      expect(gateway.store.messageByDigest(receipt.digest)).to.deep.include({ route: "anchor", relay_tx: null, relay_error: "DataLedgerExpired" });
      expect(await chainNonce(bob)).to.equal(nonce);
    });
  });
});
