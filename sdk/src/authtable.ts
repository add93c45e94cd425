// The AuthTable of Al Ahmed et al. as the registry commits to it, re-implemented off chain: the genesis
// anchor, the auth chain, the leaves, the lean append-only Merkle tree (an unpaired node is
// carried up), proofs, and offline verification of hierarchical AuthTable paths. Everything here
// is pure — a verifier that holds the groups' state needs no RPC.
import { bytesToHex, concat, encodeAbiParameters, getAddress, hexToBytes, isAddress, isHex, keccak256, numberToHex, zeroHash, type Address, type Hex } from "viem";
import { equal32, fixedHexToBytes, putHex, putUint, toHex } from "./bytes.js";
import { IomtError } from "./errors.js";
import { keccak256Bytes, keccak256Into } from "./keccak.js";
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

// The encodings below take a byte-level path — fixed buffers hashed with the SDK's keccak backend
// (keccak.ts: noble's, or the native addon once installed) — whenever the arguments are what viem's ABI encoder accepts without a question
// (strict hex of the right size, checksummed or lower-case addresses, a safe integer index), and
// fall back to the generic encoder otherwise, so odd input fails (or passes) exactly as before.
const encodeHash = (types: readonly string[], values: readonly unknown[]): Hex =>
  keccak256(encodeAbiParameters(types.map((type) => ({ type })), values));

/** Writes an address as an ABI word (left-padded); false unless viem's encoder takes it as is (`isAddress`, strict). */
function putAddressWord(value: unknown, target: Uint8Array, offset: number): boolean {
  if (typeof value !== "string" || !isAddress(value)) return false;
  target.fill(0, offset, offset + 12);
  return putHex(value, 20, target, offset + 12);
}

const isIndex = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

const genesisBuffer = new Uint8Array(128);
const entryBuffer = new Uint8Array(160);
const leafBuffer = new Uint8Array(128);
const pairBuffer = new Uint8Array(64);

/** `keccak256(abi.encode(parentHead, parentGid, gid, master))`: a child group's first auth-chain link. */
export const genesisAnchor = (parentHead: Hex, parentGid: Id, gid: Id, master: Address): Hex =>
  putHex(parentHead, 32, genesisBuffer, 0) && putHex(parentGid, 32, genesisBuffer, 32) && putHex(gid, 32, genesisBuffer, 64) && putAddressWord(master, genesisBuffer, 96)
    ? toHex(keccak256Bytes(genesisBuffer))
    : encodeHash(["bytes32", "bytes32", "bytes32", "address"], [parentHead, parentGid, gid, master]);

/** `keccak256(abi.encode(prevHead, index, device, master, oid))`: the auth-chain entry of an association (the new chain head). */
export const authEntryHash = (prevHead: Hex, index: number, device: Address, master: Address, oid: Id): Hex => {
  if (isIndex(index) && putHex(prevHead, 32, entryBuffer, 0) && putAddressWord(device, entryBuffer, 64) && putAddressWord(master, entryBuffer, 96) && putHex(oid, 32, entryBuffer, 128)) {
    putUint(index, entryBuffer, 32);
    return toHex(keccak256Bytes(entryBuffer));
  }
  return encodeHash(["bytes32", "uint256", "address", "address", "bytes32"], [prevHead, BigInt(index), device, master, oid]);
};

/** `keccak256(abi.encode(device, master, index, entryHash))`: an AuthTable leaf (128-byte preimage, so no node passes for a leaf). */
export const authLeaf = (entry: AuthEntry): Hex => {
  const leaf = authLeafBytes(entry);
  return leaf !== undefined ? toHex(leaf) : encodeHash(["address", "address", "uint256", "bytes32"], [entry.device, entry.master, BigInt(entry.index), entry.entryHash]);
};

