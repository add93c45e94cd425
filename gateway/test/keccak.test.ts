// The gateway's keccak-256 (src/keccak.ts): the `keccak` setting's backend where it loads, the next
// one in the order wasm → native → noble otherwise, and the same bytes on every backend, on inputs
// of every length around the sponge's rate.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bytesToHex } from "viem";
import { keccak_256 } from "@noble/hashes/sha3";
import { loadNativeKeccak256 } from "@iomt-auth/sdk/native-keccak";
import { loadWasmKeccak256 } from "@iomt-auth/sdk/wasm-keccak";
import { keccakBackends, loadKeccak256, nobleKeccak256 } from "../src/keccak.js";

const EMPTY_DIGEST = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

describe("gateway keccak: the configured backend where it loads, the next one otherwise", () => {
  describe("loading", () => {
    it("loads each backend as configured on this machine (WebAssembly in every supported Node; the keccak addon is prebuilt for linux-x64)", async () => {
      expect(await loadKeccak256("wasm")).to.deep.equal({ backend: "wasm", keccak256: await loadWasmKeccak256() });
      expect(await loadKeccak256("native")).to.deep.equal({ backend: "native", keccak256: loadNativeKeccak256() });
      expect(await loadKeccak256("noble")).to.deep.equal({ backend: "noble", keccak256: nobleKeccak256 });
    });

    it("falls back from wasm to the native addon where WebAssembly is off (node --jitless), and never to a faster one than configured", () => {
      const keccakModule = pathToFileURL(fileURLToPath(new URL("../src/keccak.ts", import.meta.url))).href;
      const script = `import { loadKeccak256 } from ${JSON.stringify(keccakModule)};
const backends = [];
for (const preferred of ["wasm", "native", "noble"]) backends.push((await loadKeccak256(preferred)).backend);
console.log(JSON.stringify(backends));`;
      const out = execFileSync(process.execPath, ["--jitless", "--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      expect(JSON.parse(out.trim().split("\n").at(-1)!)).to.deep.equal(["native", "native", "noble"]);
    });
  });

  describe("every backend gives the same bytes", () => {
    for (const backend of keccakBackends) {
      it(`${backend}: on random inputs of 0 to 600 bytes, on views into a larger buffer, and the empty input's well-known digest`, async () => {
        const { keccak256 } = await loadKeccak256(backend);
        for (let length = 0; length <= 600; length++) {
          const input = new Uint8Array(randomBytes(length));
          expect(bytesToHex(keccak256(input)), `length ${length}`).to.equal(bytesToHex(keccak_256(input)));
          const view = new Uint8Array(randomBytes(length + 9)).subarray(5, 5 + length);
          expect(bytesToHex(keccak256(view)), `view of length ${length}`).to.equal(bytesToHex(keccak_256(view)));
        }
        expect(bytesToHex(keccak256(new Uint8Array()))).to.equal(EMPTY_DIGEST);
      });
    }
  });
});
