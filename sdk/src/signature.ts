// Strict handling of the device signatures the registry accepts: secp256k1, 65 bytes r ‖ s ‖ v with
// v ∈ {27, 28} and a low s (OpenZeppelin ECDSA rejects high-s, so a signature the SDK accepts
// off chain is one the contract accepts on chain), EIP-2098 compact 64-byte signatures expanded to
// that form; and P-256, 128 bytes r ‖ s ‖ x ‖ y (see p256.ts). Recovery is synchronous (noble), so
// offline verifiers need no await.
import { secp256k1 } from "@noble/curves/secp256k1";
import { bytesToHex, getAddress, hexToBytes, isHex, type Address, type Hex } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { IomtError } from "./errors.js";
import { recoverP256Signer } from "./p256.js";

/** Thrown for a signature that is not a strict 65-byte (or 64-byte compact) low-s secp256k1 signature. */
export class InvalidSignatureError extends IomtError {}

const HALF_ORDER = secp256k1.CURVE.n >> 1n;
const P256_HALF_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n >> 1n;

/**
 * Returns the 65-byte form (r ‖ s ‖ v, v ∈ {27, 28}) of a 65-byte or EIP-2098 64-byte signature.
 * Throws `InvalidSignatureError` with code `SignatureInvalidHex`, `SignatureInvalidLength`,
 * `SignatureInvalidV`, `SignatureHighS` or `SignatureOutOfRange`.
 */
export function normalizeSignature(signature: Hex): Hex {
  if (typeof signature !== "string" || !isHex(signature, { strict: true })) {
    throw new InvalidSignatureError("SignatureInvalidHex", "the signature is not 0x-prefixed hex");
  }
  const bytes = hexToBytes(signature);
  let r: Uint8Array;
  let s: Uint8Array;
  let v: number;
  if (bytes.length === 65) {
    r = bytes.subarray(0, 32);
    s = bytes.subarray(32, 64);
    v = bytes[64] < 27 ? bytes[64] + 27 : bytes[64];
    if (v !== 27 && v !== 28) throw new InvalidSignatureError("SignatureInvalidV", `signature v must be 27 or 28 (or 0/1), got ${bytes[64]}`);
  } else if (bytes.length === 128) {
    // P-256: r ‖ s ‖ x ‖ y, checked when it is recovered (the key must be on the curve).
    if (BigInt(bytesToHex(bytes.subarray(32, 64))) > P256_HALF_ORDER) {
      throw new InvalidSignatureError("SignatureHighS", "the P-256 signature has a high s value (malleable); the registry rejects it");
    }
    return bytesToHex(bytes);
  } else if (bytes.length === 64) {
    r = bytes.subarray(0, 32);
    s = bytes.slice(32, 64);
    v = (s[0] & 0x80) === 0 ? 27 : 28;
    s[0] &= 0x7f;
  } else {
    throw new InvalidSignatureError("SignatureInvalidLength", `a signature has 65 bytes (or 64 compact), or 128 for P-256, got ${bytes.length}`);
  }
  const rValue = BigInt(bytesToHex(r));
  const sValue = BigInt(bytesToHex(s));
  if (rValue === 0n || rValue >= secp256k1.CURVE.n || sValue === 0n) {
    throw new InvalidSignatureError("SignatureOutOfRange", "signature r or s is zero or not below the curve order");
  }
  if (sValue > HALF_ORDER) {
    throw new InvalidSignatureError("SignatureHighS", "the signature has a high s value (malleable); the registry rejects it");
  }
  const out = new Uint8Array(65);
  out.set(r, 0);
  out.set(s, 32);
  out[64] = v;
  return bytesToHex(out);
}

/**
 * Recovers the address that signed the 32-byte `hash` — a secp256k1 key's, or a P-256 device's
 * (`p256Address`) — after normalising the signature strictly.
 */
export function recoverSigner(hash: Hex, signature: Hex): Address {
  const bytes = hexToBytes(normalizeSignature(signature));
  if (bytes.length === 128) {
    const signer = recoverP256Signer(hash, bytesToHex(bytes));
    if (signer === undefined) throw new InvalidSignatureError("SignatureUnrecoverable", "the P-256 signature does not verify for the key it carries");
    return signer;
  }
  let publicKey: Uint8Array;
  try {
    publicKey = secp256k1.Signature.fromCompact(bytes.subarray(0, 64))
      .addRecoveryBit(bytes[64] - 27)
      .recoverPublicKey(hexToBytes(hash))
      .toRawBytes(false);
  } catch (cause) {
    throw new InvalidSignatureError("SignatureUnrecoverable", "no public key recovers from this signature", { cause });
  }
  return publicKeyToAddress(bytesToHex(publicKey));
}

/** True when `signature` over `hash` recovers to `signer`; false for another signer or an unusable signature. */
export function isSignedBy(hash: Hex, signature: Hex, signer: Address): boolean {
  try {
    return recoverSigner(hash, signature) === getAddress(signer);
  } catch (error) {
    if (error instanceof InvalidSignatureError) return false;
    throw error;
  }
}