/** The leaf as bytes on the byte-level path; undefined when the entry needs the generic encoder. */
function authLeafBytes({ device, master, index, entryHash }: AuthEntry): Uint8Array | undefined {
  if (!isIndex(index) || !putAddressWord(device, leafBuffer, 0) || !putAddressWord(master, leafBuffer, 32) || !putHex(entryHash, 32, leafBuffer, 96)) return undefined;
  putUint(index, leafBuffer, 64);
  return keccak256Bytes(leafBuffer);
}

/**
 * Internal (the indexer's rebuild; not exported by the package): the auth-chain entry hash from
 * raw parts — a 32-byte previous head, 20-byte addresses, a 32-byte oid — written into `out`.
 */
export function authEntryHashFromBytes(prevHead: Uint8Array, index: number, device: Uint8Array, master: Uint8Array, oid: Uint8Array, out: Uint8Array): void {
  entryBuffer.set(prevHead, 0);
  putUint(index, entryBuffer, 32);
  entryBuffer.fill(0, 64, 76);
  entryBuffer.set(device, 76);
  entryBuffer.fill(0, 96, 108);
  entryBuffer.set(master, 108);
  entryBuffer.set(oid, 128);
  keccak256Into(entryBuffer, out, 0);
}

/** Internal: the AuthTable leaf from raw parts (20-byte addresses, a 32-byte entry hash). */
export function authLeafFromBytes(device: Uint8Array, master: Uint8Array, index: number, entryHash: Uint8Array): Uint8Array {
  leafBuffer.fill(0, 0, 12);
  leafBuffer.set(device, 12);
  leafBuffer.fill(0, 32, 44);
  leafBuffer.set(master, 44);
  putUint(index, leafBuffer, 64);
  leafBuffer.set(entryHash, 96);
  return keccak256Bytes(leafBuffer);
}

/** The generic pair hash over hex, kept for nodes that are not 32-byte hex (it hashes whatever it is given). */
const hashPair = (left: Hex, right: Hex): Hex => keccak256(concat([left, right]));

function hashPairBytes(left: Uint8Array, right: Uint8Array): Uint8Array {
  pairBuffer.set(left, 0);
  pairBuffer.set(right, 32);
  return keccak256Bytes(pairBuffer);
}

/** Every node as 32 bytes, or undefined when one is not 32-byte hex. */
function nodesToBytes(nodes: readonly Hex[]): Uint8Array[] | undefined {
  const out: Uint8Array[] = new Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const node = fixedHexToBytes(nodes[i], 32);
    if (node === undefined) return undefined;
    out[i] = node;
  }
  return out;
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/** The same 256-bit value (`BigInt(a) === BigInt(b)`, which throws for non-hex); a string comparison when both are 32-byte hex. */
const sameId = (a: Hex, b: Hex): boolean =>
  typeof a === "string" && typeof b === "string" && BYTES32.test(a) && BYTES32.test(b) ? a.toLowerCase() === b.toLowerCase() : BigInt(a) === BigInt(b);

/** `sameId(bytes, hex)` without a round trip when `hex` is 32-byte hex. */
function sameIdBytes(bytes: Uint8Array, hex: Hex): boolean {
  const other = fixedHexToBytes(hex, 32);
  return other !== undefined ? equal32(bytes, 0, other, 0) : sameId(toHex(bytes), hex);
}

/** The largest power of two strictly below `n` (n ≥ 2): where RFC 9162 splits a tree of n leaves. */
const splitPoint = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

/** One level of an AuthTree: `count` nodes of 32 bytes, back to back, and the hex of those a proof or root has asked for. */
interface Level {
  nodes: Uint8Array;
  count: number;
  hex: (Hex | undefined)[];
}

const newLevel = (): Level => ({ nodes: new Uint8Array(32 * 4), count: 0, hex: [] });

function push(level: Level, node: Uint8Array): void {
  if (32 * (level.count + 1) > level.nodes.length) {
    const grown = new Uint8Array(level.nodes.length * 2);
    grown.set(level.nodes);
    level.nodes = grown;
  }
  level.nodes.set(node, 32 * level.count++);
  // A dense slot for the node's hex (filled when first read): sparse arrays are slow to read.
  level.hex.push(undefined);
}

