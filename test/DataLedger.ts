// The data plane (contracts/DataLedger.sol): relayed EIP-712 data messages, batches, direct
// messages, device-to-device exchanges and Merkle anchoring of off-chain verified batches.
// Every test starts from the same snapshot of Al Ahmed et al.'s hierarchy (deployHierarchy): a root
// group, three clusters whose heads are root-group members, three devices per cluster.
import { expect } from "chai";
import {
  concat,
  encodeErrorResult,
  hashTypedData,
  hexToBigInt,
  keccak256,
  pad,
  parseEventLogs,
  recoverAddress,
  toHex,
  zeroAddress,
  zeroHash,
  type Address,
  type Hex,
  type LocalAccount,
} from "viem";
import {
  buildBatchTree,
  dataMessageTypes,
  exchangeTypes,
  signDataMessage,
  signExchange as sdkSignExchange,
  type DataMessage,
  type Exchange,
} from "../sdk/src/index.js";
import {
  chainId,
  deployHierarchy,
  deployRegistry,
  deviceAccount,
  domainOf,
  enrol,
  funded,
  id,
  networkHelpers,
  publicClient,
  toHighS,
  viem,
  type Registry,
} from "./support/fixtures.js";

// ---------------------------------------------------------------------------------- helpers

/** A member identity as the data plane sees it: its key, its oid and the group it belongs to. */
interface Device {
  account: LocalAccount;
  oid: Hex;
  gid: Hex;
}

const payload = (label: string): Hex => id(`payload:${label}`);

async function now(): Promise<bigint> {
  return BigInt(await networkHelpers.time.latest());
}

/** The device's next data message (its current nonce, a one-hour deadline), with overrides. */
async function nextMessage(registry: Registry, device: Device, overrides: Partial<DataMessage> = {}): Promise<DataMessage> {
  const t = await now();
  return {
    gid: device.gid,
    oid: device.oid,
    nonce: await registry.read.nonces([device.gid, device.oid]),
    payloadHash: payload(`${device.oid}:${t}`),
    timestamp: t,
    deadline: t + 3600n,
    ...overrides,
  };
}

const signData = async (signer: LocalAccount, registry: { address: Address }, message: DataMessage, domain = domainOf(registry)) =>
  (await signDataMessage(signer, { domain, message })).signature;

const signExchange = async (signer: LocalAccount, registry: { address: Address }, exchange: Exchange, domain = domainOf(registry)) =>
  (await sdkSignExchange(signer, { domain, exchange })).signature;

/** A data message of `device` signed by the device itself. */
async function signedMessage(registry: Registry, device: Device, overrides: Partial<DataMessage> = {}) {
  const message = await nextMessage(registry, device, overrides);
  return { message, signature: await signData(device.account, registry, message) };
}

async function nextExchange(
  registry: Registry,
  sender: Device,
  receiver: Device,
  overrides: Partial<Exchange> = {},
): Promise<Exchange> {
  const t = await now();
  return {
    gid: sender.gid,
    oid: sender.oid,
    receiverGid: receiver.gid,
    receiverOid: receiver.oid,
    nonce: await registry.read.nonces([sender.gid, sender.oid]),
    payloadHash: payload(`exchange:${sender.oid}:${receiver.oid}:${t}`),
    timestamp: t,
    deadline: t + 3600n,
    ...overrides,
  };
}

async function receiptOf(hash: Promise<Hex>) {
  return publicClient.waitForTransactionReceipt({ hash: await hash });
}

const sortedRoot = (leaves: Hex[]): Hex => buildBatchTree(leaves).root;
const sortedProof = (leaves: Hex[], index: number): Hex[] => buildBatchTree(leaves).proof(index);

/** Adds a fresh key to the root group, so it is eligible as the next Master of a cluster. */
async function addRootMember(registry: Registry, rootMaster: LocalAccount, rootGid: Hex, label: string) {
  const account = await funded(label);
  const oid = id(`oid:${label}`);
  await enrol(registry, rootMaster, account, rootGid, oid);
  return { account, oid };
}

/** Hands group `gid` over from Master `from` to `to` (propose, then accept). */
async function handOver(registry: Registry, gid: Hex, from: LocalAccount, to: LocalAccount) {
  await registry.write.proposeMaster([gid, to.address], { account: from });
  await registry.write.acceptMaster([gid], { account: to });
}

// ---------------------------------------------------------------------------------- fixture

async function deployLedger() {
  const hierarchy = await deployHierarchy();
  const { registry } = hierarchy;
  const relayer = await funded("relayer");
  const gateway = await funded("gateway");
  const outsider = await funded("outsider");
  // A second deployment: same code, same name and version, another verifying contract.
  const { registry: otherRegistry } = await deployRegistry();
  const device = (c: number, d: number): Device => ({
    account: hierarchy.clusters[c].devices[d].account,
    oid: hierarchy.clusters[c].devices[d].oid,
    gid: hierarchy.clusters[c].gid,
  });
  const headAsMember = (c: number): Device => ({
    account: hierarchy.clusters[c].head,
    oid: hierarchy.clusters[c].headOid,
    gid: hierarchy.rootGid,
  });
  return { ...hierarchy, registry, relayer, gateway, outsider, otherRegistry, device, headAsMember };
}

const load = () => networkHelpers.loadFixture(deployLedger);

const unknownGid = id("group:unknown");
const unknownOid = id("oid:unknown");

// ==========================================================================================

