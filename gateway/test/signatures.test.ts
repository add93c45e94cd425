// The data path's fast hashing and signer recovery give exactly what the SDK gives: the digest of
// many seeded-random data messages (edge values included) under two domains, and the signer (or
// the refusal, with the same code) of many random signatures, on the native binding and on the
// pure-JS fallback alike; a P-256 device's signature is verified and named by its p256Address on both.
import { expect } from "chai";
import { bytesToHex, concat, numberToHex, parseSignature, serializeCompactSignature, signatureToCompactSignature, type Address, type Hex } from "viem";
import { privateKeyToAccount, sign } from "viem/accounts";
import { hashDataMessage, InvalidSignatureError, p256Account, p256Address, privateKeyToP256Signer, recoverSigner, registryDomain, type DataMessage } from "@iomt-auth/sdk";
import { createDataMessageHasher, createSignerRecovery } from "../src/signatures.js";
import { expectCode } from "../../sdk/test/support/expect.js";
import { P256_N, SECP256K1_N as N, toHighS } from "../../sdk/test/support/signatures.js";
import { seededRandom } from "../../sdk/test/support/random.js";

/** secp256k1's field prime. */
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
/** P-256's field prime. */
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const U64_MAX = (1n << 64n) - 1n;
const U256_MAX = (1n << 256n) - 1n;

