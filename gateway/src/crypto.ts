// The gateway's secp256k1 work on the handshake: the Master's ephemeral key pairs, ECDH and its
// transcript signature, and the recovery of the device's ClientFinish signature (the data path's
// recovery, `createSignerRecovery`, which also verifies a P-256 device's signature). Each runs on
// libsecp256k1 through the `secp256k1` package's native binding when it loads (one to two orders
// of magnitude faster than pure JS), and on noble otherwise. Both give the same bytes: ECDH is the
// x-coordinate of the shared point, and both sign with RFC 6979 deterministic nonces and low s, so
// a signature is the same whichever path made it (the tests compare them).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { bytesToHex, hashMessage, hexToBytes, type Address, type Hex, type SignableMessage } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { nobleKeyAgreement, recoverSigner, type ByteHash, type RecordCipher, type SessionAccount, type SessionKeyAgreement, type SignerRecoverer } from "@iomt-auth/sdk";
import { createSignerRecovery } from "./signatures.js";

/** The functions of the binding the gateway uses. */
export type NativeSecp256k1 = {
  publicKeyCreate(privateKey: Uint8Array, compressed: boolean): Uint8Array;
  privateKeyVerify(privateKey: Uint8Array): boolean;
  ecdh(publicKey: Uint8Array, privateKey: Uint8Array, options: { hashfn: (x: Uint8Array, y: Uint8Array) => Uint8Array; xbuf: Uint8Array; ybuf: Uint8Array }, output: Uint8Array): Uint8Array;
  ecdsaSign(hash: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(signature: Uint8Array, recid: number, hash: Uint8Array, compressed: boolean): Uint8Array;
};

let loaded: NativeSecp256k1 | null | undefined;

/**
 * The native binding, or undefined when it does not load. The binding itself is required, not the
 * package's entry point, which silently falls back to the pure-JS `elliptic`; and a binding that
 * loads but answers wrongly (a broken build) counts as not loading.
 */
export function loadNativeSecp256k1(): NativeSecp256k1 | undefined {
  if (loaded === undefined) {
    try {
      const native = createRequire(import.meta.url)("secp256k1/bindings") as NativeSecp256k1;
      const probe = new Uint8Array(32).fill(7);
      const expected = nobleKeyAgreement.publicKeyOf(probe);
      loaded = bytesToHex(native.publicKeyCreate(probe, true)) === bytesToHex(expected) ? native : null;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** Signs 32-byte hashes with the Master's key (RFC 6979, low s): `r ‖ s ‖ v`, v ∈ {27, 28}. */
export type HashSigner = (hash: Uint8Array) => Promise<Hex>;

/** The Master's key, usable only through the signers it makes (no property holds the key). */
export type MasterKey = { readonly address: Address; signer(native: NativeSecp256k1 | undefined): HashSigner };

export function masterKeyOf(privateKey: Hex): MasterKey {
  const account = privateKeyToAccount(privateKey);
  return Object.freeze({
    address: account.address,
    signer(native: NativeSecp256k1 | undefined): HashSigner {
      if (native === undefined) return (hash) => account.sign({ hash: bytesToHex(hash) }); // viem (noble)
      const key = hexToBytes(privateKey);
      return async (hash) => {
        const { signature, recid } = native.ecdsaSign(hash, key);
        return bytesToHex(new Uint8Array([...signature, recid + 27]));
      };
    },
  });
}

export type HandshakeCrypto = {
  /** True when the native binding does the work. */
  readonly native: boolean;
  /** The Master as a session account: signs the transcript (EIP-191) with the fast signer. */
  readonly account: SessionAccount;
  readonly keyAgreement: SessionKeyAgreement;
  readonly recover: SignerRecoverer;
  /** The records' AES-256-GCM: OpenSSL's, through node:crypto (the same bytes as the SDK's pure-JS one). */
  readonly recordCipher: RecordCipher;
};

const GCM_TAG_BYTES = 16;

/**
 * AES-256-GCM on OpenSSL (AES-NI where the CPU has it): the records of every sealed request and
 * answer, which the SDK's pure-JS cipher made a tenth of the gateway's main-thread time.
 */
export const opensslRecordCipher: RecordCipher = Object.freeze({
  encrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_BYTES }).setAAD(aad);
    return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
  },
  decrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (ciphertext.length < GCM_TAG_BYTES) throw new Error("the ciphertext is shorter than its tag");
    const body = ciphertext.subarray(0, ciphertext.length - GCM_TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_BYTES }).setAAD(aad);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - GCM_TAG_BYTES));
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  },
});

/** SHA-256 on OpenSSL: the hash of each request record its answer is bound to (the SDK's `bindingOf`), the same bytes as noble's. */
export const opensslSha256: ByteHash = (data) => new Uint8Array(createHash("sha256").update(data).digest());

/** The handshake's crypto on the native binding when `preferNative` and it loads, else on noble. */
export function createHandshakeCrypto(masterKey: MasterKey, preferNative: boolean): HandshakeCrypto {
  const native = preferNative ? loadNativeSecp256k1() : undefined;
  const sign = masterKey.signer(native);
  const account: SessionAccount = {
    address: masterKey.address,
    signMessage: ({ message }: { message: SignableMessage }) => sign(hexToBytes(hashMessage(message))),
  };
  if (native === undefined) return { native: false, account, keyAgreement: nobleKeyAgreement, recover: recoverSigner, recordCipher: opensslRecordCipher };
  const keyAgreement: SessionKeyAgreement = {
    generateKeyPair() {
      let privateKey = new Uint8Array(randomBytes(32));
      while (!native.privateKeyVerify(privateKey)) privateKey = new Uint8Array(randomBytes(32));
      return { privateKey, publicKey: native.publicKeyCreate(privateKey, true) };
    },
    publicKeyOf: (privateKey) => native.publicKeyCreate(privateKey, true),
    sharedSecret(privateKey, publicKey) {
      const x = new Uint8Array(32);
      const y = new Uint8Array(32);
      const out = native.ecdh(publicKey, privateKey, { hashfn: (xs) => xs, xbuf: x, ybuf: y }, new Uint8Array(32));
      y.fill(0);
      return out;
    },
  };
  const { recover } = createSignerRecovery(true);
  return { native: true, account, keyAgreement, recover, recordCipher: opensslRecordCipher };
}
