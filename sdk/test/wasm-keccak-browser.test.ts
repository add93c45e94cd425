// The SDK's WebAssembly keccak (src/wasm-keccak.ts) in a real browser, headless Chromium: bundled
// as an application bundles it (esbuild, for the browser), `useWasmKeccak256()` installs it and
// the SDK's keccak256Bytes then gives noble's digests; under a content security policy that
// forbids compiling WebAssembly it answers false and the SDK hashes with noble's, the same bytes.
import { keccak_256 } from "@noble/hashes/sha3";
import { expect } from "chai";
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { bytesToHex } from "viem";
import { launchChromium } from "./support/browser.js";
import { seededRandom } from "./support/random.js";

const SEED = 1601;
const sdkSrc = fileURLToPath(new URL("../src/", import.meta.url));
/** What the bundle gives the page: install the backend, then hash hex inputs with the SDK's keccak256Bytes. */
type PageApi = { install(): Promise<boolean>; hash(inputs: string[]): string[]; webAssembly: string };

describe("the WebAssembly keccak in a browser (headless Chromium)", function () {
  this.timeout(120_000);
  let browser: Browser;
  let bundle: string;
  const random = seededRandom(SEED);
  // Lengths around the sponge's rate (136 bytes) and a few blocks beyond, as hex for the page.
  const inputs = [0, 1, 31, 32, 64, 104, 135, 136, 137, 200, 271, 272, 500].map((length) => Uint8Array.from({ length }, () => Math.floor(random() * 256)));
  const expected = inputs.map((input) => bytesToHex(keccak_256(input)));

  before(async () => {
    const entry = `
      import { useWasmKeccak256 } from "./wasm-keccak.ts";
      import { keccak256Bytes } from "./keccak.ts";
      const fromHex = (hex) => Uint8Array.from(hex.slice(2).match(/../g) ?? [], (byte) => parseInt(byte, 16));
      const toHex = (bytes) => "0x" + Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
      window.iomt = { install: useWasmKeccak256, hash: (inputs) => inputs.map((hex) => toHex(keccak256Bytes(fromHex(hex)))), webAssembly: typeof WebAssembly };`;
    const built = await build({ stdin: { contents: entry, resolveDir: sdkSrc, loader: "ts" }, bundle: true, format: "iife", platform: "browser", target: "es2022", write: false, logLevel: "silent" });
    bundle = built.outputFiles[0].text;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  /** A page with the bundle loaded, under `csp` when given. */
  async function pageWith(csp?: string): Promise<Page> {
    const page = await browser.newPage();
    await page.setContent(`<!doctype html><html><head>${csp === undefined ? "" : `<meta http-equiv="Content-Security-Policy" content="${csp}">`}</head><body></body></html>`);
    await page.addScriptTag({ content: bundle });
    return page;
  }

  const run = (page: Page) =>
    page.evaluate(async (hexInputs) => {
      const api = (globalThis as unknown as { iomt: PageApi }).iomt;
      const before = api.hash(hexInputs);
      const installed = await api.install();
      return { webAssembly: api.webAssembly, installed, before, after: api.hash(hexInputs) };
    }, inputs.map((input) => bytesToHex(input)));

  it("installs with useWasmKeccak256() and gives noble's digests, before and after, on inputs around the sponge's rate", async () => {
    const page = await pageWith();
    try {
      const result = await run(page);
      expect(result).to.deep.include({ webAssembly: "object", installed: true });
      expect(result.before, "on noble's, the default").to.deep.equal(expected);
      expect(result.after, "on WebAssembly").to.deep.equal(expected);
    } finally {
      await page.close();
    }
  });

  it("answers false under a content security policy without 'wasm-unsafe-eval', and the SDK keeps hashing with noble's, the same bytes", async () => {
    const page = await pageWith("script-src 'unsafe-inline'");
    try {
      const result = await run(page);
      expect(result).to.deep.include({ webAssembly: "object", installed: false });
      expect(result.after).to.deep.equal(expected);
    } finally {
      await page.close();
    }
  });
});
