// The AuthTable module: its encodings, the append-only tree against a naive RFC 9162 reference
// (roots, inclusion proofs and consistency proofs at every earlier size), consistency-proof
// verification, offline path verification (Stale included), the compact path encoding, and both
// verifiers (offline and the registry's own) on the same paths and state.
import { expect } from "chai";
import { concat, encodeAbiParameters, getAddress, keccak256, numberToHex, size, slice, stringToHex, zeroAddress, zeroHash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Address, Hex, LocalAccount } from "viem";
import { associate, associateBatchBySig, associateBySig } from "../src/actions/association.js";
import { verifyAuthPathOnChain } from "../src/actions/auth-path.js";
import { createGroup, deactivateGroup, getGroup, getGroupState, revoke } from "../src/actions/groups.js";
import {
  AuthTree,
  InvalidAuthPathError,
  authEntryHash,
  authLeaf,
  authPathSize,
  authPathStatuses,
  decodeAuthPath,
  encodeAuthPath,
  genesisAnchor,
  isLeafRevoked,
  processAuthProof,
  verifyAuthPath,
  verifyConsistency,
} from "../src/authtable.js";
import type { AuthEntry, AuthPath, AuthPathStatus, AuthPathStep, TrustedGroupState, TrustedState, VerifyAuthPathReturnType } from "../src/authtable.js";
import { getBatchItemResults } from "../src/contract-errors.js";
import { IomtError } from "../src/errors.js";
import { toId } from "../src/ids.js";
import type { Id } from "../src/ids.js";
import { issueToken } from "../src/tokens.js";
import { signAssociation } from "../src/typed-data.js";
import { deployTestRegistry } from "./support/registry.js";
import type { TestRegistry } from "./support/registry.js";
import { expectCode } from "./support/expect.js";
import { seededRandom } from "./support/random.js";

const WORD_ALLOCATED = 1n << 255n;

/** A deterministic, checksummed address per label. */
const addressOf = (label: string): Address => getAddress(slice(keccak256(stringToHex(label)), 12));
const hashOf = (label: string): Hex => keccak256(stringToHex(label));
const upper = (hex: Hex): Hex => `0x${hex.slice(2).toUpperCase()}`;

// ---------------------------------------------------------------- RFC 9162 §2.1, naively

// Straight from RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, over a list of leaves D[0:n], with the
// registry's hashes in place of the RFC's: a leaf enters the tree as itself (it is already the
// keccak256 of a 128-byte preimage), an inner node is keccak256(left ‖ right), and the empty tree is
// zero. Ranges are [start, end) of one fixed list; MTH is memoised per range, nothing else is.

/** keccak256(left ‖ right), over the raw bytes, in the order given. */
const pair = (left: Hex, right: Hex): Hex => keccak256(Buffer.concat([Buffer.from(left.slice(2), "hex"), Buffer.from(right.slice(2), "hex")]));

/** "the largest power of two smaller than n" (n > 1). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const mthMemo = new WeakMap<readonly Hex[], Map<string, Hex>>();

/** MTH(D[start:end]). */
function MTH(D: readonly Hex[], start = 0, end = D.length): Hex {
  const n = end - start;
  if (n === 0) return zeroHash;
  if (n === 1) return D[start];
  let memo = mthMemo.get(D);
  if (memo === undefined) mthMemo.set(D, (memo = new Map()));
  const key = `${start}:${end}`;
  const known = memo.get(key);
  if (known !== undefined) return known;
  const k = largestPowerOfTwoBelow(n);
  const root = pair(MTH(D, start, start + k), MTH(D, start + k, end));
  memo.set(key, root);
  return root;
}

/** PATH(m, D[start:end]): the audit path of leaf start + m, siblings from the leaf up. */
function PATH(m: number, D: readonly Hex[], start = 0, end = D.length): Hex[] {
  const n = end - start;
  if (n === 1) return [];
  const k = largestPowerOfTwoBelow(n);
  return m < k ? [...PATH(m, D, start, start + k), MTH(D, start + k, end)] : [...PATH(m - k, D, start + k, end), MTH(D, start, start + k)];
}

/** SUBPROOF(m, D[start:end], b). */
function SUBPROOF(m: number, D: readonly Hex[], start: number, end: number, b: boolean): Hex[] {
  const n = end - start;
  if (m === n) return b ? [] : [MTH(D, start, end)];
  const k = largestPowerOfTwoBelow(n);
  return m <= k
    ? [...SUBPROOF(m, D, start, start + k, b), MTH(D, start + k, end)]
    : [...SUBPROOF(m - k, D, start + k, end, false), MTH(D, start, start + k)];
}

/** PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true): the consistency proof from m leaves to n. */
const PROOF = (m: number, D: readonly Hex[], n: number): Hex[] => SUBPROOF(m, D, 0, n, true);

const leavesOf = (count: number, salt = "leaf"): Hex[] => Array.from({ length: count }, (_, i) => hashOf(`${salt} ${i}`));

// ---------------------------------------------------------------- consistency-proof mutations

interface Mutation {
  name: string;
  oldSize: number;
  newSize: number;
  oldRoot: Hex;
  newRoot: Hex;
  proof: Hex[];
}

/**
 * Every way to spoil the honest consistency proof from `oldSize` to `newSize` leaves of `tree` that
 * this file checks: each node flipped, each node dropped, a node added at either end, the proof
 * reversed, the old size off by one (with the same root, or with that size's own root), the new
 * size and root those of a neighbouring size, the sizes swapped, the roots swapped or replaced.
 * (The new size and the new root always come together from the verifier's state: RFC 9162's
 * algorithm trusts that pair and does not re-derive one from the other — see the test below.)
 */
function mutations(tree: AuthTree, oldSize: number, newSize: number, proof: readonly Hex[] = tree.consistencyProof(oldSize, newSize)): Mutation[] {
  const oldRoot = tree.rootAt(oldSize);
  const newRoot = tree.rootAt(newSize);
  const honest = { oldSize, newSize, oldRoot, newRoot, proof: [...proof] };
  const flip = (node: Hex): Hex => `0x${(BigInt(node) ^ 1n).toString(16).padStart(64, "0")}`;
  const spoiled: Mutation[] = [];
  proof.forEach((_, i) => {
    spoiled.push({ ...honest, name: `node ${i} flipped`, proof: proof.map((other, j) => (i === j ? flip(other) : other)) });
    spoiled.push({ ...honest, name: `node ${i} dropped`, proof: proof.filter((_, j) => j !== i) });
  });
  spoiled.push({ ...honest, name: "a node appended", proof: [...proof, hashOf("extra")] });
  spoiled.push({ ...honest, name: "a node prepended", proof: [hashOf("extra"), ...proof] });
  spoiled.push({ ...honest, name: "the last node repeated", proof: [...proof, proof[proof.length - 1]] });
  if (proof.some((node, i) => node !== proof[proof.length - 1 - i])) spoiled.push({ ...honest, name: "the proof reversed", proof: [...proof].reverse() });
  spoiled.push({ ...honest, name: "old size + 1", oldSize: oldSize + 1 });
  spoiled.push({ ...honest, name: "old size - 1", oldSize: oldSize - 1 });
  if (oldSize + 1 < newSize) spoiled.push({ ...honest, name: "old size + 1 with its root", oldSize: oldSize + 1, oldRoot: tree.rootAt(oldSize + 1) });
  if (oldSize > 1) spoiled.push({ ...honest, name: "old size - 1 with its root", oldSize: oldSize - 1, oldRoot: tree.rootAt(oldSize - 1) });
  if (newSize < tree.size) spoiled.push({ ...honest, name: "new size + 1 with its root", newSize: newSize + 1, newRoot: tree.rootAt(newSize + 1) });
  if (newSize - 1 > oldSize) spoiled.push({ ...honest, name: "new size - 1 with its root", newSize: newSize - 1, newRoot: tree.rootAt(newSize - 1) });
  spoiled.push({ ...honest, name: "sizes swapped", oldSize: newSize, newSize: oldSize });
  spoiled.push({ ...honest, name: "roots swapped", oldRoot: newRoot, newRoot: oldRoot });
  spoiled.push({ ...honest, name: "another old root", oldRoot: flip(oldRoot) });
  spoiled.push({ ...honest, name: "another new root", newRoot: flip(newRoot) });
  return spoiled;
}

