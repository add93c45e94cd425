// The AuthTable of paper 003 as the registry commits to it, re-implemented off chain: the genesis
// anchor, the auth chain, the leaves, the lean append-only Merkle tree (an unpaired node is
// carried up), proofs, and offline verification of hierarchical AuthTable paths. Everything here
// is pure — a verifier that holds the groups' state needs no RPC.
import { bytesToHex, concat, encodeAbiParameters, getAddress, hexToBytes, isAddress, isHex, keccak256, numberToHex, zeroHash, type Address, type Hex } from "viem";
import { IomtError } from "./errors.js";
import type { Id } from "./ids.js";

/** One row of a group's AuthTable (paper 003: NodeID, CHID, block index, block hash). */
export interface AuthEntry {
  device: Address;
  /** The group's Master when the device joined (CHID). */
  master: Address;
  index: number;
  blockHash: Hex;
}

/** One step of an AuthTable path: an entry of group `gid` and its Merkle proof. */
export interface AuthPathStep {
  gid: Id;
  entry: AuthEntry;
  proof: Hex[];
}

/** A device's path: its own step first, then each cluster head's step in the parent group, up to a root group. */
export type AuthPath = AuthPathStep[];

const encodeHash = (types: readonly string[], values: readonly unknown[]): Hex =>
  keccak256(encodeAbiParameters(types.map((type) => ({ type })), values));

/** `keccak256(abi.encode(parentHead, parentGid, gid, master))`: a child group's first auth-chain link. */
export const genesisAnchor = (parentHead: Hex, parentGid: Id, gid: Id, master: Address): Hex =>
  encodeHash(["bytes32", "bytes32", "bytes32", "address"], [parentHead, parentGid, gid, master]);

/** `keccak256(abi.encode(prevHead, index, device, master, oid))`: the auth-chain block of an association. */
export const authBlockHash = (prevHead: Hex, index: number, device: Address, master: Address, oid: Id): Hex =>
  encodeHash(["bytes32", "uint256", "address", "address", "bytes32"], [prevHead, BigInt(index), device, master, oid]);

/** `keccak256(abi.encode(device, master, index, blockHash))`: an AuthTable leaf (128-byte preimage, so no node passes for a leaf). */
export const authLeaf = ({ device, master, index, blockHash }: AuthEntry): Hex =>
  encodeHash(["address", "address", "uint256", "bytes32"], [device, master, BigInt(index), blockHash]);

const hashPair = (left: Hex, right: Hex): Hex => keccak256(concat([left, right]));

/**
 * An append-only lean Merkle tree that keeps every level, so appending costs O(log n) hashes and
 * a proof is read, not recomputed. Roots and proofs equal the registry's (`AuthTree.sol`).
 */
export class AuthTree {
  readonly #levels: Hex[][] = [[]];

  /** Number of leaves. */
  get size(): number {
    return this.#levels[0].length;
  }

  /** The root: zero for an empty tree, the leaf itself for one leaf. */
  get root(): Hex {
    if (this.size === 0) return zeroHash;
    return this.#levels[this.#levels.length - 1][0];
  }

  leaf(index: number): Hex {
    this.#checkIndex(index);
    return this.#levels[0][index];
  }