describe("DataLedger", () => {
  describe("dataMessageDigest and exchangeDigest", () => {
    it("dataMessageDigest equals viem's hashTypedData with the registry's domain", async () => {
      const { registry, device } = await load();
      const message = await nextMessage(registry, device(0, 0));
      const expected = hashTypedData({
        domain: { name: "iomt-auth", version: "2", chainId, verifyingContract: registry.address },
        types: dataMessageTypes,
        primaryType: "DataMessage",
        message,
      });
      expect(await registry.read.dataMessageDigest([message])).to.equal(expected);
    });

    it("exchangeDigest equals viem's hashTypedData with the registry's domain", async () => {
      const { registry, device } = await load();
      const exchange = await nextExchange(registry, device(0, 0), device(1, 2));
      const expected = hashTypedData({
        domain: { name: "iomt-auth", version: "2", chainId, verifyingContract: registry.address },
        types: exchangeTypes,
        primaryType: "Exchange",
        message: exchange,
      });
      expect(await registry.read.exchangeDigest([exchange])).to.equal(expected);
    });

    it("the same message has another digest on another registry deployment", async () => {
      const { registry, otherRegistry, device } = await load();
      const message = await nextMessage(registry, device(0, 0));
      const here = await registry.read.dataMessageDigest([message]);
      const there = await otherRegistry.read.dataMessageDigest([message]);
      expect(there).to.not.equal(here);
      expect(there).to.equal(
        hashTypedData({ domain: domainOf(otherRegistry), types: dataMessageTypes, primaryType: "DataMessage", message }),
      );
    });

    it("a data message and an exchange with the same fields have different digests", async () => {
      const { registry, device } = await load();
      const exchange = await nextExchange(registry, device(0, 0), device(0, 1));
      const { receiverGid: _g, receiverOid: _o, ...fields } = exchange;
      expect(await registry.read.dataMessageDigest([fields])).to.not.equal(
        await registry.read.exchangeDigest([exchange]),
      );
    });
  });

  // ----------------------------------------------------------------------------- recordDataBySig

  describe("recordDataBySig: a device-signed data message that anyone may relay", () => {
    it("records the message, emits DataMessageRecorded and advances the device nonce", async () => {
      const { registry, device, relayer } = await load();
      const d = device(0, 0);
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n); // nonce 0 was the association
      const { message, signature } = await signedMessage(registry, d);
      await viem.assertions.emitWithArgs(
        registry.write.recordDataBySig([message, signature], { account: relayer }),
        registry,
        "DataMessageRecorded",
        [d.gid, d.account.address, d.oid, 1n, message.payloadHash, message.timestamp, message.deadline],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(2n);
      expect((await registry.read.memberOf([d.gid, d.oid])).nonce).to.equal(2);
    });

    it("accepts consecutive messages with consecutive nonces from any relayer", async () => {
      const { registry, device, relayer, outsider } = await load();
      const d = device(1, 1);
      for (const [i, account] of [relayer, outsider, relayer].entries()) {
        const { message, signature } = await signedMessage(registry, d, { payloadHash: payload(`seq-${i}`) });
        expect(message.nonce).to.equal(BigInt(i + 1));
        await viem.assertions.emit(registry.write.recordDataBySig([message, signature], { account }), registry, "DataMessageRecorded");
      }
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(4n);
    });

    it("can be relayed by the default wallet (an account with no identity)", async () => {
      const { registry, device } = await load();
      const { message, signature } = await signedMessage(registry, device(2, 0));
      await viem.assertions.emit(registry.write.recordDataBySig([message, signature]), registry, "DataMessageRecorded");
    });

    it("lets a cluster head record data as a member of the root group", async () => {
      const { registry, headAsMember, rootGid } = await load();
      const head = headAsMember(1);
      const { message, signature } = await signedMessage(registry, head);
      await viem.assertions.emitWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "DataMessageRecorded",
        [rootGid, head.account.address, head.oid, message.nonce, message.payloadHash, message.timestamp, message.deadline],
      );
    });

    it("accepts a message whose deadline is exactly the block timestamp", async () => {
      const { registry, device } = await load();
      const deadline = (await now()) + 100n;
      const { message, signature } = await signedMessage(registry, device(0, 0), { deadline });
      await networkHelpers.time.setNextBlockTimestamp(deadline);
      await viem.assertions.emit(registry.write.recordDataBySig([message, signature]), registry, "DataMessageRecorded");
    });

    it("rejects a message whose deadline has passed with RequestExpired", async () => {
      const { registry, device } = await load();
      const d = device(0, 0);
      const { message, signature } = await signedMessage(registry, d, { deadline: (await now()) + 60n });
      await networkHelpers.time.increase(61);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "RequestExpired",
        [message.deadline],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
    });

    it("rejects a nonce ahead of the device's next nonce with RequestInvalidNonce", async () => {
      const { registry, device } = await load();
      const d = device(0, 1);
      const { message, signature } = await signedMessage(registry, d, { nonce: 2n });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "RequestInvalidNonce",
        [d.account.address, 1n],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
    });

    it("rejects the association nonce 0 with DataLedgerNonceUsed: the association consumed it", async () => {
      const { registry, device } = await load();
      const d = device(0, 1);
      const { message, signature } = await signedMessage(registry, d, { nonce: 0n });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "DataLedgerNonceUsed",
        [d.account.address, 0n],
      );
    });

    it("rejects a replay of an already-recorded message with DataLedgerNonceUsed", async () => {
      const { registry, device, outsider } = await load();
      const d = device(0, 2);
      const { message, signature } = await signedMessage(registry, d);
      await registry.write.recordDataBySig([message, signature]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature], { account: outsider }),
        registry,
        "DataLedgerNonceUsed",
        [d.account.address, 1n],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(2n);
    });

    it("rejects a message signed by another key with RequestWrongSigner", async () => {
      const { registry, device } = await load();
      const d = device(0, 0);
      const other = device(0, 1).account;
      const message = await nextMessage(registry, d);
      const signature = await signData(other, registry, message);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "RequestWrongSigner",
        [other.address, d.account.address],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
    });

    it("rejects a signature over other fields (a tampered payload) with RequestWrongSigner", async () => {
      const { registry, device } = await load();
      const d = device(0, 0);
      const { message, signature } = await signedMessage(registry, d);
      const tampered = { ...message, payloadHash: payload("forged") };
      const recovered = await recoverAddress({ hash: await registry.read.dataMessageDigest([tampered]), signature });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([tampered, signature]),
        registry,
        "RequestWrongSigner",
        [recovered, d.account.address],
      );
    });

    for (const [label, bad] of [
      ["64 bytes of garbage", `0x${"ab".repeat(64)}`],
      ["an empty signature", "0x"],
      ["66 bytes", `0x${"11".repeat(66)}`],
      ["65 bytes with v = 0", `0x${"11".repeat(32)}${"22".repeat(32)}00`],
      ["65 bytes with r = s = 0", `0x${"00".repeat(64)}1b`],
    ] as const) {
      it(`rejects a malformed signature (${label}) with RequestInvalidSignature`, async () => {
        const { registry, device } = await load();
        const d = device(1, 0);
        const message = await nextMessage(registry, d);
        await viem.assertions.revertWithCustomError(
          registry.write.recordDataBySig([message, bad as Hex]),
          registry,
          "RequestInvalidSignature",
        );
        expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
      });
    }

    it("rejects the high-s (malleable) twin of a valid signature with RequestInvalidSignature", async () => {
      const { registry, device } = await load();
      const d = device(1, 0);
      const { message, signature } = await signedMessage(registry, d);
      const highS = toHighS(signature);
      // The twin does recover the device off chain: only the low-s rule rejects it.
      const digest = await registry.read.dataMessageDigest([message]);
      expect(await recoverAddress({ hash: digest, signature: highS })).to.equal(d.account.address);
      await viem.assertions.revertWithCustomError(
        registry.write.recordDataBySig([message, highS]),
        registry,
        "RequestInvalidSignature",
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
      // The low-s original still goes through afterwards.
      await viem.assertions.emit(registry.write.recordDataBySig([message, signature]), registry, "DataMessageRecorded");
    });

    it("rejects a message signed for another chain id with RequestWrongSigner", async () => {
      const { registry, device } = await load();
      const d = device(2, 2);
      const message = await nextMessage(registry, d);
      const signature = await signData(d.account, registry, message, domainOf(registry, { chainId: 1 }));
      const recovered = await recoverAddress({ hash: await registry.read.dataMessageDigest([message]), signature });
      expect(recovered).to.not.equal(d.account.address);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "RequestWrongSigner",
        [recovered, d.account.address],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
    });

    it("rejects a message signed for another registry deployment with RequestWrongSigner", async () => {
      const { registry, otherRegistry, device } = await load();
      const d = device(2, 2);
      const message = await nextMessage(registry, d);
      const signature = await signData(d.account, otherRegistry, message);
      const recovered = await recoverAddress({ hash: await registry.read.dataMessageDigest([message]), signature });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "RequestWrongSigner",
        [recovered, d.account.address],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
    });

    it("rejects an unknown group with GroupRegistryUnknownGroup", async () => {
      const { registry, device } = await load();
      const d = device(0, 0);
      const { message, signature } = await signedMessage(registry, d, { gid: unknownGid });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "GroupRegistryUnknownGroup",
        [unknownGid],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
    });

    it("rejects a message of a deactivated group with GroupRegistryGroupInactive", async () => {
      const { registry, device, clusters } = await load();
      const d = device(0, 0);
      const { message, signature } = await signedMessage(registry, d);
      await registry.write.deactivateGroup([d.gid], { account: clusters[0].head });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "GroupRegistryGroupInactive",
        [d.gid],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
    });

    it("rejects an oid that is a member of another group with GroupRegistryNotMember", async () => {
      const { registry, device, clusters } = await load();
      const d = device(1, 0); // a member of cluster 1 claiming cluster 0
      const { message, signature } = await signedMessage(registry, d, { gid: clusters[0].gid });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "GroupRegistryNotMember",
        [clusters[0].gid, d.oid],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
    });

    it("rejects an oid nobody registered with GroupRegistryNotMember", async () => {
      const { registry, device } = await load();
      const d = device(0, 0);
      const { message, signature } = await signedMessage(registry, d, { oid: unknownOid });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "GroupRegistryNotMember",
        [d.gid, unknownOid],
      );
    });

    it("rejects the root Master, which masters but is not a member of its group, with GroupRegistryNotMember", async () => {
      const { registry, rootMaster, rootGid, rootOid } = await load();
      const master: Device = { account: rootMaster, oid: rootOid, gid: rootGid };
      const { message, signature } = await signedMessage(registry, master);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "GroupRegistryNotMember",
        [rootGid, rootOid],
      );
    });

    it("rejects a revoked device with GroupRegistryMemberRevoked", async () => {
      const { registry, device, clusters } = await load();
      const d = device(0, 1);
      const { message, signature } = await signedMessage(registry, d);
      await registry.write.revoke([d.gid, d.oid], { account: clusters[0].head });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "GroupRegistryMemberRevoked",
        [d.gid, d.oid],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
    });

    it("emits nothing and leaves every nonce unchanged when it reverts", async () => {
      const { registry, device } = await load();
      const d = device(0, 0);
      const fromBlock = (await publicClient.getBlockNumber()) + 1n;
      const { message } = await signedMessage(registry, d);
      await viem.assertions.revertWithCustomError(
        registry.write.recordDataBySig([message, `0x${"ab".repeat(64)}`]),
        registry,
        "RequestInvalidSignature",
      );
      expect(await registry.getEvents.DataMessageRecorded({}, { fromBlock })).to.have.length(0);
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < 3; i++) {
          expect(await registry.read.nonces([device(c, i).gid, device(c, i).oid])).to.equal(1n);
        }
      }
    });

    it("stops at the last 32-bit nonce with DataLedgerNoncesExhausted instead of wrapping around to nonce 0", async () => {
      const { registry, device } = await load();
      const d = device(0, 0);
      // The member record is `_members[gid][oid]` (slot 3, after EIP712's two strings and `_groups`):
      // one packed slot, account (160 bits) | leafIndex (32) | flags (8) | nonce (32). Set the nonce to 2^32 - 1.
      const MEMBERS_SLOT = 3n;
      const slot = keccak256(concat([d.oid, keccak256(concat([d.gid, pad(toHex(MEMBERS_SLOT))]))]));
      const word = hexToBigInt((await publicClient.getStorageAt({ address: registry.address, slot }))!);
      expect(word % 2n ** 160n, "member record slot").to.equal(hexToBigInt(d.account.address));
      const maxNonce = 2n ** 32n - 1n;
      await networkHelpers.setStorageAt(registry.address, slot, (word % 2n ** 200n) + (maxNonce << 200n));
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(maxNonce);

      const { message, signature } = await signedMessage(registry, d);
      expect(message.nonce).to.equal(maxNonce);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordDataBySig([message, signature]),
        registry,
        "DataLedgerNoncesExhausted",
        [d.account.address],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(maxNonce);
    });
  });

  // ------------------------------------------------------------------------ recordDataBatchBySig

  describe("recordDataBatchBySig: many signed data messages in one transaction; a bad one is skipped, never fatal", () => {
    const AlreadyApplied = 1;
    const Rejected = 2;
    const skipReason = (registry: Registry, errorName: string, args: readonly unknown[]) =>
      encodeErrorResult({ abi: registry.abi, errorName, args } as never);

    it("records messages of several devices in one transaction with one event each, in order", async () => {
      const { registry, device, relayer } = await load();
      const a = device(0, 0);
      const b = device(1, 2);
      const c = device(2, 1);
      const first = await signedMessage(registry, a, { payloadHash: payload("a1") });
      const second = await signedMessage(registry, a, { nonce: 2n, payloadHash: payload("a2") }); // same device, next nonce
      const third = await signedMessage(registry, b, { payloadHash: payload("b1") });
      const fourth = await signedMessage(registry, c, { payloadHash: payload("c1") });
      const items = [first, second, third, fourth];

      const receipt = await receiptOf(registry.write.recordDataBatchBySig([items], { account: relayer }));
      expect(receipt.status).to.equal("success");
      expect(parseEventLogs({ abi: registry.abi, logs: receipt.logs, eventName: "BatchItemSkipped" })).to.have.length(0);
      const events = parseEventLogs({ abi: registry.abi, logs: receipt.logs, eventName: "DataMessageRecorded" });
      expect(events).to.have.length(4);
      events.forEach((event, i) => {
        const { message } = items[i];
        expect(event.args).to.deep.equal({
          gid: message.gid,
          device: [a, a, b, c][i].account.address,
          oid: message.oid,
          nonce: message.nonce,
          payloadHash: message.payloadHash,
          timestamp: message.timestamp,
          deadline: message.deadline,
        });
      });
      expect(await registry.read.nonces([a.gid, a.oid])).to.equal(3n);
      expect(await registry.read.nonces([b.gid, b.oid])).to.equal(2n);
      expect(await registry.read.nonces([c.gid, c.oid])).to.equal(2n);
    });

    it("accepts a batch of one", async () => {
      const { registry, device } = await load();
      const d = device(0, 0);
      const item = await signedMessage(registry, d);
      await viem.assertions.emitWithArgs(
        registry.write.recordDataBatchBySig([[item]]),
        registry,
        "DataMessageRecorded",
        [item.message.gid, d.account.address, d.oid, 1n, item.message.payloadHash, item.message.timestamp, item.message.deadline],
      );
    });

    it("rejects an empty batch with BatchEmpty", async () => {
      const { registry } = await load();
      await viem.assertions.revertWithCustomError(registry.write.recordDataBatchBySig([[]]), registry, "BatchEmpty");
    });

    it("skips a badly signed item and a revoked device's item, reporting each, and records the good ones", async () => {
      const { registry, device, clusters } = await load();
      const a = device(0, 0);
      const b = device(1, 0);
      const c = device(2, 0);
      const good = await signedMessage(registry, a);
      const bad = { ...(await signedMessage(registry, b)), signature: `0x${"ab".repeat(64)}` as Hex };
      const revoked = await signedMessage(registry, c);
      await registry.write.revoke([c.gid, c.oid], { account: clusters[2].head });
      const receipt = await receiptOf(registry.write.recordDataBatchBySig([[good, bad, revoked]]));
      const skipped = parseEventLogs({ abi: registry.abi, logs: receipt.logs, eventName: "BatchItemSkipped" });
      expect(skipped.map((log) => log.args)).to.deep.equal([
        { index: 1n, status: Rejected, reason: skipReason(registry, "RequestInvalidSignature", []) },
        { index: 2n, status: Rejected, reason: skipReason(registry, "GroupRegistryMemberRevoked", [c.gid, c.oid]) },
      ]);
      expect(await registry.read.nonces([a.gid, a.oid])).to.equal(2n);
      expect(await registry.read.nonces([b.gid, b.oid])).to.equal(1n);
      expect(parseEventLogs({ abi: registry.abi, logs: receipt.logs, eventName: "DataMessageRecorded" })).to.have.length(1);
    });

    it("reports the same message twice in one batch as already applied the second time", async () => {
      const { registry, device } = await load();
      const d = device(0, 2);
      const item = await signedMessage(registry, d);
      await viem.assertions.emitWithArgs(
        registry.write.recordDataBatchBySig([[item, item]]),
        registry,
        "BatchItemSkipped",
        [1n, AlreadyApplied, skipReason(registry, "DataLedgerNonceUsed", [d.account.address, 1n])],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(2n);
    });

    it("skips a message whose nonce is ahead of the device's with RequestInvalidNonce and records the next in order", async () => {
      const { registry, device } = await load();
      const d = device(0, 2);
      const first = await signedMessage(registry, d, { payloadHash: payload("1") });
      const second = await signedMessage(registry, d, { nonce: 2n, payloadHash: payload("2") });
      await viem.assertions.emitWithArgs(
        registry.write.recordDataBatchBySig([[second, first]]),
        registry,
        "BatchItemSkipped",
        [0n, Rejected, skipReason(registry, "RequestInvalidNonce", [d.account.address, 1n])],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(2n);
    });

    it("skips an expired message with RequestExpired", async () => {
      const { registry, device } = await load();
      const good = await signedMessage(registry, device(0, 0));
      const expired = await signedMessage(registry, device(0, 1), { deadline: (await now()) - 1n });
      await viem.assertions.emitWithArgs(
        registry.write.recordDataBatchBySig([[good, expired]]),
        registry,
        "BatchItemSkipped",
        [1n, Rejected, skipReason(registry, "RequestExpired", [expired.message.deadline])],
      );
      expect(await registry.read.nonces([device(0, 0).gid, device(0, 0).oid])).to.equal(2n);
      expect(await registry.read.nonces([device(0, 1).gid, device(0, 1).oid])).to.equal(1n);
    });

    it("reports a message someone relayed first as already applied and records the rest (no griefing)", async () => {
      const { registry, device, outsider } = await load();
      const items = [];
      for (const [c, d] of [[0, 0], [1, 1], [2, 2]] as const) items.push(await signedMessage(registry, device(c, d)));
      await registry.write.recordDataBySig([items[1].message, items[1].signature], { account: outsider });
      const { result } = await publicClient.simulateContract({
        address: registry.address,
        abi: registry.abi,
        functionName: "recordDataBatchBySig",
        args: [items],
      });
      expect(result).to.deep.equal([0, AlreadyApplied, 0]);
      const receipt = await receiptOf(registry.write.recordDataBatchBySig([items]));
      expect(receipt.status).to.equal("success");
      expect(parseEventLogs({ abi: registry.abi, logs: receipt.logs, eventName: "DataMessageRecorded" })).to.have.length(2);
    });
  });

  // ----------------------------------------------------------------------- recordData

  describe("recordData: a data message sent by the device itself", () => {
    it("records the message with DirectDataMessageRecorded and leaves the relayed nonce alone", async () => {
      const { registry, device } = await load();
      const d = device(0, 0);
      const account = await funded("device-0-0");
      expect(account.address).to.equal(d.account.address);
      const payloadHash = payload("direct");
      const timestamp = await now();
      await viem.assertions.emitWithArgs(
        registry.write.recordData([d.gid, d.oid, payloadHash, timestamp], { account }),
        registry,
        "DirectDataMessageRecorded",
        [d.gid, d.account.address, d.oid, payloadHash, timestamp],
      );
      expect(await registry.read.nonces([d.gid, d.oid])).to.equal(1n);
    });

    it("rejects a message sent by another account with DataLedgerWrongSender", async () => {
      const { registry, device, relayer } = await load();
      const d = device(0, 0);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordData([d.gid, d.oid, payload("x"), 0n], { account: relayer }),
        registry,
        "DataLedgerWrongSender",
        [relayer.address, d.account.address],
      );
    });

    it("rejects a member sending under another member's oid with DataLedgerWrongSender", async () => {
      const { registry, device } = await load();
      const victim = device(0, 1);
      const account = await funded("device-0-0");
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordData([victim.gid, victim.oid, payload("x"), 0n], { account }),
        registry,
        "DataLedgerWrongSender",
        [account.address, victim.account.address],
      );
    });

    it("rejects a revoked device with GroupRegistryMemberRevoked", async () => {
      const { registry, device, clusters } = await load();
      const d = device(1, 1);
      const account = await funded("device-1-1");
      await registry.write.revoke([d.gid, d.oid], { account: clusters[1].head });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordData([d.gid, d.oid, payload("x"), 0n], { account }),
        registry,
        "GroupRegistryMemberRevoked",
        [d.gid, d.oid],
      );
    });

    it("rejects a device of a deactivated group with GroupRegistryGroupInactive", async () => {
      const { registry, device, clusters } = await load();
      const d = device(1, 1);
      const account = await funded("device-1-1");
      await registry.write.deactivateGroup([d.gid], { account: clusters[1].head });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordData([d.gid, d.oid, payload("x"), 0n], { account }),
        registry,
        "GroupRegistryGroupInactive",
        [d.gid],
      );
    });

    it("rejects an unknown group with GroupRegistryUnknownGroup", async () => {
      const { registry, device } = await load();
      const d = device(1, 1);
      const account = await funded("device-1-1");
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordData([unknownGid, d.oid, payload("x"), 0n], { account }),
        registry,
        "GroupRegistryUnknownGroup",
        [unknownGid],
      );
    });

    it("rejects a device claiming a group it is not a member of with GroupRegistryNotMember", async () => {
      const { registry, device, clusters } = await load();
      const d = device(1, 1);
      const account = await funded("device-1-1");
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordData([clusters[2].gid, d.oid, payload("x"), 0n], { account }),
        registry,
        "GroupRegistryNotMember",
        [clusters[2].gid, d.oid],
      );
    });
  });

  // ------------------------------------------------------------------------- recordExchangeBySig

  describe("recordExchangeBySig: a device-to-device exchange signed by the sender", () => {
    it("records an exchange within a cluster and advances the sender's nonce", async () => {
      const { registry, device, relayer } = await load();
      const sender = device(0, 0);
      const receiver = device(0, 1);
      const exchange = await nextExchange(registry, sender, receiver);
      const signature = await signExchange(sender.account, registry, exchange);
      await viem.assertions.emitWithArgs(
        registry.write.recordExchangeBySig([exchange, signature], { account: relayer }),
        registry,
        "ExchangeRecorded",
        [
          sender.gid,
          sender.account.address,
          receiver.account.address,
          sender.oid,
          receiver.gid,
          receiver.oid,
          1n,
          exchange.payloadHash,
          exchange.timestamp,
          exchange.deadline,
        ],
      );
      expect(await registry.read.nonces([sender.gid, sender.oid])).to.equal(2n);
      expect(await registry.read.nonces([receiver.gid, receiver.oid])).to.equal(1n);
    });

    it("rejects an exchange from a device to itself", async () => {
      const { registry, device } = await load();
      const sender = device(0, 0);
      const exchange = await nextExchange(registry, sender, sender);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, await signExchange(sender.account, registry, exchange)]),
        registry,
        "DataLedgerSelfExchange",
        [sender.oid],
      );
    });

    it("records an exchange across clusters", async () => {
      const { registry, device } = await load();
      const sender = device(0, 2);
      const receiver = device(2, 0);
      const exchange = await nextExchange(registry, sender, receiver);
      const signature = await signExchange(sender.account, registry, exchange);
      await viem.assertions.emitWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "ExchangeRecorded",
        [
          sender.gid,
          sender.account.address,
          receiver.account.address,
          sender.oid,
          receiver.gid,
          receiver.oid,
          exchange.nonce,
          exchange.payloadHash,
          exchange.timestamp,
          exchange.deadline,
        ],
      );
    });

    it("records an exchange between a cluster head (root-group member) and a device", async () => {
      const { registry, device, headAsMember } = await load();
      const sender = headAsMember(0);
      const receiver = device(0, 0);
      const exchange = await nextExchange(registry, sender, receiver);
      const signature = await signExchange(sender.account, registry, exchange);
      await viem.assertions.emit(registry.write.recordExchangeBySig([exchange, signature]), registry, "ExchangeRecorded");
    });

    it("shares the sender's nonce with data messages: a data message then an exchange use consecutive nonces", async () => {
      const { registry, device } = await load();
      const sender = device(1, 0);
      const receiver = device(1, 1);
      const data = await signedMessage(registry, sender);
      expect(data.message.nonce).to.equal(1n);
      const early = await nextExchange(registry, sender, receiver); // signed with nonce 1 too
      const earlySignature = await signExchange(sender.account, registry, early);
      await registry.write.recordDataBySig([data.message, data.signature]);

      // The device signed two requests with nonce 1 (a protocol breach): the second is refused as used.
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([early, earlySignature]),
        registry,
        "DataLedgerNonceUsed",
        [sender.account.address, 1n],
      );
      const exchange = await nextExchange(registry, sender, receiver);
      expect(exchange.nonce).to.equal(2n);
      await viem.assertions.emit(
        registry.write.recordExchangeBySig([exchange, await signExchange(sender.account, registry, exchange)]),
        registry,
        "ExchangeRecorded",
      );
      // ...and the next data message takes nonce 3.
      const next = await signedMessage(registry, sender);
      expect(next.message.nonce).to.equal(3n);
      await viem.assertions.emit(registry.write.recordDataBySig([next.message, next.signature]), registry, "DataMessageRecorded");
    });

    it("indexes the receiver, so a receiver can filter its exchanges", async () => {
      const { registry, device } = await load();
      const a = device(0, 0);
      const b = device(1, 0);
      const c = device(2, 0);
      for (const [sender, receiver] of [
        [a, b],
        [c, b],
        [a, c],
        [b, a],
      ] as const) {
        const exchange = await nextExchange(registry, sender, receiver);
        await registry.write.recordExchangeBySig([exchange, await signExchange(sender.account, registry, exchange)]);
      }
      const toB = await registry.getEvents.ExchangeRecorded({ receiver: b.account.address }, { fromBlock: 0n });
      expect(toB.map((e) => e.args.sender)).to.deep.equal([a.account.address, c.account.address]);
      expect(toB.every((e) => e.args.receiverOid === b.oid)).to.equal(true);
      const fromA = await registry.getEvents.ExchangeRecorded({ sender: a.account.address }, { fromBlock: 0n });
      expect(fromA.map((e) => e.args.receiver)).to.deep.equal([b.account.address, c.account.address]);
    });

    it("rejects a receiver that is not a member of the receiver group with GroupRegistryNotMember", async () => {
      const { registry, device, clusters } = await load();
      const sender = device(0, 0);
      const receiver = device(1, 0);
      const exchange = await nextExchange(registry, sender, receiver, { receiverGid: clusters[2].gid });
      const signature = await signExchange(sender.account, registry, exchange);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "GroupRegistryNotMember",
        [clusters[2].gid, receiver.oid],
      );
      expect(await registry.read.nonces([sender.gid, sender.oid])).to.equal(1n);
    });

    it("rejects an unregistered receiver oid with GroupRegistryNotMember", async () => {
      const { registry, device } = await load();
      const sender = device(0, 0);
      const exchange = await nextExchange(registry, sender, device(0, 1), { receiverOid: unknownOid });
      const signature = await signExchange(sender.account, registry, exchange);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "GroupRegistryNotMember",
        [sender.gid, unknownOid],
      );
    });

    it("rejects a revoked receiver with GroupRegistryMemberRevoked", async () => {
      const { registry, device, clusters } = await load();
      const sender = device(0, 0);
      const receiver = device(1, 2);
      await registry.write.revoke([receiver.gid, receiver.oid], { account: clusters[1].head });
      const exchange = await nextExchange(registry, sender, receiver);
      const signature = await signExchange(sender.account, registry, exchange);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "GroupRegistryMemberRevoked",
        [receiver.gid, receiver.oid],
      );
      expect(await registry.read.nonces([sender.gid, sender.oid])).to.equal(1n);
    });

    it("rejects a receiver in a deactivated group with GroupRegistryGroupInactive", async () => {
      const { registry, device, clusters } = await load();
      const sender = device(0, 0);
      const receiver = device(1, 2);
      await registry.write.deactivateGroup([receiver.gid], { account: clusters[1].head });
      const exchange = await nextExchange(registry, sender, receiver);
      const signature = await signExchange(sender.account, registry, exchange);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "GroupRegistryGroupInactive",
        [receiver.gid],
      );
    });

    it("rejects a receiver in an unknown group with GroupRegistryUnknownGroup", async () => {
      const { registry, device } = await load();
      const sender = device(0, 0);
      const exchange = await nextExchange(registry, sender, device(1, 2), { receiverGid: unknownGid });
      const signature = await signExchange(sender.account, registry, exchange);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "GroupRegistryUnknownGroup",
        [unknownGid],
      );
    });

    it("rejects a revoked sender with GroupRegistryMemberRevoked", async () => {
      const { registry, device, clusters } = await load();
      const sender = device(0, 0);
      const receiver = device(1, 2);
      const exchange = await nextExchange(registry, sender, receiver);
      const signature = await signExchange(sender.account, registry, exchange);
      await registry.write.revoke([sender.gid, sender.oid], { account: clusters[0].head });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "GroupRegistryMemberRevoked",
        [sender.gid, sender.oid],
      );
    });

    it("rejects an exchange signed by the receiver instead of the sender with RequestWrongSigner", async () => {
      const { registry, device } = await load();
      const sender = device(0, 0);
      const receiver = device(0, 1);
      const exchange = await nextExchange(registry, sender, receiver);
      const signature = await signExchange(receiver.account, registry, exchange);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "RequestWrongSigner",
        [receiver.account.address, sender.account.address],
      );
      expect(await registry.read.nonces([sender.gid, sender.oid])).to.equal(1n);
    });

    it("rejects an exchange redirected to another receiver after signing with RequestWrongSigner", async () => {
      const { registry, device } = await load();
      const sender = device(0, 0);
      const exchange = await nextExchange(registry, sender, device(0, 1));
      const signature = await signExchange(sender.account, registry, exchange);
      const redirected = { ...exchange, receiverGid: device(2, 2).gid, receiverOid: device(2, 2).oid };
      const recovered = await recoverAddress({ hash: await registry.read.exchangeDigest([redirected]), signature });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([redirected, signature]),
        registry,
        "RequestWrongSigner",
        [recovered, sender.account.address],
      );
    });

    it("rejects an exchange signed for another chain id with RequestWrongSigner", async () => {
      const { registry, device } = await load();
      const sender = device(0, 0);
      const exchange = await nextExchange(registry, sender, device(0, 1));
      const signature = await signExchange(sender.account, registry, exchange, domainOf(registry, { chainId: 1 }));
      const recovered = await recoverAddress({ hash: await registry.read.exchangeDigest([exchange]), signature });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "RequestWrongSigner",
        [recovered, sender.account.address],
      );
    });

    it("rejects the high-s twin of the sender's signature with RequestInvalidSignature", async () => {
      const { registry, device } = await load();
      const sender = device(0, 0);
      const exchange = await nextExchange(registry, sender, device(0, 1));
      const signature = await signExchange(sender.account, registry, exchange);
      await viem.assertions.revertWithCustomError(
        registry.write.recordExchangeBySig([exchange, toHighS(signature)]),
        registry,
        "RequestInvalidSignature",
      );
    });

    it("rejects a signature over a data message presented as an exchange signature with RequestWrongSigner", async () => {
      const { registry, device } = await load();
      const sender = device(0, 0);
      const exchange = await nextExchange(registry, sender, device(0, 1));
      const { receiverGid: _g, receiverOid: _o, ...fields } = exchange;
      const dataSignature = await signData(sender.account, registry, fields);
      const recovered = await recoverAddress({ hash: await registry.read.exchangeDigest([exchange]), signature: dataSignature });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, dataSignature]),
        registry,
        "RequestWrongSigner",
        [recovered, sender.account.address],
      );
    });

    it("rejects an expired exchange with RequestExpired", async () => {
      const { registry, device } = await load();
      const sender = device(0, 0);
      const exchange = await nextExchange(registry, sender, device(0, 1), { deadline: (await now()) + 10n });
      const signature = await signExchange(sender.account, registry, exchange);
      await networkHelpers.time.increase(11);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "RequestExpired",
        [exchange.deadline],
      );
    });

    it("rejects a replayed exchange with DataLedgerNonceUsed", async () => {
      const { registry, device } = await load();
      const sender = device(0, 0);
      const exchange = await nextExchange(registry, sender, device(0, 1));
      const signature = await signExchange(sender.account, registry, exchange);
      await registry.write.recordExchangeBySig([exchange, signature]);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.recordExchangeBySig([exchange, signature]),
        registry,
        "DataLedgerNonceUsed",
        [sender.account.address, 1n],
      );
    });
  });

  // ------------------------------------------------------------------------------ anchoring

  describe("isAnchorer: exactly the callers anchorBatch accepts", () => {
    it("is true for the Master and its authorised keys, false for others and for a deactivated group", async () => {
      const { registry, clusters, gateway, outsider } = await load();
      const { gid, head } = clusters[0];
      await registry.write.setAnchorer([gid, gateway.address, true], { account: head });
      expect(await registry.read.isAnchorer([gid, head.address])).to.equal(true);
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(true);
      expect(await registry.read.isAnchorer([gid, outsider.address])).to.equal(false);
      expect(await registry.read.isAnchorer([id("no-such-group"), outsider.address])).to.equal(false);
      await registry.write.deactivateGroup([gid], { account: head });
      expect(await registry.read.isAnchorer([gid, head.address])).to.equal(false);
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(false);
    });
  });

  describe("setAnchorer: the Master authorises gateway keys", () => {
    it("rejects a deactivated group", async () => {
      const { registry, clusters, gateway } = await load();
      const { gid, head } = clusters[0];
      await registry.write.deactivateGroup([gid], { account: head });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.setAnchorer([gid, gateway.address, true], { account: head }),
        registry,
        "GroupRegistryGroupInactive",
        [gid],
      );
    });

    it("lets the Master authorise and withdraw an anchorer, emitting AnchorerSet", async () => {
      const { registry, clusters, gateway } = await load();
      const { gid, head } = clusters[0];
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(false);
      await viem.assertions.emitWithArgs(
        registry.write.setAnchorer([gid, gateway.address, true], { account: head }),
        registry,
        "AnchorerSet",
        [gid, head.address, gateway.address, true, 0],
      );
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(true);
      expect(await registry.read.isAnchorer([clusters[1].gid, gateway.address])).to.equal(false);
      await viem.assertions.emitWithArgs(
        registry.write.setAnchorer([gid, gateway.address, false], { account: head }),
        registry,
        "AnchorerSet",
        [gid, head.address, gateway.address, false, 0],
      );
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(false);
    });

    it("rejects setAnchorer by anyone but the Master with GroupRegistryNotMaster", async () => {
      const { registry, clusters, gateway, rootMaster } = await load();
      const { gid } = clusters[0];
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.setAnchorer([gid, gateway.address, true], { account: gateway }),
        registry,
        "GroupRegistryNotMaster",
        [gid, gateway.address],
      );
      // Not even the Master of the parent group, nor another cluster's head.
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.setAnchorer([gid, gateway.address, true], { account: rootMaster }),
        registry,
        "GroupRegistryNotMaster",
        [gid, rootMaster.address],
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.setAnchorer([gid, gateway.address, true], { account: clusters[1].head }),
        registry,
        "GroupRegistryNotMaster",
        [gid, clusters[1].head.address],
      );
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(false);
    });

    it("rejects setAnchorer on an unknown group with GroupRegistryUnknownGroup", async () => {
      const { registry, gateway, rootMaster } = await load();
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.setAnchorer([unknownGid, gateway.address, true], { account: rootMaster }),
        registry,
        "GroupRegistryUnknownGroup",
        [unknownGid],
      );
    });

    it("does not let an anchorer delegate further (setAnchorer stays Master-only)", async () => {
      const { registry, clusters, gateway, outsider } = await load();
      const { gid, head } = clusters[0];
      await registry.write.setAnchorer([gid, gateway.address, true], { account: head });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.setAnchorer([gid, outsider.address, true], { account: gateway }),
        registry,
        "GroupRegistryNotMaster",
        [gid, gateway.address],
      );
    });
  });

  describe("anchorBatch and verifyAnchoredMessage: Merkle roots of off-chain verified batches", () => {
    /** Five recorded messages of cluster 0 (odd, so one node is carried up), their leaves and tree. */
    async function recordedBatch(registry: Registry, devices: Device[]) {
      const items = [];
      for (let i = 0; i < 5; i++) {
        const d = devices[i % devices.length];
        const nonce = 1n + BigInt(Math.floor(i / devices.length));
        items.push(await signedMessage(registry, d, { nonce, payloadHash: payload(`batch-${i}`) }));
      }
      await registry.write.recordDataBatchBySig([items]);
      const messages = items.map((item) => item.message);
      const leaves = await Promise.all(messages.map((m) => registry.read.dataMessageDigest([m])));
      return { messages, leaves, root: sortedRoot(leaves) };
    }

    const clusterDevices = (device: (c: number, d: number) => Device, c: number) => [0, 1, 2].map((d) => device(c, d));

    it("the leaves are the EIP-712 digests a device signs (as computed off chain)", async () => {
      const { registry, device } = await load();
      const { messages, leaves } = await recordedBatch(registry, clusterDevices(device, 0));
      messages.forEach((message, i) => {
        expect(leaves[i]).to.equal(
          hashTypedData({ domain: domainOf(registry), types: dataMessageTypes, primaryType: "DataMessage", message }),
        );
      });
    });

    it("lets the Master anchor a batch, records anchorOf and emits BatchAnchored", async () => {
      const { registry, device, clusters } = await load();
      const { gid, head } = clusters[0];
      const { root } = await recordedBatch(registry, clusterDevices(device, 0));
      expect(await registry.read.anchorOf([gid, root])).to.deep.equal({ anchorer: zeroAddress, anchoredAt: 0n, messageCount: 0 });
      const hash = registry.write.anchorBatch([gid, root, 5], { account: head });
      await viem.assertions.emitWithArgs(hash, registry, "BatchAnchored", [gid, root, head.address, 5]);
      const block = await publicClient.getBlock();
      expect(await registry.read.anchorOf([gid, root])).to.deep.equal({
        anchorer: head.address,
        anchoredAt: block.timestamp,
        messageCount: 5,
      });
      // The anchor belongs to its group only.
      expect((await registry.read.anchorOf([clusters[1].gid, root])).anchoredAt).to.equal(0n);
    });

    it("verifies every message of an anchored batch against its root", async () => {
      const { registry, device, clusters } = await load();
      const { gid, head } = clusters[0];
      const { messages, leaves, root } = await recordedBatch(registry, clusterDevices(device, 0));
      await registry.write.anchorBatch([gid, root, messages.length], { account: head });
      for (const [i, message] of messages.entries()) {
        expect(await registry.read.verifyAnchoredMessage([message, root, sortedProof(leaves, i)]), `message ${i}`).to.equal(true);
      }
    });

    it("lets an authorised gateway key anchor a batch, recorded as the anchorer", async () => {
      const { registry, device, clusters, gateway } = await load();
      const { gid, head } = clusters[0];
      const { messages, leaves, root } = await recordedBatch(registry, clusterDevices(device, 0));
      await registry.write.setAnchorer([gid, gateway.address, true], { account: head });
      await viem.assertions.emitWithArgs(
        registry.write.anchorBatch([gid, root, 5], { account: gateway }),
        registry,
        "BatchAnchored",
        [gid, root, gateway.address, 5],
      );
      const anchor = await registry.read.anchorOf([gid, root]);
      expect(anchor.anchorer).to.equal(gateway.address);
      expect(anchor.messageCount).to.equal(5);
      expect(await registry.read.verifyAnchoredMessage([messages[3], root, sortedProof(leaves, 3)])).to.equal(true);
    });

    it("returns false for a message that is not in the batch", async () => {
      const { registry, device, clusters } = await load();
      const { gid, head } = clusters[0];
      const { messages, leaves, root } = await recordedBatch(registry, clusterDevices(device, 0));
      await registry.write.anchorBatch([gid, root, 5], { account: head });
      const outsider = await nextMessage(registry, device(0, 0), { payloadHash: payload("not in batch") });
      for (let i = 0; i < leaves.length; i++) {
        expect(await registry.read.verifyAnchoredMessage([outsider, root, sortedProof(leaves, i)])).to.equal(false);
      }
      // A batch member with one field changed is not in the batch either.
      const altered = { ...messages[2], timestamp: messages[2].timestamp + 1n };
      expect(await registry.read.verifyAnchoredMessage([altered, root, sortedProof(leaves, 2)])).to.equal(false);
      // Nor is a member with another member's proof.
      expect(await registry.read.verifyAnchoredMessage([messages[0], root, sortedProof(leaves, 1)])).to.equal(false);
    });

    it("returns false for a root that was never anchored, even with a valid proof", async () => {
      const { registry, device, clusters } = await load();
      const { gid, head } = clusters[0];
      const { messages, leaves, root } = await recordedBatch(registry, clusterDevices(device, 0));
      expect(await registry.read.verifyAnchoredMessage([messages[0], root, sortedProof(leaves, 0)])).to.equal(false);
      // Anchoring a different (sub-)batch does not help the unanchored root.
      const subRoot = sortedRoot(leaves.slice(0, 4));
      await registry.write.anchorBatch([gid, subRoot, 4], { account: head });
      expect(await registry.read.verifyAnchoredMessage([messages[0], root, sortedProof(leaves, 0)])).to.equal(false);
      expect(await registry.read.verifyAnchoredMessage([messages[0], subRoot, sortedProof(leaves.slice(0, 4), 0)])).to.equal(true);
    });

    it("does not vouch for a message of another group through a root anchored in this one", async () => {
      const { registry, device, clusters } = await load();
      const foreign = await signedMessage(registry, device(1, 0));
      const own = await signedMessage(registry, device(0, 0));
      const leaves = await Promise.all([own.message, foreign.message].map((m) => registry.read.dataMessageDigest([m])));
      const root = sortedRoot(leaves);
      await registry.write.anchorBatch([clusters[0].gid, root, 2], { account: clusters[0].head });
      expect(await registry.read.verifyAnchoredMessage([own.message, root, sortedProof(leaves, 0)])).to.equal(true);
      expect(await registry.read.verifyAnchoredMessage([foreign.message, root, sortedProof(leaves, 1)])).to.equal(false);
    });

    it("verifies a batch of one (root = leaf, empty proof)", async () => {
      const { registry, device, clusters } = await load();
      const { message } = await signedMessage(registry, device(0, 0));
      const leaf = await registry.read.dataMessageDigest([message]);
      await registry.write.anchorBatch([clusters[0].gid, leaf, 1], { account: clusters[0].head });
      expect(await registry.read.verifyAnchoredMessage([message, leaf, []])).to.equal(true);
    });

    it("lets the root group's Master anchor batches of the root group", async () => {
      const { registry, rootGid, rootMaster, headAsMember } = await load();
      const heads = [0, 1, 2].map(headAsMember);
      const { messages, leaves, root } = await recordedBatch(registry, heads);
      await viem.assertions.emit(registry.write.anchorBatch([rootGid, root, 5], { account: rootMaster }), registry, "BatchAnchored");
      expect(await registry.read.verifyAnchoredMessage([messages[4], root, sortedProof(leaves, 4)])).to.equal(true);
    });

    it("anchors the same root once per group: a second time reverts with DataLedgerRootAlreadyAnchored", async () => {
      const { registry, clusters, gateway } = await load();
      const { gid, head } = clusters[0];
      const root = id("some root");
      await registry.write.setAnchorer([gid, gateway.address, true], { account: head });
      await registry.write.anchorBatch([gid, root, 3], { account: head });
      for (const account of [head, gateway]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          registry.write.anchorBatch([gid, root, 7], { account }),
          registry,
          "DataLedgerRootAlreadyAnchored",
          [gid, root],
        );
      }
      const anchor = await registry.read.anchorOf([gid, root]);
      expect(anchor.anchorer).to.equal(head.address);
      expect(anchor.messageCount).to.equal(3);
      // Another group may anchor the same root.
      await viem.assertions.emit(
        registry.write.anchorBatch([clusters[1].gid, root, 3], { account: clusters[1].head }),
        registry,
        "BatchAnchored",
      );
    });

    it("rejects anchoring by anyone but the Master or an anchorer with DataLedgerNotAnchorer", async () => {
      const { registry, clusters, gateway, rootMaster, device } = await load();
      const { gid } = clusters[0];
      const root = id("root");
      const member = await funded("device-0-0");
      for (const account of [gateway, rootMaster, clusters[1].head, member]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          registry.write.anchorBatch([gid, root, 1], { account }),
          registry,
          "DataLedgerNotAnchorer",
          [gid, account.address],
        );
      }
      expect(member.address).to.equal(device(0, 0).account.address);
      expect((await registry.read.anchorOf([gid, root])).anchoredAt).to.equal(0n);
    });

    it("rejects an anchorer of one group anchoring for another with DataLedgerNotAnchorer", async () => {
      const { registry, clusters, gateway } = await load();
      await registry.write.setAnchorer([clusters[0].gid, gateway.address, true], { account: clusters[0].head });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.anchorBatch([clusters[1].gid, id("root"), 1], { account: gateway }),
        registry,
        "DataLedgerNotAnchorer",
        [clusters[1].gid, gateway.address],
      );
    });

    it("rejects a withdrawn anchorer with DataLedgerNotAnchorer", async () => {
      const { registry, clusters, gateway } = await load();
      const { gid, head } = clusters[0];
      await registry.write.setAnchorer([gid, gateway.address, true], { account: head });
      await registry.write.setAnchorer([gid, gateway.address, false], { account: head });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.anchorBatch([gid, id("root"), 1], { account: gateway }),
        registry,
        "DataLedgerNotAnchorer",
        [gid, gateway.address],
      );
    });

    it("rejects a zero root with DataLedgerZeroRoot", async () => {
      const { registry, clusters, gateway } = await load();
      const { gid, head } = clusters[0];
      await registry.write.setAnchorer([gid, gateway.address, true], { account: head });
      for (const account of [head, gateway]) {
        await viem.assertions.revertWithCustomError(
          registry.write.anchorBatch([gid, zeroHash, 1], { account }),
          registry,
          "DataLedgerZeroRoot",
        );
      }
    });

    it("rejects a message count of zero with DataLedgerEmptyAnchor", async () => {
      const { registry, clusters } = await load();
      const { gid, head } = clusters[0];
      await viem.assertions.revertWithCustomError(
        registry.write.anchorBatch([gid, id("root"), 0], { account: head }),
        registry,
        "DataLedgerEmptyAnchor",
      );
      expect((await registry.read.anchorOf([gid, id("root")])).anchoredAt).to.equal(0n);
    });

    it("rejects an unknown group with GroupRegistryUnknownGroup", async () => {
      const { registry, clusters } = await load();
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.anchorBatch([unknownGid, id("root"), 1], { account: clusters[0].head }),
        registry,
        "GroupRegistryUnknownGroup",
        [unknownGid],
      );
    });

    it("rejects a deactivated group with GroupRegistryGroupInactive, for the Master and its anchorers", async () => {
      const { registry, clusters, gateway } = await load();
      const { gid, head } = clusters[0];
      await registry.write.setAnchorer([gid, gateway.address, true], { account: head });
      await registry.write.deactivateGroup([gid], { account: head });
      for (const account of [head, gateway]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          registry.write.anchorBatch([gid, id("root"), 1], { account }),
          registry,
          "GroupRegistryGroupInactive",
          [gid],
        );
      }
    });

    it("keeps anchors verifiable after the group is deactivated", async () => {
      const { registry, device, clusters } = await load();
      const { gid, head } = clusters[0];
      const { messages, leaves, root } = await recordedBatch(registry, clusterDevices(device, 0));
      await registry.write.anchorBatch([gid, root, 5], { account: head });
      await registry.write.deactivateGroup([gid], { account: head });
      expect(await registry.read.verifyAnchoredMessage([messages[1], root, sortedProof(leaves, 1)])).to.equal(true);
    });
  });

  describe("verifyAnchoredSignedMessage: the anchored batch and the device's own signature", () => {
    /** Three signed messages of cluster 0, recorded and anchored by the head. */
    async function anchoredSigned(registry: Registry, devices: Device[], head: LocalAccount) {
      const items = [];
      for (const d of devices) items.push(await signedMessage(registry, d));
      await registry.write.recordDataBatchBySig([items]);
      const leaves = await Promise.all(items.map((item) => registry.read.dataMessageDigest([item.message])));
      const root = sortedRoot(leaves);
      await registry.write.anchorBatch([devices[0].gid, root, items.length], { account: head });
      return { items, leaves, root };
    }

    it("is true for a member's own signature over an anchored message, also after the member is revoked", async () => {
      const { registry, device, clusters } = await load();
      const devices = [0, 1, 2].map((d) => device(0, d));
      const { items, leaves, root } = await anchoredSigned(registry, devices, clusters[0].head);
      for (const [i, { message, signature }] of items.entries()) {
        expect(await registry.read.verifyAnchoredSignedMessage([message, signature, root, sortedProof(leaves, i)])).to.equal(true);
      }
      await registry.write.revoke([devices[0].gid, devices[0].oid], { account: clusters[0].head });
      const { message, signature } = items[0];
      expect(await registry.read.verifyAnchoredSignedMessage([message, signature, root, sortedProof(leaves, 0)])).to.equal(true);
    });

    it("is false for another key's signature, a malformed one, an unanchored root, or an oid with no member", async () => {
      const { registry, device, clusters } = await load();
      const devices = [0, 1, 2].map((d) => device(0, d));
      const { items, leaves, root } = await anchoredSigned(registry, devices, clusters[0].head);
      const { message, signature } = items[0];
      const proof = sortedProof(leaves, 0);
      const forged = await signData(devices[1].account, registry, message);
      expect(await registry.read.verifyAnchoredSignedMessage([message, forged, root, proof])).to.equal(false);
      expect(await registry.read.verifyAnchoredSignedMessage([message, "0x", root, proof])).to.equal(false);
      expect(await registry.read.verifyAnchoredSignedMessage([message, signature, id("not-anchored"), proof])).to.equal(false);
      const stranger = { ...message, oid: unknownOid };
      const strangerSignature = await signData(devices[0].account, registry, stranger);
      expect(await registry.read.verifyAnchoredSignedMessage([stranger, strangerSignature, root, proof])).to.equal(false);
    });
  });

  describe("Master standing in the data plane: a revoked cluster head and its gateways cannot anchor", () => {
    async function revokedHead() {
      const ledger = await deployLedger();
      const { registry, clusters, gateway, rootMaster, rootGid } = ledger;
      await registry.write.setAnchorer([clusters[0].gid, gateway.address, true], { account: clusters[0].head });
      await registry.write.revoke([rootGid, clusters[0].headOid], { account: rootMaster });
      return ledger;
    }

    it("refuses setAnchorer and anchorBatch by the revoked head, and anchorBatch by its gateway, with GroupRegistryMasterRevoked", async () => {
      const { registry, clusters, gateway } = await networkHelpers.loadFixture(revokedHead);
      const { gid, head } = clusters[0];
      for (const call of [
        registry.write.setAnchorer([gid, gateway.address, true], { account: head }),
        registry.write.anchorBatch([gid, id("root"), 1], { account: head }),
        registry.write.anchorBatch([gid, id("root"), 1], { account: gateway }),
      ]) {
        await viem.assertions.revertWithCustomErrorWithArgs(call, registry, "GroupRegistryMasterRevoked", [gid, head.address]);
      }
    });

    it("answers isAnchorer false for the head and its gateway, and true for the new Master after a take-over", async () => {
      const { registry, clusters, gateway, rootMaster, rootGid } = await networkHelpers.loadFixture(revokedHead);
      const { gid, head } = clusters[0];
      expect(await registry.read.isAnchorer([gid, head.address])).to.equal(false);
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(false);
      const successor = await addRootMember(registry, rootMaster, rootGid, "successor");
      await registry.write.takeOverGroup([gid, successor.account.address], { account: rootMaster });
      expect(await registry.read.isAnchorer([gid, successor.account.address])).to.equal(true);
      // The revoked head's gateway belonged to the old epoch: it stays void.
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(false);
      await viem.assertions.emitWithArgs(
        registry.write.anchorBatch([gid, id("root"), 1], { account: successor.account }),
        registry,
        "BatchAnchored",
        [gid, id("root"), successor.account.address, 1],
      );
    });

    it("refuses anchoring with GroupRegistryParentInactive once the parent group is deactivated", async () => {
      const { registry, clusters, rootMaster, rootGid } = await load();
      const { gid, head } = clusters[1];
      await registry.write.deactivateGroup([rootGid], { account: rootMaster });
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.anchorBatch([gid, id("root"), 1], { account: head }),
        registry,
        "GroupRegistryParentInactive",
        [gid, rootGid],
      );
      expect(await registry.read.isAnchorer([gid, head.address])).to.equal(false);
    });

    it("still records the cluster's devices' own data: membership is group-local", async () => {
      const { registry, device } = await networkHelpers.loadFixture(revokedHead);
      const { message, signature } = await signedMessage(registry, device(0, 0));
      await viem.assertions.emit(registry.write.recordDataBySig([message, signature]), registry, "DataMessageRecorded");
    });
  });

  describe("object ids scoped to their group", () => {
    it("lets two groups use the same oid; an exchange between them is not a self-exchange", async () => {
      const { registry, clusters, device } = await load();
      const sender = device(0, 0);
      const twin = deviceAccount("twin");
      await enrol(registry, clusters[1].head, twin, clusters[1].gid, sender.oid);
      const receiver = { account: twin, oid: sender.oid, gid: clusters[1].gid };
      const exchange = await nextExchange(registry, sender, receiver);
      await viem.assertions.emit(
        registry.write.recordExchangeBySig([exchange, await signExchange(sender.account, registry, exchange)]),
        registry,
        "ExchangeRecorded",
      );
    });
  });

  describe("Master hand-over: anchorer authorisations belong to the Master that gave them", () => {
    it("voids the old Master's gateway and the old Master itself after a child-group hand-over", async () => {
      const { registry, clusters, rootMaster, rootGid, gateway, device } = await load();
      const { gid, head } = clusters[0];
      await registry.write.setAnchorer([gid, gateway.address, true], { account: head });
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(true);
      const { messages, leaves, root } = await (async () => {
        const items = [await signedMessage(registry, device(0, 0)), await signedMessage(registry, device(0, 1))];
        const ls = await Promise.all(items.map((i) => registry.read.dataMessageDigest([i.message])));
        return { messages: items.map((i) => i.message), leaves: ls, root: sortedRoot(ls) };
      })();
      await registry.write.anchorBatch([gid, root, 2], { account: gateway });

      // The successor must be an active root-group member that masters no group yet.
      const successor = await addRootMember(registry, rootMaster, rootGid, "successor-head");
      await handOver(registry, gid, head, successor.account);
      expect((await registry.read.groupInfo([gid])).master).to.equal(successor.account.address);

      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(false);
      for (const account of [gateway, head]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          registry.write.anchorBatch([gid, id("after hand-over"), 1], { account }),
          registry,
          "DataLedgerNotAnchorer",
          [gid, account.address],
        );
      }
      // The old Master can no longer manage anchorers either.
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.setAnchorer([gid, gateway.address, true], { account: head }),
        registry,
        "GroupRegistryNotMaster",
        [gid, head.address],
      );
      // The new Master anchors, and may re-authorise the gateway under its own name.
      await viem.assertions.emitWithArgs(
        registry.write.anchorBatch([gid, id("after hand-over"), 1], { account: successor.account }),
        registry,
        "BatchAnchored",
        [gid, id("after hand-over"), successor.account.address, 1],
      );
      await registry.write.setAnchorer([gid, gateway.address, true], { account: successor.account });
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(true);
      await viem.assertions.emit(
        registry.write.anchorBatch([gid, id("re-authorised"), 1], { account: gateway }),
        registry,
        "BatchAnchored",
      );
      // Anchors made before the hand-over stay valid.
      expect(await registry.read.verifyAnchoredMessage([messages[1], root, sortedProof(leaves, 1)])).to.equal(true);
    });

    it("keeps a gateway void when the group comes back to the Master that authorised it (A → B → A)", async () => {
      const { registry, clusters, rootMaster, rootGid, gateway } = await load();
      const { gid, head } = clusters[0];
      await registry.write.setAnchorer([gid, gateway.address, true], { account: head });
      const successor = await addRootMember(registry, rootMaster, rootGid, "interim-head");
      await handOver(registry, gid, head, successor.account);
      await handOver(registry, gid, successor.account, head);
      expect((await registry.read.groupInfo([gid])).master).to.equal(head.address);
      expect(await registry.read.isAnchorer([gid, gateway.address])).to.equal(false);
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.anchorBatch([gid, id("revived?"), 1], { account: gateway }),
        registry,
        "DataLedgerNotAnchorer",
        [gid, gateway.address],
      );
    });

    it("voids the old Master's gateway and the old Master itself after a root-group hand-over", async () => {
      const { registry, rootMaster, rootGid, gateway } = await load();
      await registry.write.setAnchorer([rootGid, gateway.address, true], { account: rootMaster });
      await registry.write.anchorBatch([rootGid, id("before"), 1], { account: gateway });

      const newRootMaster = await funded("root-master-2"); // a root group's next Master is a fresh key
      await handOver(registry, rootGid, rootMaster, newRootMaster);

      expect(await registry.read.isAnchorer([rootGid, gateway.address])).to.equal(false);
      for (const account of [gateway, rootMaster]) {
        await viem.assertions.revertWithCustomErrorWithArgs(
          registry.write.anchorBatch([rootGid, id("after"), 1], { account }),
          registry,
          "DataLedgerNotAnchorer",
          [rootGid, account.address],
        );
      }
      await viem.assertions.emit(
        registry.write.anchorBatch([rootGid, id("after"), 1], { account: newRootMaster }),
        registry,
        "BatchAnchored",
      );
      expect((await registry.read.anchorOf([rootGid, id("before")])).anchorer).to.equal(gateway.address);
    });

    it("keeps the old Master's authorisation while a hand-over is only proposed", async () => {
      const { registry, rootMaster, rootGid, gateway } = await load();
      await registry.write.setAnchorer([rootGid, gateway.address, true], { account: rootMaster });
      const candidate = await funded("root-master-2");
      await registry.write.proposeMaster([rootGid, candidate.address], { account: rootMaster });
      expect(await registry.read.isAnchorer([rootGid, gateway.address])).to.equal(true);
      await viem.assertions.emit(
        registry.write.anchorBatch([rootGid, id("pending"), 1], { account: gateway }),
        registry,
        "BatchAnchored",
      );
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.anchorBatch([rootGid, id("candidate"), 1], { account: candidate }),
        registry,
        "DataLedgerNotAnchorer",
        [rootGid, candidate.address],
      );
    });
  });
});