let appendBytes: (tree: AuthTree, leaf: Uint8Array) => void;

/**
 * An append-only lean Merkle tree. Roots and proofs equal the registry's (`AuthTree.sol`). The
 * shape is RFC 9162's (split at the largest power of two below n), so the tree also gives the
 * roots and inclusion proofs of any earlier size, and consistency proofs between two sizes.
 *
 * It stores every complete subtree's root (level k holds those of 2^k leaves, as bytes), so an
 * append costs one hash amortised; the nodes on the right edge of the current size, which an
 * unpaired node makes, are computed once per size when a root or proof asks for them.
 */
export class AuthTree {
  readonly #levels: Level[] = [newLevel()];
  /** The right-edge node of each level for the current size (undefined where the level has none); cleared by an append. */
  #edge: (Uint8Array | undefined)[] | undefined;
  /** Their hex, as asked for; cleared with them. */
  #edgeHex: (Hex | undefined)[] = [];

  static {
    appendBytes = (tree, leaf) => tree.#append(leaf);
  }

  /** Number of leaves. */
  get size(): number {
    return this.#levels[0].count;
  }

  /** The root: zero for an empty tree, the leaf itself for one leaf. */
  get root(): Hex {
    if (this.size === 0) return zeroHash;
    let level = 0;
    while (Math.ceil(this.size / 2 ** level) > 1) level++;
    return this.#nodeHex(level, 0);
  }

  leaf(index: number): Hex {
    this.#checkIndex(index, this.size);
    return this.#nodeHex(0, index);
  }

  append(leaf: Hex): void {
    const bytes = fixedHexToBytes(leaf, 32);
    if (bytes === undefined) throw new IomtError("AuthTreeInvalidLeaf", `a leaf is 32 bytes of hex, got ${String(leaf)}`);
    this.#append(bytes);
  }