  append(leaf: Hex): void {
    this.#levels[0].push(leaf);
    let index = this.size - 1;
    for (let level = 0; this.#levels[level].length > 1; level++, index >>= 1) {
      const nodes = this.#levels[level];
      const left = index & ~1;
      const parent = left + 1 < nodes.length ? hashPair(nodes[left], nodes[left + 1]) : nodes[left];
      if (level + 1 === this.#levels.length) this.#levels.push([]);
      this.#levels[level + 1][index >> 1] = parent;
    }
  }

  /** Siblings of leaf `index` from the leaf up; at most ⌈log₂ size⌉ of them. */
  proof(index: number): Hex[] {
    this.#checkIndex(index);
    const proof: Hex[] = [];
    for (let level = 0, i = index; this.#levels[level].length > 1; level++, i >>= 1) {
      const sibling = i ^ 1;
      if (sibling < this.#levels[level].length) proof.push(this.#levels[level][sibling]);
    }
    return proof;
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new IomtError("AuthTreeIndexOutOfRange", `leaf ${index} is not in a tree of ${this.size}`);
    }
  }

  /** A tree over the given leaves. */
  static from(leaves: Iterable<Hex>): AuthTree {
    const tree = new AuthTree();
    for (const leaf of leaves) tree.append(leaf);
    return tree;
  }
}

/**
 * The root a proof leads to from `leaf` at `index` in a tree of `size` leaves, or `undefined`
 * when the proof has the wrong number of siblings or the index is out of range. Sound only with
 * a trusted `size` (the registry's leaf count).
 */
export function processAuthProof(proof: readonly Hex[], index: number, size: number, leaf: Hex): Hex | undefined {
  if (!Number.isInteger(index) || index < 0 || index >= size) return undefined;
  let node = leaf;
  let used = 0;
  for (let width = size, i = index; width > 1; width = (width + 1) >> 1, i >>= 1) {
    const isRight = (i & 1) === 1;
    if (isRight || i + 1 < width) {
      if (used === proof.length) return undefined;
      node = isRight ? hashPair(proof[used++], node) : hashPair(node, proof[used++]);
    }
  }
  return used === proof.length ? node : undefined;
}

// ---------------------------------------------------------------------------- offline verification

/** The registry's `AuthPathStatus`, in its enum order. */
export const authPathStatuses = [
  "Valid",
  "EmptyPath",
  "UnknownGroup",
  "InactiveGroup",
  "IndexOutOfRange",
  "InvalidProof",
  "Revoked",
  "NotParentGroup",
  "NotGroupMaster",
  "UntrustedRoot",
] as const;
export type AuthPathStatus = (typeof authPathStatuses)[number];

/** What a verifier holds of a group: read from chain with `getGroupState`, or given by someone it trusts. */
export interface TrustedGroupState {
  gid: Id;
  master: Address;
  parentGid: Id;
  active: boolean;
  root: Hex;
  leafCount: number;
  revocationWords: readonly bigint[];
}

export interface TrustedState {
  /** Root groups (parentGid = 0) whose members the verifier trusts, as a PKI pins its roots. */
  trustedRoots: readonly Id[];
  /** The state of every group a path may cross. */
  groups: Iterable<TrustedGroupState> | ReadonlyMap<Id, TrustedGroupState>;
}

export interface VerifyAuthPathReturnType {
  status: AuthPathStatus;
  /** The step where the first broken rule was found (0 when valid). */
  failedStep: number;
}

/** Revocation bits per revocation word: leaf i is bit i % 255 of word i / 255. */
export const LEAVES_PER_REVOCATION_WORD = 255;
/** Bit 255 of a revocation word: set when the word's first leaf joins (the word is allocated), not a revocation. */
export const REVOCATION_WORD_ALLOCATED = 1n << 255n;

/** True when leaf `index` is revoked in the given revocation words. */
export function isLeafRevoked(revocationWords: readonly bigint[], index: number): boolean {
  const word = revocationWords[Math.floor(index / LEAVES_PER_REVOCATION_WORD)] ?? 0n;
  return ((word >> BigInt(index % LEAVES_PER_REVOCATION_WORD)) & 1n) === 1n;
}

const sameId = (a: Hex, b: Hex): boolean => BigInt(a) === BigInt(b);

function indexGroups(groups: TrustedState["groups"]): Map<string, TrustedGroupState> {
  const byGid = new Map<string, TrustedGroupState>();
  const values = groups instanceof Map ? groups.values() : (groups as Iterable<TrustedGroupState>);
  for (const group of values) byGid.set(group.gid.toLowerCase(), group);
  return byGid;
}

/**
 * Checks an AuthTable path offline, by the registry's rules and in its order: every group known
 * and active, each proof against the group's root and leaf count, no revoked entry, each step in
 * the parent group of the one below with that group's current Master as its device, and the last
 * group a trusted root. Returns the first broken rule and its step, like `verifyAuthPath` on chain.
 */
export function verifyAuthPath(path: readonly AuthPathStep[], trusted: TrustedState): VerifyAuthPathReturnType {
  if (path.length === 0) return { status: "EmptyPath", failedStep: 0 };
  const groups = indexGroups(trusted.groups);
  let below: TrustedGroupState | undefined;
  for (let step = 0; step < path.length; step++) {
    const { gid, entry, proof } = path[step];
    const group = groups.get(gid.toLowerCase());
    if (group === undefined) return { status: "UnknownGroup", failedStep: step };
    if (!group.active) return { status: "InactiveGroup", failedStep: step };
    if (below !== undefined) {
      if (!sameId(below.parentGid, gid)) return { status: "NotParentGroup", failedStep: step };
      if (getAddress(entry.device) !== getAddress(below.master)) return { status: "NotGroupMaster", failedStep: step };
    }
    if (entry.index >= group.leafCount) return { status: "IndexOutOfRange", failedStep: step };
    const root = processAuthProof(proof, entry.index, group.leafCount, authLeaf(entry));
    if (root === undefined || !sameId(root, group.root)) return { status: "InvalidProof", failedStep: step };
    if (isLeafRevoked(group.revocationWords, entry.index)) return { status: "Revoked", failedStep: step };
    below = group;
  }
  const last = path.length - 1;
  const isTrustedRoot = trusted.trustedRoots.some((root) => sameId(root, path[last].gid));
  if (!sameId(below!.parentGid, zeroHash) || !isTrustedRoot) return { status: "UntrustedRoot", failedStep: last };
  return { status: "Valid", failedStep: 0 };
}

// ---------------------------------------------------------------------------- compact encoding

/** Thrown by `decodeAuthPath` for bytes that are not an encoded path. */
export class InvalidAuthPathError extends IomtError {}

const PATH_VERSION = 1;
const STEP_FIXED_BYTES = 32 + 20 + 20 + 4 + 32 + 1;

/**
 * The compact transport form of a path, for a device proving itself to a peer:
 * version (1) ‖ steps (1) ‖ per step: gid (32) ‖ device (20) ‖ master (20) ‖ index (4) ‖
 * blockHash (32) ‖ siblings (1) ‖ proof (32 each), as lower-case hex. Throws `InvalidAuthPathError`
 * (`AuthPathMalformed`, `AuthPathTooLong`) for a field that does not fit.
 */
export function encodeAuthPath(path: readonly AuthPathStep[]): Hex {
  if (path.length > 255) throw new InvalidAuthPathError("AuthPathTooLong", "a path has at most 255 steps");
  const parts: Hex[] = [numberToHex(PATH_VERSION, { size: 1 }), numberToHex(path.length, { size: 1 })];
  const word = (value: Hex, what: string): Hex => {
    if (typeof value !== "string" || value.length !== 66 || !isHex(value, { strict: true })) {
      throw new InvalidAuthPathError("AuthPathMalformed", `${what} must be 32 bytes of hex`);
    }
    return value.toLowerCase() as Hex;
  };
  const address = (value: Address, what: string): Hex => {
    if (!isAddress(value, { strict: false })) throw new InvalidAuthPathError("AuthPathMalformed", `${what} is not an address`);
    return value.toLowerCase() as Hex;
  };
  for (const [step, { gid, entry, proof }] of path.entries()) {
    if (proof.length > 255) throw new InvalidAuthPathError("AuthPathTooLong", "a proof has at most 255 siblings");
    if (!Number.isInteger(entry.index) || entry.index < 0 || entry.index > 0xffffffff) {
      throw new InvalidAuthPathError("AuthPathMalformed", `step ${step}: the index must be a uint32`);
    }
    parts.push(
      word(gid, `step ${step} gid`),
      address(entry.device, `step ${step} device`),
      address(entry.master, `step ${step} master`),
      numberToHex(entry.index, { size: 4 }),
      word(entry.blockHash, `step ${step} blockHash`),
      numberToHex(proof.length, { size: 1 }),
      ...proof.map((sibling, i) => word(sibling, `step ${step} proof[${i}]`)),
    );
  }
  return concat(parts);
}

/** Size in bytes of a path's compact encoding. */
export const authPathSize = (path: readonly AuthPathStep[]): number =>
  2 + path.reduce((bytes, step) => bytes + STEP_FIXED_BYTES + 32 * step.proof.length, 0);

/** Parses `encodeAuthPath`'s form strictly (throws `InvalidAuthPathError`, code `AuthPathMalformed`). */
export function decodeAuthPath(encoded: Hex): AuthPath {
  const malformed = (why: string) => new InvalidAuthPathError("AuthPathMalformed", `not an encoded AuthTable path: ${why}`);
  if (typeof encoded !== "string" || !isHex(encoded, { strict: true })) throw malformed("not hex");
  const bytes = hexToBytes(encoded);
  if (bytes.length < 2 || bytes[0] !== PATH_VERSION) throw malformed("unknown version");
  const path: AuthPath = [];
  let at = 2;
  const take = (length: number): Uint8Array => {
    if (at + length > bytes.length) throw malformed("truncated");
    const slice = bytes.subarray(at, at + length);
    at += length;
    return slice;
  };
  for (let step = 0; step < bytes[1]; step++) {
    const gid = bytesToHex(take(32));
    const device = getAddress(bytesToHex(take(20)));
    const master = getAddress(bytesToHex(take(20)));
    const indexBytes = take(4);
    const index = new DataView(indexBytes.buffer, indexBytes.byteOffset, 4).getUint32(0);
    const blockHash = bytesToHex(take(32));
    const siblings = take(1)[0];
    const proof = Array.from({ length: siblings }, () => bytesToHex(take(32)));
    path.push({ gid, entry: { device, master, index, blockHash }, proof });
  }
  if (at !== bytes.length) throw malformed("trailing bytes");
  return path;
}
