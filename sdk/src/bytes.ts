// Byte-level helpers of the hot paths (AuthTable hashing, the indexer's log decoding, EIP-712
// digests): strict fixed-size hex parsing that answers `undefined` instead of throwing, so a
// caller can fall back to viem's generic (and slower) path and keep its exact behaviour on odd
// input; hex output through a table; EIP-55 checksums with the SDK's keccak backend. Internal: not
// exported from the package.
import type { Address, Hex } from "viem";
import { keccak256Into } from "./keccak.js";

/** Nibble value of each character code, −1 for a non-hex character. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i;
  NIBBLE[97 + i] = 10 + i;
}

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Decodes `length` bytes of hex starting at character `from` of `hex` into `target` at `offset`.
 * False (target partly written) when a character is not hex or the string is too short.
 */
export function decodeHexInto(hex: string, from: number, length: number, target: Uint8Array, offset: number): boolean {
  if (hex.length < from + 2 * length) return false;
  for (let i = 0, c = from; i < length; i++, c += 2) {
    const high = hex.charCodeAt(c);
    const low = hex.charCodeAt(c + 1);
    const value = high < 128 && low < 128 ? (NIBBLE[high] << 4) | NIBBLE[low] : -1;
    if (value < 0) return false;
    target[offset + i] = value;
  }
  return true;
}

/** True when `value` is "0x" followed by `length` bytes' worth of characters (checked as hex when decoded). */
const hasShape = (value: unknown, length: number): value is string =>
  typeof value === "string" && value.length === 2 + 2 * length && value.charCodeAt(0) === 48 && value.charCodeAt(1) === 120;

/** Writes `value` ("0x" + exactly `length` bytes of hex, digits in either case) into `target` at `offset`; false for anything else. */
export function putHex(value: unknown, length: number, target: Uint8Array, offset: number): boolean {
  return hasShape(value, length) && decodeHexInto(value, 2, length, target, offset);
}

/** The `length` bytes of `value` ("0x" + exactly that many bytes of hex), or undefined. */
export function fixedHexToBytes(value: unknown, length: number): Uint8Array | undefined {
  const bytes = new Uint8Array(length);
  return putHex(value, length, bytes, 0) ? bytes : undefined;
}

/** Lower-case hex of `bytes[start, end)`. */
export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): Hex {
  let out = "0x";
  for (let i = start; i < end; i++) out += BYTE_HEX[bytes[i]];
  return out as Hex;
}

/** True when the 32 bytes at `a[aOffset]` and `b[bOffset]` are equal. */
export function equal32(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): boolean {
  for (let i = 0; i < 32; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}

/** Writes a non-negative safe integer as a big-endian uint256 (the 24 upper bytes zero) at `offset`. */
export function putUint(value: number, target: Uint8Array, offset: number): void {
  target.fill(0, offset, offset + 24);
  const high = Math.floor(value / 2 ** 32);
  const low = value >>> 0;
  target[offset + 24] = high >>> 24;
  target[offset + 25] = high >>> 16;
  target[offset + 26] = high >>> 8;
  target[offset + 27] = high;
  target[offset + 28] = low >>> 24;
  target[offset + 29] = low >>> 16;
  target[offset + 30] = low >>> 8;
  target[offset + 31] = low;
}

const checksumInput = new Uint8Array(40);
const checksumHash = new Uint8Array(32);

/**
 * EIP-55 checksum of a lower-case address ("0x" + 40 lower-case hex characters): viem's
 * `checksumAddress` without its string round trips.
 */
export function checksumLowerAddress(lower: string): Address {
  for (let i = 0; i < 40; i++) checksumInput[i] = lower.charCodeAt(i + 2);
  keccak256Into(checksumInput, checksumHash, 0);
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const code = checksumInput[i];
    // A letter is upper-cased when its nibble of the hash is 8 or more.
    const nibble = i % 2 === 0 ? checksumHash[i >> 1] >> 4 : checksumHash[i >> 1] & 15;
    out += code >= 97 && nibble >= 8 ? String.fromCharCode(code - 32) : String.fromCharCode(code);
  }
  return out as Address;
}
