// The data path's keccak-256: the `keccak` package's native binding where it loads (through the
// SDK's loader, @iomt-auth/sdk/native-keccak), noble's pure JS otherwise — the same bytes either
// way, on inputs of every length around the sponge's rate.
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { bytesToHex } from "viem";
import { keccak_256 } from "@noble/hashes/sha3";
import { loadNativeKeccak256 } from "@iomt-auth/sdk/native-keccak";
import { createKeccak256, nobleKeccak256 } from "../src/keccak.js";

describe("gateway keccak: native where it loads, noble otherwise", () => {
  describe("loading", () => {
    it("loads the native binding on this machine (the package ships linux-x64, darwin-x64 and win32-x64 builds)", () => {
      expect(loadNativeKeccak256()).to.be.a("function");
      expect(createKeccak256(true)).to.deep.equal({ native: true, keccak256: loadNativeKeccak256() });
    });

    it("gives noble's when native is not wanted", () => {
      expect(createKeccak256(false)).to.deep.equal({ native: false, keccak256: nobleKeccak256 });
    });
  });

  describe("both give the same bytes", () => {
    it("on random inputs of 0 to 600 bytes, and on views into a larger buffer", () => {
      const native = loadNativeKeccak256()!;
      for (let length = 0; length <= 600; length++) {
        const input = new Uint8Array(randomBytes(length));
        expect(bytesToHex(native(input)), `length ${length}`).to.equal(bytesToHex(keccak_256(input)));
        const view = new Uint8Array(randomBytes(length + 9)).subarray(5, 5 + length);
        expect(bytesToHex(native(view)), `view of length ${length}`).to.equal(bytesToHex(keccak_256(view)));
      }
    });

    it("on the empty input, the well-known digest", () => {
      expect(bytesToHex(loadNativeKeccak256()!(new Uint8Array()))).to.equal("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    });
  });
});
