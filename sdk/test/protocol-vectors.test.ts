// The test vectors of docs/protocol-vectors.json: the SDK recomputes every value from the fixed
// inputs, and each primitive Node's own crypto provides (sha256, secp256k1 ECDH, HKDF-SHA256,
// AES-256-GCM, ECDSA P-256) is checked with Node's implementation instead of the SDK's, so the
// vectors do not only agree with themselves.
import { createDecipheriv, createECDH, createHash, createPublicKey, hkdfSync, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect } from "chai";
import {
  concat,
  encodeAbiParameters,
  encodePacked,
  hexToBytes,
  keccak256,
  recoverMessageAddress,
  recoverTypedDataAddress,
  toHex,
  type Hex,
} from "viem";
import {
  associationTypes,
  dataMessageTypes,
  decodeAuthPath,
  fromWireDataMessage,
  processAuthProof,
  verifyConsistency,
} from "../src/index.js";
import { computeVectors, type ProtocolVectors } from "./support/protocol-vectors.js";

const committed = JSON.parse(readFileSync(new URL("../../docs/protocol-vectors.json", import.meta.url), "utf8")) as ProtocolVectors;
const node = {
  sha256: (bytes: Uint8Array): Hex => toHex(createHash("sha256").update(bytes).digest()),
};

/** Opens a record with Node's AES-256-GCM, building nonce and additional data as docs/protocol.md §4 says. */
function openWithNode(key: Hex, iv: Hex, sessionId: Hex, direction: number, record: { seq: number; ciphertext: Hex }, aad: Hex): string {
  const nonce = hexToBytes(iv);
  const seq = new Uint8Array(8);
  new DataView(seq.buffer).setBigUint64(0, BigInt(record.seq));
  for (let i = 0; i < 8; i++) nonce[4 + i]! ^= seq[i]!;
  const bytes = hexToBytes(record.ciphertext);
  const decipher = createDecipheriv("aes-256-gcm", hexToBytes(key), nonce);
  decipher.setAAD(hexToBytes(concat([toHex("iomt-auth/session/v2 record"), sessionId, toHex(direction, { size: 1 }), toHex(seq), aad])));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString("utf8");
}

