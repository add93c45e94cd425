// keccak-256 for the data path (the payload commitment, the EIP-712 digest, a recovered key's
// address) and the batch trees: the Keccak Code Package's C code through the `keccak` package's
// native addon where it loads (the SDK's loader, `@iomt-auth/sdk/native-keccak`, which checks it
// against noble before trusting it), noble's pure JS otherwise. `keccak` is an optional dependency
// of the SDK (prebuilt for linux-x64, darwin-x64 and win32-x64, else built from source when a
// compiler is present).
import { keccak_256 } from "@noble/hashes/sha3";
import type { ByteHash } from "@iomt-auth/sdk";
import { loadNativeKeccak256 } from "@iomt-auth/sdk/native-keccak";

/** noble's keccak-256, the fallback and the reference the binding is checked against. */
export const nobleKeccak256: ByteHash = keccak_256;

/** The native keccak-256 when `preferNative` and it loads, else noble's. */
export function createKeccak256(preferNative: boolean): { native: boolean; keccak256: ByteHash } {
  const native = preferNative ? loadNativeKeccak256() : undefined;
  return native === undefined ? { native: false, keccak256: nobleKeccak256 } : { native: true, keccak256: native };
}
