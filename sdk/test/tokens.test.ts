import { secp256k1 } from "@noble/curves/secp256k1";
import { expect } from "chai";
import {
  bytesToHex,
  concat,
  hexToBytes,
  keccak256,
  numberToHex,
  parseSignature,
  recoverMessageAddress,
  serializeCompactSignature,
  signatureToCompactSignature,
  size,
  slice,
} from "viem";
import { generatePrivateKey, privateKeyToAccount, publicKeyToAddress } from "viem/accounts";
import type { Hex, LocalAccount } from "viem";
import { associate } from "../src/actions/association.js";
import { createGroup, getMember } from "../src/actions/groups.js";
import { ContractRuleError } from "../src/contract-errors.js";
import { deployRegistry } from "../src/deploy.js";
import { IomtError } from "../src/errors.js";
import { InvalidIdError, toId } from "../src/ids.js";
import { InvalidSignatureError, normalizeSignature, recoverSigner } from "../src/signature.js";
import {
  InvalidTokenError,
  SERIALIZED_TOKEN_BYTES,
  issueToken,
  parseToken,
  recoverTokenSigner,
  serializeToken,
  tokenDigest,
  verifyToken,
} from "../src/tokens.js";
import type { MessageSigner, Token } from "../src/tokens.js";
import { deployTestRegistry, iomtRegistryAbi } from "./support/registry.js";
import type { TestRegistry } from "./support/registry.js";
import { expectCode, expectRejection } from "./support/expect.js";
import { toHighS } from "./support/signatures.js";

const N = secp256k1.CURVE.n;
const HALF_N = N >> 1n;

const word = (value: bigint): Hex => numberToHex(value, { size: 32 });
/** Builds r ‖ s ‖ v from numbers. */
const rawSignature = (r: bigint, s: bigint, v: number): Hex => concat([word(r), word(s), numberToHex(v, { size: 1 })]);

function split(signature: Hex): { r: bigint; s: bigint; v: number } {
  const bytes = hexToBytes(signature);
  return { r: BigInt(bytesToHex(bytes.subarray(0, 32))), s: BigInt(bytesToHex(bytes.subarray(32, 64))), v: bytes[64] };
}


const hashOf = (label: string): Hex => keccak256(new Uint8Array(Buffer.from(label, "utf8")));

