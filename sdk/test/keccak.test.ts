// The SDK's own keccak256 (src/keccak.ts, the hot paths' hash) against @noble/hashes' keccak_256,
// which viem uses, over random inputs of every length around the block size (136 bytes) and a few
// blocks beyond; and the EIP-55 checksum built on it (src/bytes.ts) against viem's.
import { keccak_256 } from "@noble/hashes/sha3";
import { expect } from "chai";
import { bytesToHex, checksumAddress, type Hex } from "viem";
import { checksumLowerAddress, decodeHexInto, fixedHexToBytes, toHex } from "../src/bytes.js";
import { keccak256Bytes, keccak256Into } from "../src/keccak.js";
import { seededRandom } from "./support/random.js";

const SEED = 1600;

describe("keccak256 (src/keccak.ts)", () => {
  const random = seededRandom(SEED);
  const randomBytes = (length: number): Uint8Array => Uint8Array.from({ length }, () => Math.floor(random() * 256));

  it(`equals noble's keccak_256 for every length 0 … 700 bytes, 3 random inputs each (seed ${SEED})`, () => {
    for (let length = 0; length <= 700; length++) {
      for (let sample = 0; sample < 3; sample++) {
        const input = randomBytes(length);
        expect(bytesToHex(keccak256Bytes(input)), `length ${length}`).to.equal(bytesToHex(keccak_256(input)));
      }
    }
  });

  it("gives the known digests of the empty string and of 'abc'", () => {
    expect(bytesToHex(keccak256Bytes(new Uint8Array(0)))).to.equal("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    expect(bytesToHex(keccak256Bytes(new TextEncoder().encode("abc")))).to.equal("0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  });

  it("writes into a caller's buffer at an offset without touching the rest, and reads a subarray as its own bytes", () => {
    const input = randomBytes(200);
    const out = new Uint8Array(40).fill(0xee);
    keccak256Into(input.subarray(50, 150), out, 5);
    expect(bytesToHex(out.subarray(5, 37))).to.equal(bytesToHex(keccak_256(input.slice(50, 150))));
    expect([...out.subarray(0, 5), ...out.subarray(37)].every((byte) => byte === 0xee)).to.equal(true);
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