const domains = [
  registryDomain({ chainId: 31337, registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3" }),
  registryDomain({ chainId: 1, registry: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" }),
];

function randomBytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

/** A random unsigned integer below 2^bits, of a random bit length so small values come up too; sometimes 0 or the maximum. */
function randomUint(random: () => number, bits: number): bigint {
  const pick = random();
  if (pick < 0.1) return 0n;
  if (pick < 0.2) return (1n << BigInt(bits)) - 1n;
  const value = BigInt(bytesToHex(randomBytes(random, bits / 8)));
  return value >> BigInt(Math.floor(random() * bits));
}

function randomMessage(random: () => number): DataMessage {
  return {
    gid: bytesToHex(randomBytes(random, 32)),
    oid: bytesToHex(randomBytes(random, 32)),
    nonce: randomUint(random, 256),
    payloadHash: bytesToHex(randomBytes(random, 32)),
    timestamp: randomUint(random, 64),
    deadline: randomUint(random, 64),
  };
}

/** A random valid private key (1 ≤ key < n). */
function randomKey(random: () => number): Hex {
  for (;;) {
    const key = bytesToHex(randomBytes(random, 32));
    if (BigInt(key) !== 0n && BigInt(key) < N) return key;
  }
}

/** An x that is on no point of the curve (x³ + 7 is not a square mod p), so no key recovers from r = x. */
function offCurveX(random: () => number): bigint {
  const power = (base: bigint, exponent: bigint): bigint => {
    let result = 1n;
    for (let b = base % P, e = exponent; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) result = (result * b) % P;
    return result;
  };
  for (;;) {
    const x = BigInt(bytesToHex(randomBytes(random, 32))) % N;
    if (x !== 0n && power((x * x * x + 7n) % P, (P - 1n) / 2n) === P - 1n) return x;
  }
}

/** The recovery answers lower-case addresses (no EIP-55 checksum on the hot path; callers only compare). */
const lower = (address: Address): Address => address.toLowerCase() as Address;

const recoveries = [
  { name: "the native binding", recovery: createSignerRecovery(true) },
  { name: "the pure-JS fallback", recovery: createSignerRecovery(false) },
];

describe("gateway signatures: createDataMessageHasher", () => {
  it("gives the SDK's hashDataMessage for 300 random messages under each of two domains", () => {
    const random = seededRandom(0x5eed);
    for (const domain of domains) {
      const hash = createDataMessageHasher(domain);
      for (let i = 0; i < 300; i++) {
        const message = randomMessage(random);
        expect(hash(message), `message ${i} on chain ${domain.chainId}`).to.equal(hashDataMessage(domain, message));
      }
    }
  });

  it("gives the SDK's digest for the extreme values: every integer 0, and every integer at its maximum", () => {
    const zero = `0x${"00".repeat(32)}` as Hex;
    const ones = `0x${"ff".repeat(32)}` as Hex;
    const extremes: DataMessage[] = [
      { gid: zero, oid: zero, nonce: 0n, payloadHash: zero, timestamp: 0n, deadline: 0n },
      { gid: ones, oid: ones, nonce: U256_MAX, payloadHash: ones, timestamp: U64_MAX, deadline: U64_MAX },
      { gid: ones, oid: zero, nonce: 1n << 255n, payloadHash: zero, timestamp: 1n << 63n, deadline: 1n },
    ];
    for (const domain of domains) {
      const hash = createDataMessageHasher(domain);
      for (const message of extremes) expect(hash(message)).to.equal(hashDataMessage(domain, message));
    }
  });

  it("binds the digest to its domain: the same message hashes differently on another chain and registry", () => {
    const message = randomMessage(seededRandom(7));
    const [first, second] = domains.map((domain) => createDataMessageHasher(domain)(message));
    expect(first).to.not.equal(second);
  });

  it("does not carry one message's fields into the next (the buffer is fresh per call)", () => {
    const hash = createDataMessageHasher(domains[0]);
    const big = { ...randomMessage(seededRandom(8)), nonce: U256_MAX, timestamp: U64_MAX, deadline: U64_MAX };
    const small = { ...big, nonce: 1n, timestamp: 2n, deadline: 3n };
    hash(big);
    expect(hash(small)).to.equal(hashDataMessage(domains[0], small));
  });
});

describe("gateway signatures: createSignerRecovery", () => {
  it("uses the native libsecp256k1 binding when asked and it loads, and the pure-JS path when not asked", () => {
    expect(createSignerRecovery(true).native).to.equal(true);
    expect(createSignerRecovery(false).native).to.equal(false);
  });

  for (const { name, recovery } of recoveries) {
    describe(`with ${name}`, () => {
      it("recovers the SDK's signer, in lower case, for 200 random keys and hashes", async () => {
        const random = seededRandom(256);
        for (let i = 0; i < 200; i++) {
          const privateKey = randomKey(random);
          const hash = bytesToHex(randomBytes(random, 32));
          const signature = await sign({ hash, privateKey, to: "hex" });
          const signer = recovery.recover(hash, signature);
          expect(signer, `signature ${i}`).to.equal(lower(privateKeyToAccount(privateKey).address));
          expect(signer).to.equal(lower(recoverSigner(hash, signature)));
        }
      });

      it("accepts v as 0/1 and the 64-byte EIP-2098 compact form, recovering the same signer", async () => {
        const random = seededRandom(2098);
        for (let i = 0; i < 50; i++) {
          const privateKey = randomKey(random);
          const hash = bytesToHex(randomBytes(random, 32));
          const signature = await sign({ hash, privateKey, to: "hex" });
          const compact = serializeCompactSignature(signatureToCompactSignature(parseSignature(signature)));
          expect(compact.length).to.equal(2 + 64 * 2);
          const zeroOneV = concat([signature.slice(0, 130) as Hex, numberToHex(parseSignature(signature).yParity, { size: 1 })]);
          const signer = lower(privateKeyToAccount(privateKey).address);
          expect(recovery.recover(hash, compact), `compact signature ${i}`).to.equal(signer);
          expect(recovery.recover(hash, zeroOneV), `v 0/1 signature ${i}`).to.equal(signer);
        }
      });

      describe("refuses what the registry would refuse, with the SDK's InvalidSignatureError and code", () => {
        const hash = bytesToHex(randomBytes(seededRandom(99), 32));
        const privateKey = randomKey(seededRandom(100));
        let signature: Hex;

        before(async () => {
          signature = await sign({ hash, privateKey, to: "hex" });
        });

        /** Expects both the SDK and this recovery to refuse `bad` with `code`. */
        function expectRefused(bad: Hex, code: string): void {
          expectCode(() => recoverSigner(hash, bad), InvalidSignatureError, code);
          expectCode(() => recovery.recover(hash, bad), InvalidSignatureError, code);
        }

        it("a high-s signature (the malleable twin of a valid one)", () => {
          expectRefused(toHighS(signature), "SignatureHighS");
        });

        it("a v other than 27/28 or 0/1", () => {
          for (const v of [2, 26, 29, 255]) expectRefused(concat([signature.slice(0, 130) as Hex, numberToHex(v, { size: 1 })]), "SignatureInvalidV");
        });

        it("a signature of the wrong length", () => {
          expectRefused(signature.slice(0, -4) as Hex, "SignatureInvalidLength"); // 63 bytes (64 would be the compact form)
          expectRefused(concat([signature, "0x00"]), "SignatureInvalidLength");
          expectRefused("0x", "SignatureInvalidLength");
        });

        it("r or s zero, or r not below the curve order", () => {
          const { s } = parseSignature(signature);
          expectRefused(concat([numberToHex(0n, { size: 32 }), s, "0x1b"]), "SignatureOutOfRange");
          expectRefused(concat([numberToHex(N, { size: 32 }), s, "0x1b"]), "SignatureOutOfRange");
          expectRefused(concat([parseSignature(signature).r, numberToHex(0n, { size: 32 }), "0x1b"]), "SignatureOutOfRange");
        });

        it("a signature no key recovers from (r is no point's x)", () => {
          const r = numberToHex(offCurveX(seededRandom(3)), { size: 32 });
          expectRefused(concat([r, parseSignature(signature).s, "0x1b"]), "SignatureUnrecoverable");
        });

        it("text that is not 0x-prefixed hex", () => {
          expectRefused(signature.slice(2) as Hex, "SignatureInvalidHex");
          expectRefused(`${signature.slice(0, -1)}g` as Hex, "SignatureInvalidHex");
        });
      });

      describe("P-256 device signatures, 128 bytes r ‖ s ‖ x ‖ y: verified (OpenSSL natively, else the SDK's noble) and named by p256Address", () => {
        it("names the signer by its p256Address, in lower case, for 50 random keys and hashes", async () => {
          const random = seededRandom(7951);
          for (let i = 0; i < 50; i++) {
            const account = p256Account(privateKeyToP256Signer(randomKey(random)));
            const hash = bytesToHex(randomBytes(random, 32));
            const signature = await account.signDigest(hash);
            expect(recovery.recover(hash, signature), `signature ${i}`).to.equal(lower(p256Address(account.publicKey)));
          }
        });

        it("is never read as a secp256k1 signature, also when x's first byte (byte 64) looks like a v of 27 or 28", async () => {
          const random = seededRandom(65);
          let found = 0;
          while (found < 4) {
            const account = p256Account(privateKeyToP256Signer(randomKey(random)));
            if (![27, 28].includes(Number(BigInt(account.publicKey.x) >> 248n))) continue;
            found++;
            const hash = bytesToHex(randomBytes(random, 32));
            expect(recovery.recover(hash, await account.signDigest(hash))).to.equal(lower(account.address));
          }
        });

        describe("refuses what the registry refuses, with the SDK's code", () => {
          const hash = bytesToHex(randomBytes(seededRandom(257), 32));
          let signature: Hex;
          const word = (value: bigint) => numberToHex(value, { size: 32 });
          const part = (from: number, to: number) => `0x${signature.slice(2 + 2 * from, 2 + 2 * to)}` as Hex;

          before(async () => {
            signature = await p256Account(privateKeyToP256Signer(randomKey(seededRandom(256)))).signDigest(hash);
          });

          /** Expects both the SDK and this recovery to refuse `bad` over `over` with `code`. */
          function refused(bad: Hex, code: string, over: Hex = hash): void {
            expectCode(() => recoverSigner(over, bad), InvalidSignatureError, code);
            expectCode(() => recovery.recover(over, bad), InvalidSignatureError, code);
          }

          it("a high s (the malleable twin of a valid signature)", () => {
            refused(toHighS(signature), "SignatureHighS");
          });

          it("a valid signature over another hash", () => {
            refused(signature, "SignatureUnrecoverable", `0x${"22".repeat(32)}`);
          });

          it("a key off the curve, or with x equal to the field prime", () => {
            refused(concat([part(0, 96), word(BigInt(part(96, 128)) ^ 1n)]), "SignatureUnrecoverable");
            refused(concat([part(0, 64), word(P256_P), part(96, 128)]), "SignatureUnrecoverable");
          });

          it("r or s zero, or r not below the curve order", () => {
            refused(concat([word(0n), part(32, 128)]), "SignatureUnrecoverable");
            refused(concat([part(0, 32), word(0n), part(64, 128)]), "SignatureUnrecoverable");
            refused(concat([word(P256_N), part(32, 128)]), "SignatureUnrecoverable");
          });

          it("a P-256 signature one byte short or long", () => {
            refused(signature.slice(0, -2) as Hex, "SignatureInvalidLength");
            refused(concat([signature, "0x00"]), "SignatureInvalidLength");
          });
        });
      });

      it("recovers another signer (not an error) for a valid signature over another hash", async () => {
        const privateKey = randomKey(seededRandom(5));
        const signature = await sign({ hash: `0x${"11".repeat(32)}`, privateKey, to: "hex" });
        const signer = recovery.recover(`0x${"22".repeat(32)}`, signature);
        expect(signer).to.equal(lower(recoverSigner(`0x${"22".repeat(32)}`, signature)));
        expect(signer).to.not.equal(lower(privateKeyToAccount(privateKey).address));
      });
    });
  }
});