describe("signatures", () => {
  const account = privateKeyToAccount(generatePrivateKey());
  const hash = hashOf("a reading");
  let signature: Hex;

  before(async () => {
    signature = await account.sign({ hash });
  });

  describe("normalizeSignature of a 65-byte signature", () => {
    it("returns a strict signature with v = 27 or 28 unchanged", () => {
      expect([27, 28]).to.include(split(signature).v);
      expect(normalizeSignature(signature)).to.equal(signature);
    });

    it("rewrites v = 0 / 1 to 27 / 28", () => {
      const { r, s, v } = split(signature);
      expect(normalizeSignature(rawSignature(r, s, v - 27))).to.equal(signature);
    });

    it("accepts upper-case hex digits and returns lower case", () => {
      const upper = `0x${signature.slice(2).toUpperCase()}` as Hex;
      expect(normalizeSignature(upper)).to.equal(signature.toLowerCase());
    });

    it("accepts s exactly at n/2 (the highest low s)", () => {
      expect(split(normalizeSignature(rawSignature(1n, HALF_N, 27))).s).to.equal(HALF_N);
    });
  });

  describe("normalizeSignature of an EIP-2098 compact signature", () => {
    it("expands compact signatures of both parities to the 65-byte form", async () => {
      const seen = new Set<number>();
      for (let i = 0; seen.size < 2 && i < 64; i++) {
        const full = await account.sign({ hash: hashOf(`reading ${i}`) });
        const compact = serializeCompactSignature(signatureToCompactSignature(parseSignature(full)));
        expect(size(compact)).to.equal(64);
        expect(normalizeSignature(compact)).to.equal(full);
        seen.add(split(full).v);
      }
      expect([...seen].sort()).to.deep.equal([27, 28]);
    });

    it("reads the parity from the top bit of s (noble's compact form plus the bit)", () => {
      const { r, s } = split(signature);
      expect(split(normalizeSignature(concat([word(r), word(s)]))).v).to.equal(27);
      expect(split(normalizeSignature(concat([word(r), word(s | (1n << 255n))]))).v).to.equal(28);
      expect(split(normalizeSignature(concat([word(r), word(s | (1n << 255n))]))).s).to.equal(s);
    });

    it("rejects a compact signature whose s (without the parity bit) is high", () => {
      expectCode(() => normalizeSignature(concat([word(1n), word(HALF_N + 1n)])), InvalidSignatureError, "SignatureHighS");
    });

    it("rejects a compact signature whose s is zero once the parity bit is removed", () => {
      expectCode(() => normalizeSignature(concat([word(1n), word(1n << 255n)])), InvalidSignatureError, "SignatureOutOfRange");
    });
  });

  describe("normalizeSignature rejections", () => {
    it("rejects strings that are not 0x-prefixed hex", () => {
      for (const bad of ["0xzz", signature.slice(2), "", `${signature}g`]) {
        expectCode(() => normalizeSignature(bad as Hex), InvalidSignatureError, "SignatureInvalidHex");
      }
      expectCode(() => normalizeSignature(42 as unknown as Hex), InvalidSignatureError, "SignatureInvalidHex");
    });

    it("rejects lengths other than 64 and 65 bytes", () => {
      for (const bytes of [0, 1, 63, 66, 130]) {
        expectCode(() => normalizeSignature(bytesToHex(new Uint8Array(bytes).fill(1))), InvalidSignatureError, "SignatureInvalidLength");
      }
    });

    it("rejects v other than 0, 1, 27, 28", () => {
      const { r, s } = split(signature);
      for (const v of [2, 26, 29, 35, 255]) {
        expectCode(() => normalizeSignature(rawSignature(r, s, v)), InvalidSignatureError, "SignatureInvalidV");
      }
    });

    it("rejects the high-s twin of a valid signature, which still recovers the same key", () => {
      const twin = toHighS(signature);
      const { r, s, v } = split(twin);
      const key = new secp256k1.Signature(r, s).addRecoveryBit(v - 27).recoverPublicKey(hexToBytes(hash)).toRawBytes(false);
      expect(publicKeyToAddress(bytesToHex(key))).to.equal(account.address);
      expectCode(() => normalizeSignature(twin), InvalidSignatureError, "SignatureHighS");
    });

    it("rejects r = 0, s = 0 and r at or above the curve order", () => {
      const { r, s, v } = split(signature);
      expectCode(() => normalizeSignature(rawSignature(0n, s, v)), InvalidSignatureError, "SignatureOutOfRange");
      expectCode(() => normalizeSignature(rawSignature(r, 0n, v)), InvalidSignatureError, "SignatureOutOfRange");
      expectCode(() => normalizeSignature(rawSignature(N, s, v)), InvalidSignatureError, "SignatureOutOfRange");
      expectCode(() => normalizeSignature(rawSignature((1n << 256n) - 1n, s, v)), InvalidSignatureError, "SignatureOutOfRange");
    });

    it("throws errors that are IomtErrors", () => {
      expect(expectCode(() => normalizeSignature("0x"), InvalidSignatureError, "SignatureInvalidLength")).to.be.instanceOf(IomtError);
    });
  });

  describe("recoverSigner", () => {
    it("recovers the signing address from the 65-byte form", () => {
      expect(recoverSigner(hash, signature)).to.equal(account.address);
    });

    it("recovers the same address from the v = 0/1 and compact forms", () => {
      const { r, s, v } = split(signature);
      expect(recoverSigner(hash, rawSignature(r, s, v - 27))).to.equal(account.address);
      expect(recoverSigner(hash, serializeCompactSignature(signatureToCompactSignature(parseSignature(signature))))).to.equal(account.address);
    });

    it("recovers another address for another hash", () => {
      expect(recoverSigner(hashOf("another reading"), signature)).to.not.equal(account.address);
    });

    it("throws SignatureHighS for the high-s twin instead of recovering", () => {
      expectCode(() => recoverSigner(hash, toHighS(signature)), InvalidSignatureError, "SignatureHighS");
    });

    it("throws SignatureUnrecoverable when r is not the x-coordinate of a curve point", () => {
      expect(() => secp256k1.ProjectivePoint.fromHex(`02${word(5n).slice(2)}`)).to.throw();
      expectCode(() => recoverSigner(hash, rawSignature(5n, 1n, 27)), InvalidSignatureError, "SignatureUnrecoverable");
    });
  });
});

