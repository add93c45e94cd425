// The SDK's keccak256 (src/keccak.ts, the hot paths' hash) gives @noble/hashes' keccak_256, which
// viem uses, over random inputs of every length around the block size (136 bytes) and a few blocks
// beyond: on its default backend (noble itself, pure JS), on the `keccak` package's native addon
// once `useNativeKeccak256()` (src/native-keccak.ts) installs it, and on hash-wasm's WebAssembly
// once `useWasmKeccak256()` (src/wasm-keccak.ts) does; a backend that disagrees with noble is never
// installed, and the package's main entry reaches neither loader. And the EIP-55 checksum built on it (src/bytes.ts) against viem's.
import { keccak_256, sha3_256 } from "@noble/hashes/sha3";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect } from "chai";
import { bytesToHex, checksumAddress, type Hex } from "viem";
import { checksumLowerAddress, decodeHexInto, fixedHexToBytes, toHex } from "../src/bytes.js";
import type { ByteHash } from "../src/hash.js";
import { agreesWithNoble, keccak256Bytes, keccak256Into, setKeccak256Backend } from "../src/keccak.js";
import { loadNativeKeccak256, useNativeKeccak256 } from "../src/native-keccak.js";
import { loadWasmKeccak256, useWasmKeccak256 } from "../src/wasm-keccak.js";
import { modulesReachedFrom } from "./support/import-graph.js";
import { seededRandom } from "./support/random.js";
import { skipBecause } from "./support/skips.js";

const SEED = 1600;
const sdkSrc = fileURLToPath(new URL("../src/", import.meta.url));
const EMPTY_DIGEST = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