describe("protocol and encoding test vectors (docs/protocol-vectors.json)", () => {
  it("the SDK computes exactly the committed vectors from the fixed inputs", async () => {
    const computed = JSON.parse(JSON.stringify(await computeVectors(), (_, value) => (typeof value === "bigint" ? value.toString() : value)));
    expect(computed).to.deep.equal(committed);
  });

  describe("handshake and key schedule, checked with Node's crypto", () => {
    const { handshake, keySchedule, inputs } = committed;

    it("transcriptHash is sha256 of the ABI-encoded transcript, and the hello digest of its ClientHello half", () => {
      expect(node.sha256(hexToBytes(handshake.transcript))).to.equal(handshake.transcriptHash);
      const { clientHello } = handshake;
      const half = encodeAbiParameters(
        [{ type: "string" }, { type: "uint16" }, { type: "address" }, { type: "bytes" }, { type: "bytes32" }, { type: "uint64" }, { type: "uint256" }, { type: "address" }, { type: "bytes32" }],
        ["iomt-auth/session/v2", 2, clientHello.device, clientHello.ephemeralPublicKey, clientHello.nonce, BigInt(clientHello.timestamp), BigInt(clientHello.context.chainId), clientHello.context.registry, clientHello.context.gid],
      );
      expect(node.sha256(hexToBytes(half))).to.equal(handshake.helloDigest);
    });

    it("the signatures are the two identities' personal signatures with their role labels", async () => {
      const transcriptHash = handshake.transcriptHash;
      expect(await recoverMessageAddress({ message: { raw: concat([toHex("iomt-auth/session/v2 master"), transcriptHash]) }, signature: handshake.serverHello.signature })).to.equal(committed.identities.master);
      expect(await recoverMessageAddress({ message: { raw: concat([toHex("iomt-auth/session/v2 device"), transcriptHash]) }, signature: handshake.clientFinish.signature })).to.equal(committed.identities.device);
    });

    it("ECDH of either side's ephemeral key gives one secret, and HKDF-SHA256 of it gives the keys, IVs and session id in order", () => {
      const deviceSide = createECDH("secp256k1");
      deviceSide.setPrivateKey(hexToBytes(inputs.deviceEphemeralPrivateKey));
      const masterSide = createECDH("secp256k1");
      masterSide.setPrivateKey(hexToBytes(inputs.masterEphemeralPrivateKey));
      const secret = deviceSide.computeSecret(hexToBytes(handshake.serverHello.ephemeralPublicKey));
      expect(toHex(masterSide.computeSecret(hexToBytes(handshake.clientHello.ephemeralPublicKey)))).to.equal(toHex(secret));
      expect(toHex(deviceSide.getPublicKey(null, "compressed"))).to.equal(handshake.clientHello.ephemeralPublicKey);
      const okm = toHex(new Uint8Array(hkdfSync("sha256", secret, hexToBytes(handshake.transcriptHash), "iomt-auth/session/v2 keys", 120)));
      expect(okm).to.equal(keySchedule.okm);
      expect(concat([keySchedule.deviceToMasterKey, keySchedule.deviceToMasterIv, keySchedule.masterToDeviceKey, keySchedule.masterToDeviceIv, keySchedule.sessionId])).to.equal(okm);
      expect(handshake.sessionId).to.equal(keySchedule.sessionId);
    });
  });

  describe("records, opened with Node's AES-256-GCM", () => {
    const { keySchedule: k, records } = committed;

    it("the finish answer: Master → device, sequence 0, bound to the ClientFinish signature", () => {
      expect(records.finish.record.seq).to.equal(0);
      expect(records.finish.requestHash).to.equal(node.sha256(hexToBytes(committed.handshake.clientFinish.signature)));
      expect(records.finish.aad).to.equal(concat([toHex("iomt-auth/gateway/v2 response "), toHex("/v2/session/finish"), toHex(2n ** 64n - 1n, { size: 8 }), records.finish.requestHash]));
      expect(openWithNode(k.masterToDeviceKey, k.masterToDeviceIv, k.sessionId, 2, records.finish.record, records.finish.aad)).to.equal(records.finish.plaintext);
    });

    it("a request: device → Master, sequence 0, with the route as additional data", () => {
      expect(records.request.aad).to.equal(concat([toHex("iomt-auth/gateway/v2 request "), toHex(records.request.route)]));
      expect(openWithNode(k.deviceToMasterKey, k.deviceToMasterIv, k.sessionId, 1, records.request.record, records.request.aad)).to.equal(records.request.plaintext);
    });

    it("its answer: Master → device, sequence 1, bound to the request's sequence number and record hash", () => {
      expect(records.answer.record.seq).to.equal(1);
      expect(records.answer.requestHash).to.equal(node.sha256(hexToBytes(records.request.record.ciphertext)));
      expect(records.answer.aad).to.equal(concat([toHex("iomt-auth/gateway/v2 response "), toHex(records.request.route), toHex(BigInt(records.request.record.seq), { size: 8 }), records.answer.requestHash]));
      expect(openWithNode(k.masterToDeviceKey, k.masterToDeviceIv, k.sessionId, 2, records.answer.record, records.answer.aad)).to.equal(records.answer.plaintext);
    });
  });

  describe("on-chain encodings, recomputed from their definitions", () => {
    const { onChain: v, inputs, identities } = committed;

    it("gid, token digest and token signature", async () => {
      const label = keccak256(toHex(inputs.label));
      expect(keccak256(encodeAbiParameters([{ type: "uint256" }, { type: "address" }, { type: "address" }, { type: "bytes32" }], [BigInt(inputs.chainId), inputs.registry, identities.master, label]))).to.equal(v.gid);
      expect(keccak256(encodePacked(["bytes32", "bytes32", "address"], [v.gid, v.oid, identities.device]))).to.equal(v.tokenDigest);
      expect(await recoverMessageAddress({ message: { raw: v.tokenDigest }, signature: v.tokenSignature })).to.equal(identities.master);
    });

    it("the association request, the salted payload commitment and the data message, with their EIP-712 signatures", async () => {
      const domain = { ...v.domain, chainId: Number(v.domain.chainId) };
      const request = { ...v.associationRequest, nonce: BigInt(v.associationRequest.nonce), deadline: BigInt(v.associationRequest.deadline) };
      expect(await recoverTypedDataAddress({ domain, types: associationTypes, primaryType: "Association", message: request, signature: v.associationSignature })).to.equal(identities.device);
      expect(keccak256(concat([v.payloadCommitment.salt, toHex(v.payloadCommitment.payload)]))).to.equal(v.payloadCommitment.payloadHash);
      const message = fromWireDataMessage(v.dataMessage);
      expect(message.payloadHash).to.equal(v.payloadCommitment.payloadHash);
      expect(await recoverTypedDataAddress({ domain, types: dataMessageTypes, primaryType: "DataMessage", message, signature: v.dataMessageSignature })).to.equal(identities.device);
    });

    it("the auth chain, the leaves, the roots at 3 and 5 leaves, an inclusion proof, a consistency proof and the compact path", () => {
      let head = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "address" }], [`0x${"00".repeat(32)}`, `0x${"00".repeat(32)}`, v.gid, identities.master]));
      expect(head).to.equal(v.genesis);
      for (const entry of v.entries) {
        head = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "address" }, { type: "bytes32" }], [head, BigInt(entry.index), entry.device, entry.master, entry.oid]));
        expect(entry.entryHash).to.equal(head);
        expect(keccak256(encodeAbiParameters([{ type: "address" }, { type: "address" }, { type: "uint256" }, { type: "bytes32" }], [entry.device, entry.master, BigInt(entry.index), head]))).to.equal(entry.leaf);
      }
      const pair = (a: Hex, b: Hex) => keccak256(concat([a, b]));
      const [l0, l1, l2, l3, l4] = v.entries.map((entry) => entry.leaf) as [Hex, Hex, Hex, Hex, Hex];
      expect(v.rootAt3).to.equal(pair(pair(l0, l1), l2));
      expect(v.rootAt5).to.equal(pair(pair(pair(l0, l1), pair(l2, l3)), l4));
      expect(processAuthProof(v.inclusionProofOfLeaf2At3, 2, 3, l2)).to.equal(v.rootAt3);
      expect(verifyConsistency(3, 5, v.rootAt3, v.rootAt5, v.consistencyProof3to5)).to.equal(true);
      const [step] = decodeAuthPath(v.encodedPath);
      expect(step).to.deep.include({ gid: v.gid, leafCount: 3, proof: v.inclusionProofOfLeaf2At3, consistency: v.consistencyProof3to5 });
    });
  });

  describe("a P-256 device, its signatures checked with Node's ECDSA P-256 / SHA-256", () => {
    const { p256Device: v, identities, onChain } = committed;
    /** Node verifies `r ‖ s` (IEEE P1363) of the 128-byte signature over the 32 bytes `digest`, with the key it carries, which must be the device's. */
    const nodeVerifies = (digest: Hex, signature: Hex): boolean => {
      const bytes = hexToBytes(signature);
      expect(bytes).to.have.length(128);
      expect(toHex(bytes.subarray(64, 96))).to.equal(v.publicKey.x);
      expect(toHex(bytes.subarray(96))).to.equal(v.publicKey.y);
      const key = createPublicKey({ key: { kty: "EC", crv: "P-256", x: Buffer.from(bytes.subarray(64, 96)).toString("base64url"), y: Buffer.from(bytes.subarray(96)).toString("base64url") }, format: "jwk" });
      const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
      expect(BigInt(toHex(bytes.subarray(32, 64))) <= n / 2n, "low s").to.equal(true);
      return verify("sha256", hexToBytes(digest), { key, dsaEncoding: "ieee-p1363" }, bytes.subarray(0, 64));
    };

    it("is named by the last 20 bytes of keccak256(keccak256(\"iomt-auth/p256-device\") ‖ x ‖ y)", () => {
      expect(keccak256(toHex("iomt-auth/p256-device"))).to.equal(v.addressTag);
      expect(`0x${keccak256(concat([v.addressTag, v.publicKey.x, v.publicKey.y])).slice(-40)}`).to.equal(v.address.toLowerCase());
    });

    it("signs its association and its data message over their EIP-712 digests", () => {
      expect(v.associationRequest.device).to.equal(v.address);
      expect(nodeVerifies(v.associationDigest, v.associationSignature)).to.equal(true);
      expect(nodeVerifies(v.dataMessageDigest, v.dataMessageSignature)).to.equal(true);
      expect(nodeVerifies(onChain.dataMessageDigest, v.dataMessageSignature), "another message's digest").to.equal(false);
    });

    it("signs its ClientFinish over the EIP-191 hash of its role label and transcript hash", () => {
      expect(v.clientHello.device).to.equal(v.address);
      expect(v.serverHello.master).to.equal(identities.master);
      const message = concat([toHex("iomt-auth/session/v2 device"), v.transcriptHash]);
      const personal = keccak256(concat([toHex(`\x19Ethereum Signed Message:\n${hexToBytes(message).length}`), message]));
      expect(nodeVerifies(personal, v.clientFinish.signature)).to.equal(true);
    });
  });
});
