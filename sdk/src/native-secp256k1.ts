// @iomt-auth/sdk/native-secp256k1 — libsecp256k1 for device signing, where its native binding
// loads. A separate entry point: the package's main entry never imports it, so a device bundle
// carries neither this loader nor the binding unless the device opts in:
//
//   import { privateKeyToSecp256k1Signer } from "@iomt-auth/sdk";
//   import { loadNativeSecp256k1 } from "@iomt-auth/sdk/native-secp256k1";
//   const device = privateKeyToSecp256k1Signer(key, { backend: loadNativeSecp256k1() });
//
// `secp256k1` (the npm package, prebuilt for linux-x64, darwin-arm64 and win32-x64, else built
// from source when a compiler is present) is an optional dependency of the SDK. When it is
// missing or its binding does not load, `loadNativeSecp256k1()` returns undefined and the signer
// falls back to the pure-JS backend, which gives the same signatures.
import { createRequire } from "node:module";
import { libsecp256k1Backend, nobleSecp256k1, type Libsecp256k1Binding, type Secp256k1Backend } from "./secp256k1.js";

let loaded: Secp256k1Backend | null | undefined;

/**
 * The libsecp256k1 backend, or undefined when the native binding does not load here. Loads the
 * binding itself (`secp256k1/bindings`), not the package's entry point, which would fall back to
 * the pure-JS `elliptic` without saying so; checks that it signs before returning it. Cached.
 */
export function loadNativeSecp256k1(): Secp256k1Backend | undefined {
  if (loaded === undefined) {
    try {
      // `require` itself in the CommonJS build (dist/cjs), a require anchored at this module in the ES one.
      const load = typeof require === "function" ? require : createRequire(import.meta.url);
      const binding = load("secp256k1/bindings") as Libsecp256k1Binding;
      const backend = libsecp256k1Backend(binding);
      // One signature checked against the pure-JS backend's before the binding is trusted.
      const digest = Uint8Array.from({ length: 32 }, (_, i) => i);
      const key = Uint8Array.from({ length: 32 }, (_, i) => 32 - i);
      const native = backend.sign(digest, key);
      const pure = nobleSecp256k1.sign(digest, key);
      const same = native.recovery === pure.recovery && native.signature.length === 64 && native.signature.every((byte, i) => byte === pure.signature[i]);
      loaded = same ? backend : null;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}