/** The mutations that change only the proof: what a path's holder controls once the verifier fixed sizes and roots. */
const proofMutations = (tree: AuthTree, oldSize: number, newSize: number, proof?: readonly Hex[]): Mutation[] =>
  mutations(tree, oldSize, newSize, proof).filter(
    (bad) => bad.oldSize === oldSize && bad.newSize === newSize && bad.oldRoot === tree.rootAt(oldSize) && bad.newRoot === tree.rootAt(newSize) && bad.proof.length > 0,
  );

// ---------------------------------------------------------------- a hand-built hierarchy

interface BuiltGroup {
  state: TrustedGroupState;
  entries: AuthEntry[];
  tree: AuthTree;
  step(index: number): AuthPathStep;
}

/** A group as the registry would hold it after `devices` associated in order: auth chain, leaves, tree. */
function buildGroup(name: string, master: Address, parent: { gid: Id; head: Hex } | undefined, devices: readonly Address[]): BuiltGroup {
  const gid = toId(name);
  let head = genesisAnchor(parent?.head ?? zeroHash, parent?.gid ?? zeroHash, gid, master);
  const entries = devices.map((device, index) => {
    head = authEntryHash(head, index, device, master, toId(`${name}/${index}`));
    return { device, master, index, entryHash: head };
  });
  const tree = AuthTree.from(entries.map(authLeaf));
  const words = Array.from({ length: Math.ceil(entries.length / 255) }, () => WORD_ALLOCATED);
  return {
    state: { gid, master, parentGid: parent?.gid ?? zeroHash, active: true, root: tree.root, leafCount: entries.length, revocationWords: words },
    entries,
    tree,
    step: (index) => ({ gid, entry: entries[index], leafCount: entries.length, proof: tree.proof(index), consistency: [] }),
  };
}

// Root group R (Master m0) holds a, H1, b; cluster C (Master H1, child of R) holds c, d, e, H2, f;
// sub-cluster S (Master H2, child of C) holds g, D. D's path: S[1] → C[3] → R[1].
const [m0, h1, h2, device] = ["m0", "H1", "H2", "D"].map(addressOf);
const R = buildGroup("R", m0, undefined, [addressOf("a"), h1, addressOf("b")]);
const C = buildGroup("C", h1, { gid: R.state.gid, head: R.entries[1].entryHash }, ["c", "d", "e"].map(addressOf).concat([h2, addressOf("f")]));
const S = buildGroup("S", h2, { gid: C.state.gid, head: C.entries[3].entryHash }, [addressOf("g"), device]);
const devicePath: AuthPath = [S.step(1), C.step(3), R.step(1)];

/** C after three more devices joined: the state a verifier holds once C has grown from 5 to 8 leaves. */
const grownC = AuthTree.from([...C.entries.map(authLeaf), ...leavesOf(3, "C joins later")]);
const grownCState: Partial<TrustedGroupState> = { leafCount: 8, root: grownC.root, revocationWords: [WORD_ALLOCATED] };

function trustedWith(changes: { R?: Partial<TrustedGroupState>; C?: Partial<TrustedGroupState>; S?: Partial<TrustedGroupState> } = {}, trustedRoots: Id[] = [R.state.gid]): TrustedState {
  return { trustedRoots, groups: [{ ...R.state, ...changes.R }, { ...C.state, ...changes.C }, { ...S.state, ...changes.S }] };
}

/** The device path with step `at` replaced by `change(step)`. */
function pathWith(at: number, change: (step: AuthPathStep) => AuthPathStep): AuthPath {
  return devicePath.map((step, i) => (i === at ? change(step) : step));
}

const result = (status: AuthPathStatus, failedStep: number): VerifyAuthPathReturnType => ({ status, failedStep });

