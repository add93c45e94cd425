// keccak-256 for the data path (the payload commitment, the EIP-712 digest, a recovered key's
// address): the Keccak Code Package's C code through the `keccak` package's native binding where it
// loads, noble's pure JS otherwise. `keccak` is an optional dependency (prebuilt for linux-x64,
// darwin-x64 and win32-x64, else built from source when a compiler is present). Its binding is
// required as `keccak/bindings`, not through the package's entry point, which falls back to its own
// pure-JS code without saying so; and a binding that loads but hashes wrongly counts as not loading.
import { createRequire } from "node:module";
import { keccak_256 } from "@noble/hashes/sha3";

export type Keccak256 = (data: Uint8Array) => Uint8Array;

type KeccakFactory = (algorithm: "keccak256") => { update(data: Buffer): { digest(): Buffer } };

/** noble's keccak-256, the fallback and the reference the binding is checked against. */
export const nobleKeccak256: Keccak256 = keccak_256;

let loaded: Keccak256 | null | undefined;

/** The native keccak-256, or undefined when its binding does not load here. Cached. */
export function loadNativeKeccak256(): Keccak256 | undefined {
  if (loaded === undefined) {
    try {
      const create = createRequire(import.meta.url)("keccak/bindings") as KeccakFactory;
      const native: Keccak256 = (data) => create("keccak256").update(Buffer.from(data.buffer, data.byteOffset, data.byteLength)).digest();
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
export function createKeccak256(preferNative: boolean): { native: boolean; keccak256: Keccak256 } {
  const native = preferNative ? loadNativeKeccak256() : undefined;
  return native === undefined ? { native: false, keccak256: nobleKeccak256 } : { native: true, keccak256: native };
}
