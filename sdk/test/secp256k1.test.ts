// Device signing (src/secp256k1.ts, src/native-secp256k1.ts): the pure-JS backend, libsecp256k1
// through the optional `secp256k1` binding, and viem's `privateKeyToAccount` give the same
// signature byte for byte over many random keys and digests — low-s normalisation and v included —
// and a data message signed through either backend is the one a viem account signs. The bytes
// level EIP-712 digest of data messages (hashDataMessage) equals viem's hashTypedData, and odd
// input still goes through viem. The package's main entry never reaches the native loader.
import { secp256k1 } from "@noble/curves/secp256k1";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, hashTypedData, keccak256, stringToHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { IomtError } from "../src/errors.js";
import { toId } from "../src/ids.js";
import { loadNativeSecp256k1 } from "../src/native-secp256k1.js";
import { isDigestSigner, nobleSecp256k1, privateKeyToSecp256k1Signer, type Secp256k1Backend } from "../src/secp256k1.js";
import { issueToken } from "../src/tokens.js";
import { createDataMessage, dataMessageTypes, hashDataMessage, registryDomain, signAssociation, signDataMessage, verifyDataMessage, type DataMessage, type RegistryDomain } from "../src/typed-data.js";
import { expectCode } from "./support/expect.js";
import { modulesReachedFrom, sdkSourceDir } from "./support/import-graph.js";
import { seededRandom } from "./support/random.js";
import { skipBecause } from "./support/skips.js";

const SEED = 256;
const HALF_ORDER = secp256k1.CURVE.n >> 1n;

/** 32 seeded random bytes as hex; a valid private key when `key` (retried until it is in 1 … n − 1). */
function randomWord(random: () => number, key = false): Hex {
  for (;;) {
    const hex = `0x${Array.from({ length: 32 }, () => Math.floor(random() * 256).toString(16).padStart(2, "0")).join("")}` as Hex;
    if (!key || secp256k1.utils.isValidPrivateKey(hex.slice(2))) return hex;
  }
}

const viemViaTypedData = (domain: RegistryDomain, message: DataMessage): Hex => hashTypedData({ domain, types: dataMessageTypes, primaryType: "DataMessage", message });