describe("tokens", () => {
  const master = privateKeyToAccount(generatePrivateKey());
  const otherMaster = privateKeyToAccount(generatePrivateKey());
  const device = privateKeyToAccount(generatePrivateKey());
  const gid = toId("ward-3");
  const oid = toId("ward-3/ecg-1");
  let token: Token;

  before(async () => {
    token = await issueToken(master, { gid, oid, device: device.address });
  });

  describe("tokenDigest", () => {
    it("is keccak256 of gid ‖ oid ‖ device (84 packed bytes)", () => {
      const packed = concat([gid, oid, device.address]);
      expect(size(packed)).to.equal(84);
      expect(tokenDigest({ gid, oid, device: device.address })).to.equal(keccak256(packed));
    });

    it("changes when any of its fields changes", () => {
      const base = tokenDigest({ gid, oid, device: device.address });
      expect(tokenDigest({ gid: toId("ward-4"), oid, device: device.address })).to.not.equal(base);
      expect(tokenDigest({ gid, oid: toId("ward-3/ecg-2"), device: device.address })).to.not.equal(base);
      expect(tokenDigest({ gid, oid, device: otherMaster.address })).to.not.equal(base);
    });
  });

  describe("issueToken", () => {
    it("returns the ids, the checksummed device and a strict 65-byte signature", () => {
      expect(token.gid).to.equal(gid);
      expect(token.oid).to.equal(oid);
      expect(token.device).to.equal(device.address);
      expect(size(token.signature)).to.equal(65);
      expect(normalizeSignature(token.signature)).to.equal(token.signature);
    });

    it("signs the digest as an EIP-191 personal message of its 32 raw bytes", async () => {
      const signer = await recoverMessageAddress({ message: { raw: tokenDigest(token) }, signature: token.signature });
      expect(signer).to.equal(master.address);
    });

    it("lower-cases the ids and checksums a lower-case device address", async () => {
      const issued = await issueToken(master, { gid: gid.toUpperCase().replace("0X", "0x") as Hex, oid, device: device.address.toLowerCase() as Hex });
      expect(issued.gid).to.equal(gid);
      expect(issued.device).to.equal(device.address);
      expect(verifyToken({ token: issued, master: master.address })).to.equal(true);
    });

    it("normalizes a signer that returns v = 0/1", async () => {
      const legacy: MessageSigner = {
        async signMessage(parameters) {
          const { r, s, v } = split(await master.signMessage(parameters));
          return rawSignature(r, s, v - 27);
        },
      };
      const issued = await issueToken(legacy, { gid, oid, device: device.address });
      expect(issued.signature).to.equal(token.signature);
    });

    it("rejects a zero or malformed id before asking the signer", async () => {
      let calls = 0;
      const counting: MessageSigner = {
        signMessage: (parameters) => {
          calls++;
          return master.signMessage(parameters);
        },
      };
      for (const bad of [{ gid: `0x${"00".repeat(32)}` as Hex, oid }, { gid, oid: "0x1234" as Hex }]) {
        await expectRejection(issueToken(counting, { ...bad, device: device.address }), InvalidIdError, "InvalidId");
      }
      expect(calls).to.equal(0);
    });
  });

  describe("verifyToken", () => {
    it("is true for the Master that issued the token", () => {
      expect(verifyToken({ token, master: master.address })).to.equal(true);
    });

    it("accepts the Master's address in lower case", () => {
      expect(verifyToken({ token, master: master.address.toLowerCase() as Hex })).to.equal(true);
    });

    it("is false for another Master", () => {
      expect(verifyToken({ token, master: otherMaster.address })).to.equal(false);
    });

    it("is false when the gid, the oid or the device was changed", () => {
      expect(verifyToken({ token: { ...token, gid: toId("ward-4") }, master: master.address })).to.equal(false);
      expect(verifyToken({ token: { ...token, oid: toId("ward-3/ecg-2") }, master: master.address })).to.equal(false);
      expect(verifyToken({ token: { ...token, device: otherMaster.address }, master: master.address })).to.equal(false);
    });

    it("is false, not a throw, for the high-s twin of the Master's signature", () => {
      expect(verifyToken({ token: { ...token, signature: toHighS(token.signature) }, master: master.address })).to.equal(false);
    });

    it("is false for a malformed signature", () => {
      expect(verifyToken({ token: { ...token, signature: "0x1234" }, master: master.address })).to.equal(false);
    });
  });

  describe("recoverTokenSigner", () => {
    it("returns the Master's address", () => {
      expect(recoverTokenSigner(token)).to.equal(master.address);
    });

    it("throws InvalidSignatureError for a high-s signature", () => {
      expectCode(() => recoverTokenSigner({ ...token, signature: toHighS(token.signature) }), InvalidSignatureError, "SignatureHighS");
    });
  });

  describe("serializeToken", () => {
    it("lays out gid ‖ oid ‖ device ‖ signature in 149 bytes", () => {
      const serialized = serializeToken(token);
      expect(SERIALIZED_TOKEN_BYTES).to.equal(149);
      expect(size(serialized)).to.equal(149);
      expect(slice(serialized, 0, 32)).to.equal(gid);
      expect(slice(serialized, 32, 64)).to.equal(oid);
      expect(slice(serialized, 64, 84).toLowerCase()).to.equal(device.address.toLowerCase());
      expect(slice(serialized, 84)).to.equal(token.signature);
    });

    it("writes v = 27/28 for a token whose signature uses v = 0/1", () => {
      const { r, s, v } = split(token.signature);
      expect(serializeToken({ ...token, signature: rawSignature(r, s, v - 27) })).to.equal(serializeToken(token));
    });

    it("refuses a token with a zero id or a high-s signature", () => {
      expectCode(() => serializeToken({ ...token, oid: `0x${"00".repeat(32)}` }), InvalidIdError, "InvalidId");
      expectCode(() => serializeToken({ ...token, signature: toHighS(token.signature) }), InvalidSignatureError, "SignatureHighS");
    });
  });

  describe("parseToken", () => {
    it("round-trips a serialized token", () => {
      const parsed = parseToken(serializeToken(token));
      expect(parsed).to.deep.equal(token);
      expect(verifyToken({ token: parsed, master: master.address })).to.equal(true);
    });

    it("accepts upper-case hex digits and returns lower-case ids", () => {
      const serialized = serializeToken(token);
      expect(parseToken(`0x${serialized.slice(2).toUpperCase()}`)).to.deep.equal(token);
    });

    it("accepts a v of 0/1 and returns it as 27/28", () => {
      const bytes = hexToBytes(serializeToken(token));
      bytes[148] -= 27;
      expect(parseToken(bytesToHex(bytes)).signature).to.equal(token.signature);
    });

    it("throws TokenInvalidHex for input that is not 0x-prefixed hex", () => {
      const serialized = serializeToken(token);
      for (const bad of [serialized.slice(2), `0x${"zz".repeat(149)}`, "", "token"]) {
        expectCode(() => parseToken(bad), InvalidTokenError, "TokenInvalidHex");
      }
      expectCode(() => parseToken(undefined as unknown as string), InvalidTokenError, "TokenInvalidHex");
    });

    it("throws TokenInvalidLength for 0 and 148 bytes", () => {
      const serialized = serializeToken(token);
      expectCode(() => parseToken("0x"), InvalidTokenError, "TokenInvalidLength");
      expectCode(() => parseToken(slice(serialized, 0, 148)), InvalidTokenError, "TokenInvalidLength");
    });

    it("round-trips a contract Master's token (a signature past 65 bytes, kept as it is for the wallet to judge), which no key verifies", () => {
      const approval = concat([token.signature, token.signature]);
      const serialized = serializeToken({ ...token, signature: approval });
      expect(size(serialized)).to.equal(84 + 130);
      const parsed = parseToken(serialized);
      expect(parsed).to.deep.equal({ ...token, signature: approval });
      expect(verifyToken({ token: parsed, master: master.address })).to.equal(false);
    });

    it("throws TokenZeroId for a zero gid or a zero oid", () => {
      const bytes = hexToBytes(serializeToken(token));
      const zeroGid = bytes.slice();
      zeroGid.fill(0, 0, 32);
      const zeroOid = bytes.slice();
      zeroOid.fill(0, 32, 64);
      expectCode(() => parseToken(bytesToHex(zeroGid)), InvalidTokenError, "TokenZeroId");
      expectCode(() => parseToken(bytesToHex(zeroOid)), InvalidTokenError, "TokenZeroId");
    });

    it("throws SignatureHighS for a token carrying the high-s twin", () => {
      const serialized = concat([slice(serializeToken(token), 0, 84), toHighS(token.signature)]);
      const error = expectCode(() => parseToken(serialized), InvalidTokenError, "SignatureHighS");
      expect(error.cause).to.be.instanceOf(InvalidSignatureError);
    });

    it("throws SignatureInvalidV for a v of 29", () => {
      const bytes = hexToBytes(serializeToken(token));
      bytes[148] = 29;
      expectCode(() => parseToken(bytesToHex(bytes)), InvalidTokenError, "SignatureInvalidV");
    });

    it("throws SignatureOutOfRange for r = 0", () => {
      const bytes = hexToBytes(serializeToken(token));
      bytes.fill(0, 84, 116);
      expectCode(() => parseToken(bytesToHex(bytes)), InvalidTokenError, "SignatureOutOfRange");
    });

    it("parses, without verifying, a token signed by someone else", async () => {
      const forged = await issueToken(otherMaster, { gid, oid, device: device.address });
      const parsed = parseToken(serializeToken(forged));
      expect(verifyToken({ token: parsed, master: master.address })).to.equal(false);
    });
  });

  describe("tokens against a deployed registry", () => {
    let deployed: TestRegistry;

    before(async () => {
      deployed = await deployTestRegistry();
    });

    after(async () => {
      await deployed?.stop();
    });

    it("tokenDigest equals the registry's tokenDigest view", async () => {
      for (const [g, o, d] of [
        [gid, oid, device.address],
        [toId(1), toId((1n << 256n) - 1n), master.address],
        [toId("a"), toId("b"), "0x0000000000000000000000000000000000000001"],
      ] as const) {
        const onChain = await deployed.chain.publicClient.readContract({
          address: deployed.registry,
          abi: iomtRegistryAbi,
          functionName: "tokenDigest",
          args: [g, o, d],
        });
        expect(tokenDigest({ gid: g, oid: o, device: d })).to.equal(onChain);
      }
    });

    it("a token issued by the group's Master lets the device associate itself", async () => {
      const { chain, registry, mined } = deployed;
      const groupMaster: LocalAccount = await chain.fundedAccount();
      const member: LocalAccount = await chain.fundedAccount();
      const chainOid = toId("tokens/ward/device");
      const created = await createGroup(chain.walletClient(groupMaster), { registry, label: "tokens/ward", masterOid: toId("tokens/ward/master") });
      await mined(created.hash);
      const chainGid = created.gid;
      const issued = parseToken(serializeToken(await issueToken(groupMaster, { gid: chainGid, oid: chainOid, device: member.address })));
      await mined(associate(chain.walletClient(member), { registry, token: issued }));
      const record = await getMember(chain.publicClient, { registry, gid: chainGid, oid: chainOid });
      expect(record.account).to.equal(member.address);
      expect(record.isMember).to.equal(true);
    });

    it("a token is bound to its registry: the same Master key and label on another registry give another gid, where the token is refused", async () => {
      const { chain, registry, mined } = deployed;
      const groupMaster = await chain.fundedAccount();
      const member = await chain.fundedAccount();
      const masterWallet = chain.walletClient(groupMaster);
      const { address: production } = await deployRegistry(masterWallet);
      const staging = await createGroup(masterWallet, { registry, label: "tokens/bound", masterOid: toId("tokens/bound/master") });
      await mined(staging.hash);
      const live = await createGroup(masterWallet, { registry: production, label: "tokens/bound", masterOid: toId("tokens/bound/master") });
      await mined(live.hash);
      expect(live.gid, "one label, two registries, two gids").to.not.equal(staging.gid);

      const stagingToken = await issueToken(groupMaster, { gid: staging.gid, oid: toId("tokens/bound/device"), device: member.address });
      const error = await associate(chain.walletClient(member), { registry: production, token: stagingToken }).then(
        () => expect.fail("a staging token associated on production"),
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(ContractRuleError).and.include({ code: "GroupRegistryUnknownGroup" });
      expect((error as ContractRuleError).args).to.deep.equal([staging.gid]);
      expect((await getMember(chain.publicClient, { registry: production, gid: live.gid, account: member.address })).isMember).to.equal(false);
    });
  });
});
