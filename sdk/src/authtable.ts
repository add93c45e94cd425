// The AuthTable of paper 003 as the registry commits to it, re-implemented off chain: the genesis
// anchor, the auth chain, the leaves, the lean append-only Merkle tree (an unpaired node is
// carried up), proofs, and offline verification of hierarchical AuthTable paths. Everything here
// is pure — a verifier that holds the groups' state needs no RPC.
import { bytesToHex, concat, encodeAbiParameters, getAddress, hexToBytes, isAddress, isHex, keccak256, numberToHex, zeroHash, type Address, type Hex } from "viem";
import { IomtError } from "./errors.js";
import type { Id } from "./ids.js";

/** One row of a group's AuthTable (Al Ahmed et al.: NodeID, CHID, block index, block hash). */
export interface AuthEntry {
  device: Address;
  /** The group's Master when the device joined (CHID). */
  master: Address;
  index: number;
  /** The member's auth-chain entry: the group's chain head right after it joined. */
  entryHash: Hex;
}

/** One step of an AuthTable path: an entry of group `gid` and its Merkle proof in the group's tree of `leafCount` leaves. */
export interface AuthPathStep {
  gid: Id;
  entry: AuthEntry;
  /** The tree size `proof` was built for. */
  leafCount: number;
  /** Siblings from the leaf up. */
  proof: Hex[];
  /**
   * When the verifier's state is larger than `leafCount`: an RFC 9162 consistency proof from
   * `leafCount` to the verifier's size (empty or absent otherwise). See `AuthTree.consistencyProof`.
   */
  consistency?: Hex[];
}

/** A device's path: its own step first, then each cluster head's step in the parent group, up to a root group. */
export type AuthPath = AuthPathStep[];

const encodeHash = (types: readonly string[], values: readonly unknown[]): Hex =>
  keccak256(encodeAbiParameters(types.map((type) => ({ type })), values));

/** `keccak256(abi.encode(parentHead, parentGid, gid, master))`: a child group's first auth-chain link. */
export const genesisAnchor = (parentHead: Hex, parentGid: Id, gid: Id, master: Address): Hex =>
  encodeHash(["bytes32", "bytes32", "bytes32", "address"], [parentHead, parentGid, gid, master]);

/** `keccak256(abi.encode(prevHead, index, device, master, oid))`: the auth-chain entry of an association (the new chain head). */
export const authEntryHash = (prevHead: Hex, index: number, device: Address, master: Address, oid: Id): Hex =>
  encodeHash(["bytes32", "uint256", "address", "address", "bytes32"], [prevHead, BigInt(index), device, master, oid]);

/** `keccak256(abi.encode(device, master, index, entryHash))`: an AuthTable leaf (128-byte preimage, so no node passes for a leaf). */
export const authLeaf = ({ device, master, index, entryHash }: AuthEntry): Hex =>
  encodeHash(["address", "address", "uint256", "bytes32"], [device, master, BigInt(index), entryHash]);

const hashPair = (left: Hex, right: Hex): Hex => keccak256(concat([left, right]));

const sameId = (a: Hex, b: Hex): boolean => BigInt(a) === BigInt(b);

/** The largest power of two strictly below `n` (n ≥ 2): where RFC 9162 splits a tree of n leaves. */
const splitPoint = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

