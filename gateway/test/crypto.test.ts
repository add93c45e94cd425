// The gateway's record cipher (OpenSSL's AES-256-GCM through node:crypto) is the SDK's pure-JS one
// byte for byte: the same ciphertext and tag for seeded-random keys, nonces, additional data and
// plaintexts of every length around the block size, each opening what the other sealed, and both
// refusing the same tampering. Devices keep the SDK's cipher; only the gateway swaps it in. Its SHA-256
// (the hash a sealed answer is bound to) is noble's byte for byte too.
import { expect } from "chai";
import { bytesToHex } from "viem";
import { sha256 } from "@noble/hashes/sha2";
import { bindingOf, nobleRecordCipher, type RecordCipher } from "@iomt-auth/sdk";
import { opensslRecordCipher, opensslSha256 } from "../src/crypto.js";
import { seededRandom } from "../../sdk/test/support/random.js";

function randomBytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

type Case = { key: Uint8Array; nonce: Uint8Array; aad: Uint8Array; plaintext: Uint8Array };

/** Plaintexts from empty to a few blocks past a kilobyte, additional data from none to 80 bytes. */
function cases(seed: number, count: number): Case[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => ({
    key: randomBytes(random, 32),
    nonce: randomBytes(random, 12),
    aad: randomBytes(random, Math.floor(random() * 81)),
    plaintext: randomBytes(random, i < 64 ? i : Math.floor(random() * 1100)),
  }));
}

const refuses = (cipher: RecordCipher, { key, nonce, aad }: Case, ciphertext: Uint8Array) => {
  expect(() => cipher.decrypt(key, nonce, aad, ciphertext)).to.throw();
};

describe("gateway crypto: opensslRecordCipher", () => {
  describe("is the SDK's cipher byte for byte", () => {
    it("seals every case to the same ciphertext and tag as nobleRecordCipher", () => {
      for (const { key, nonce, aad, plaintext } of cases(1, 400)) {
        expect(bytesToHex(opensslRecordCipher.encrypt(key, nonce, aad, plaintext))).to.equal(bytesToHex(nobleRecordCipher.encrypt(key, nonce, aad, plaintext)));
      }
    });

    it("opens what nobleRecordCipher sealed, and nobleRecordCipher opens what it sealed", () => {
      for (const { key, nonce, aad, plaintext } of cases(2, 200)) {
        expect(bytesToHex(opensslRecordCipher.decrypt(key, nonce, aad, nobleRecordCipher.encrypt(key, nonce, aad, plaintext)))).to.equal(bytesToHex(plaintext));
        expect(bytesToHex(nobleRecordCipher.decrypt(key, nonce, aad, opensslRecordCipher.encrypt(key, nonce, aad, plaintext)))).to.equal(bytesToHex(plaintext));
      }
    });
  });

  describe("refuses what the SDK's cipher refuses", () => {
    it("refuses a flipped bit in the ciphertext or the tag, other additional data, another nonce or key, and a ciphertext shorter than its tag", () => {
      const random = seededRandom(3);
      for (const sample of cases(4, 60)) {
        const sealed = opensslRecordCipher.encrypt(sample.key, sample.nonce, sample.aad, sample.plaintext);
        const flipped = sealed.slice();
        flipped[Math.floor(random() * sealed.length)] ^= 1 << Math.floor(random() * 8);
        for (const cipher of [opensslRecordCipher, nobleRecordCipher]) {
          refuses(cipher, sample, flipped);
          refuses(cipher, { ...sample, aad: new Uint8Array([...sample.aad, 0]) }, sealed);
          refuses(cipher, { ...sample, nonce: sample.nonce.map((byte, i) => (i === 0 ? byte ^ 0x80 : byte)) }, sealed);
          refuses(cipher, { ...sample, key: sample.key.map((byte, i) => (i === 31 ? byte ^ 1 : byte)) }, sealed);
          refuses(cipher, sample, sealed.subarray(0, 15));
        }
      }
    });
  });
});

describe("gateway crypto: opensslSha256", () => {
  it("is noble's SHA-256 byte for byte, on inputs from empty to past a kilobyte", () => {
    for (const { plaintext } of cases(5, 200)) expect(bytesToHex(opensslSha256(plaintext))).to.equal(bytesToHex(sha256(plaintext)));
  });

  it("binds a request record as the SDK's default does (route, seq and the ciphertext's hash)", () => {
    for (const { plaintext } of cases(6, 40)) {
      const record = { seq: plaintext.length, ciphertext: bytesToHex(plaintext) };
      const given = bindingOf("/v2/data", record, opensslSha256);
      const reference = bindingOf("/v2/data", record);
      expect({ ...given, hash: bytesToHex(given.hash) }).to.deep.equal({ ...reference, hash: bytesToHex(reference.hash) });
    }
  });
});
