// Malleated signatures for the tests of every package (contracts, SDK, gateway): one home for the
// high-s twin that ecrecover (or a plain P-256 verifier) accepts and OpenZeppelin's ECDSA and P256,
// the SDK and the gateway refuse.
import { bytesToHex, concat, hexToBytes, numberToHex, type Hex } from "viem";

/** The order n of secp256k1's group. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The order n of P-256's group. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * The high-s twin of a 65-byte secp256k1 `r ‖ s ‖ v` signature: s' = n − s and the other recovery
 * parity (v 27 ↔ 28, or 0 ↔ 1); or of a 128-byte P-256 `r ‖ s ‖ x ‖ y` one: s' = n − s, the key
 * unchanged. Either verifies for the same key, so only a low-s rule refuses it.
 */
export function toHighS(signature: Hex): Hex {
  const bytes = hexToBytes(signature);
  if (bytes.length === 128) {
    const s = BigInt(bytesToHex(bytes.subarray(32, 64)));
    return concat([bytesToHex(bytes.subarray(0, 32)), numberToHex(P256_N - s, { size: 32 }), bytesToHex(bytes.subarray(64))]);
  }
  if (bytes.length !== 65) throw new Error(`toHighS takes a 65-byte or a 128-byte P-256 signature, got ${bytes.length} bytes`);
  const s = BigInt(bytesToHex(bytes.subarray(32, 64)));
  const v = bytes[64];
  const flipped = v === 27 ? 28 : v === 28 ? 27 : v === 0 ? 1 : 0;
  return concat([bytesToHex(bytes.subarray(0, 32)), numberToHex(SECP256K1_N - s, { size: 32 }), numberToHex(flipped, { size: 1 })]);
}
