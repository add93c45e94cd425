/**
 * P-256 devices: keys that live in a secure element, a TPM, a phone's keystore or WebCrypto
 * (non-extractable), which speak NIST P-256 rather than secp256k1.
 *
 * - **Identity**: a P-256 device is named on chain by
 *   `p256Address(x, y) = last 20 bytes of keccak256(keccak256("iomt-auth/p256-device") ‖ x ‖ y)`;
 *   tokens, association requests, nonces and AuthTable entries use that address like any device's.
 * - **Signatures**: 128 bytes `r ‖ s ‖ x ‖ y`: an ECDSA P-256 signature with SHA-256 over the
 *   32 bytes of the digest being signed (an EIP-712 digest for requests, the EIP-191 hash for the
 *   gateway handshake), low s, followed by the public key. This is what WebCrypto's
 *   `sign({ name: "ECDSA", hash: "SHA-256" }, key, digest)`, PKCS#11's `CKM_ECDSA_SHA256` and a TPM
 *   or ATECC608 signing the external digest `sha256(digest)` produce. The registry verifies it with
 *   OpenZeppelin's `P256` (the EIP-7951 precompile where the chain has it).
 * - **Integrating a secure element**: implement {@link P256Signer} (a public key and "sign these 32
 *   bytes with ECDSA-P256-SHA256"), wrap it with {@link p256Account}, and use the account wherever
 *   the SDK takes a device account: `signAssociation`, `signDataMessage`, `signExchange`, the
 *   gateway client.
 */
import { p256 } from "@noble/curves/p256";
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex, concat, getAddress, hashMessage, hashTypedData, hexToBytes, isHex, keccak256, toHex, type Address, type Hex, type SignableMessage } from "viem";
import { IomtError } from "./errors.js";

/** Thrown for a malformed P-256 key or signature, or a signer that returned one. */
export class P256Error extends IomtError {}

/** `keccak256("iomt-auth/p256-device")`: the domain tag of P-256 device addresses. */
export const P256_ADDRESS_TAG = keccak256(toHex("iomt-auth/p256-device"));

/** A P-256 public key as its affine coordinates, 32 bytes each. */
export type P256PublicKey = { x: Hex; y: Hex };

/**
 * What an integrator implements for a key it cannot export: the public key, and ECDSA with
 * P-256 and SHA-256 over the given 32 bytes (the signer hashes them with SHA-256 first, as
 * WebCrypto and PKCS#11 `CKM_ECDSA_SHA256` do). `s` may be high; the SDK normalises it.
 */
export type P256Signer = {
  publicKey: P256PublicKey;
  sign(digest: Uint8Array): Promise<{ r: Hex; s: Hex }>;
};

const N = p256.CURVE.n;
const HALF_N = N >> 1n;

function word(value: Hex, what: string): Hex {
  if (typeof value !== "string" || !isHex(value, { strict: true }) || value.length !== 66) {
    throw new P256Error("P256Malformed", `${what} must be 32 bytes of hex`);
  }
  return value.toLowerCase() as Hex;
}

/** Checks that the key is a point on P-256 and returns it lower-cased. */
export function assertP256PublicKey(publicKey: P256PublicKey): P256PublicKey {
  const x = word(publicKey.x, "P-256 x");
  const y = word(publicKey.y, "P-256 y");
  try {
    p256.ProjectivePoint.fromHex(concat(["0x04", x, y]).slice(2)).assertValidity();
  } catch (cause) {
    throw new P256Error("P256InvalidKey", "the public key is not a point on P-256", { cause });
  }
  return { x, y };
}

/** The address that names a P-256 device on chain (the registry's `p256Address`). */
export function p256Address(publicKey: P256PublicKey): Address {
  const { x, y } = assertP256PublicKey(publicKey);
  return getAddress(`0x${keccak256(concat([P256_ADDRESS_TAG, x, y])).slice(-40)}`);
}

/**
 * The 128-byte signature the registry takes: `r ‖ s ‖ x ‖ y`, with `s` normalised to the low half
 * (a high `s` and its twin `n − s` verify alike; the registry accepts only the low one).
 */
export function encodeP256Signature({ r, s }: { r: Hex; s: Hex }, publicKey: P256PublicKey): Hex {
  const key = assertP256PublicKey(publicKey);
  const rValue = BigInt(word(r, "signature r"));
  let sValue = BigInt(word(s, "signature s"));
  if (rValue === 0n || rValue >= N || sValue === 0n || sValue >= N) throw new P256Error("P256Malformed", "signature r or s is zero or not below the curve order");
  if (sValue > HALF_N) sValue = N - sValue;
  return concat([toHex(rValue, { size: 32 }), toHex(sValue, { size: 32 }), key.x, key.y]);
}

/**
 * The device that made a 128-byte P-256 signature over the 32-byte `digest`, or `undefined` when
 * it does not verify (strict: high s, a key off the curve or a wrong length are refused, as on chain).
 */
