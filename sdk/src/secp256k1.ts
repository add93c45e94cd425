// A device's secp256k1 key as a signer that signs 32-byte digests directly, with a pluggable
// implementation: pure JS (noble, as viem's accounts) by default, or libsecp256k1 through a native
// binding the device opts into (`@iomt-auth/sdk/native-secp256k1`). Both sign deterministically
// (RFC 6979, no extra entropy, low s), so they give the same signature byte for byte — the
// signature a viem `privateKeyToAccount` gives for the same key and digest
// (sdk/test/secp256k1.test.ts compares them over many random keys and digests).
//
// `signDataMessage` uses `signDigest` when the signer has it, so a data message is hashed once,
// on bytes, instead of through viem's generic typed-data encoder.
import { secp256k1 } from "@noble/curves/secp256k1";
import { bytesToHex, hashMessage, hashTypedData, hexToBytes, isHex, type Address, type Hex, type SignableMessage } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { fixedHexToBytes } from "./bytes.js";
import { IomtError } from "./errors.js";

/** A secp256k1 signing implementation: a compact low-s signature over a 32-byte digest and its recovery bit. */
export interface Secp256k1Backend {
  /** A short name for reports: "noble" (pure JS) or "libsecp256k1" (native). */
  readonly name: string;
  /** Signs `digest` (32 bytes) with `privateKey` (32 bytes): r ‖ s (64 bytes, s ≤ n/2, RFC 6979 nonce) and the recovery bit of that signature. */
  sign(digest: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recovery: number };
}

/** The pure-JS backend: noble's secp256k1, as viem's accounts sign (lowS, no extra entropy). */
export const nobleSecp256k1: Secp256k1Backend = {
  name: "noble",
  sign(digest, privateKey) {
    const signature = secp256k1.sign(digest, privateKey, { lowS: true });
    return { signature: signature.toCompactRawBytes(), recovery: signature.recovery };
  },
};

/** The part of the `secp256k1` npm package's binding (`secp256k1/bindings`) the SDK uses. */
export interface Libsecp256k1Binding {
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
}

/**
 * A backend over a libsecp256k1 binding the caller loaded itself (the `secp256k1` package's
 * `secp256k1/bindings`, not its entry point, which falls back to `elliptic` silently). Its default
 * nonce function is RFC 6979 and it always returns low-s signatures, so it signs as noble does.
 */
export function libsecp256k1Backend(binding: Libsecp256k1Binding): Secp256k1Backend {
  return {
    name: "libsecp256k1",
    sign(digest, privateKey) {
      const { signature, recid } = binding.ecdsaSign(digest, privateKey);
      return { signature, recovery: recid };
    },
  };
}

/**
 * A signer of 32-byte digests (a `Secp256k1Signer`, a `P256Account`): `signDataMessage` hashes
 * the message itself and calls `signDigest` instead of `signTypedData` when a signer has it.
 */
export interface DigestSigner {
  address: Address;
  /** The registry form of a signature over the 32-byte `digest`. */
  signDigest(digest: Hex): Hex | Promise<Hex>;
}

/** A device key: signs digests, EIP-712 typed data and EIP-191 messages; usable wherever the SDK takes a viem account as signer. */
export interface Secp256k1Signer extends DigestSigner {
  type: "secp256k1";
  /** The backend that signs: "noble" or "libsecp256k1". */
  readonly backend: string;
  /** The 65-byte signature r ‖ s ‖ v (v ∈ {27, 28}, low s) over `digest`, synchronously. */
  signDigest(digest: Hex): Hex;
  signTypedData(parameters: Parameters<typeof hashTypedData>[0]): Promise<Hex>;
  signMessage(parameters: { message: SignableMessage }): Promise<Hex>;
}

export interface PrivateKeyToSecp256k1SignerOptions {
  /** Default: `nobleSecp256k1` (pure JS). Pass `loadNativeSecp256k1()` from `@iomt-auth/sdk/native-secp256k1` to sign with libsecp256k1 where it loads. */
  backend?: Secp256k1Backend;
}

/**
 * A device's secp256k1 key as a signer. Its signatures equal those of viem's
 * `privateKeyToAccount(privateKey)` byte for byte, whichever backend signs.
 * @throws {IomtError} `SignerInvalidKey` for a key that is not 32 bytes of hex in 1 … n − 1.
 * @example
 * const device = privateKeyToSecp256k1Signer(key, { backend: loadNativeSecp256k1() });
 * const signed = await signDataMessage(device, { domain, message });
 */
export function privateKeyToSecp256k1Signer(privateKey: Hex, options: PrivateKeyToSecp256k1SignerOptions = {}): Secp256k1Signer {
  if (typeof privateKey !== "string" || privateKey.length !== 66 || !isHex(privateKey, { strict: true }) || !secp256k1.utils.isValidPrivateKey(privateKey.slice(2))) {
    throw new IomtError("SignerInvalidKey", "a secp256k1 private key is 32 bytes of hex, in 1 … n − 1");
  }
  const backend = options.backend ?? nobleSecp256k1;
  const key = hexToBytes(privateKey);
  const address = publicKeyToAddress(bytesToHex(secp256k1.getPublicKey(key, false)));
  const signDigest = (digest: Hex): Hex => {
    const bytes = fixedHexToBytes(digest, 32);
    if (bytes === undefined) throw new IomtError("SignerInvalidDigest", "a digest is 32 bytes of hex");
    const { signature, recovery } = backend.sign(bytes, key);
    const out = new Uint8Array(65);
    out.set(signature, 0);
    out[64] = 27 + recovery;
    return bytesToHex(out);
  };
  return {
    type: "secp256k1",
    address,
    backend: backend.name,
    signDigest,
    signTypedData: async (parameters) => signDigest(hashTypedData(parameters)),
    signMessage: async ({ message }) => signDigest(hashMessage(message)),
  };
}

/** True when `signer` signs digests itself (a `Secp256k1Signer`, or any `DigestSigner`). */
export const isDigestSigner = (signer: object): signer is DigestSigner => typeof (signer as Partial<DigestSigner>).signDigest === "function";
