// @iomt-auth/sdk/native-keccak — the Keccak Code Package's C keccak-256, through the `keccak`
// package's native addon, for Node processes that hash a lot (a gateway, an indexer, a verifier).
// A separate entry point: the package's main entry never imports it, so a browser or device
// bundle carries neither this loader nor the addon, and hashes with noble's pure JS:
//
//   import { useNativeKeccak256 } from "@iomt-auth/sdk/native-keccak";
//   useNativeKeccak256(); // true when the addon loads; the SDK's hot paths then hash natively
//
// `keccak` (prebuilt for linux-x64, darwin-x64 and win32-x64, else built from source when a
// compiler is present) is an optional dependency of the SDK. Its addon is loaded as the package's
// own `bindings.js` loads it (node-gyp-build from the package's directory), not through the entry
// point, which falls back to pure JS without saying so; and its `KeccakState` is used directly:
// the package's `Keccak` class wraps every hash in a stream, which costs several times the hash
// itself. A binding that loads but hashes wrongly counts as not loading.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { ByteHash } from "./hash.js";
import { agreesWithNoble, setKeccak256Backend } from "./keccak.js";

/** The addon's sponge: keccak-256 is rate 1088, capacity 512, 32 bytes squeezed (the package's own parameters, no suffix). */
type KeccakState = { initialize(rate: number, capacity: number): void; absorb(data: Buffer): void; squeeze(length: number): Buffer };

function loadKeccakState(): new () => KeccakState {
  // `require` itself in the CommonJS build (dist/cjs), a require anchored at this module in the ES one.
  const load = typeof require === "function" ? require : createRequire(import.meta.url);
  const manifest = load.resolve("keccak/package.json");
  const addon = createRequire(manifest)("node-gyp-build")(dirname(manifest)) as unknown;
  if (typeof addon !== "function") throw new Error("the keccak addon did not load"); // as the package's bindings.js checks
  return addon as new () => KeccakState;
}

let loaded: ByteHash | null | undefined;

/**
 * The native keccak-256, or undefined when the `keccak` addon does not load here. Checked against
 * noble's on inputs across the rate (136 bytes) and the empty one before it is trusted. Cached.
 * One sponge per thread, reused: the function is not reentrant, which a synchronous hash never needs.
 */
export function loadNativeKeccak256(): ByteHash | undefined {
  if (loaded === undefined) {
    try {
      const state = new (loadKeccakState())();
      const native: ByteHash = (data) => {
        state.initialize(1088, 512);
        state.absorb(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        const digest = state.squeeze(32);
        // A plain Uint8Array over the addon's 32 bytes, as noble gives: a Buffer's slice() is a view, a Uint8Array's a copy.
        return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
      };
      loaded = agreesWithNoble(native) ? native : null;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/**
 * Makes the native keccak-256 the backend of the SDK's hashing in this thread (each worker thread
 * calls it for itself): true when it loaded, false when the SDK keeps noble's pure JS. Same bytes either way.
 */
export function useNativeKeccak256(): boolean {
  const native = loadNativeKeccak256();
  if (native !== undefined) setKeccak256Backend(native);
  return native !== undefined;
}
