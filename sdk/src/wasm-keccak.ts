// @iomt-auth/sdk/wasm-keccak — keccak-256 in WebAssembly (hash-wasm's hand-tuned binary), for
// every runtime with WebAssembly: a browser, a device's JavaScript engine, Node. About 14 times
// faster than noble's pure JS on the SDK's 64-byte tree nodes here, and two to three times faster
// than the `keccak` package's native addon (a call into the addon costs more than the hash). A
// separate entry point: the package's main entry never imports it, so a bundle carries hash-wasm's
// keccak (this entry bundles to 16 KB minified, 7 KB gzipped, the binary inlined) only when it
// imports this module:
//
//   import { useWasmKeccak256 } from "@iomt-auth/sdk/wasm-keccak";
//   await useWasmKeccak256(); // true when the WebAssembly module compiled; the SDK's hot paths then hash on it
//
// Asynchronous once, because a browser compiles WebAssembly asynchronously; every hash after that is
// synchronous, as the SDK's are. A module that compiles but hashes wrongly counts as not loading.
import { createKeccak } from "hash-wasm";
import type { ByteHash } from "./hash.js";
import { agreesWithNoble, setKeccak256Backend } from "./keccak.js";

let loading: Promise<ByteHash | undefined> | undefined;

/**
 * The WebAssembly keccak-256, or undefined where WebAssembly is missing or the module does not
 * compile (a content security policy without `wasm-unsafe-eval`, Node's `--jitless`). Checked against
 * noble's like the native one before it is trusted. Cached per thread. One hasher, reused: the
 * function is not reentrant, which a synchronous hash never needs; each digest is a copy of its own.
 */
export function loadWasmKeccak256(): Promise<ByteHash | undefined> {
  loading ??= createKeccak(256).then(
    (hasher) => {
      const wasm: ByteHash = (data) => {
        hasher.init();
        hasher.update(data);
        return hasher.digest("binary");
      };
      return agreesWithNoble(wasm) ? wasm : undefined;
    },
    () => undefined,
  );
  return loading;
}

/**
 * Makes the WebAssembly keccak-256 the backend of the SDK's hashing in this thread (each worker
 * thread calls it for itself): true when it loaded, false when the SDK keeps noble's pure JS. Same
 * bytes either way.
 */
export async function useWasmKeccak256(): Promise<boolean> {
  const wasm = await loadWasmKeccak256();
  if (wasm !== undefined) setKeccak256Backend(wasm);
  return wasm !== undefined;
}
