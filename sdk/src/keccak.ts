// Keccak-256, the Ethereum hash, for the SDK's hot paths (AuthTable trees and leaves, the
// indexer's auth-chain checks, EIP-712 digests, address checksums), through one module-level
// backend: @noble/hashes' `keccak_256` (pure JS, what a browser or a device gets) unless a Node
// process installs the `keccak` package's native addon with `useNativeKeccak256()` from
// `@iomt-auth/sdk/native-keccak`, which gives the same bytes three to four times faster. Module
// state is per thread: a worker thread installs the native backend for itself.
// Public data only: nothing here handles a secret, so timing does not matter beyond speed.
import { keccak_256 } from "@noble/hashes/sha3";
import type { ByteHash } from "./hash.js";

let backend: ByteHash = keccak_256;

/**
 * Makes `hash` the backend of keccak256Bytes / keccak256Into in this thread; undefined puts noble's
 * back. For native-keccak.ts (and tests), not exported from the package's index: a caller could
 * otherwise install any function as the SDK's hash.
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
