// keccak-256 for the data path (the payload commitment, the EIP-712 digest, a recovered key's
// address), the batch trees and the SDK's own hashing in the gateway's threads: the `keccak`
// setting picks the backend, and each falls back to the next that loads here, in this order:
// - `wasm` (default): hash-wasm's WebAssembly (`@iomt-auth/sdk/wasm-keccak`), two to three times the
//   native addon's speed on a 64-byte input (a call into an addon costs more than the hash);
// - `native`: the Keccak Code Package's C code through the `keccak` package's addon
//   (`@iomt-auth/sdk/native-keccak`; an optional dependency of the SDK, prebuilt for linux-x64,
//   darwin-x64 and win32-x64);
// - `noble`: @noble/hashes' pure JS, which always loads.
// The SDK's loaders check a backend against noble before they trust it: every backend gives the same bytes.
import { keccak_256 } from "@noble/hashes/sha3";
import type { ByteHash } from "@iomt-auth/sdk";
import { loadNativeKeccak256, useNativeKeccak256 } from "@iomt-auth/sdk/native-keccak";
import { loadWasmKeccak256, useWasmKeccak256 } from "@iomt-auth/sdk/wasm-keccak";

/** The `keccak` setting's values, fastest first: the order in which a backend falls back. */
export const keccakBackends = ["wasm", "native", "noble"] as const;
export type KeccakBackend = (typeof keccakBackends)[number];

/** noble's keccak-256, the last fallback and the reference the others are checked against. */
export const nobleKeccak256: ByteHash = keccak_256;

const loaders: Record<KeccakBackend, () => Promise<ByteHash | undefined>> = {
  wasm: loadWasmKeccak256,
  native: async () => loadNativeKeccak256(),
  noble: async () => nobleKeccak256,
};

/** The first backend from `preferred` on (in `keccakBackends`' order) that loads here, and its hash. */
export async function loadKeccak256(preferred: KeccakBackend): Promise<{ backend: KeccakBackend; keccak256: ByteHash }> {
  for (const backend of keccakBackends.slice(keccakBackends.indexOf(preferred))) {
    const keccak256 = await loaders[backend]();
    if (keccak256 !== undefined) return { backend, keccak256 };
  }
  return { backend: "noble", keccak256: nobleKeccak256 };
}

/**
 * `loadKeccak256`, and the same backend installed as the SDK's hash in this thread (its AuthTable
 * mirror, typed-data digests, batch trees): the SDK's backend is module state, which each worker
 * thread has its own copy of. With `noble` the SDK keeps its default.
 */
export async function installKeccak256(preferred: KeccakBackend): Promise<{ backend: KeccakBackend; keccak256: ByteHash }> {
  const loaded = await loadKeccak256(preferred);
  if (loaded.backend === "wasm") await useWasmKeccak256();
  else if (loaded.backend === "native") useNativeKeccak256();
  return loaded;
}
