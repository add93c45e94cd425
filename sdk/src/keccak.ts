// Keccak-256, the Ethereum hash, for the SDK's hot paths (AuthTable trees and leaves, the
// indexer's auth-chain checks, EIP-712 digests, address checksums), through one module-level
// backend: @noble/hashes' `keccak_256` (pure JS, the default) unless the application installs a
// faster one that gives the same bytes: WebAssembly with `await useWasmKeccak256()` from
// `@iomt-auth/sdk/wasm-keccak` (any runtime with WebAssembly, about 14 times noble's speed on a
// tree node), or, in Node, the `keccak` package's native addon with `useNativeKeccak256()` from
// `@iomt-auth/sdk/native-keccak` (three to four times). Module state is per thread: a worker
// thread installs its backend for itself.
// Public data only: nothing here handles a secret, so timing does not matter beyond speed.
import { keccak_256 } from "@noble/hashes/sha3";
import type { ByteHash } from "./hash.js";

let backend: ByteHash = keccak_256;

/**
 * Makes `hash` the backend of keccak256Bytes / keccak256Into in this thread; undefined puts noble's
 * back. For native-keccak.ts and wasm-keccak.ts (and tests), not exported from the package's index:
 * a caller could otherwise install any function as the SDK's hash.
 */
export function setKeccak256Backend(hash: ByteHash | undefined): void {
  backend = hash ?? keccak_256;
}

/** Writes keccak256(`input`) into `out` at `outOffset` (32 bytes). */
export function keccak256Into(input: Uint8Array, out: Uint8Array, outOffset = 0): void {
  out.set(backend(input), outOffset);
}

/** keccak256(`input`) as 32 new bytes. */
export function keccak256Bytes(input: Uint8Array): Uint8Array {
  return backend(input);
}

/** Inputs around keccak-256's rate (136 bytes), the empty one and a few blocks: where a wrong sponge would show. */
const PROBE_LENGTHS = [0, 1, 31, 32, 64, 135, 136, 137, 271, 272, 300];

/** True when `hash` gives noble's digests on the probe inputs: a backend is trusted only then. */
export function agreesWithNoble(hash: ByteHash): boolean {
  try {
    return PROBE_LENGTHS.every((length) => {
      const probe = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
      const [digest, expected] = [hash(probe), keccak_256(probe)];
      return digest instanceof Uint8Array && digest.length === 32 && digest.every((byte, i) => byte === expected[i]);
    });
  } catch {
    return false;
  }
}