  #append(leaf: Uint8Array): void {
    this.#edge = undefined;
    if (this.#edgeHex.length > 0) this.#edgeHex = [];
    push(this.#levels[0], leaf);
    // Each pair completed at a level makes one node of the level above.
    for (let level = 0; this.#levels[level].count % 2 === 0; level++) {
      const { nodes, count } = this.#levels[level];
      if (level + 1 === this.#levels.length) this.#levels.push(newLevel());
      push(this.#levels[level + 1], keccak256Bytes(nodes.subarray(32 * (count - 2), 32 * count)));
    }
  }

  /**
   * Node `index` of `level` in the lean tree of the current size, as hex: a complete subtree's
   * root, or the level's right-edge node; converted once per node (proofs and roots are read far
   * more often than the tree changes).
   */
  #nodeHex(level: number, index: number): Hex {
    const stored = this.#levels[level];
    if (stored !== undefined && index < stored.count) {
      return (stored.hex[index] ??= toHex(stored.nodes, 32 * index, 32 * index + 32));
    }
    return (this.#edgeHex[level] ??= toHex(this.#edgeNodes()[level]!));
  }

  /**
   * The right-edge nodes of the current size n: at level k, when 2^k does not divide n, the node
   * over the last n mod 2^k leaves' subtree — the hash of the complete node to its left and the
   * edge node below when the level below has an odd number of complete nodes, else the edge node
   * below carried up.
   */
  #edgeNodes(): (Uint8Array | undefined)[] {
    if (this.#edge !== undefined) return this.#edge;
    const edge: (Uint8Array | undefined)[] = [undefined];
    for (let level = 1; Math.ceil(this.size / 2 ** (level - 1)) > 1; level++) {
      const below = this.#levels[level - 1];
      const lower = edge[level - 1];
      if (below.count % 2 === 1) {
        const left = below.nodes.subarray(32 * (below.count - 1), 32 * below.count);
        edge[level] = lower === undefined ? left : hashPairBytes(left, lower);
      } else {
        edge[level] = lower;
      }
    }
    this.#edge = edge;
    return edge;
  }

  /** Siblings of leaf `index` from the leaf up, in the tree of the first `size` leaves (default: all); at most ⌈log₂ size⌉. */
  proof(index: number, size = this.size): Hex[] {
    this.#checkSize(size);
    this.#checkIndex(index, size);
    if (size === this.size) {
      const proof: Hex[] = [];
      const levels = this.#levels;
      // Sizes and indices stay below 2^32 (uint32 on chain), so unsigned shifts halve them exactly.
      for (let level = 0, i = index, width = size; width > 1; level++, i >>>= 1, width -= width >>> 1) {
        const sibling = (i & 1) === 0 ? i + 1 : i - 1;
        if (sibling >= width) continue;
        // A complete node's cached hex (the array holds one slot per complete node), else computed.
        proof.push(levels[level].hex[sibling] ?? this.#nodeHex(level, sibling));
      }
      return proof;
    }
    return this.#path(index, 0, size).map((node) => toHex(node));
  }

  /** The root of the first `size` leaves (zero for none): the root the tree had at that size. */
  rootAt(size: number): Hex {
    this.#checkSize(size);
    return size === 0 ? zeroHash : toHex(this.#subtreeRoot(0, size));
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
    return this.#subproof(oldSize, 0, newSize, true).map((node) => toHex(node));
  }

  /** RFC 9162 MTH(D[start:end]) for end ≤ size: read from the levels when the range is an aligned complete subtree. */
  #subtreeRoot(start: number, end: number): Uint8Array {
    const width = end - start;
    if ((width & (width - 1)) === 0 && start % width === 0) {
      const level = Math.log2(width);
      return this.#levels[level].nodes.subarray(32 * (start / width), 32 * (start / width) + 32);
    }
    const k = splitPoint(width);
    return hashPairBytes(this.#subtreeRoot(start, start + k), this.#subtreeRoot(start + k, end));
  }

  /** RFC 9162 PATH(m, D[start:end]), siblings from the leaf up. */
  #path(index: number, start: number, end: number): Uint8Array[] {
    if (end - start <= 1) return [];
    const k = splitPoint(end - start);
    return index < start + k
      ? [...this.#path(index, start, start + k), this.#subtreeRoot(start + k, end)]
      : [...this.#path(index, start + k, end), this.#subtreeRoot(start, start + k)];
  }

  /** RFC 9162 SUBPROOF(m, D[start:end], b). */
  #subproof(m: number, start: number, end: number, complete: boolean): Uint8Array[] {
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

/** Internal (the indexer's rebuild): appends a 32-byte leaf without a hex round trip. */
export const appendLeafBytes = (tree: AuthTree, leaf: Uint8Array): void => appendBytes(tree, leaf);

/**
 * Checks an RFC 9162 §2.1.4.2 consistency proof (with this tree's hashes): true when the tree of
 * `oldSize` leaves with root `oldRoot` is a prefix of the tree of `newSize` leaves with root
 * `newRoot`. The same algorithm as the registry's `AuthTree.verifyConsistency`; never throws.
 */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Hex, newRoot: Hex, proof: readonly Hex[]): boolean {
  const nodes = nodesToBytes(proof);
  const oldBytes = fixedHexToBytes(oldRoot, 32);
  const newBytes = fixedHexToBytes(newRoot, 32);
  if (nodes !== undefined && oldBytes !== undefined && newBytes !== undefined) {
    return checkConsistency(oldSize, newSize, oldBytes, newBytes, nodes, hashPairBytes, (a, b) => equal32(a, 0, b, 0));
  }
  return checkConsistency(oldSize, newSize, oldRoot, newRoot, proof, hashPair, sameId);
}

/** RFC 9162 §2.1.4.2 over any node type: bytes on the fast path, hex for odd input. */
function checkConsistency<T>(oldSize: number, newSize: number, oldRoot: T, newRoot: T, proof: readonly T[], hash: (left: T, right: T) => T, same: (a: T, b: T) => boolean): boolean {
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
      oldNode = hash(node, oldNode);
      newNode = hash(node, newNode);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      newNode = hash(newNode, node);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return same(oldNode, oldRoot) && same(newNode, newRoot) && sn === 0n;
}

/**
 * The root a proof leads to from `leaf` at `index` in a tree of `size` leaves, or `undefined`
 * when the proof has the wrong number of siblings or the index is out of range. Sound only with
 * a trusted `size` (the registry's leaf count).
 */
export function processAuthProof(proof: readonly Hex[], index: number, size: number, leaf: Hex): Hex | undefined {
  const nodes = nodesToBytes(proof);
  const leafBytes = fixedHexToBytes(leaf, 32);
  if (nodes !== undefined && leafBytes !== undefined) {
    const root = walkProof(nodes, index, size, leafBytes, hashPairBytes);
    return root === undefined ? undefined : toHex(root);
  }
  return walkProof(proof, index, size, leaf, hashPair);
}

function walkProof<T>(proof: readonly T[], index: number, size: number, leaf: T, hash: (left: T, right: T) => T): T | undefined {
  if (!Number.isInteger(index) || index < 0 || index >= size) return undefined;
  let node = leaf;
  let used = 0;
  // Halving by division, not by `>>`: sizes and indices go up to 2^32 − 1, past JavaScript's 32-bit shifts.
  for (let width = size, i = index; width > 1; width = Math.ceil(width / 2), i = Math.floor(i / 2)) {
    const isRight = i % 2 === 1;
    if (isRight || i + 1 < width) {
      if (used === proof.length) return undefined;
      node = isRight ? hash(proof[used++], node) : hash(node, proof[used++]);
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
      if (!sameAddress(entry.device, below.master)) return { status: "NotGroupMaster", failedStep: step };
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

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** `getAddress(a) === getAddress(b)` (which throws for a non-address) without computing two checksums. */
const sameAddress = (a: Address, b: Address): boolean =>
  typeof a === "string" && typeof b === "string" && ADDRESS.test(a) && ADDRESS.test(b) ? a.toLowerCase() === b.toLowerCase() : getAddress(a) === getAddress(b);

/** One step after the group and link checks, as the registry's `_checkStep`: index, proof, revocation. */
function checkStep({ entry, leafCount: builtFor, proof, consistency = [] }: AuthPathStep, group: TrustedGroupState): AuthPathStatus {
  const size = group.leafCount;
  if (!Number.isInteger(entry.index) || !Number.isInteger(builtFor) || entry.index < 0 || entry.index >= builtFor) return "IndexOutOfRange";
  if (builtFor > size) return "Stale";
  const builtRoot = stepRoot(entry, proof, builtFor);
  if (builtRoot === undefined) return "InvalidProof";
  const isBuiltRoot = (root: Hex): boolean => (builtRoot instanceof Uint8Array ? sameIdBytes(builtRoot, root) : sameId(builtRoot, root));
  if (builtFor === size) {
    if (!isBuiltRoot(group.root)) return "InvalidProof";
  } else if (consistency.length > 0) {
    if (!verifyConsistency(builtFor, size, builtRoot instanceof Uint8Array ? toHex(builtRoot) : builtRoot, group.root, consistency)) return "InvalidProof";
  } else {
    const knownRoot = group.rootAt?.(builtFor);
    if (knownRoot === undefined) return "Stale";
    if (!isBuiltRoot(knownRoot)) return "InvalidProof";
  }
  return isLeafRevoked(group.revocationWords, entry.index) ? "Revoked" : "Valid";
}

/** The root a step's proof leads to: as bytes on the byte-level path, as hex through the generic one for odd input. */
function stepRoot(entry: AuthEntry, proof: readonly Hex[], builtFor: number): Uint8Array | Hex | undefined {
  const leaf = authLeafBytes(entry);
  const nodes = leaf === undefined ? undefined : nodesToBytes(proof);
  if (leaf !== undefined && nodes !== undefined) return walkProof(nodes, entry.index, builtFor, leaf, hashPairBytes);
  return processAuthProof(proof, entry.index, builtFor, authLeaf(entry));
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
