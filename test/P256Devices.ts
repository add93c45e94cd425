// Devices whose key lives in a secure element and speaks NIST P-256: named on chain by
// p256Address(x, y), signing EIP-712 requests with ECDSA-P256-SHA256 (128-byte signatures that carry
// the public key), verified through the EIP-7951 precompile where the chain has it (Osaka) and in
// Solidity (OpenZeppelin P256) elsewhere — tested on both EVM builds.
import { expect } from "chai";
import { network } from "hardhat";
import { concat, encodeErrorResult, hexToBigInt, parseEventLogs, toHex, type Hex } from "viem";
import {
  createAuthTableIndexer,
  createDataMessage,
  createExchange,
  generateWebCryptoP256Signer,
  issueToken,
  p256Account,
  p256Address,
  privateKeyToP256Signer,
  randomSalt,
  signAssociation,
  signDataMessage,
  signExchange,
  type P256Account,
} from "../sdk/src/index.js";
import { deployHierarchy, domainOf, id, networkHelpers, publicClient, toHighS, viem, type Registry } from "./support/fixtures.js";

const { assertions } = viem;
const key = (label: string): Hex => id(`p256-test-key:${label}`);

/** A P-256 device enrolled (relayed) in cluster 0 of the 3-level scenario. */
async function p256Fixture() {
  const hierarchy = await deployHierarchy();
  const { registry, clusters } = hierarchy;
  const device = p256Account(privateKeyToP256Signer(key("device")));
  const oid = id("oid:p256-device");
  await enrolP256(registry, clusters[0].head, device, clusters[0].gid, oid);
  return { ...hierarchy, device, oid, gid: clusters[0].gid };
}

async function enrolP256(registry: Registry, master: Parameters<typeof issueToken>[0], device: P256Account, gid: Hex, oid: Hex) {
  const token = await issueToken(master, { gid, oid, device: device.address });
  const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
  const item = await signAssociation(device, { domain: domainOf(registry), token, deadline });
  await registry.write.associateBySig([item.request, item.signature, item.token]);
  return item;
}

async function signedData(registry: Registry, device: P256Account, gid: Hex, oid: Hex, overrides: { nonce?: bigint; deadline?: bigint } = {}) {
  const now = BigInt(await networkHelpers.time.latest());
  const message = createDataMessage({
    gid,
    oid,
    nonce: overrides.nonce ?? (await registry.read.nonces([gid, oid])),
    payload: '{"spo2":97}',
    salt: randomSalt(),
    timestamp: now,
    deadline: overrides.deadline ?? now + 3600n,
  });
  return signDataMessage(device, { domain: domainOf(registry), message });
}

