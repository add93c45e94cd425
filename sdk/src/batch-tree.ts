// The Merkle tree of an anchored batch of data messages. Leaves are the messages' EIP-712
// digests (`hashDataMessage`); pairs are hashed in ascending order, OpenZeppelin MerkleProof's
// commutative rule, so `verifyAnchoredMessage` on chain accepts the same proofs; an unpaired last
// node is carried up. Pure: no RPC.
import { concat, keccak256, type Hex } from "viem";
import { IomtError } from "./errors.js";

const hashSorted = (a: Hex, b: Hex): Hex => (BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a])));

export interface BatchTree {
  root: Hex;
  leaves: readonly Hex[];
  /** The inclusion proof of leaf `index` (siblings from the leaf up). */
  proof(index: number): Hex[];
}

/** Builds the batch tree over message digests (at least one). */
export function buildBatchTree(leaves: readonly Hex[]): BatchTree {
  if (leaves.length === 0) throw new IomtError("BatchEmpty", "a batch tree needs at least one leaf");
  const levels: Hex[][] = [[...leaves]];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const above: Hex[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(i + 1 < below.length ? hashSorted(below[i], below[i + 1]) : below[i]);
    levels.push(above);
  }
  const size = levels[0].length;
  return {
    root: levels[levels.length - 1][0],
    leaves: Object.freeze([...levels[0]]),
    proof(index: number): Hex[] {
      if (!Number.isInteger(index) || index < 0 || index >= size) {
        throw new IomtError("BatchIndexOutOfRange", `leaf ${index} is not in a batch of ${size}`);
      }
      const proof: Hex[] = [];
      for (let level = 0, i = index; level < levels.length - 1; level++, i >>= 1) {
        if ((i ^ 1) < levels[level].length) proof.push(levels[level][i ^ 1]);
      }
      return proof;
    },
  };
}

/** True when `proof` leads from `leaf` to `root` under the sorted-pair rule (OpenZeppelin `MerkleProof.verify`). */
export function verifyBatchProof({ root, leaf, proof }: { root: Hex; leaf: Hex; proof: readonly Hex[] }): boolean {
  return BigInt(proof.reduce(hashSorted, leaf)) === BigInt(root);
}