describe("authtable", () => {
  describe("encodings", () => {
    const parentHead = hashOf("parent head");
    const parentGid = toId("parent");
    const gid = toId("group");
    const master = addressOf("master");
    const dev = addressOf("device");
    const oid = toId("group/device");

    it("genesisAnchor is keccak256(abi.encode(parentHead, parentGid, gid, master))", () => {
      const expected = keccak256(concat([parentHead, parentGid, gid, `0x${"00".repeat(12)}${master.slice(2)}`]));
      expect(genesisAnchor(parentHead, parentGid, gid, master)).to.equal(expected);
      expect(expected).to.equal(
        keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "address" }], [parentHead, parentGid, gid, master])),
      );
    });

    it("genesisAnchor of a root group hashes zero parent fields", () => {
      expect(genesisAnchor(zeroHash, zeroHash, gid, master)).to.equal(keccak256(concat([zeroHash, zeroHash, gid, `0x${"00".repeat(12)}${master.slice(2)}`])));
    });

    it("authEntryHash is keccak256(abi.encode(prevHead, index, device, master, oid))", () => {
      const expected = keccak256(
        encodeAbiParameters(
          [{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "address" }, { type: "bytes32" }],
          [parentHead, 7n, dev, master, oid],
        ),
      );
      expect(authEntryHash(parentHead, 7, dev, master, oid)).to.equal(expected);
      expect(authEntryHash(parentHead, 8, dev, master, oid)).to.not.equal(expected);
    });

    it("authLeaf is keccak256(abi.encode(device, master, index, entryHash)) over 128 bytes", () => {
      const preimage = encodeAbiParameters([{ type: "address" }, { type: "address" }, { type: "uint256" }, { type: "bytes32" }], [dev, master, 3n, parentHead]);
      expect(size(preimage)).to.equal(128);
      expect(authLeaf({ device: dev, master, index: 3, entryHash: parentHead })).to.equal(keccak256(preimage));
    });

    it("authLeaf depends on every field, and on neither address's case", () => {
      const entry: AuthEntry = { device: dev, master, index: 3, entryHash: parentHead };
      const leaf = authLeaf(entry);
      expect(authLeaf({ ...entry, device: master })).to.not.equal(leaf);
      expect(authLeaf({ ...entry, master: dev })).to.not.equal(leaf);
      expect(authLeaf({ ...entry, index: 4 })).to.not.equal(leaf);
      expect(authLeaf({ ...entry, entryHash: oid })).to.not.equal(leaf);
      expect(authLeaf({ ...entry, device: dev.toLowerCase() as Address })).to.equal(leaf);
    });
  });

  describe("AuthTree against RFC 9162", () => {
    const MAX_EXHAUSTIVE = 70;
    const leaves = leavesOf(MAX_EXHAUSTIVE);
    const tree = AuthTree.from(leaves);

    it(`has MTH as its root after every append, up to ${MAX_EXHAUSTIVE} leaves`, () => {
      const growing = new AuthTree();
      expect(growing.root).to.equal(zeroHash);
      leaves.forEach((leaf, i) => {
        growing.append(leaf);
        expect(growing.root, `after ${i + 1}`).to.equal(MTH(leaves, 0, i + 1));
      });
    });

    it(`gives rootAt(size) = MTH(D[0:size]) for every size 0 … ${MAX_EXHAUSTIVE}`, () => {
      for (let n = 0; n <= MAX_EXHAUSTIVE; n++) expect(tree.rootAt(n), `size ${n}`).to.equal(MTH(leaves, 0, n));
      expect(tree.rootAt(MAX_EXHAUSTIVE)).to.equal(tree.root);
    });

    it(`gives proof(index, size) = PATH(index, D[0:size]) for every size 1 … ${MAX_EXHAUSTIVE} and index, each leading to rootAt(size)`, () => {
      for (let n = 1; n <= MAX_EXHAUSTIVE; n++) {
        for (let m = 0; m < n; m++) {
          const proof = tree.proof(m, n);
          expect(proof, `leaf ${m} of ${n}`).to.deep.equal(PATH(m, leaves, 0, n));
          expect(proof.length).to.be.at.most(Math.ceil(Math.log2(n)));
          expect(processAuthProof(proof, m, n, leaves[m]), `leaf ${m} of ${n}`).to.equal(MTH(leaves, 0, n));
        }
      }
    });

    it("gives the same proofs whether the tree holds exactly size leaves or more", () => {
      for (let n = 1; n <= MAX_EXHAUSTIVE; n += 7) {
        const exact = AuthTree.from(leaves.slice(0, n));
        for (let m = 0; m < n; m++) expect(exact.proof(m), `leaf ${m} of ${n}`).to.deep.equal(tree.proof(m, n));
      }
    });

    it(`gives consistencyProof(old, new) = PROOF(old, D[0:new]) for every 1 ≤ old < new ≤ ${MAX_EXHAUSTIVE}, and verifyConsistency accepts each`, () => {
      for (let n = 2; n <= MAX_EXHAUSTIVE; n++) {
        for (let m = 1; m < n; m++) {
          const proof = tree.consistencyProof(m, n);
          expect(proof, `${m} → ${n}`).to.deep.equal(PROOF(m, leaves, n));
          expect(verifyConsistency(m, n, MTH(leaves, 0, m), MTH(leaves, 0, n), proof), `${m} → ${n}`).to.equal(true);
        }
      }
    });

    it("defaults consistencyProof's new size to the tree's size", () => {
      expect(tree.consistencyProof(13)).to.deep.equal(tree.consistencyProof(13, MAX_EXHAUSTIVE));
    });

    describe("at random larger sizes (seeded)", () => {
      const SEED = 9162;
      const random = seededRandom(SEED);
      const big = leavesOf(3000, "big");
      const bigTree = AuthTree.from(big);
      const sizes = [...Array.from({ length: 6 }, () => 71 + Math.floor(random() * (big.length - 71))), 128, 129, 1024, 2047, 3000];

      it(`agrees with MTH, PATH and PROOF at sizes ${sizes.join(", ")} (seed ${SEED})`, () => {
        for (const n of sizes) {
          expect(bigTree.rootAt(n), `root at ${n}`).to.equal(MTH(big, 0, n));
          for (let sample = 0; sample < 12; sample++) {
            const m = sample === 0 ? n - 1 : Math.floor(random() * n);
            const proof = bigTree.proof(m, n);
            expect(proof, `leaf ${m} of ${n}`).to.deep.equal(PATH(m, big, 0, n));
            expect(processAuthProof(proof, m, n, big[m])).to.equal(MTH(big, 0, n));
            const old = sample === 0 ? n - 1 : 1 + Math.floor(random() * (n - 1));
            if (old >= n) continue;
            const consistency = bigTree.consistencyProof(old, n);
            expect(consistency, `${old} → ${n}`).to.deep.equal(PROOF(old, big, n));
            expect(verifyConsistency(old, n, bigTree.rootAt(old), bigTree.rootAt(n), consistency), `${old} → ${n}`).to.equal(true);
          }
        }
      });
    });

    it("has the zero root when empty and the leaf itself as root of one leaf", () => {
      expect(new AuthTree().root).to.equal(zeroHash);
      const [leaf] = leavesOf(1);
      expect(AuthTree.from([leaf]).root).to.equal(leaf);
      expect(AuthTree.from([leaf]).proof(0)).to.deep.equal([]);
    });

    it("returns the leaf at an index", () => {
      expect(AuthTree.from(leaves.slice(0, 5)).leaf(4)).to.equal(leaves[4]);
    });

    it("throws AuthTreeIndexOutOfRange for a leaf or proof outside the tree, or a size it never had", () => {
      const small = AuthTree.from(leavesOf(3));
      for (const index of [-1, 3, 1.5]) {
        expectCode(() => small.leaf(index), IomtError, "AuthTreeIndexOutOfRange");
        expectCode(() => small.proof(index), IomtError, "AuthTreeIndexOutOfRange");
      }
      expectCode(() => new AuthTree().proof(0), IomtError, "AuthTreeIndexOutOfRange");
      expectCode(() => small.proof(2, 2), IomtError, "AuthTreeIndexOutOfRange");
      for (const n of [-1, 4, 2.5]) {
        expectCode(() => small.rootAt(n), IomtError, "AuthTreeIndexOutOfRange");
        expectCode(() => small.proof(0, n), IomtError, "AuthTreeIndexOutOfRange");
      }
    });

    it("throws AuthTreeIndexOutOfRange for a consistency proof that does not go from 1 … new − 1 leaves to new ≤ size", () => {
      const small = AuthTree.from(leavesOf(5));
      for (const [m, n] of [[0, 5], [5, 5], [6, 5], [2, 6], [-1, 3], [1.5, 3], [3, 2]]) {
        expectCode(() => small.consistencyProof(m, n), IomtError, "AuthTreeIndexOutOfRange");
      }
    });
  });

  describe("verifyConsistency", () => {
    const leaves = leavesOf(40);
    const tree = AuthTree.from(leaves);

    it("accepts every honest proof between sizes up to 40 and rejects every mutation of it", () => {
      let rejected = 0;
      for (let n = 2; n <= leaves.length; n++) {
        for (let m = 1; m < n; m++) {
          const proof = tree.consistencyProof(m, n);
          expect(verifyConsistency(m, n, tree.rootAt(m), tree.rootAt(n), proof)).to.equal(true);
          for (const bad of mutations(tree, m, n)) {
            expect(verifyConsistency(bad.oldSize, bad.newSize, bad.oldRoot, bad.newRoot, bad.proof), `${m} → ${n}: ${bad.name}`).to.equal(false);
            rejected++;
          }
        }
      }
      expect(rejected).to.be.greaterThan(10_000);
    });

    it("proves a complete (power-of-two) old tree with the new subtree beside it alone: the old root starts the path", () => {
      expect(tree.consistencyProof(8, 16)).to.deep.equal([MTH(leaves, 8, 16)]);
      expect(verifyConsistency(8, 16, tree.rootAt(8), tree.rootAt(16), [MTH(leaves, 8, 16)])).to.equal(true);
    });

    it("trusts the new size to belong to the new root, as RFC 9162's algorithm does: a verifier takes both from one state", () => {
      // The proof from 1 to 3 leaves also passes for a claimed new size of 4 with the 3-leaf root: the
      // algorithm only walks the sizes' bits. Never a forgery in a path: the verifier's own size and
      // root are one read (a group's leafCount and root), and the step's holder chooses neither.
      expect(verifyConsistency(1, 4, tree.rootAt(1), tree.rootAt(3), tree.consistencyProof(1, 3))).to.equal(true);
      expect(verifyConsistency(1, 4, tree.rootAt(1), tree.rootAt(4), tree.consistencyProof(1, 3))).to.equal(false);
    });

    it("rejects an empty proof for an old tree that is not a power of two, and sizes out of order", () => {
      expect(verifyConsistency(3, 5, tree.rootAt(3), tree.rootAt(5), [])).to.equal(false);
      expect(verifyConsistency(0, 5, zeroHash, tree.rootAt(5), tree.consistencyProof(1, 5))).to.equal(false);
      expect(verifyConsistency(5, 5, tree.rootAt(5), tree.rootAt(5), [])).to.equal(false);
      expect(verifyConsistency(1.5, 5, tree.rootAt(1), tree.rootAt(5), tree.consistencyProof(1, 5))).to.equal(false);
    });

    it("compares roots case-insensitively and never throws on odd input", () => {
      const proof = tree.consistencyProof(6, 11);
      expect(verifyConsistency(6, 11, upper(tree.rootAt(6)), upper(tree.rootAt(11)), proof.map(upper))).to.equal(true);
      expect(verifyConsistency(6, 11, tree.rootAt(6), tree.rootAt(11), [...proof, ...proof, ...proof])).to.equal(false);
      expect(verifyConsistency(Number.NaN, 11, tree.rootAt(6), tree.rootAt(11), proof)).to.equal(false);
    });

    it("accepts the RFC's proof between sizes past 2^31, where 32-bit shifts would go wrong", () => {
      // Only the size arithmetic is exercised: two complete subtrees of 2^31 leaves each, as nodes.
      const left = hashOf("2^31 leaves");
      const right = hashOf("the next 2^31 leaves");
      expect(verifyConsistency(2 ** 31, 2 ** 32, left, pair(left, right), [right])).to.equal(true);
      expect(verifyConsistency(2 ** 31, 2 ** 32 + 1, left, pair(left, right), [right])).to.equal(false);
    });
  });

  describe("processAuthProof", () => {
    const leaves = leavesOf(5);
    const tree = AuthTree.from(leaves);

    it("returns the leaf itself for the only leaf of a one-leaf tree", () => {
      expect(processAuthProof([], 0, 1, leaves[0])).to.equal(leaves[0]);
    });

    it("returns undefined for an index at or above the size, or negative", () => {
      expect(processAuthProof(tree.proof(4), 5, 5, leaves[4])).to.equal(undefined);
      expect(processAuthProof([], 0, 0, leaves[0])).to.equal(undefined);
      expect(processAuthProof(tree.proof(0), -1, 5, leaves[0])).to.equal(undefined);
      expect(processAuthProof(tree.proof(0), 0.5, 5, leaves[0])).to.equal(undefined);
    });

    it("returns undefined for a proof one sibling too short", () => {
      expect(processAuthProof(tree.proof(2).slice(0, -1), 2, 5, leaves[2])).to.equal(undefined);
      expect(processAuthProof(tree.proof(4).slice(0, -1), 4, 5, leaves[4])).to.equal(undefined);
    });

    it("returns undefined for a proof one sibling too long", () => {
      expect(processAuthProof([...tree.proof(2), leaves[0]], 2, 5, leaves[2])).to.equal(undefined);
      expect(processAuthProof([leaves[1]], 0, 1, leaves[0])).to.equal(undefined);
    });

    it("leads to another root for a changed sibling, leaf or index", () => {
      const proof = tree.proof(1);
      expect(processAuthProof([hashOf("x"), ...proof.slice(1)], 1, 5, leaves[1])).to.not.equal(tree.root);
      expect(processAuthProof(proof, 1, 5, leaves[0])).to.not.equal(tree.root);
      expect(processAuthProof(proof, 0, 5, leaves[1])).to.not.equal(tree.root);
    });

    it("follows the registry's arithmetic for sizes and indices past 2^31 (the leaf count is a uint32)", () => {
      // The last leaf of a tree of 2^31 + 1 leaves is the root's right child: one sibling, the root of the first 2^31.
      const [leaf, firstHalf] = [hashOf("leaf 2^31"), hashOf("root of the first 2^31 leaves")];
      expect(processAuthProof([firstHalf], 2 ** 31, 2 ** 31 + 1, leaf)).to.equal(pair(firstHalf, leaf));
      // The last leaf of 2^32 − 1 leaves: siblings at every level but the lowest, the largest subtree first from the top.
      const siblings = Array.from({ length: 31 }, (_, i) => hashOf(`sibling ${i}`));
      const expected = siblings.reduce((node, sibling) => pair(sibling, node), leaf);
      expect(processAuthProof(siblings, 2 ** 32 - 2, 2 ** 32 - 1, leaf)).to.equal(expected);
      expect(processAuthProof(siblings.slice(1), 2 ** 32 - 2, 2 ** 32 - 1, leaf)).to.equal(undefined);
    });

    it("does not accept a proof against another tree size with the same shape at the leaf", () => {
      const six = AuthTree.from(leavesOf(6));
      expect(processAuthProof(tree.proof(0), 0, 6, leaves[0])).to.not.equal(six.root);
    });
  });

  describe("isLeafRevoked", () => {
    it("reads leaf i as bit i % 255 of word i / 255", () => {
      const words = [WORD_ALLOCATED | (1n << 254n), WORD_ALLOCATED | 1n, WORD_ALLOCATED | 1n];
      expect(isLeafRevoked(words, 254)).to.equal(true);
      expect(isLeafRevoked(words, 255)).to.equal(true);
      expect(isLeafRevoked(words, 510)).to.equal(true);
      expect(isLeafRevoked(words, 0)).to.equal(false);
      expect(isLeafRevoked(words, 253)).to.equal(false);
      expect(isLeafRevoked(words, 256)).to.equal(false);
      expect(isLeafRevoked(words, 509)).to.equal(false);
    });

    it("does not count a word's allocation bit 255 as a revoked leaf", () => {
      const words = [WORD_ALLOCATED, WORD_ALLOCATED];
      for (const index of [0, 254, 255, 509]) expect(isLeafRevoked(words, index), `leaf ${index}`).to.equal(false);
    });

    it("is false for a leaf past the last word and for no words", () => {
      expect(isLeafRevoked([WORD_ALLOCATED | 1n], 255)).to.equal(false);
      expect(isLeafRevoked([], 0)).to.equal(false);
    });
  });

  describe("verifyAuthPath offline", () => {
    it("the hand-built hierarchy is consistent (its proofs lead to its roots)", () => {
      for (const step of devicePath) {
        const group = [R, C, S].find((g) => g.state.gid === step.gid)!;
        expect(step.leafCount).to.equal(group.state.leafCount);
        expect(processAuthProof(step.proof, step.entry.index, group.state.leafCount, authLeaf(step.entry))).to.equal(group.state.root);
      }
    });

    describe("Valid", () => {
      it("accepts the device's three-step path up to a trusted root", () => {
        expect(verifyAuthPath(devicePath, trustedWith())).to.deep.equal(result("Valid", 0));
      });

      it("accepts every member's path at every level", () => {
        for (let i = 0; i < S.entries.length; i++) expect(verifyAuthPath([S.step(i), C.step(3), R.step(1)], trustedWith()).status).to.equal("Valid");
        for (let i = 0; i < C.entries.length; i++) expect(verifyAuthPath([C.step(i), R.step(1)], trustedWith()).status).to.equal("Valid");
        for (let i = 0; i < R.entries.length; i++) expect(verifyAuthPath([R.step(i)], trustedWith()).status).to.equal("Valid");
      });

      it("accepts the groups as a Map as well as an array", () => {
        const groups = new Map([R, C, S].map((g) => [g.state.gid, g.state] as const));
        expect(verifyAuthPath(devicePath, { trustedRoots: [R.state.gid], groups })).to.deep.equal(result("Valid", 0));
        groups.delete(C.state.gid);
        expect(verifyAuthPath(devicePath, { trustedRoots: [R.state.gid], groups })).to.deep.equal(result("UnknownGroup", 1));
      });

      it("accepts any iterable of groups, such as a generator", () => {
        function* groups() {
          yield R.state;
          yield C.state;
          yield S.state;
        }
        expect(verifyAuthPath(devicePath, { trustedRoots: [R.state.gid], groups: groups() }).status).to.equal("Valid");
      });

      it("compares gids case-insensitively in the path, the groups, the parents and the trusted roots", () => {
        const upperPath = devicePath.map((step) => ({ ...step, gid: upper(step.gid) }));
        expect(verifyAuthPath(upperPath, trustedWith()).status).to.equal("Valid");
        const upperGroups: TrustedState = {
          trustedRoots: [upper(R.state.gid)],
          groups: [R, C, S].map((g) => ({ ...g.state, gid: upper(g.state.gid), parentGid: upper(g.state.parentGid) })),
        };
        expect(verifyAuthPath(devicePath, upperGroups).status).to.equal("Valid");
      });

      it("accepts a lower-case Master address in a step", () => {
        expect(verifyAuthPath(pathWith(1, (s) => ({ ...s, entry: { ...s.entry, device: s.entry.device.toLowerCase() as Address } })), trustedWith()).status).to.equal("Valid");
      });

      it("accepts the path when another leaf of the same word is revoked", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ S: { revocationWords: [WORD_ALLOCATED | 1n] } })).status).to.equal("Valid");
      });
    });

    describe("EmptyPath", () => {
      it("rejects an empty path at step 0", () => {
        expect(verifyAuthPath([], trustedWith())).to.deep.equal(result("EmptyPath", 0));
      });
    });

    describe("UnknownGroup", () => {
      it("rejects a step in a group the verifier holds no state for", () => {
        const groups = [R.state, S.state];
        expect(verifyAuthPath(devicePath, { trustedRoots: [R.state.gid], groups })).to.deep.equal(result("UnknownGroup", 1));
      });

      it("rejects a first step in an unknown gid", () => {
        expect(verifyAuthPath(pathWith(0, (s) => ({ ...s, gid: toId("nowhere") })), trustedWith())).to.deep.equal(result("UnknownGroup", 0));
      });
    });

    describe("InactiveGroup", () => {
      it("rejects a path through a deactivated root group at that step", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ R: { active: false } }))).to.deep.equal(result("InactiveGroup", 2));
      });

      it("rejects a path whose own group was deactivated at step 0, before looking further", () => {
        expect(verifyAuthPath(pathWith(1, (s) => ({ ...s, proof: [] })), trustedWith({ S: { active: false } }))).to.deep.equal(result("InactiveGroup", 0));
      });
    });

    describe("IndexOutOfRange", () => {
      it("rejects an index at the step's leaf count", () => {
        expect(verifyAuthPath(pathWith(1, (s) => ({ ...s, entry: { ...s.entry, index: 5 } })), trustedWith())).to.deep.equal(result("IndexOutOfRange", 1));
      });

      it("rejects an index beyond a leaf count the step shrank to, before any other check of the step", () => {
        expect(verifyAuthPath(pathWith(1, (s) => ({ ...s, leafCount: 3 })), trustedWith())).to.deep.equal(result("IndexOutOfRange", 1));
        expect(verifyAuthPath(pathWith(1, (s) => ({ ...s, leafCount: 0 })), trustedWith({ C: { revocationWords: [WORD_ALLOCATED | 8n] } }))).to.deep.equal(
          result("IndexOutOfRange", 1),
        );
      });

      it("rejects a negative or fractional index or leaf count", () => {
        expect(verifyAuthPath(pathWith(0, (s) => ({ ...s, entry: { ...s.entry, index: -1 } })), trustedWith())).to.deep.equal(result("IndexOutOfRange", 0));
        expect(verifyAuthPath(pathWith(0, (s) => ({ ...s, entry: { ...s.entry, index: 0.5 } })), trustedWith())).to.deep.equal(result("IndexOutOfRange", 0));
        expect(verifyAuthPath(pathWith(0, (s) => ({ ...s, leafCount: 1.5 })), trustedWith())).to.deep.equal(result("IndexOutOfRange", 0));
      });
    });

    describe("Stale", () => {
      // C grew from 5 to 8 leaves after the path was built: the path's step 1 is for 5.
      const consistent = pathWith(1, (s) => ({ ...s, consistency: grownC.consistencyProof(5, 8) }));

      it("reports a step built for an older size, without a consistency proof, as Stale (never InvalidProof)", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ C: grownCState }))).to.deep.equal(result("Stale", 1));
      });

      it("accepts the old step with a consistency proof from its size to the verifier's", () => {
        expect(verifyAuthPath(consistent, trustedWith({ C: grownCState }))).to.deep.equal(result("Valid", 0));
      });

      it("accepts the old step without a consistency proof when the verifier's state knows the root at that size (rootAt)", () => {
        const rootAt = (n: number) => (n <= grownC.size ? grownC.rootAt(n) : undefined);
        expect(verifyAuthPath(devicePath, trustedWith({ C: { ...grownCState, rootAt } }))).to.deep.equal(result("Valid", 0));
      });

      it("is still Stale when rootAt does not know that size", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ C: { ...grownCState, rootAt: () => undefined } }))).to.deep.equal(result("Stale", 1));
      });

      it("reports a step built for more leaves than the verifier holds as Stale: the verifier's state is older", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ C: { leafCount: 4, root: C.tree.rootAt(4) } }))).to.deep.equal(result("Stale", 1));
      });

      it("is reported after a broken link and before a revocation at the same step", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ C: grownCState, S: { master: addressOf("c") } }))).to.deep.equal(result("NotGroupMaster", 1));
        expect(verifyAuthPath(devicePath, trustedWith({ C: { ...grownCState, revocationWords: [WORD_ALLOCATED | 8n] } }))).to.deep.equal(result("Stale", 1));
        expect(verifyAuthPath(consistent, trustedWith({ C: { ...grownCState, revocationWords: [WORD_ALLOCATED | 8n] } }))).to.deep.equal(result("Revoked", 1));
      });

      it("stops at the first stale step", () => {
        const grownR = AuthTree.from([...R.entries.map(authLeaf), hashOf("R joins later")]);
        const both = trustedWith({ C: grownCState, R: { leafCount: 4, root: grownR.root } });
        expect(verifyAuthPath(devicePath, both)).to.deep.equal(result("Stale", 1));
        expect(verifyAuthPath(consistent, both)).to.deep.equal(result("Stale", 2));
      });
    });

    describe("InvalidProof", () => {
      it("rejects a changed sibling", () => {
        expect(verifyAuthPath(pathWith(1, (s) => ({ ...s, proof: [hashOf("forged"), ...s.proof.slice(1)] })), trustedWith())).to.deep.equal(result("InvalidProof", 1));
      });

      it("rejects a missing or an extra sibling", () => {
        expect(verifyAuthPath(pathWith(2, (s) => ({ ...s, proof: s.proof.slice(1) })), trustedWith())).to.deep.equal(result("InvalidProof", 2));
        expect(verifyAuthPath(pathWith(0, (s) => ({ ...s, proof: [...s.proof, zeroHash] })), trustedWith())).to.deep.equal(result("InvalidProof", 0));
      });

      it("rejects a changed entry field", () => {
        const changes: ((e: AuthEntry) => AuthEntry)[] = [
          (e) => ({ ...e, entryHash: hashOf("forged") }),
          (e) => ({ ...e, master: addressOf("impostor") }),
          (e) => ({ ...e, device: addressOf("impostor") }),
          (e) => ({ ...e, index: 0 }),
        ];
        for (const change of changes) {
          expect(verifyAuthPath(pathWith(0, (s) => ({ ...s, entry: change(s.entry) })), trustedWith())).to.deep.equal(result("InvalidProof", 0));
        }
      });

      it("rejects a proof against a root the verifier does not hold", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ R: { root: hashOf("another root") } }))).to.deep.equal(result("InvalidProof", 2));
      });

      it("rejects a proof claimed for another leaf count than it was built for", () => {
        expect(verifyAuthPath(pathWith(1, (s) => ({ ...s, leafCount: 8 })), trustedWith({ C: grownCState }))).to.deep.equal(result("InvalidProof", 1));
        expect(verifyAuthPath(pathWith(1, (s) => ({ ...s, leafCount: 4 })), trustedWith())).to.deep.equal(result("InvalidProof", 1));
      });

      it("rejects a step of the current size whose proof is for an older tree", () => {
        const old = pathWith(1, (s) => ({ ...s, leafCount: 8, proof: C.tree.proof(3) }));
        expect(verifyAuthPath(old, trustedWith({ C: grownCState }))).to.deep.equal(result("InvalidProof", 1));
      });

      it("rejects every mutation of a consistency proof, never as Stale", () => {
        expect(grownC.rootAt(5)).to.equal(C.tree.root);
        for (const bad of proofMutations(grownC, 5, 8)) {
          const path = pathWith(1, (s) => ({ ...s, consistency: bad.proof }));
          expect(verifyAuthPath(path, trustedWith({ C: grownCState })), bad.name).to.deep.equal(result("InvalidProof", 1));
        }
      });

      it("rejects a consistency proof to another size than the verifier's", () => {
        const toSeven = pathWith(1, (s) => ({ ...s, consistency: grownC.consistencyProof(5, 7) }));
        expect(verifyAuthPath(toSeven, trustedWith({ C: grownCState }))).to.deep.equal(result("InvalidProof", 1));
      });

      it("rejects an old step whose root rootAt knows differently", () => {
        const other = AuthTree.from(leavesOf(8, "another history"));
        const rootAt = (n: number) => other.rootAt(n);
        expect(verifyAuthPath(devicePath, trustedWith({ C: { ...grownCState, rootAt } }))).to.deep.equal(result("InvalidProof", 1));
      });

      it("prefers a consistency proof to rootAt: a bad one is InvalidProof even when rootAt would accept the step", () => {
        const rootAt = (n: number) => grownC.rootAt(n);
        const bad = pathWith(1, (s) => ({ ...s, consistency: [hashOf("forged")] }));
        expect(verifyAuthPath(bad, trustedWith({ C: { ...grownCState, rootAt } }))).to.deep.equal(result("InvalidProof", 1));
      });

      it("is reported before a revocation at the same step", () => {
        const tampered = pathWith(0, (s) => ({ ...s, proof: [hashOf("forged")] }));
        expect(verifyAuthPath(tampered, trustedWith({ S: { revocationWords: [WORD_ALLOCATED | 2n] } }))).to.deep.equal(result("InvalidProof", 0));
      });
    });

    describe("Revoked", () => {
      it("rejects a revoked device at step 0", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ S: { revocationWords: [WORD_ALLOCATED | 2n] } }))).to.deep.equal(result("Revoked", 0));
      });

      it("rejects a path through a revoked cluster head at its step", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ R: { revocationWords: [WORD_ALLOCATED | 2n] } }))).to.deep.equal(result("Revoked", 2));
      });
    });

    describe("NotParentGroup", () => {
      it("rejects a path that skips a level", () => {
        expect(verifyAuthPath([S.step(1), R.step(1)], trustedWith())).to.deep.equal(result("NotParentGroup", 1));
      });

      it("rejects a path whose steps are in the wrong order", () => {
        expect(verifyAuthPath([C.step(3), S.step(1), R.step(1)], trustedWith())).to.deep.equal(result("NotParentGroup", 1));
      });
    });

    describe("NotGroupMaster", () => {
      it("rejects a step for a parent-group member that is not the Master of the group below", () => {
        expect(verifyAuthPath([S.step(1), C.step(0), R.step(1)], trustedWith())).to.deep.equal(result("NotGroupMaster", 1));
      });

      it("rejects the old cluster head's step after the group below changed Master", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ S: { master: addressOf("c") } }))).to.deep.equal(result("NotGroupMaster", 1));
      });
    });

    describe("UntrustedRoot", () => {
      it("rejects a path to a root group the verifier does not trust", () => {
        expect(verifyAuthPath(devicePath, trustedWith({}, [toId("another root")]))).to.deep.equal(result("UntrustedRoot", 2));
        expect(verifyAuthPath(devicePath, trustedWith({}, []))).to.deep.equal(result("UntrustedRoot", 2));
      });

      it("rejects a path that stops below a root group, even when that group is listed as trusted", () => {
        expect(verifyAuthPath([S.step(1), C.step(3)], trustedWith({}, [C.state.gid]))).to.deep.equal(result("UntrustedRoot", 1));
      });

      it("accepts the root among several trusted roots", () => {
        expect(verifyAuthPath(devicePath, trustedWith({}, [toId("another root"), R.state.gid])).status).to.equal("Valid");
      });
    });

    it("knows every status of the registry's enum, in its order", () => {
      expect(authPathStatuses).to.deep.equal([
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
      ]);
    });
  });

  describe("encodeAuthPath and decodeAuthPath", () => {
    const encoded = encodeAuthPath(devicePath);

    const consistentPath = pathWith(1, (s) => ({ ...s, consistency: grownC.consistencyProof(5, 8) }));
    const consistentEncoded = encodeAuthPath(consistentPath);

    it("round-trips a path, with and without consistency proofs", () => {
      expect(decodeAuthPath(encoded)).to.deep.equal(devicePath);
      expect(decodeAuthPath(consistentEncoded)).to.deep.equal(consistentPath);
      expect(verifyAuthPath(decodeAuthPath(consistentEncoded), trustedWith({ C: grownCState }))).to.deep.equal(result("Valid", 0));
    });

    it("decodes a step given without a consistency field with an empty one", () => {
      const bare = devicePath.map(({ consistency: _, ...step }) => step);
      expect(decodeAuthPath(encodeAuthPath(bare))).to.deep.equal(devicePath);
    });

    it("lays out version 2, step count, then each step's fixed fields, leaf count, siblings and consistency nodes", () => {
      expect(slice(encoded, 0, 1)).to.equal("0x02");
      expect(slice(encoded, 1, 2)).to.equal("0x03");
      expect(slice(encoded, 2, 34)).to.equal(S.state.gid);
      expect(getAddress(slice(encoded, 34, 54))).to.equal(device);
      expect(getAddress(slice(encoded, 54, 74))).to.equal(h2);
      expect(slice(encoded, 74, 78)).to.equal("0x00000001");
      expect(slice(encoded, 78, 110)).to.equal(S.entries[1].entryHash);
      expect(slice(encoded, 110, 114)).to.equal("0x00000002");
      expect(slice(encoded, 114, 115)).to.equal(numberToHex(S.tree.proof(1).length, { size: 1 }));
      const afterProof = 115 + 32 * S.tree.proof(1).length;
      expect(slice(encoded, 115, afterProof)).to.equal(concat(S.tree.proof(1)));
      expect(slice(encoded, afterProof, afterProof + 1), "no consistency nodes").to.equal("0x00");
      expect(slice(encoded, afterProof + 1, afterProof + 33), "the next step's gid").to.equal(C.state.gid);

      // Step 1 of the consistent path: its leaf count (5), then its 2 consistency nodes after its siblings.
      const step1 = afterProof + 1;
      const consistency = grownC.consistencyProof(5, 8);
      expect(slice(consistentEncoded, step1 + 108, step1 + 112)).to.equal("0x00000005");
      const step1Nodes = step1 + 113 + 32 * C.tree.proof(3).length;
      expect(slice(consistentEncoded, step1Nodes, step1Nodes + 1)).to.equal(numberToHex(consistency.length, { size: 1 }));
      expect(slice(consistentEncoded, step1Nodes + 1, step1Nodes + 1 + 32 * consistency.length)).to.equal(concat(consistency));
    });

    it("has authPathSize bytes: 2 + 114 per step + 32 per sibling or consistency node", () => {
      expect(authPathSize(devicePath)).to.equal(size(encoded));
      expect(authPathSize(devicePath)).to.equal(2 + 3 * 114 + 32 * devicePath.reduce((n, s) => n + s.proof.length, 0));
      expect(authPathSize(consistentPath)).to.equal(size(consistentEncoded));
      expect(authPathSize(consistentPath) - authPathSize(devicePath)).to.equal(32 * grownC.consistencyProof(5, 8).length);
      expect(authPathSize([])).to.equal(size(encodeAuthPath([])));
    });

    it("encodes the empty path as version and zero steps", () => {
      expect(encodeAuthPath([])).to.equal("0x0200");
      expect(decodeAuthPath("0x0200")).to.deep.equal([]);
    });

    it("round-trips the largest uint32 index and leaf count, and 255 siblings and 255 consistency nodes", () => {
      const nodes = (tag: string) => Array.from({ length: 255 }, (_, i) => hashOf(`${tag}${i}`));
      const step: AuthPathStep = { gid: R.state.gid, entry: { ...R.entries[0], index: 2 ** 32 - 2 }, leafCount: 2 ** 32 - 1, proof: nodes("s"), consistency: nodes("c") };
      expect(decodeAuthPath(encodeAuthPath([step]))).to.deep.equal([step]);
    });

    it("decodes upper-case hex to lower-case gids and checksummed addresses", () => {
      expect(decodeAuthPath(upper(encoded))).to.deep.equal(devicePath);
    });

    it("refuses to encode more than 255 steps, siblings or consistency nodes", () => {
      expectCode(() => encodeAuthPath(Array.from({ length: 256 }, () => R.step(0))), InvalidAuthPathError, "AuthPathTooLong");
      expectCode(() => encodeAuthPath([{ ...R.step(0), proof: Array.from({ length: 256 }, () => zeroHash) }]), InvalidAuthPathError, "AuthPathTooLong");
      expectCode(() => encodeAuthPath([{ ...R.step(0), consistency: Array.from({ length: 256 }, () => zeroHash) }]), InvalidAuthPathError, "AuthPathTooLong");
    });

    it("refuses to encode a field that does not fit: a leaf count or index outside uint32, a short node, a bad address", () => {
      for (const bad of [
        { ...R.step(0), leafCount: 2 ** 32 },
        { ...R.step(0), leafCount: -1 },
        { ...R.step(0), leafCount: 1.5 },
        { ...R.step(0), entry: { ...R.entries[0], index: 2 ** 32 } },
        { ...R.step(0), consistency: ["0x1234" as Hex] },
        { ...R.step(0), proof: [`0x${"zz".repeat(32)}` as Hex] },
        { ...R.step(0), gid: "0x01" as Hex },
        { ...R.step(0), entry: { ...R.entries[0], entryHash: zeroHash.slice(0, 64) as Hex } },
        { ...R.step(0), entry: { ...R.entries[0], device: "0x1234" as Address } },
      ]) {
        expectCode(() => encodeAuthPath([bad]), InvalidAuthPathError, "AuthPathMalformed");
      }
    });

    describe("decodeAuthPath rejections (AuthPathMalformed)", () => {
      const malformed = (input: string): void => {
        expectCode(() => decodeAuthPath(input as Hex), InvalidAuthPathError, "AuthPathMalformed");
      };

      it("rejects input that is not hex", () => {
        malformed("0xzz");
        malformed(encoded.slice(2));
        malformed("");
        malformed(42 as unknown as string);
      });

      it("rejects an empty or one-byte input", () => {
        malformed("0x");
        malformed("0x01");
      });

      it("rejects another version, version 1 (no leaf counts) included", () => {
        malformed(concat(["0x01", slice(encoded, 1)]));
        malformed(concat(["0x03", slice(encoded, 1)]));
        malformed(concat(["0x00", slice(encoded, 1)]));
        malformed("0x0100");
      });

      it("rejects a truncated encoding, in a step's fields, its siblings or its consistency nodes", () => {
        malformed(slice(encoded, 0, size(encoded) - 1));
        malformed(slice(encoded, 0, 40));
        malformed(slice(encoded, 0, 112));
        malformed(concat(["0x0204", slice(encoded, 2)]));
        malformed(slice(consistentEncoded, 0, size(consistentEncoded) - size(encodeAuthPath([R.step(1)])) + 2 - 1));
        malformed(slice(encoded, 0, 114));
      });

      it("rejects a consistency-node count that runs past the end", () => {
        // The last byte of a one-step path is its consistency-node count.
        const one = encodeAuthPath([R.step(1)]);
        malformed(concat([slice(one, 0, size(one) - 1), "0x01"]));
        malformed(concat([slice(one, 0, size(one) - 1), "0x01", slice(zeroHash, 0, 31)]));
      });

      it("rejects trailing bytes", () => {
        malformed(concat([encoded, "0x00"]));
        malformed(concat(["0x0202", slice(encoded, 2)]));
        const one = encodeAuthPath([R.step(1)]);
        malformed(concat([slice(one, 0, size(one) - 1), "0x00", zeroHash]));
      });
    });
  });

  describe("verifyAuthPath offline against the registry's own verifyAuthPath", () => {
    let deployed: TestRegistry;
    let snapshot: Hex;
    let ROOT: Id;
    let CHILD: Id;
    const oids = { rootMaster: toId("chain/root/master"), sibling: toId("chain/root/sibling"), head: toId("chain/root/head"), sibling2: toId("chain/root/sibling-2"), d1: toId("chain/child/d1"), d2: toId("chain/child/d2") };
    let rootMaster: LocalAccount;
    let head: LocalAccount;
    const d1 = privateKeyToAccount(generatePrivateKey());
    const d2 = privateKeyToAccount(generatePrivateKey());
    const rootEntries: AuthEntry[] = [];
    const childEntries: AuthEntry[] = [];
    let rootTree: AuthTree;
    let childTree: AuthTree;
    let childHead: Hex;

    const request = (method: string, params: unknown[] = []): Promise<unknown> =>
      (deployed.chain.publicClient.request as (args: { method: string; params: unknown[] }) => Promise<unknown>)({ method, params });

    /** Appends the entry the registry must have written, recomputing the auth chain from `head`. */
    function expectEntry(entries: AuthEntry[], chainHead: Hex, device: Address, master: Address, oid: Id): Hex {
      const entryHash = authEntryHash(chainHead, entries.length, device, master, oid);
      entries.push({ device, master, index: entries.length, entryHash });
      return entryHash;
    }

    before(async () => {
      deployed = await deployTestRegistry();
      const { chain, registry, domain, mined } = deployed;
      rootMaster = await chain.fundedAccount();
      head = await chain.fundedAccount();
      const rootWallet = chain.walletClient(rootMaster);
      const headWallet = chain.walletClient(head);
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
      const sibling = privateKeyToAccount(generatePrivateKey());
      const sibling2 = privateKeyToAccount(generatePrivateKey());

      // Root group: sibling (relayed), the cluster head (itself), sibling-2 (relayed).
      const root = await createGroup(rootWallet, { registry, label: "chain/root", masterOid: oids.rootMaster });
      await mined(root.hash);
      ROOT = root.gid;
      let rootHead = genesisAnchor(zeroHash, zeroHash, ROOT, rootMaster.address);
      const relay = async (account: LocalAccount, oid: Id) => {
        const token = await issueToken(rootMaster, { gid: ROOT, oid, device: account.address });
        await mined(associateBySig(rootWallet, { registry, association: await signAssociation(account, { domain, token, deadline }) }));
      };
      await relay(sibling, oids.sibling);
      rootHead = expectEntry(rootEntries, rootHead, sibling.address, rootMaster.address, oids.sibling);
      await mined(associate(headWallet, { registry, token: await issueToken(rootMaster, { gid: ROOT, oid: oids.head, device: head.address }) }));
      rootHead = expectEntry(rootEntries, rootHead, head.address, rootMaster.address, oids.head);
      await relay(sibling2, oids.sibling2);
      rootHead = expectEntry(rootEntries, rootHead, sibling2.address, rootMaster.address, oids.sibling2);

      // Child group of the cluster head, with d1 and d2 relayed in one batch.
      const child = await createGroup(headWallet, { registry, label: "chain/child", masterOid: oids.head, parentGid: ROOT });
      await mined(child.hash);
      CHILD = child.gid;
      childHead = genesisAnchor(rootHead, ROOT, CHILD, head.address);
      const associations = await Promise.all(
        ([[d1, oids.d1], [d2, oids.d2]] as const).map(async ([account, oid]) =>
          signAssociation(account, { domain, token: await issueToken(head, { gid: CHILD, oid, device: account.address }), deadline }),
        ),
      );
      const receipt = await mined(associateBatchBySig(headWallet, { registry, associations }));
      expect(getBatchItemResults({ logs: receipt.logs, registry, itemCount: 2 }).map((item) => item.status)).to.deep.equal(["Applied", "Applied"]);
      childHead = expectEntry(childEntries, childHead, d1.address, head.address, oids.d1);
      childHead = expectEntry(childEntries, childHead, d2.address, head.address, oids.d2);

      rootTree = AuthTree.from(rootEntries.map(authLeaf));
      childTree = AuthTree.from(childEntries.map(authLeaf));
      const [rootGroup, childGroup] = await Promise.all([getGroup(chain.publicClient, { registry, gid: ROOT }), getGroup(chain.publicClient, { registry, gid: CHILD })]);
      expect(rootGroup.chainHead, "root chain head").to.equal(rootHead);
      expect(childGroup.chainHead, "child chain head").to.equal(childHead);
      snapshot = (await request("evm_snapshot")) as Hex;
    });

    afterEach(async () => {
      // Undo what a test wrote (revocations, deactivation, growth); a reverted snapshot is used up.
      expect(await request("evm_revert", [snapshot])).to.equal(true);
      snapshot = (await request("evm_snapshot")) as Hex;
    });

    after(async () => {
      await deployed?.stop();
    });

    const rootStep = (index: number): AuthPathStep => ({ gid: ROOT, entry: rootEntries[index], leafCount: rootTree.size, proof: rootTree.proof(index), consistency: [] });
    const childStep = (index: number): AuthPathStep => ({ gid: CHILD, entry: childEntries[index], leafCount: childTree.size, proof: childTree.proof(index), consistency: [] });
    const d1Path = (): AuthPath => [childStep(0), rootStep(1)];

    /** Three more devices join the child group (in this test only: the snapshot undoes it); returns the grown tree. */
    async function growChild(): Promise<AuthTree> {
      const { chain, registry, domain, mined } = deployed;
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
      const entries = [...childEntries];
      let chainHead = childHead;
      for (let i = 0; i < 3; i++) {
        const account = privateKeyToAccount(generatePrivateKey());
        const oid = toId(`chain/child/later-${i}`);
        const token = await issueToken(head, { gid: CHILD, oid, device: account.address });
        await mined(associateBySig(chain.walletClient(head), { registry, association: await signAssociation(account, { domain, token, deadline }) }));
        chainHead = expectEntry(entries, chainHead, account.address, head.address, oid);
      }
      const grown = AuthTree.from(entries.map(authLeaf));
      expect((await getGroup(chain.publicClient, { registry, gid: CHILD })).root).to.equal(grown.root);
      return grown;
    }

    /** Runs both verifiers on the same path and state; they must agree, and the result is returned. */
    async function bothVerifiers(path: readonly AuthPathStep[], trustedRoot: Id = ROOT): Promise<VerifyAuthPathReturnType> {
      const { chain, registry } = deployed;
      const groups = await Promise.all([ROOT, CHILD].map((gid) => getGroupState(chain.publicClient, { registry, gid })));
      const offline = verifyAuthPath(path, { trustedRoots: [trustedRoot], groups });
      const onChain = await verifyAuthPathOnChain(chain.publicClient, { registry, path, trustedRootGid: trustedRoot });
      expect(offline, "offline and on-chain verdicts").to.deep.equal(onChain);
      return offline;
    }

    it("the auth chain, leaves and roots rebuilt in the test equal the registry's", async () => {
      const { chain, registry } = deployed;
      const [rootState, childState] = await Promise.all([ROOT, CHILD].map((gid) => getGroupState(chain.publicClient, { registry, gid })));
      expect(rootState).to.include({ root: rootTree.root, leafCount: 3, parentGid: zeroHash, master: rootMaster.address, active: true });
      expect(childState).to.include({ root: childTree.root, leafCount: 2, parentGid: ROOT, master: head.address, active: true });
      expect(rootState.revocationWords).to.deep.equal([WORD_ALLOCATED]);
    });

    it("both accept a valid path, at either level", async () => {
      expect(await bothVerifiers(d1Path())).to.deep.equal(result("Valid", 0));
      expect(await bothVerifiers([childStep(1), rootStep(1)])).to.deep.equal(result("Valid", 0));
      expect(await bothVerifiers([rootStep(1)])).to.deep.equal(result("Valid", 0));
    });

    it("both accept a path after the compact encoding round trip", async () => {
      expect(await bothVerifiers(decodeAuthPath(encodeAuthPath(d1Path())))).to.deep.equal(result("Valid", 0));
    });

    it("both reject a tampered proof at the step it is in", async () => {
      const path = d1Path();
      expect(await bothVerifiers([{ ...path[0], proof: [hashOf("forged")] }, path[1]])).to.deep.equal(result("InvalidProof", 0));
      expect(await bothVerifiers([path[0], { ...path[1], proof: [...path[1].proof].reverse() }])).to.deep.equal(result("InvalidProof", 1));
    });

    it("both report a path built before its group grew as Stale, and accept it with a consistency proof", async () => {
      const grown = await growChild();
      const old = d1Path();
      expect(await bothVerifiers(old)).to.deep.equal(result("Stale", 0));
      const consistency = grown.consistencyProof(2, 5);
      expect(await bothVerifiers([{ ...old[0], consistency }, old[1]])).to.deep.equal(result("Valid", 0));
      expect(await bothVerifiers([{ ...old[0], consistency: grown.consistencyProof(2, 4) }, old[1]])).to.deep.equal(result("InvalidProof", 0));
      expect(await bothVerifiers([{ ...old[0], consistency: [hashOf("forged"), ...consistency.slice(1)] }, old[1]])).to.deep.equal(result("InvalidProof", 0));
      const fresh: AuthPathStep = { gid: CHILD, entry: childEntries[0], leafCount: 5, proof: grown.proof(0), consistency: [] };
      expect(await bothVerifiers([fresh, old[1]])).to.deep.equal(result("Valid", 0));
    });

    it("both report a step claiming more leaves than the group has as Stale, and an index past its claim as IndexOutOfRange", async () => {
      const path = d1Path();
      expect(await bothVerifiers([{ ...path[0], leafCount: 3 }, path[1]])).to.deep.equal(result("Stale", 0));
      expect(await bothVerifiers([path[0], { ...path[1], leafCount: 1 }])).to.deep.equal(result("IndexOutOfRange", 1));
    });

    it("both reject a revoked device, and still accept its sibling", async () => {
      await deployed.mined(revoke(deployed.chain.walletClient(head), { registry: deployed.registry, gid: CHILD, oid: oids.d2 }));
      expect(await bothVerifiers([childStep(1), rootStep(1)])).to.deep.equal(result("Revoked", 0));
      expect(await bothVerifiers(d1Path())).to.deep.equal(result("Valid", 0));
    });

    it("both reject a device under a revoked cluster head at the head's step", async () => {
      await deployed.mined(revoke(deployed.chain.walletClient(rootMaster), { registry: deployed.registry, gid: ROOT, oid: oids.head }));
      expect(await bothVerifiers(d1Path())).to.deep.equal(result("Revoked", 1));
    });

    it("both reject a path through a deactivated group", async () => {
      await deployed.mined(deactivateGroup(deployed.chain.walletClient(head), { registry: deployed.registry, gid: CHILD }));
      expect(await bothVerifiers(d1Path())).to.deep.equal(result("InactiveGroup", 0));
    });

    it("agree on the structural failures: unknown group, index, parent, Master, root", async () => {
      const path = d1Path();
      expect(await bothVerifiers([{ ...path[0], gid: toId("chain/nowhere") }, path[1]])).to.deep.equal(result("UnknownGroup", 0));
      expect(await bothVerifiers([{ ...path[0], entry: { ...path[0].entry, index: 2 } }, path[1]])).to.deep.equal(result("IndexOutOfRange", 0));
      expect(await bothVerifiers([path[0], rootStep(0)])).to.deep.equal(result("NotGroupMaster", 1));
      expect(await bothVerifiers([path[0], path[0]])).to.deep.equal(result("NotParentGroup", 1));
      expect(await bothVerifiers(path, CHILD)).to.deep.equal(result("UntrustedRoot", 1));
      expect(await bothVerifiers([path[0]])).to.deep.equal(result("UntrustedRoot", 0));
      expect(await bothVerifiers([])).to.deep.equal(result("EmptyPath", 0));
    });

    it("the state snapshot is restored between tests (the revocations and growth above did not leak)", async () => {
      const state = await getGroupState(deployed.chain.publicClient, { registry: deployed.registry, gid: ROOT });
      expect(state.revocationWords).to.deep.equal([WORD_ALLOCATED]);
      expect(state.master).to.not.equal(zeroAddress);
      expect((await getGroupState(deployed.chain.publicClient, { registry: deployed.registry, gid: CHILD })).leafCount).to.equal(2);
    });
  });

  describe("verifyConsistency against the registry's AuthTree.verifyConsistency (through verifyAuthPath on chain)", () => {
    // A root group grows in stages; at each stage, for every older size, a one-step path built at
    // that size carries an honest or a spoiled consistency proof to the current size. The step's
    // inclusion proof is honest, so the chain says Valid exactly when its verifyConsistency accepts.
    const STAGES = [1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 23, 32, 33];
    const SEED = 2024;
    let deployed: TestRegistry;
    let gid: Id;
    let master: LocalAccount;
    const entries: AuthEntry[] = [];
    let chainHead: Hex;

    before(async () => {
      deployed = await deployTestRegistry();
      master = await deployed.chain.fundedAccount();
      const created = await createGroup(deployed.chain.walletClient(master), { registry: deployed.registry, label: "consistency/root", masterOid: toId("consistency/master") });
      await deployed.mined(created.hash);
      gid = created.gid;
      chainHead = genesisAnchor(zeroHash, zeroHash, gid, master.address);
    });

    after(async () => {
      await deployed?.stop();
    });

    /** Associates fresh devices in one batch until the group holds `size` leaves. */
    async function growTo(size: number): Promise<AuthTree> {
      const { chain, registry, domain, mined } = deployed;
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
      const associations = [];
      for (let index = entries.length; index < size; index++) {
        const account = privateKeyToAccount(generatePrivateKey());
        const oid = toId(`consistency/device-${index}`);
        const token = await issueToken(master, { gid, oid, device: account.address });
        associations.push(await signAssociation(account, { domain, token, deadline }));
        chainHead = authEntryHash(chainHead, index, account.address, master.address, oid);
        entries.push({ device: account.address, master: master.address, index, entryHash: chainHead });
      }
      await mined(associateBatchBySig(chain.walletClient(master), { registry, associations }));
      const tree = AuthTree.from(entries.map(authLeaf));
      expect((await getGroup(chain.publicClient, { registry, gid })).root, `root at ${size}`).to.equal(tree.root);
      return tree;
    }

    it(`agrees on every honest and spoiled proof from each older size to sizes ${STAGES.join(", ")} (seed ${SEED})`, async () => {
      const random = seededRandom(SEED);
      const { chain, registry } = deployed;
      let compared = 0;
      let accepted = 0;
      for (const size of STAGES) {
        const tree = await growTo(size);
        const state = await getGroupState(chain.publicClient, { registry, gid });
        for (let old = 1; old < size; old++) {
          const index = Math.floor(random() * old);
          const step: AuthPathStep = { gid, entry: entries[index], leafCount: old, proof: tree.proof(index, old), consistency: tree.consistencyProof(old, size) };
          const spoiled = proofMutations(tree, old, size);
          // Every candidate on chain would be slow: the honest proof and up to five spoiled ones, chosen at random.
          const picked = Array.from({ length: Math.min(5, spoiled.length) }, () => spoiled.splice(Math.floor(random() * spoiled.length), 1)[0]);
          for (const [name, consistency] of [["honest", step.consistency!] as const, ...picked.map((bad) => [bad.name, bad.proof] as const)]) {
            const path = [{ ...step, consistency }];
            const onChain = await verifyAuthPathOnChain(chain.publicClient, { registry, path, trustedRootGid: gid });
            const offline = verifyAuthPath(path, { trustedRoots: [gid], groups: [state] });
            const sdkAccepts = verifyConsistency(old, size, tree.rootAt(old), tree.root, consistency);
            const what = `${old} → ${size}, ${name}`;
            expect(offline, what).to.deep.equal(onChain);
            expect(onChain.status === "Valid", what).to.equal(sdkAccepts);
            expect(onChain.status, what).to.equal(name === "honest" ? "Valid" : "InvalidProof");
            compared++;
            if (sdkAccepts) accepted++;
          }
        }
      }
      expect(accepted).to.equal(STAGES.reduce((n, size) => n + size - 1, 0));
      expect(compared).to.be.greaterThan(3 * accepted);
    });
  });
});
