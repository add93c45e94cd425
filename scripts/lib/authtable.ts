// An independent TypeScript model of the on-chain AuthTable encodings and tree (see
// contracts/libraries/AuthTable.sol and AuthTree.sol). Tests rebuild roots from events with it
// and compare against the chain, so it must not share code with the contracts.
import { concat, encodeAbiParameters, keccak256, zeroHash, type Address, type Hex } from "viem";

const words = (types: string[], values: unknown[]): Hex =>
  keccak256(encodeAbiParameters(types.map((type) => ({ type })), values));

export const genesisAnchor = (parentHead: Hex, parentGid: Hex, gid: Hex, master: Address): Hex =>
  words(["bytes32", "bytes32", "bytes32", "address"], [parentHead, parentGid, gid, master]);

export const authBlockHash = (prevHead: Hex, index: bigint, device: Address, master: Address, oid: Hex): Hex =>
  words(["bytes32", "uint256", "address", "address", "bytes32"], [prevHead, index, device, master, oid]);

export interface AuthEntry {
  device: Address;
  master: Address;
  index: bigint;
  blockHash: Hex;
}

export const authLeaf = (entry: AuthEntry): Hex =>
  words(["address", "address", "uint256", "bytes32"], [entry.device, entry.master, entry.index, entry.blockHash]);

const hashPair = (left: Hex, right: Hex): Hex => keccak256(concat([left, right]));

/** All levels of the lean tree: level 0 = leaves; an unpaired last node is carried up as is. */
export function treeLevels(leaves: Hex[]): Hex[][] {
  const levels = [leaves];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const above: Hex[] = [];
    for (let i = 0; i < below.length; i += 2) {
      above.push(i + 1 < below.length ? hashPair(below[i], below[i + 1]) : below[i]);
    }
    levels.push(above);
  }
  return levels;
}

export const treeRoot = (leaves: Hex[]): Hex =>
  leaves.length === 0 ? zeroHash : treeLevels(leaves).at(-1)![0];

export function treeProof(leaves: Hex[], index: number): Hex[] {
  const proof: Hex[] = [];
  const levels = treeLevels(leaves);
  for (let level = 0, i = index; level < levels.length - 1; level++, i >>= 1) {
    const sibling = i ^ 1;
    if (sibling < levels[level].length) proof.push(levels[level][sibling]);
  }
  return proof;
}

/** Recomputes a root from a leaf, its index, the leaf count and a lean-tree proof (AuthTree.processProof). */
export function processProof(proof: Hex[], index: number, size: number, leaf: Hex): Hex | undefined {
  if (index >= size) return undefined;
  let node = leaf;
  let used = 0;
  for (; size > 1; size = (size + 1) >> 1, index >>= 1) {
    const isRight = (index & 1) === 1;
    if (isRight || index + 1 < size) {
      if (used === proof.length) return undefined;
      node = isRight ? hashPair(proof[used++], node) : hashPair(node, proof[used++]);
    }
  }
  return used === proof.length ? node : undefined;
}
