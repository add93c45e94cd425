// keccak-256 for the data path (the payload commitment, the EIP-712 digest, a recovered key's
// address) and the batch trees: the Keccak Code Package's C code through the `keccak` package's
// native addon where it loads, noble's pure JS otherwise. `keccak` is an optional dependency
// (prebuilt for linux-x64, darwin-x64 and win32-x64, else built from source when a compiler is
// present). Its addon is loaded as the package's own `bindings.js` loads it (node-gyp-build from the
// package's directory), not through the entry point, which falls back to pure JS without saying
// so; and its `KeccakState` is used directly, one per thread: the package's `Keccak` class wraps
// every hash in a stream, which cost four times the hash itself (11.7 µs against 2.6 µs for 200
// bytes here). A binding that loads but hashes wrongly counts as not loading.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { keccak_256 } from "@noble/hashes/sha3";
import type { ByteHash } from "@iomt-auth/sdk";

/** The addon's sponge: keccak-256 is rate 1088, capacity 512, 32 bytes squeezed (the package's own parameters, no suffix). */
type KeccakState = { initialize(rate: number, capacity: number): void; absorb(data: Buffer): void; squeeze(length: number): Buffer };

function loadKeccakState(): new () => KeccakState {
  const manifest = createRequire(import.meta.url).resolve("keccak/package.json");
  const addon = createRequire(manifest)("node-gyp-build")(dirname(manifest)) as unknown;
  if (typeof addon !== "function") throw new Error("the keccak addon did not load"); // as the package's bindings.js checks
  return addon as new () => KeccakState;
}

/** noble's keccak-256, the fallback and the reference the binding is checked against. */
export const nobleKeccak256: ByteHash = keccak_256;

let loaded: ByteHash | null | undefined;

/** The native keccak-256, or undefined when its binding does not load here. Cached. */
export function loadNativeKeccak256(): ByteHash | undefined {
  if (loaded === undefined) {
    try {
      const state = new (loadKeccakState())();
      const native: ByteHash = (data) => {
        state.initialize(1088, 512);
        state.absorb(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        return state.squeeze(32);
      };
      // Inputs across the rate (136 bytes) and the empty one, checked against noble before the binding is trusted.
      const probes = [0, 1, 135, 136, 137, 300].map((length) => Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff));
      loaded = probes.every((probe) => Buffer.compare(Buffer.from(native(probe)), Buffer.from(keccak_256(probe))) === 0) ? native : null;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** The native keccak-256 when `preferNative` and it loads, else noble's. */
export function createKeccak256(preferNative: boolean): { native: boolean; keccak256: ByteHash } {
  const native = preferNative ? loadNativeKeccak256() : undefined;
  return native === undefined ? { native: false, keccak256: nobleKeccak256 } : { native: true, keccak256: native };
}
