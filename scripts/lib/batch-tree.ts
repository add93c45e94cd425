// The Merkle tree of an anchored batch of data messages: leaves are the messages' EIP-712
// digests, pairs are hashed in ascending order (OpenZeppelin MerkleProof's commutative rule),
// an unpaired last node is carried up. Proofs verify with `verifyAnchoredMessage` on chain.
import { concat, keccak256, type Hex } from "viem";

const hashSorted = (a: Hex, b: Hex): Hex => (BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a])));

export interface BatchTree {
  root: Hex;
  proof(index: number): Hex[];
}

export function buildBatchTree(leaves: Hex[]): BatchTree {
  if (leaves.length === 0) throw new Error("a batch tree needs at least one leaf");
  const levels: Hex[][] = [leaves];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const above: Hex[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(i + 1 < below.length ? hashSorted(below[i], below[i + 1]) : below[i]);
    levels.push(above);
  }
  return {
    root: levels[levels.length - 1][0],
    proof(index: number): Hex[] {
      const proof: Hex[] = [];
      for (let level = 0, i = index; level < levels.length - 1; level++, i >>= 1) {
        if ((i ^ 1) < levels[level].length) proof.push(levels[level][i ^ 1]);
      }
      return proof;
    },
  };
}