export function recoverP256Signer(digest: Hex, signature: Hex): Address | undefined {
  const bytes = hexToBytes(signature);
  if (bytes.length !== 128) return undefined;
  const r = BigInt(bytesToHex(bytes.subarray(0, 32)));
  const s = BigInt(bytesToHex(bytes.subarray(32, 64)));
  if (r === 0n || r >= N || s === 0n || s > HALF_N) return undefined;
  const publicKey = { x: bytesToHex(bytes.subarray(64, 96)), y: bytesToHex(bytes.subarray(96, 128)) };
  try {
    assertP256PublicKey(publicKey);
    const point = concat(["0x04", publicKey.x, publicKey.y]);
    const valid = p256.verify(new p256.Signature(r, s), sha256(hexToBytes(digest)), hexToBytes(point), { lowS: true, prehash: false });
    return valid ? p256Address(publicKey) : undefined;
  } catch {
    return undefined;
  }
}

/** A {@link P256Signer} over a raw private key (software, for tests and for devices without a secure element). */
export function privateKeyToP256Signer(privateKey: Hex): P256Signer {
  const secret = hexToBytes(word(privateKey, "P-256 private key"));
  if (!p256.utils.isValidPrivateKey(secret)) throw new P256Error("P256InvalidKey", "not a valid P-256 private key");
  const point = p256.getPublicKey(secret, false);
  return {
    publicKey: { x: bytesToHex(point.subarray(1, 33)), y: bytesToHex(point.subarray(33, 65)) },
    async sign(digest) {
      const signature = p256.sign(sha256(digest), secret, { lowS: true });
      return { r: toHex(signature.r, { size: 32 }), s: toHex(signature.s, { size: 32 }) };
    },
  };
}

/** A WebCrypto ECDSA P-256 key pair (`CryptoKeyPair`), typed structurally so no DOM types are needed. */
export type WebCryptoKeyPair = { publicKey: object; privateKey: object };

type SubtleLike = {
  exportKey(format: "raw", key: object): Promise<ArrayBuffer>;
  sign(algorithm: { name: "ECDSA"; hash: "SHA-256" }, key: object, data: Uint8Array): Promise<ArrayBuffer>;
  generateKey(algorithm: { name: "ECDSA"; namedCurve: "P-256" }, extractable: boolean, usages: string[]): Promise<WebCryptoKeyPair>;
};

function subtle(): SubtleLike {
  const candidate = (globalThis as { crypto?: { subtle?: unknown } }).crypto?.subtle;
  if (candidate === undefined) throw new P256Error("P256NoWebCrypto", "this runtime has no WebCrypto (globalThis.crypto.subtle)");
  return candidate as SubtleLike;
}

/**
 * A {@link P256Signer} over a WebCrypto key pair (`crypto.subtle`): the private key may be
 * non-extractable, as a secure element holds it; only its public half is exported.
 */
export async function webCryptoP256Signer(keyPair: WebCryptoKeyPair): Promise<P256Signer> {
  const raw = new Uint8Array(await subtle().exportKey("raw", keyPair.publicKey));
  if (raw.length !== 65 || raw[0] !== 4) throw new P256Error("P256InvalidKey", "the WebCrypto public key is not an uncompressed P-256 point");
  return {
    publicKey: { x: bytesToHex(raw.subarray(1, 33)), y: bytesToHex(raw.subarray(33, 65)) },
    async sign(digest) {
      const signature = new Uint8Array(await subtle().sign({ name: "ECDSA", hash: "SHA-256" }, keyPair.privateKey, digest));
      if (signature.length !== 64) throw new P256Error("P256Malformed", "WebCrypto returned a signature that is not r ‖ s");
      return { r: bytesToHex(signature.subarray(0, 32)), s: bytesToHex(signature.subarray(32, 64)) };
    },
  };
}

/** A fresh non-extractable P-256 key pair in WebCrypto, wrapped as a {@link P256Signer}. */
export async function generateWebCryptoP256Signer(): Promise<P256Signer> {
  const keyPair = await subtle().generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  return webCryptoP256Signer(keyPair);
}

/** A device account over a P-256 key: usable wherever the SDK takes a device's account. */
export type P256Account = {
  type: "p256";
  address: Address;
  publicKey: P256PublicKey;
  /** Signs a 32-byte digest: the 128-byte registry form. */
  signDigest(digest: Hex): Promise<Hex>;
  signTypedData(parameters: Parameters<typeof hashTypedData>[0]): Promise<Hex>;
  signMessage(parameters: { message: SignableMessage }): Promise<Hex>;
};

/** Wraps a {@link P256Signer} as a device account (EIP-712 requests, the gateway handshake). */
export function p256Account(signer: P256Signer): P256Account {
  const publicKey = assertP256PublicKey(signer.publicKey);
  const address = p256Address(publicKey);
  const signDigest = async (digest: Hex): Promise<Hex> => {
    const signature = encodeP256Signature(await signer.sign(hexToBytes(digest)), publicKey);
    if (recoverP256Signer(digest, signature) !== address) throw new P256Error("P256BadSigner", "the P-256 signer returned a signature that does not verify for its public key");
    return signature;
  };
  return {
    type: "p256",
    address,
    publicKey,
    signDigest,
    signTypedData: (parameters) => signDigest(hashTypedData(parameters)),
    signMessage: ({ message }) => signDigest(hashMessage(message)),
  };
}