describe("keccak256 (src/keccak.ts, src/native-keccak.ts, src/wasm-keccak.ts)", () => {
  const random = seededRandom(SEED);
  const randomBytes = (length: number): Uint8Array => Uint8Array.from({ length }, () => Math.floor(random() * 256));

  /** keccak256Bytes and keccak256Into (into a view at an offset) against noble on 3 random inputs of every length 0 … 700. */
  const expectNobleBytesUpTo700 = (): void => {
    const out = new Uint8Array(40);
    for (let length = 0; length <= 700; length++) {
      for (let sample = 0; sample < 3; sample++) {
        const input = randomBytes(length);
        const expected = bytesToHex(keccak_256(input));
        expect(bytesToHex(keccak256Bytes(input)), `length ${length}`).to.equal(expected);
        keccak256Into(input, out, 8);
        expect(bytesToHex(out.subarray(8)), `length ${length}, into`).to.equal(expected);
      }
    }
  };

  /** keccak256Into at offset 5 of a 40-byte buffer of 0xee, hashing a subarray: the digest there, the rest untouched. */
  const expectIntoLeavesTheRest = (): void => {
    const input = randomBytes(200);
    const out = new Uint8Array(40).fill(0xee);
    keccak256Into(input.subarray(50, 150), out, 5);
    expect(bytesToHex(out.subarray(5, 37))).to.equal(bytesToHex(keccak_256(input.slice(50, 150))));
    expect([...out.subarray(0, 5), ...out.subarray(37)].every((byte) => byte === 0xee)).to.equal(true);
  };

  describe("on the default backend, noble's pure JS (what a browser or device gets)", () => {
    it(`equals noble's keccak_256 for every length 0 … 700 bytes, 3 random inputs each (seed ${SEED})`, expectNobleBytesUpTo700);

    it("gives the known digests of the empty string and of 'abc'", () => {
      expect(bytesToHex(keccak256Bytes(new Uint8Array(0)))).to.equal(EMPTY_DIGEST);
      expect(bytesToHex(keccak256Bytes(new TextEncoder().encode("abc")))).to.equal("0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    });

    it("writes into a caller's buffer at an offset without touching the rest, and reads a subarray as its own bytes", expectIntoLeavesTheRest);
  });

  // The two faster backends, each installed as an application installs it, and held to the same bytes.
  const fasterBackends = [
    { name: "the native addon", use: "useNativeKeccak256()", load: async () => loadNativeKeccak256(), install: async () => useNativeKeccak256(), skip: "no-native-keccak" as const },
    { name: "WebAssembly (hash-wasm)", use: "useWasmKeccak256()", load: loadWasmKeccak256, install: useWasmKeccak256, skip: undefined },
  ];
  for (const backend of fasterBackends) {
    describe(`on ${backend.name}, once ${backend.use} installs it`, function () {
      let loaded: ByteHash;
      before(async function () {
        const hash = await backend.load();
        // The native addon may not build on some machine; WebAssembly is in every Node this package supports, so it must load.
        if (hash === undefined && backend.skip !== undefined) skipBecause(this, backend.skip, "the keccak addon does not load on this machine; the SDK hashes with noble's pure JS");
        expect(hash, "loaded").to.be.a("function");
        loaded = hash!;
        expect(await backend.install(), "installed").to.equal(true);
      });
      // Every other test file gets the default backend, as a browser would.
      after(() => setKeccak256Backend(undefined));

      it("loads here, and the loader's own function equals noble's on random inputs of 0 … 700 bytes and on views into a larger buffer", () => {
        expect(loaded(new Uint8Array(0))).to.be.an.instanceOf(Uint8Array);
        for (let length = 0; length <= 700; length++) {
          const input = randomBytes(length);
          expect(bytesToHex(loaded(input)), `length ${length}`).to.equal(bytesToHex(keccak_256(input)));
          const view = randomBytes(length + 9).subarray(5, 5 + length);
          expect(bytesToHex(loaded(view)), `view of length ${length}`).to.equal(bytesToHex(keccak_256(view)));
        }
      });

      it(`equals noble's keccak_256 for every length 0 … 700 bytes, 3 random inputs each, through keccak256Bytes and keccak256Into`, expectNobleBytesUpTo700);

      it("gives a plain Uint8Array of 32 bytes that owns its copy, as noble does, and the known empty digest", () => {
        const digest = keccak256Bytes(new Uint8Array(0));
        expect(Object.getPrototypeOf(digest)).to.equal(Uint8Array.prototype);
        expect(bytesToHex(digest)).to.equal(EMPTY_DIGEST);
        const copy = digest.slice();
        copy.fill(0);
        expect(bytesToHex(digest), "slice() copied").to.equal(EMPTY_DIGEST);
        expect(bytesToHex(keccak256Bytes(randomBytes(64))), "another hash").not.to.equal(EMPTY_DIGEST);
        expect(bytesToHex(digest), "a later hash leaves an earlier digest alone").to.equal(EMPTY_DIGEST);
      });

      it("writes into a caller's buffer at an offset without touching the rest, and reads a subarray as its own bytes", expectIntoLeavesTheRest);

      it("gives the same bytes again after noble's backend is put back", async () => {
        const inputs = [0, 1, 135, 136, 137, 300].map((length) => randomBytes(length));
        const onBackend = inputs.map((input) => bytesToHex(keccak256Bytes(input)));
        setKeccak256Backend(undefined);
        try {
          expect(inputs.map((input) => bytesToHex(keccak256Bytes(input)))).to.deep.equal(onBackend);
          expect(onBackend).to.deep.equal(inputs.map((input) => bytesToHex(keccak_256(input))));
        } finally {
          await backend.install();
        }
      });
    });
  }

  describe("a backend is trusted only when it agrees with noble (agreesWithNoble, which both loaders apply)", () => {
    it("trusts noble's own keccak_256 and the WebAssembly one", async () => {
      expect(agreesWithNoble(keccak_256)).to.equal(true);
      expect(agreesWithNoble((await loadWasmKeccak256())!)).to.equal(true);
    });

    it("refuses SHA3-256 (the same sponge with NIST's padding), a hash wrong past one block, a short digest, a non-Uint8Array and one that throws", () => {
      const pastOneBlock: ByteHash = (data) => (data.length > 136 ? keccak_256(data.subarray(1)) : keccak_256(data));
      const short: ByteHash = (data) => keccak_256(data).subarray(0, 31);
      const array = ((data: Uint8Array) => Array.from(keccak_256(data))) as unknown as ByteHash;
      const throwing: ByteHash = () => {
        throw new Error("out of memory");
      };
      for (const [name, wrong] of Object.entries({ sha3_256, pastOneBlock, short, array, throwing })) expect(agreesWithNoble(wrong), name).to.equal(false);
    });

    it("leaves noble's backend installed where WebAssembly is off (node --jitless): useWasmKeccak256() gives false and the SDK still hashes", () => {
      const script = `import { useWasmKeccak256 } from ${JSON.stringify(pathToFileURL(join(sdkSrc, "wasm-keccak.ts")).href)};
import { keccak256Bytes } from ${JSON.stringify(pathToFileURL(join(sdkSrc, "keccak.ts")).href)};
console.log(JSON.stringify({ webAssembly: typeof WebAssembly, installed: await useWasmKeccak256(), empty: Buffer.from(keccak256Bytes(new Uint8Array(0))).toString("hex") }));`;
      const out = execFileSync(process.execPath, ["--jitless", "--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      expect(JSON.parse(out.trim().split("\n").at(-1)!)).to.deep.equal({ webAssembly: "undefined", installed: false, empty: EMPTY_DIGEST.slice(2) });
    });
  });

  describe("the package's main entry", () => {
    it("never imports the native or WebAssembly keccak loaders, so a browser or device bundle carries them only when it imports @iomt-auth/sdk/native-keccak or /wasm-keccak", () => {
      const reached = modulesReachedFrom("index.ts");
      expect(reached.size, "modules reached from index.ts").to.be.greaterThan(10);
      for (const [file, code] of reached) expect(code, file).not.to.match(/node-gyp-build|createRequire|hash-wasm|(from|import|require)\s*\(?\s*["']keccak["']/);
      expect([...reached.keys()].filter((file) => /(native|wasm)-keccak\.ts$/.test(file))).to.deep.equal([]);
      expect([...reached.keys()].some((file) => file.endsWith("/keccak.ts")), "the hot paths reach the backend module").to.equal(true);
      for (const loader of ["native-keccak.ts", "wasm-keccak.ts"]) expect([...modulesReachedFrom(loader).keys()].some((file) => file.endsWith("/keccak.ts")), `${loader} installs into that same module`).to.equal(true);
    });
  });
});

describe("byte helpers (src/bytes.ts)", () => {
  const random = seededRandom(SEED + 1);
  const hexOf = (length: number): string => Array.from({ length: 2 * length }, () => Math.floor(random() * 16).toString(16)).join("");

  it("checksums addresses as viem's checksumAddress does (500 random addresses)", () => {
    for (let i = 0; i < 500; i++) {
      const lower = `0x${hexOf(20)}` as Hex;
      expect(checksumLowerAddress(lower)).to.equal(checksumAddress(lower));
    }
  });

  it("parses fixed-size hex in either case and refuses anything else without throwing", () => {
    const hex = hexOf(32);
    expect(toHex(fixedHexToBytes(`0x${hex.toUpperCase()}`, 32)!)).to.equal(`0x${hex}`);
    for (const bad of [`0x${hex.slice(1)}`, `0x${hex}00`, `0X${hex}`, hex, `0x${"g".repeat(64)}`, `0x${"\u0660".repeat(64)}`, 7, undefined]) {
      expect(fixedHexToBytes(bad, 32), String(bad)).to.equal(undefined);
    }
    expect(decodeHexInto("0x12", 2, 2, new Uint8Array(2), 0), "too short").to.equal(false);
  });
});