describe("P-256 devices (keys in a secure element)", () => {
  describe("identity", () => {
    it("names a P-256 device by p256Address: the registry's view equals the SDK's", async () => {
      const { registry, device } = await networkHelpers.loadFixture(p256Fixture);
      expect(await registry.read.p256Address([device.publicKey.x, device.publicKey.y])).to.equal(device.address);
      expect(p256Address(device.publicKey)).to.equal(device.address);
    });

    it("associates a device whose key is a non-extractable WebCrypto key, relayed, and authenticates it", async () => {
      const { registry, clusters } = await networkHelpers.loadFixture(p256Fixture);
      const device = p256Account(await generateWebCryptoP256Signer());
      await enrolP256(registry, clusters[1].head, device, clusters[1].gid, id("oid:webcrypto"));
      expect(await registry.read.isAuthenticated([clusters[1].gid, id("oid:webcrypto"), device.address])).to.equal(true);
    });

    it("puts the P-256 device in its group's AuthTable: its path verifies like any device's", async () => {
      const { registry, device, rootGid } = await networkHelpers.loadFixture(p256Fixture);
      const indexer = createAuthTableIndexer(publicClient, { registry: registry.address });
      await indexer.sync();
      const steps = indexer.getAuthPath(device.address).map((step) => ({
        ...step,
        entry: { ...step.entry, index: BigInt(step.entry.index) },
        leafCount: BigInt(step.leafCount),
        consistency: [],
      }));
      expect(await registry.read.verifyAuthPath([steps, rootGid])).to.deep.equal([0, 0n]);
    });
  });

  describe("signed requests", () => {
    it("records a data message, a batch and an exchange signed with P-256", async () => {
      const { registry, device, oid, gid, clusters } = await networkHelpers.loadFixture(p256Fixture);
      const first = await signedData(registry, device, gid, oid);
      await assertions.emit(registry.write.recordDataBySig([first.message, first.signature]), registry, "DataMessageRecorded");
      const batch = [await signedData(registry, device, gid, oid), await signedData(registry, device, gid, oid, { nonce: 3n })];
      const receipt = await publicClient.waitForTransactionReceipt({ hash: await registry.write.recordDataBatchBySig([batch]) });
      expect(parseEventLogs({ abi: registry.abi, logs: receipt.logs, eventName: "DataMessageRecorded" })).to.have.length(2);
      const receiver = clusters[0].devices[0];
      const exchange = createExchange({ gid, oid, receiverGid: gid, receiverOid: receiver.oid, nonce: 4n, payload: "dose 5ml", salt: randomSalt(), validFor: 3600n, timestamp: BigInt(await networkHelpers.time.latest()) });
      const signed = await signExchange(device, { domain: domainOf(registry), exchange });
      await assertions.emit(registry.write.recordExchangeBySig([signed.exchange, signed.signature]), registry, "ExchangeRecorded");
      expect(await registry.read.nonces([gid, oid])).to.equal(5n);
    });

    it("refuses the high-s twin of a P-256 signature with RequestInvalidSignature", async () => {
      const { registry, device, oid, gid } = await networkHelpers.loadFixture(p256Fixture);
      const { message, signature } = await signedData(registry, device, gid, oid);
      await assertions.revertWithCustomError(registry.write.recordDataBySig([message, toHighS(signature)]), registry, "RequestInvalidSignature");
    });

    it("refuses a signature by another P-256 key with RequestWrongSigner naming that key's address", async () => {
      const { registry, device, oid, gid } = await networkHelpers.loadFixture(p256Fixture);
      const impostor = p256Account(privateKeyToP256Signer(key("impostor")));
      const { message } = await signedData(registry, device, gid, oid);
      const signature = (await signDataMessage(impostor, { domain: domainOf(registry), message })).signature;
      await assertions.revertWithCustomErrorWithArgs(registry.write.recordDataBySig([message, signature]), registry, "RequestWrongSigner", [
        impostor.address,
        device.address,
      ]);
    });

    it("refuses the device's own signature with another public key attached, a key off the curve and a wrong length", async () => {
      const { registry, device, oid, gid } = await networkHelpers.loadFixture(p256Fixture);
      const { message, signature } = await signedData(registry, device, gid, oid);
      const other = p256Account(privateKeyToP256Signer(key("other")));
      const swappedKey = concat([`0x${signature.slice(2, 130)}`, other.publicKey.x, other.publicKey.y]);
      const offCurve = concat([`0x${signature.slice(2, 194)}`, toHex(hexToBigInt(device.publicKey.y) ^ 1n, { size: 32 })]);
      for (const bad of [swappedKey, offCurve, signature.slice(0, -2) as Hex]) {
        await assertions.revertWithCustomError(registry.write.recordDataBySig([message, bad]), registry, "RequestInvalidSignature");
      }
    });

    it("refuses a signature made for another registry (another EIP-712 domain) with RequestInvalidSignature", async () => {
      const { registry, device, oid, gid } = await networkHelpers.loadFixture(p256Fixture);
      const other = await viem.deployContract("IomtRegistry");
      const { message } = await signedData(registry, device, gid, oid);
      const signature = (await signDataMessage(device, { domain: domainOf(other), message })).signature;
      await assertions.revertWithCustomError(registry.write.recordDataBySig([message, signature]), registry, "RequestInvalidSignature");
    });

    it("refuses a replayed message with DataLedgerNonceUsed and an expired one with RequestExpired", async () => {
      const { registry, device, oid, gid } = await networkHelpers.loadFixture(p256Fixture);
      const first = await signedData(registry, device, gid, oid);
      await registry.write.recordDataBySig([first.message, first.signature]);
      await assertions.revertWithCustomErrorWithArgs(registry.write.recordDataBySig([first.message, first.signature]), registry, "DataLedgerNonceUsed", [
        device.address,
        1n,
      ]);
      const expired = await signedData(registry, device, gid, oid, { deadline: 1n });
      await assertions.revertWithCustomErrorWithArgs(registry.write.recordDataBySig([expired.message, expired.signature]), registry, "RequestExpired", [1n]);
    });

    it("reports a bad P-256 item of a batch and records the others", async () => {
      const { registry, device, oid, gid } = await networkHelpers.loadFixture(p256Fixture);
      const good = await signedData(registry, device, gid, oid);
      const bad = { ...(await signedData(registry, device, gid, oid, { nonce: 2n })) };
      bad.signature = toHighS(bad.signature);
      await assertions.emitWithArgs(registry.write.recordDataBatchBySig([[good, bad]]), registry, "BatchItemSkipped", [
        1n,
        2,
        encodeErrorResult({ abi: registry.abi, errorName: "RequestInvalidSignature" }),
      ]);
    });
  });

  describe("verification paths", () => {
    /** A fresh registry and P-256 member on a network of the given hardfork; the gas of one relayed message. */
    async function messageGasOn(hardfork: string) {
      const connection = await network.create({ override: { hardfork } } as never);
      const [wallet] = await connection.viem.getWalletClients();
      const client = await connection.viem.getPublicClient();
      const registry = await connection.viem.deployContract("IomtRegistry");
      const chainId = await client.getChainId();
      const master = (await import("viem/accounts")).privateKeyToAccount(key("master"));
      await connection.networkHelpers.setBalance(master.address, 10n ** 18n);
      const domain = { name: "iomt-auth", version: "2", chainId, verifyingContract: registry.address } as const;
      await registry.write.createGroup([id("ward"), id("oid:master"), `0x${"00".repeat(32)}`], { account: master });
      const gid = await registry.read.groupId([master.address, id("ward")]);
      const device = p256Account(privateKeyToP256Signer(key("device")));
      const token = await issueToken(master, { gid, oid: id("oid:device"), device: device.address });
      const item = await signAssociation(device, { domain, token, deadline: 2n ** 40n });
      const associated = await client.waitForTransactionReceipt({ hash: await registry.write.associateBySig([item.request, item.signature, item.token], { account: wallet.account }) });
      const message = createDataMessage({ gid, oid: id("oid:device"), nonce: 1n, payload: "x", salt: id("salt"), timestamp: 1n, deadline: 2n ** 40n });
      const signed = await signDataMessage(device, { domain, message });
      const recorded = await client.waitForTransactionReceipt({ hash: await registry.write.recordDataBySig([signed.message, signed.signature], { account: wallet.account }) });
      await connection.close();
      return { association: associated.gasUsed, message: recorded.gasUsed };
    }

    it("uses the EIP-7951 precompile on an Osaka chain and OpenZeppelin's Solidity verifier elsewhere, with the same outcome", async () => {
      const london = process.env.IOMT_EVM === "london";
      const withPrecompile = await messageGasOn("osaka");
      const withoutPrecompile = await messageGasOn(london ? "london" : "cancun");
      // The precompile costs 6,900 gas; the Solidity verifier about 200k more.
      expect(Number(withPrecompile.message)).to.be.below(60_000);
      expect(Number(withoutPrecompile.message)).to.be.above(150_000);
      expect(Number(withoutPrecompile.association - withPrecompile.association)).to.be.above(150_000);
    });
  });
});
