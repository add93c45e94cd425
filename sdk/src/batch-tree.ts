// The Merkle tree of an anchored batch of data messages. Leaves are the messages' EIP-712
// digests (`hashDataMessage`); pairs are hashed in ascending order, OpenZeppelin MerkleProof's
// commutative rule, so `verifyAnchoredMessage` on chain accepts the same proofs; an unpaired last
// node is carried up. Building and verifying hash pairs with the same function, on bytes. Pure: no RPC.
import { bytesToHex } from "@noble/hashes/utils";
import type { Hex } from "viem";
import { fixedHexToBytes } from "./bytes.js";
import { IomtError } from "./errors.js";
import type { ByteHash } from "./hash.js";
import { keccak256Bytes } from "./keccak.js";

/** Options of {@link buildBatchTree} and {@link verifyBatchProof}. */
export type BuildBatchTreeOptions = {
  /** The keccak-256 to hash pairs with (default: the SDK's backend — noble's, or the native one once `useNativeKeccak256()` installed it; the same bytes). */
  keccak256?: ByteHash | undefined;
};

export interface BatchTree {
  root: Hex;
  leaves: readonly Hex[];
  /** The inclusion proof of leaf `index` (siblings from the leaf up). */
  proof(index: number): Hex[];
}

const DIGEST_BYTES = 32;

/** -1, 0 or 1 as the 32-byte big-endian numbers `a` and `b` compare (the order `BigInt` gives their hex). */
function compareDigests(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < DIGEST_BYTES; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/**
 * The sorted-pair hash (OpenZeppelin's `Hashes.commutativeKeccak256`): `hash(low ‖ high)` of two
 * 32-byte nodes in ascending order. The pair is written into one buffer the returned function
 * keeps, so a tree's levels allocate nothing but the digests.
 */
function sortedPairHash(hash: ByteHash): (a: Uint8Array, b: Uint8Array) => Uint8Array {
  const pair = new Uint8Array(2 * DIGEST_BYTES);
  return (a, b) => {
    const [low, high] = compareDigests(a, b) < 0 ? [a, b] : [b, a];
    pair.set(low, 0);
    pair.set(high, DIGEST_BYTES);
    return hash(pair);
  };
}

function leafBytes(leaf: Hex, index: number): Uint8Array {
  const bytes = fixedHexToBytes(leaf, DIGEST_BYTES);
  if (bytes === undefined) throw new IomtError("BatchLeafInvalid", `leaf ${index} is not a 32-byte 0x-prefixed hex digest`);
  return bytes;
}

/**
 * Builds the batch tree over message digests (at least one, each 32 bytes). Levels are hashed as
 * bytes (no hex between levels); hex is made only for the root and for the proofs asked for.
 */
export function buildBatchTree(leaves: readonly Hex[], { keccak256: hash = keccak256Bytes }: BuildBatchTreeOptions = {}): BatchTree {
  if (leaves.length === 0) throw new IomtError("BatchEmpty", "a batch tree needs at least one leaf");
  const hashPair = sortedPairHash(hash);
  const levels: Uint8Array[][] = [leaves.map(leafBytes)];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const above: Uint8Array[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(i + 1 < below.length ? hashPair(below[i], below[i + 1]) : below[i]);
    levels.push(above);
  }
  const size = levels[0].length;
  const hex = (bytes: Uint8Array): Hex => `0x${bytesToHex(bytes)}`;
  return {
    root: hex(levels[levels.length - 1][0]),
    leaves: Object.freeze([...leaves]),
    proof(index: number): Hex[] {
      if (!Number.isInteger(index) || index < 0 || index >= size) {
        throw new IomtError("BatchIndexOutOfRange", `leaf ${index} is not in a batch of ${size}`);
      }
      const proof: Hex[] = [];
      for (let level = 0, i = index; level < levels.length - 1; level++, i >>= 1) {
        if ((i ^ 1) < levels[level].length) proof.push(hex(levels[level][i ^ 1]));
      }
      return proof;
    },
  };
}

/**
 * True when `proof` leads from `leaf` to `root` under the sorted-pair rule (OpenZeppelin
 * `MerkleProof.verify`), hashing pairs as {@link buildBatchTree} does. Every node is 32 bytes of hex
 * (either case), as on chain: false, not an exception, for a root, leaf or sibling of another shape.
 */
export function verifyBatchProof(
  { root, leaf, proof }: { root: Hex; leaf: Hex; proof: readonly Hex[] },
  { keccak256: hash = keccak256Bytes }: BuildBatchTreeOptions = {},
): boolean {
  const rootBytes = fixedHexToBytes(root, DIGEST_BYTES);
  let node = fixedHexToBytes(leaf, DIGEST_BYTES);
  if (rootBytes === undefined || node === undefined || !Array.isArray(proof)) return false;
  const hashPair = sortedPairHash(hash);
  for (const sibling of proof) {
    const siblingBytes = fixedHexToBytes(sibling, DIGEST_BYTES);
    if (siblingBytes === undefined) return false;
    node = hashPair(node, siblingBytes);
  }
  return compareDigests(node, rootBytes) === 0;
}
