// The Merkle tree of an anchored batch of data messages. Leaves are the messages' EIP-712
// digests (`hashDataMessage`); pairs are hashed in ascending order, OpenZeppelin MerkleProof's
// commutative rule, so `verifyAnchoredMessage` on chain accepts the same proofs; an unpaired last
// node is carried up. Pure: no RPC.
import { keccak_256 } from "@noble/hashes/sha3";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils";
import { concat, keccak256, type Hex } from "viem";
import { IomtError } from "./errors.js";
import type { ByteHash } from "./hash.js";

const hashSorted = (a: Hex, b: Hex): Hex => (BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a])));

/** Options of {@link buildBatchTree}. */
export type BuildBatchTreeOptions = {
  /** The keccak-256 to hash pairs with (default: noble's, pure JS); a gateway may give a native one (the same bytes). */
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

function leafBytes(leaf: Hex, index: number): Uint8Array {
  if (typeof leaf !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(leaf)) throw new IomtError("BatchLeafInvalid", `leaf ${index} is not a 32-byte 0x-prefixed hex digest`);
  return hexToBytes(leaf.slice(2));
}

/**
 * Builds the batch tree over message digests (at least one, each 32 bytes). Levels are hashed as
 * bytes (no hex between levels); hex is made only for the root and for the proofs asked for.
 */
export function buildBatchTree(leaves: readonly Hex[], { keccak256: hash = keccak_256 }: BuildBatchTreeOptions = {}): BatchTree {
  if (leaves.length === 0) throw new IomtError("BatchEmpty", "a batch tree needs at least one leaf");
  const pair = new Uint8Array(2 * DIGEST_BYTES);
  const hashSortedBytes = (a: Uint8Array, b: Uint8Array): Uint8Array => {
    const [low, high] = compareDigests(a, b) < 0 ? [a, b] : [b, a];
    pair.set(low, 0);
    pair.set(high, DIGEST_BYTES);
    return hash(pair);
  };
  const levels: Uint8Array[][] = [leaves.map(leafBytes)];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const above: Uint8Array[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(i + 1 < below.length ? hashSortedBytes(below[i], below[i + 1]) : below[i]);
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

/** True when `proof` leads from `leaf` to `root` under the sorted-pair rule (OpenZeppelin `MerkleProof.verify`). */
export function verifyBatchProof({ root, leaf, proof }: { root: Hex; leaf: Hex; proof: readonly Hex[] }): boolean {
  return BigInt(proof.reduce(hashSorted, leaf)) === BigInt(root);
}
