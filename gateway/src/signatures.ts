// The hot path of data ingestion: the EIP-712 digest of a data message and the recovery of its
// signer. Both give exactly what the SDK (viem, noble) gives — the tests check that on random
// messages — but faster:
// - the digest hashes one fixed 224-byte buffer under a domain separator computed once, instead of
//   viem's generic typed-data encoder (the type has only static fields, so abi.encode is the
//   concatenation of 32-byte words);
// - recovery uses libsecp256k1 through the `secp256k1` package's native binding when it loads
//   (about 30 times faster than pure JS here), and the SDK's noble recovery otherwise;
// - a P-256 device's 128-byte signature r ‖ s ‖ x ‖ y (a secure element's key) is verified against
//   the key it carries, which names the device (`p256Address`; nothing to recover): by Node's own
//   crypto (OpenSSL) on the native path, about 20 times faster here than noble's pure-JS P-256
//   (gateway/bench/signatures.ts), and by the SDK (noble) otherwise. Both apply the registry's
//   rules (128 bytes, low s, a key on the curve); the tests compare them on random and bad input.
import { createPublicKey, verify } from "node:crypto";
import { bytesToHex, domainSeparator, hexToBytes, keccak256, stringToHex, type Address, type Hex } from "viem";
import { dataMessageTypes, InvalidSignatureError, normalizeSignature, P256_ADDRESS_TAG, recoverSigner, type ByteHash, type DataMessage, type RegistryDomain } from "@iomt-auth/sdk";
import { loadNativeSecp256k1 } from "./crypto.js";
import { nobleKeccak256 } from "./keccak.js";

const DATA_MESSAGE_TYPEHASH = hexToBytes(
  keccak256(stringToHex(`DataMessage(${dataMessageTypes.DataMessage.map(({ type, name }) => `${type} ${name}`).join(",")})`)),
);

/** `0x` and 128 bytes: a P-256 device's signature r ‖ s ‖ x ‖ y. */
const P256_SIGNATURE_HEX_LENGTH = 2 + 2 * 128;
/** The DER header of a P-256 SubjectPublicKeyInfo (RFC 5480: id-ecPublicKey, prime256v1) around a 65-byte uncompressed point. */
const P256_SPKI_PREFIX = Buffer.from("3059301306072a8648ce3d020106082a8648ce3d03010703420004", "hex");
const P256_ADDRESS_TAG_BYTES = hexToBytes(P256_ADDRESS_TAG);

/**
 * The lower-case `p256Address` of the key a 128-byte P-256 signature carries, once OpenSSL verified
 * the signature (ECDSA P-256, SHA-256 over the 32-byte `hash`) with that key; throws the SDK's
 * `InvalidSignatureError` as the SDK's `recoverSigner` does: `SignatureHighS` (by the SDK's own
 * check), `SignatureUnrecoverable` for a signature that does not verify or a key off the curve
 * (OpenSSL refuses to import it).
 */
function verifyP256(hash: Hex, signature: Hex, keccak_256: ByteHash): Address {
  const bytes = hexToBytes(normalizeSignature(signature));
  const point = bytes.subarray(64);
  let valid: boolean;
  try {
    const key = createPublicKey({ key: Buffer.concat([P256_SPKI_PREFIX, point]), format: "der", type: "spki" });
    valid = verify("sha256", hexToBytes(hash), { key, dsaEncoding: "ieee-p1363" }, bytes.subarray(0, 64));
  } catch {
    valid = false;
  }
  if (!valid) throw new InvalidSignatureError("SignatureUnrecoverable", "the P-256 signature does not verify for the key it carries");
  const tagged = new Uint8Array(32 + 64);
  tagged.set(P256_ADDRESS_TAG_BYTES, 0);
  tagged.set(point, 32);
  return bytesToHex(keccak_256(tagged).subarray(12));
}

export type DataMessageHasher = (message: DataMessage) => Hex;

/** Returns a function computing `hashDataMessage(domain, message)` for one fixed domain (with `keccak_256`: noble's, or the native one). */
export function createDataMessageHasher(domain: RegistryDomain, keccak_256: ByteHash = nobleKeccak256): DataMessageHasher {
  const separator = hexToBytes(domainSeparator({ domain }));
  return (message) => {
    const struct = new Uint8Array(7 * 32);
    struct.set(DATA_MESSAGE_TYPEHASH, 0);
    struct.set(hexToBytes(message.gid), 32);
    struct.set(hexToBytes(message.oid), 64);
    writeUint256(struct, 96, message.nonce);
    struct.set(hexToBytes(message.payloadHash), 128);
    writeUint256(struct, 160, message.timestamp);
    writeUint256(struct, 192, message.deadline);
    const envelope = new Uint8Array(66);
    envelope[0] = 0x19;
    envelope[1] = 0x01;
    envelope.set(separator, 2);
    envelope.set(keccak_256(struct), 34);
    return bytesToHex(keccak_256(envelope));
  };
}

function writeUint256(target: Uint8Array, offset: number, value: bigint): void {
  let rest = value;
  for (let i = offset + 31; i >= offset && rest > 0n; i--) {
    target[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
}

/**
 * Recovers the signer of a 32-byte hash as a lower-case address (no EIP-55 checksum: that would
 * be one more keccak per message, and callers only compare) — a secp256k1 key's, or the
 * `p256Address` of a P-256 key whose signature verifies; throws the SDK's `InvalidSignatureError`
 * for a malformed or high-s signature, or a P-256 one that does not verify (`SignatureUnrecoverable`).
 */
export type SignerRecovery = { readonly native: boolean; recover(hash: Hex, signature: Hex): Address };

/** The native recovery when `preferNative` and the binding loads, else the SDK's pure-JS one (`keccak_256` makes a native key's address). */
export function createSignerRecovery(preferNative: boolean, keccak_256: ByteHash = nobleKeccak256): SignerRecovery {
  const native = preferNative ? loadNativeSecp256k1() : undefined;
  if (native === undefined) return { native: false, recover: (hash, signature) => recoverSigner(hash, signature).toLowerCase() as Address };
  return {
    native: true,
    recover(hash, signature) {
      if (signature.length === P256_SIGNATURE_HEX_LENGTH) return verifyP256(hash, signature, keccak_256);
      // normalizeSignature enforces the registry's rules (65 bytes, v ∈ {27, 28}, low s, r and s in range).
      const bytes = hexToBytes(normalizeSignature(signature));
      try {
        const publicKey = native.ecdsaRecover(bytes.subarray(0, 64), bytes[64] - 27, hexToBytes(hash), false);
        return bytesToHex(keccak_256(publicKey.subarray(1)).subarray(12));
      } catch {
        return recoverSigner(hash, signature).toLowerCase() as Address; // throws the SDK's SignatureUnrecoverable
      }
    },
  };
}