/**
 * An append-only lean Merkle tree that keeps every level, so appending costs O(log n) hashes and
 * a proof is read, not recomputed. Roots and proofs equal the registry's (`AuthTree.sol`). The
 * shape is RFC 9162's (split at the largest power of two below n), so the tree also gives the
 * roots and inclusion proofs of any earlier size, and consistency proofs between two sizes.
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
    this.#checkIndex(index, this.size);
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

  /** Siblings of leaf `index` from the leaf up, in the tree of the first `size` leaves (default: all); at most ⌈log₂ size⌉. */
  proof(index: number, size = this.size): Hex[] {
    this.#checkSize(size);
    this.#checkIndex(index, size);
    if (size === this.size) {
      const proof: Hex[] = [];
      for (let level = 0, i = index; this.#levels[level].length > 1; level++, i >>= 1) {
        const sibling = i ^ 1;
        if (sibling < this.#levels[level].length) proof.push(this.#levels[level][sibling]);
      }
      return proof;
    }
    return this.#path(index, 0, size);
  }

  /** The root of the first `size` leaves (zero for none): the root the tree had at that size. */
  rootAt(size: number): Hex {
    this.#checkSize(size);
    return size === 0 ? zeroHash : this.#subtreeRoot(0, size);
  }

  /**
   * The RFC 9162 §2.1.4 consistency proof that the tree of the first `oldSize` leaves is a prefix
   * of the tree of the first `newSize` (default: all) leaves; `oldSize` must be in 1 … newSize − 1.
   */
  consistencyProof(oldSize: number, newSize = this.size): Hex[] {
    this.#checkSize(newSize);
    if (!Number.isInteger(oldSize) || oldSize < 1 || oldSize >= newSize) {
      throw new IomtError("AuthTreeIndexOutOfRange", `a consistency proof goes from 1 … ${newSize - 1} leaves to ${newSize}, not from ${oldSize}`);
    }
    return this.#subproof(oldSize, 0, newSize, true);
  }

  /** RFC 9162 MTH(D[start:end]): read from the levels when the range is an aligned complete subtree. */
  #subtreeRoot(start: number, end: number): Hex {
    const width = end - start;
    if ((width & (width - 1)) === 0 && start % width === 0) {
      const level = Math.log2(width);
      return this.#levels[level][start / width];
    }
    const k = splitPoint(width);
    return hashPair(this.#subtreeRoot(start, start + k), this.#subtreeRoot(start + k, end));
  }

  /** RFC 9162 PATH(m, D[start:end]), siblings from the leaf up. */
  #path(index: number, start: number, end: number): Hex[] {
    if (end - start <= 1) return [];
    const k = splitPoint(end - start);
    return index < start + k
      ? [...this.#path(index, start, start + k), this.#subtreeRoot(start + k, end)]
      : [...this.#path(index, start + k, end), this.#subtreeRoot(start, start + k)];
  }

  /** RFC 9162 SUBPROOF(m, D[start:end], b). */
  #subproof(m: number, start: number, end: number, complete: boolean): Hex[] {
    const width = end - start;
    if (m === width) return complete ? [] : [this.#subtreeRoot(start, end)];
    const k = splitPoint(width);
    return m <= k
      ? [...this.#subproof(m, start, start + k, complete), this.#subtreeRoot(start + k, end)]
      : [...this.#subproof(m - k, start + k, end, false), this.#subtreeRoot(start, start + k)];
  }

  #checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.size) {
      throw new IomtError("AuthTreeIndexOutOfRange", `a tree of ${this.size} leaves has no earlier size ${size}`);
    }
  }

  #checkIndex(index: number, size: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new IomtError("AuthTreeIndexOutOfRange", `leaf ${index} is not in a tree of ${size}`);
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
 * Checks an RFC 9162 §2.1.4.2 consistency proof (with this tree's hashes): true when the tree of
 * `oldSize` leaves with root `oldRoot` is a prefix of the tree of `newSize` leaves with root
 * `newRoot`. The same algorithm as the registry's `AuthTree.verifyConsistency`; never throws.
 */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Hex, newRoot: Hex, proof: readonly Hex[]): boolean {
  if (!Number.isInteger(oldSize) || !Number.isInteger(newSize) || oldSize < 1 || oldSize >= newSize) return false;
  const oldIsComplete = (oldSize & (oldSize - 1)) === 0;
  if (!oldIsComplete && proof.length === 0) return false;
  let next = oldIsComplete ? 0 : 1;
  let oldNode = oldIsComplete ? oldRoot : proof[0];
  let newNode = oldNode;
  // Sizes stay below 2^53; BigInt keeps the shifts exact past 2^31.
  let fn = BigInt(oldSize - 1);
  let sn = BigInt(newSize - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  for (; next < proof.length; next++) {
    if (sn === 0n) return false;
    const node = proof[next];
    if ((fn & 1n) === 1n || fn === sn) {
      oldNode = hashPair(node, oldNode);
      newNode = hashPair(node, newNode);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      newNode = hashPair(newNode, node);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sameId(oldNode, oldRoot) && sameId(newNode, newRoot) && sn === 0n;
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
  // Halving by division, not by `>>`: sizes and indices go up to 2^32 − 1, past JavaScript's 32-bit shifts.
  for (let width = size, i = index; width > 1; width = Math.ceil(width / 2), i = Math.floor(i / 2)) {
    const isRight = i % 2 === 1;
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
  "Stale",
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
  /**
   * Optional: the group's root at an earlier size, when the verifier knows it (an indexer that
   * rebuilt the group from its logs knows every one). A step built for that size then verifies
   * without a consistency proof. The registry has no such history: it needs the consistency proof.
   */
  rootAt?: (leafCount: number) => Hex | undefined;
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

function indexGroups(groups: TrustedState["groups"]): Map<string, TrustedGroupState> {
  const byGid = new Map<string, TrustedGroupState>();
  const values = groups instanceof Map ? groups.values() : (groups as Iterable<TrustedGroupState>);
  for (const group of values) byGid.set(group.gid.toLowerCase(), group);
  return byGid;
}

/**
 * Checks an AuthTable path offline, by the registry's rules and in its order: every group known
 * and active, each step in the parent group of the one below with that group's current Master as
 * its device, each proof against the group's root (a step built at an earlier size needs a
 * consistency proof to the held size, or a root the state knows for that size — otherwise it is
 * `Stale`, never `InvalidProof`), no revoked entry, and the last group a trusted root. Returns the
 * first broken rule and its step, like `verifyAuthPath` on chain.
 */
export function verifyAuthPath(path: readonly AuthPathStep[], trusted: TrustedState): VerifyAuthPathReturnType {
  if (path.length === 0) return { status: "EmptyPath", failedStep: 0 };
  const groups = indexGroups(trusted.groups);
  let below: TrustedGroupState | undefined;
  for (let step = 0; step < path.length; step++) {
    const { gid, entry } = path[step];
    const group = groups.get(gid.toLowerCase());
    if (group === undefined) return { status: "UnknownGroup", failedStep: step };
    if (!group.active) return { status: "InactiveGroup", failedStep: step };
    if (below !== undefined) {
      if (!sameId(below.parentGid, gid)) return { status: "NotParentGroup", failedStep: step };
      if (getAddress(entry.device) !== getAddress(below.master)) return { status: "NotGroupMaster", failedStep: step };
    }
    const status = checkStep(path[step], group);
    if (status !== "Valid") return { status, failedStep: step };
    below = group;
  }
  const last = path.length - 1;
  const isTrustedRoot = trusted.trustedRoots.some((root) => sameId(root, path[last].gid));
  if (!sameId(below!.parentGid, zeroHash) || !isTrustedRoot) return { status: "UntrustedRoot", failedStep: last };
  return { status: "Valid", failedStep: 0 };
}

/** One step after the group and link checks, as the registry's `_checkStep`: index, proof, revocation. */
function checkStep({ entry, leafCount: builtFor, proof, consistency = [] }: AuthPathStep, group: TrustedGroupState): AuthPathStatus {
  const size = group.leafCount;
  if (!Number.isInteger(entry.index) || !Number.isInteger(builtFor) || entry.index < 0 || entry.index >= builtFor) return "IndexOutOfRange";
  if (builtFor > size) return "Stale";
  const builtRoot = processAuthProof(proof, entry.index, builtFor, authLeaf(entry));
  if (builtRoot === undefined) return "InvalidProof";
  if (builtFor === size) {
    if (!sameId(builtRoot, group.root)) return "InvalidProof";
  } else if (consistency.length > 0) {
    if (!verifyConsistency(builtFor, size, builtRoot, group.root, consistency)) return "InvalidProof";
  } else {
    const knownRoot = group.rootAt?.(builtFor);
    if (knownRoot === undefined) return "Stale";
    if (!sameId(builtRoot, knownRoot)) return "InvalidProof";
  }
  return isLeafRevoked(group.revocationWords, entry.index) ? "Revoked" : "Valid";
}

// ---------------------------------------------------------------------------- compact encoding

/** Thrown by `decodeAuthPath` for bytes that are not an encoded path. */
export class InvalidAuthPathError extends IomtError {}

const PATH_VERSION = 2;
const STEP_FIXED_BYTES = 32 + 20 + 20 + 4 + 32 + 4 + 1 + 1;

/**
 * The compact transport form of a path, for a device proving itself to a peer (version 2):
 * version (1) ‖ steps (1) ‖ per step: gid (32) ‖ device (20) ‖ master (20) ‖ index (4) ‖
 * entryHash (32) ‖ leafCount (4) ‖ siblings (1) ‖ proof (32 each) ‖ consistency nodes (1) ‖
 * consistency (32 each); integers big-endian, as lower-case hex. Throws `InvalidAuthPathError`
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
  const uint32 = (value: number, what: string): Hex => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new InvalidAuthPathError("AuthPathMalformed", `${what} must be a uint32`);
    return numberToHex(value, { size: 4 });
  };
  const nodes = (list: readonly Hex[], what: string): Hex[] => {
    if (list.length > 255) throw new InvalidAuthPathError("AuthPathTooLong", `${what} has at most 255 nodes`);
    return [numberToHex(list.length, { size: 1 }), ...list.map((node, i) => word(node, `${what}[${i}]`))];
  };
  for (const [step, { gid, entry, leafCount, proof, consistency = [] }] of path.entries()) {
    parts.push(
      word(gid, `step ${step} gid`),
      address(entry.device, `step ${step} device`),
      address(entry.master, `step ${step} master`),
      uint32(entry.index, `step ${step}: the index`),
      word(entry.entryHash, `step ${step} entryHash`),
      uint32(leafCount, `step ${step}: the leaf count`),
      ...nodes(proof, `step ${step} proof`),
      ...nodes(consistency, `step ${step} consistency`),
    );
  }
  return concat(parts);
}

/** Size in bytes of a path's compact encoding. */
export const authPathSize = (path: readonly AuthPathStep[]): number =>
  2 + path.reduce((bytes, step) => bytes + STEP_FIXED_BYTES + 32 * (step.proof.length + (step.consistency?.length ?? 0)), 0);

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
  const uint32 = (): number => {
    const four = take(4);
    return new DataView(four.buffer, four.byteOffset, 4).getUint32(0);
  };
  const nodes = (): Hex[] => Array.from({ length: take(1)[0] }, () => bytesToHex(take(32)));
  for (let step = 0; step < bytes[1]; step++) {
    const gid = bytesToHex(take(32));
    const device = getAddress(bytesToHex(take(20)));
    const master = getAddress(bytesToHex(take(20)));
    const index = uint32();
    const entryHash = bytesToHex(take(32));
    const leafCount = uint32();
    const proof = nodes();
    const consistency = nodes();
    path.push({ gid, entry: { device, master, index, entryHash }, leafCount, proof, consistency });
  }
  if (at !== bytes.length) throw malformed("trailing bytes");
  return path;
}