describe("device signing (secp256k1 backends)", function () {
  this.timeout(120_000);
  const domain = registryDomain({ chainId: 31337, registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" });

  describe("the pure-JS backend and viem's account", () => {
    it(`sign 300 random digests with 300 random keys identically, both v and both s halves before normalisation among them (seed ${SEED})`, async () => {
      const random = seededRandom(SEED);
      let highBeforeNormalising = 0;
      const vs = new Set<number>();
      for (let i = 0; i < 300; i++) {
        const key = randomWord(random, true);
        const digest = randomWord(random);
        const ours = privateKeyToSecp256k1Signer(key).signDigest(digest);
        expect(ours, `key ${i}`).to.equal(await privateKeyToAccount(key).sign({ hash: digest }));
        if (secp256k1.sign(digest.slice(2), key.slice(2), { lowS: false }).s > HALF_ORDER) highBeforeNormalising++;
        vs.add(Number.parseInt(ours.slice(-2), 16));
        expect(BigInt(`0x${ours.slice(66, 130)}`) <= HALF_ORDER, "low s").to.equal(true);
      }
      expect([...vs].sort()).to.deep.equal([27, 28]);
      expect(highBeforeNormalising, "signatures whose s was normalised").to.be.within(100, 200);
    });

    it("signs typed data and EIP-191 messages as viem's account does (association requests, tokens)", async () => {
      const random = seededRandom(SEED + 1);
      const masterKey = randomWord(random, true);
      const deviceKey = randomWord(random, true);
      const gid = toId("ward"), oid = toId("ward/ecg");
      const device = privateKeyToSecp256k1Signer(deviceKey);
      const viemToken = await issueToken(privateKeyToAccount(masterKey), { gid, oid, device: device.address });
      const ourToken = await issueToken(privateKeyToSecp256k1Signer(masterKey), { gid, oid, device: device.address });
      expect(ourToken).to.deep.equal(viemToken);
      const ours = await signAssociation(device, { domain, token: ourToken, deadline: 2_000_000_000n });
      const theirs = await signAssociation(privateKeyToAccount(deviceKey), { domain, token: viemToken, deadline: 2_000_000_000n });
      expect(ours).to.deep.equal(theirs);
      expect(device.address).to.equal(privateKeyToAccount(deviceKey).address);
      expect(device.type).to.equal("secp256k1");
      expect(device.backend).to.equal("noble");
      expect(isDigestSigner(device)).to.equal(true);
      expect(isDigestSigner(privateKeyToAccount(deviceKey)), "a viem account signs typed data").to.equal(false);
    });

    it("throws SignerInvalidKey for a key outside 1 … n − 1 or not 32 bytes of hex, and SignerInvalidDigest for a digest that is not 32 bytes", () => {
      const n = secp256k1.CURVE.n;
      for (const key of [`0x${"00".repeat(32)}`, `0x${n.toString(16)}`, `0x${"ff".repeat(32)}`, `0x${"11".repeat(31)}`, "0x" + "zz".repeat(32), "11".repeat(32)]) {
        expectCode(() => privateKeyToSecp256k1Signer(key as Hex), IomtError, "SignerInvalidKey");
      }
      const signer = privateKeyToSecp256k1Signer(`0x${"11".repeat(32)}`);
      for (const digest of [`0x${"22".repeat(31)}`, `0x${"22".repeat(33)}`, "0x"]) expectCode(() => signer.signDigest(digest as Hex), IomtError, "SignerInvalidDigest");
    });
  });

  describe("libsecp256k1 (the optional secp256k1 binding)", () => {
    let native: Secp256k1Backend | undefined;

    before(function () {
      native = loadNativeSecp256k1();
    });

    it("loads here", function () {
      if (native === undefined) skipBecause(this, "no-native-secp256k1", "the secp256k1 binding does not load on this machine; the SDK signs in pure JS");
      expect(native!.name).to.equal("libsecp256k1");
      expect(loadNativeSecp256k1(), "cached").to.equal(native);
    });

    it(`signs 1,000 random digests with 1,000 random keys byte for byte as the pure-JS backend, s normalised and v alike (seed ${SEED + 2})`, function () {
      if (native === undefined) skipBecause(this, "no-native-secp256k1", "the secp256k1 binding does not load on this machine");
      const random = seededRandom(SEED + 2);
      let normalised = 0;
      const recoveries = new Set<number>();
      for (let i = 0; i < 1_000; i++) {
        const key = randomWord(random, true);
        const digest = randomWord(random);
        const [keyBytes, digestBytes] = [Buffer.from(key.slice(2), "hex"), Buffer.from(digest.slice(2), "hex")];
        const fromNative = native!.sign(digestBytes, keyBytes);
        const fromNoble = nobleSecp256k1.sign(digestBytes, keyBytes);
        expect(bytesToHex(fromNative.signature), `key ${i}`).to.equal(bytesToHex(fromNoble.signature));
        expect(fromNative.recovery, `key ${i}: recovery bit`).to.equal(fromNoble.recovery);
        recoveries.add(fromNative.recovery);
        if (secp256k1.sign(digestBytes, keyBytes, { lowS: false }).s > HALF_ORDER) normalised++;
        const signer = privateKeyToSecp256k1Signer(key, { backend: native! });
        expect(signer.signDigest(digest), `key ${i}: 65-byte form`).to.equal(privateKeyToSecp256k1Signer(key).signDigest(digest));
      }
      expect([...recoveries].sort()).to.deep.equal([0, 1]);
      expect(normalised, "signatures whose s libsecp256k1 and noble normalised").to.be.within(400, 600);
    });

    it("signs data messages as viem's account does, and the relayer's check accepts them", async function () {
      if (native === undefined) skipBecause(this, "no-native-secp256k1", "the secp256k1 binding does not load on this machine");
      const random = seededRandom(SEED + 3);
      for (let i = 0; i < 50; i++) {
        const key = randomWord(random, true);
        const account = privateKeyToAccount(key);
        const message = createDataMessage({ gid: toId(`g${i}`), oid: toId(`o${i}`), nonce: BigInt(i + 1), payload: `{"hr":${60 + i}}`, salt: randomWord(random), timestamp: 1_700_000_000n + BigInt(i) });
        const viaViem = await signDataMessage(account, { domain, message });
        const viaNative = await signDataMessage(privateKeyToSecp256k1Signer(key, { backend: native! }), { domain, message });
        const viaNoble = await signDataMessage(privateKeyToSecp256k1Signer(key), { domain, message });
        expect(viaNative, `message ${i}`).to.deep.equal(viaViem);
        expect(viaNoble, `message ${i}`).to.deep.equal(viaViem);
        expect(verifyDataMessage({ domain, signed: viaNative, device: account.address })).to.equal(true);
      }
    });
  });

  describe("hashDataMessage on bytes", () => {
    const U64_MAX = (1n << 64n) - 1n;
    const U256_MAX = (1n << 256n) - 1n;

    it(`equals viem's hashTypedData over 300 random messages and domains, extreme values included (seed ${SEED + 4})`, () => {
      const random = seededRandom(SEED + 4);
      const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
      for (let i = 0; i < 300; i++) {
        const registry = privateKeyToAccount(randomWord(random, true)).address;
        const someDomain = registryDomain({ chainId: pick([1, 31337, 2 ** 31, Number.MAX_SAFE_INTEGER]), registry });
        const message: DataMessage = {
          gid: randomWord(random),
          oid: randomWord(random),
          nonce: pick([0n, 1n, 2n ** 32n, U256_MAX, BigInt(Math.floor(random() * 1e15))]),
          payloadHash: randomWord(random),
          timestamp: pick([0n, U64_MAX, 1_700_000_000n]),
          deadline: pick([0n, U64_MAX, 1_700_000_600n]),
        };
        expect(hashDataMessage(someDomain, message), `message ${i}`).to.equal(viemViaTypedData(someDomain, message));
        const lowerDomain = { ...someDomain, verifyingContract: someDomain.verifyingContract.toLowerCase() as Hex };
        expect(hashDataMessage(lowerDomain, message), "lower-case registry").to.equal(viemViaTypedData(lowerDomain, message));
      }
    });

    it("hashes odd domains through viem as before (a bigint chain id, a salt) and fails as viem fails on out-of-range fields", () => {
      const message = createDataMessage({ gid: toId("g"), oid: toId("o"), nonce: 1n, payloadHash: keccak256(stringToHex("x")), timestamp: 1n, deadline: 2n });
      const odd = [{ ...domain, chainId: 31337n }, { ...domain, salt: keccak256(stringToHex("salt")) }] as unknown as RegistryDomain[];
      for (const someDomain of odd) expect(hashDataMessage(someDomain, message)).to.equal(viemViaTypedData(someDomain, message));
      const thrownBy = (fn: () => unknown): string => {
        try {
          fn();
          return "no error";
        } catch (error) {
          return (error as Error).constructor.name;
        }
      };
      const bad: DataMessage[] = [
        { ...message, timestamp: U64_MAX + 1n },
        { ...message, nonce: -1n },
        { ...message, payloadHash: `0x${"ab".repeat(31)}` },
      ];
      for (const badMessage of bad) {
        const ours = thrownBy(() => hashDataMessage(domain, badMessage));
        expect(ours).to.not.equal("no error");
        expect(ours).to.equal(thrownBy(() => viemViaTypedData(domain, badMessage)));
      }
    });
  });

  describe("the package's main entry", () => {
    it("never imports the native loader, so a device bundle carries it only when the device imports @iomt-auth/sdk/native-secp256k1", () => {
      const reached = modulesReachedFrom("index.ts");
      for (const [file, code] of reached) expect(code, file).not.to.match(/secp256k1\/bindings|createRequire|(from|import|require)\s*\(?\s*["']secp256k1["']/);
      expect(reached.size, "modules reached from index.ts").to.be.greaterThan(10);
      expect([...reached.keys()].some((file) => file.endsWith("native-secp256k1.ts"))).to.equal(false);
      const manifest = JSON.parse(readFileSync(join(sdkSourceDir, "../package.json"), "utf8")) as { exports: Record<string, unknown>; optionalDependencies?: Record<string, string> };
      expect(manifest.exports).to.have.property("./native-secp256k1");
      expect(manifest.optionalDependencies).to.have.property("secp256k1", "5.0.2");
    });
  });
});
