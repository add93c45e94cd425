import { expect } from "chai";
import { concat, encodeAbiParameters, getAddress, keccak256, numberToHex, size, slice, stringToHex, zeroAddress, zeroHash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Address, Hex, LocalAccount } from "viem";
import { associate, associateBatch, associateFor } from "../src/actions/association.js";
import { verifyAuthPathOnChain } from "../src/actions/auth-path.js";
import { createGroup, deactivateGroup, getGroup, getGroupState, revoke } from "../src/actions/groups.js";
import {
  AuthTree,
  InvalidAuthPathError,
  authBlockHash,
  authLeaf,
  authPathSize,
  authPathStatuses,
  decodeAuthPath,
  encodeAuthPath,
  genesisAnchor,
  isLeafRevoked,
  processAuthProof,
  verifyAuthPath,
} from "../src/authtable.js";
import type { AuthEntry, AuthPath, AuthPathStatus, AuthPathStep, TrustedGroupState, TrustedState, VerifyAuthPathReturnType } from "../src/authtable.js";
import { IomtError } from "../src/errors.js";
import { toId } from "../src/ids.js";
import type { Id } from "../src/ids.js";
import { issueToken } from "../src/tokens.js";
import { signAssociation } from "../src/typed-data.js";
import { deployTestRegistry } from "./support/registry.js";
import type { TestRegistry } from "./support/registry.js";
import { expectCode } from "./support/expect.js";

const WORD_ALLOCATED = 1n << 255n;

/** A deterministic, checksummed address per label. */
const addressOf = (label: string): Address => getAddress(slice(keccak256(stringToHex(label)), 12));
const hashOf = (label: string): Hex => keccak256(stringToHex(label));
const upper = (hex: Hex): Hex => `0x${hex.slice(2).toUpperCase()}`;

// ---------------------------------------------------------------- independent reference tree

/** keccak256(left ‖ right), over the raw bytes, in the order given. */
const pair = (left: Hex, right: Hex): Hex => keccak256(Buffer.concat([Buffer.from(left.slice(2), "hex"), Buffer.from(right.slice(2), "hex")]));

/** Largest power of two strictly below n (n ≥ 2). */
const split = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

/** The lean tree (unpaired node carried up) has the RFC 6962 shape: split at the largest power of two below n. */
function naiveRoot(leaves: readonly Hex[]): Hex {
  if (leaves.length === 0) return zeroHash;
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return pair(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

function naiveProof(leaves: readonly Hex[], m: number): Hex[] {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k ? [...naiveProof(leaves.slice(0, k), m), naiveRoot(leaves.slice(k))] : [...naiveProof(leaves.slice(k), m - k), naiveRoot(leaves.slice(0, k))];
}

const leavesOf = (count: number): Hex[] => Array.from({ length: count }, (_, i) => hashOf(`leaf ${i}`));

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
    head = authBlockHash(head, index, device, master, toId(`${name}/${index}`));
    return { device, master, index, blockHash: head };
  });
  const tree = AuthTree.from(entries.map(authLeaf));
  const words = Array.from({ length: Math.ceil(entries.length / 255) }, () => WORD_ALLOCATED);
  return {
    state: { gid, master, parentGid: parent?.gid ?? zeroHash, active: true, root: tree.root, leafCount: entries.length, revocationWords: words },
    entries,
    tree,
    step: (index) => ({ gid, entry: entries[index], proof: tree.proof(index) }),
  };
}

// Root group R (Master m0) holds a, H1, b; cluster C (Master H1, child of R) holds c, d, e, H2, f;
// sub-cluster S (Master H2, child of C) holds g, D. D's path: S[1] → C[3] → R[1].
const [m0, h1, h2, device] = ["m0", "H1", "H2", "D"].map(addressOf);
const R = buildGroup("R", m0, undefined, [addressOf("a"), h1, addressOf("b")]);
const C = buildGroup("C", h1, { gid: R.state.gid, head: R.entries[1].blockHash }, ["c", "d", "e"].map(addressOf).concat([h2, addressOf("f")]));
const S = buildGroup("S", h2, { gid: C.state.gid, head: C.entries[3].blockHash }, [addressOf("g"), device]);
const devicePath: AuthPath = [S.step(1), C.step(3), R.step(1)];

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

    it("authBlockHash is keccak256(abi.encode(prevHead, index, device, master, oid))", () => {
      const expected = keccak256(
        encodeAbiParameters(
          [{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "address" }, { type: "bytes32" }],
          [parentHead, 7n, dev, master, oid],
        ),
      );
      expect(authBlockHash(parentHead, 7, dev, master, oid)).to.equal(expected);
      expect(authBlockHash(parentHead, 8, dev, master, oid)).to.not.equal(expected);
    });

    it("authLeaf is keccak256(abi.encode(device, master, index, blockHash)) over 128 bytes", () => {
      const preimage = encodeAbiParameters([{ type: "address" }, { type: "address" }, { type: "uint256" }, { type: "bytes32" }], [dev, master, 3n, parentHead]);
      expect(size(preimage)).to.equal(128);
      expect(authLeaf({ device: dev, master, index: 3, blockHash: parentHead })).to.equal(keccak256(preimage));
    });

    it("authLeaf depends on every field, and on neither address's case", () => {
      const entry: AuthEntry = { device: dev, master, index: 3, blockHash: parentHead };
      const leaf = authLeaf(entry);
      expect(authLeaf({ ...entry, device: master })).to.not.equal(leaf);
      expect(authLeaf({ ...entry, master: dev })).to.not.equal(leaf);
      expect(authLeaf({ ...entry, index: 4 })).to.not.equal(leaf);
      expect(authLeaf({ ...entry, blockHash: oid })).to.not.equal(leaf);
      expect(authLeaf({ ...entry, device: dev.toLowerCase() as Address })).to.equal(leaf);
    });
  });

  describe("AuthTree", () => {
    for (const count of [0, 1, 2, 3, 4, 5, 7, 8, 9, 33]) {
      it(`has the reference root and proofs for ${count} leaves, and every proof leads to the root`, () => {
        const leaves = leavesOf(count);
        const tree = AuthTree.from(leaves);
        expect(tree.size).to.equal(count);
        expect(tree.root).to.equal(naiveRoot(leaves));
        for (let i = 0; i < count; i++) {
          const proof = tree.proof(i);
          expect(proof, `proof ${i}`).to.deep.equal(naiveProof(leaves, i));
          expect(proof.length).to.be.at.most(Math.ceil(Math.log2(count)));
          expect(processAuthProof(proof, i, count, leaves[i]), `leaf ${i}`).to.equal(tree.root);
        }
      });
    }

    it("has the reference root after every single append", () => {
      const leaves = leavesOf(33);
      const tree = new AuthTree();
      leaves.forEach((leaf, i) => {
        tree.append(leaf);
        expect(tree.root, `after ${i + 1}`).to.equal(naiveRoot(leaves.slice(0, i + 1)));
      });
    });

    it("has the zero root when empty and the leaf itself as root of one leaf", () => {
      expect(new AuthTree().root).to.equal(zeroHash);
      const [leaf] = leavesOf(1);
      expect(AuthTree.from([leaf]).root).to.equal(leaf);
      expect(AuthTree.from([leaf]).proof(0)).to.deep.equal([]);
    });

    it("returns the leaf at an index", () => {
      const leaves = leavesOf(5);
      expect(AuthTree.from(leaves).leaf(4)).to.equal(leaves[4]);
    });

    it("throws AuthTreeIndexOutOfRange for a leaf or proof outside the tree", () => {
      const tree = AuthTree.from(leavesOf(3));
      for (const index of [-1, 3, 1.5]) {
        expectCode(() => tree.leaf(index), IomtError, "AuthTreeIndexOutOfRange");
        expectCode(() => tree.proof(index), IomtError, "AuthTreeIndexOutOfRange");
      }
      expectCode(() => new AuthTree().proof(0), IomtError, "AuthTreeIndexOutOfRange");
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
      it("rejects an index at the group's leaf count", () => {
        expect(verifyAuthPath(pathWith(1, (s) => ({ ...s, entry: { ...s.entry, index: 5 } })), trustedWith())).to.deep.equal(result("IndexOutOfRange", 1));
      });

      it("rejects a step that the verifier's (older) leaf count does not cover yet", () => {
        expect(verifyAuthPath(devicePath, trustedWith({ C: { leafCount: 3 } }))).to.deep.equal(result("IndexOutOfRange", 1));
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
          (e) => ({ ...e, blockHash: hashOf("forged") }),
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

      it("rejects a proof made for another leaf count", () => {
        const grown = AuthTree.from([...C.entries.map(authLeaf), hashOf("a sixth leaf")]);
        expect(verifyAuthPath(devicePath, trustedWith({ C: { leafCount: 6, root: grown.root } }))).to.deep.equal(result("InvalidProof", 1));
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
      ]);
    });
  });

  describe("encodeAuthPath and decodeAuthPath", () => {
    const encoded = encodeAuthPath(devicePath);

    it("round-trips a path", () => {
      expect(decodeAuthPath(encoded)).to.deep.equal(devicePath);
    });

    it("lays out version, step count, then each step's fixed fields and siblings", () => {
      expect(slice(encoded, 0, 1)).to.equal("0x01");
      expect(slice(encoded, 1, 2)).to.equal("0x03");
      expect(slice(encoded, 2, 34)).to.equal(S.state.gid);
      expect(getAddress(slice(encoded, 34, 54))).to.equal(device);
      expect(getAddress(slice(encoded, 54, 74))).to.equal(h2);
      expect(slice(encoded, 74, 78)).to.equal("0x00000001");
      expect(slice(encoded, 78, 110)).to.equal(S.entries[1].blockHash);
      expect(slice(encoded, 110, 111)).to.equal(numberToHex(S.tree.proof(1).length, { size: 1 }));
    });

    it("has authPathSize bytes", () => {
      expect(authPathSize(devicePath)).to.equal(size(encoded));
      expect(authPathSize(devicePath)).to.equal(2 + 3 * 109 + 32 * devicePath.reduce((n, s) => n + s.proof.length, 0));
      expect(authPathSize([])).to.equal(size(encodeAuthPath([])));
    });

    it("encodes the empty path as version and zero steps", () => {
      expect(encodeAuthPath([])).to.equal("0x0100");
      expect(decodeAuthPath("0x0100")).to.deep.equal([]);
    });

    it("round-trips the largest uint32 index and a proof of 255 siblings", () => {
      const step: AuthPathStep = { gid: R.state.gid, entry: { ...R.entries[0], index: 2 ** 32 - 1 }, proof: Array.from({ length: 255 }, (_, i) => hashOf(`s${i}`)) };
      expect(decodeAuthPath(encodeAuthPath([step]))).to.deep.equal([step]);
    });

    it("decodes upper-case hex to lower-case gids and checksummed addresses", () => {
      expect(decodeAuthPath(upper(encoded))).to.deep.equal(devicePath);
    });

    it("refuses to encode more than 255 steps or 255 siblings", () => {
      expectCode(() => encodeAuthPath(Array.from({ length: 256 }, () => R.step(0))), InvalidAuthPathError, "AuthPathTooLong");
      expectCode(() => encodeAuthPath([{ ...R.step(0), proof: Array.from({ length: 256 }, () => zeroHash) }]), InvalidAuthPathError, "AuthPathTooLong");
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

      it("rejects another version", () => {
        malformed(concat(["0x02", slice(encoded, 1)]));
        malformed(concat(["0x00", slice(encoded, 1)]));
      });

      it("rejects a truncated encoding", () => {
        malformed(slice(encoded, 0, size(encoded) - 1));
        malformed(slice(encoded, 0, 40));
        malformed(concat(["0x0104", slice(encoded, 2)]));
      });

      it("rejects trailing bytes", () => {
        malformed(concat([encoded, "0x00"]));
        malformed(concat(["0x0102", slice(encoded, 2)]));
      });
    });
  });

  describe("verifyAuthPath offline against the registry's own verifyAuthPath", () => {
    let deployed: TestRegistry;
    let snapshot: Hex;
    const ROOT = toId("chain/root");
    const CHILD = toId("chain/child");
    const oids = { rootMaster: toId("chain/root/master"), sibling: toId("chain/root/sibling"), head: toId("chain/root/head"), sibling2: toId("chain/root/sibling-2"), d1: toId("chain/child/d1"), d2: toId("chain/child/d2") };
    let rootMaster: LocalAccount;
    let head: LocalAccount;
    const d1 = privateKeyToAccount(generatePrivateKey());
    const d2 = privateKeyToAccount(generatePrivateKey());
    const rootEntries: AuthEntry[] = [];
    const childEntries: AuthEntry[] = [];
    let rootTree: AuthTree;
    let childTree: AuthTree;

    const request = (method: string, params: unknown[] = []): Promise<unknown> =>
      (deployed.chain.publicClient.request as (args: { method: string; params: unknown[] }) => Promise<unknown>)({ method, params });

    /** Appends the entry the registry must have written, recomputing the auth chain from `head`. */
    function expectEntry(entries: AuthEntry[], chainHead: Hex, device: Address, master: Address, oid: Id): Hex {
      const blockHash = authBlockHash(chainHead, entries.length, device, master, oid);
      entries.push({ device, master, index: entries.length, blockHash });
      return blockHash;
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
      await mined(createGroup(rootWallet, { registry, gid: ROOT, masterOid: oids.rootMaster }));
      let rootHead = genesisAnchor(zeroHash, zeroHash, ROOT, rootMaster.address);
      const relay = async (account: LocalAccount, oid: Id) => {
        const token = await issueToken(rootMaster, { gid: ROOT, oid, device: account.address });
        await mined(associateFor(rootWallet, { registry, association: await signAssociation(account, { domain, token, deadline }) }));
      };
      await relay(sibling, oids.sibling);
      rootHead = expectEntry(rootEntries, rootHead, sibling.address, rootMaster.address, oids.sibling);
      await mined(associate(headWallet, { registry, token: await issueToken(rootMaster, { gid: ROOT, oid: oids.head, device: head.address }) }));
      rootHead = expectEntry(rootEntries, rootHead, head.address, rootMaster.address, oids.head);
      await relay(sibling2, oids.sibling2);
      rootHead = expectEntry(rootEntries, rootHead, sibling2.address, rootMaster.address, oids.sibling2);

      // Child group of the cluster head, with d1 and d2 relayed in one batch.
      await mined(createGroup(headWallet, { registry, gid: CHILD, masterOid: oids.head, parentGid: ROOT }));
      let childHead = genesisAnchor(rootHead, ROOT, CHILD, head.address);
      const associations = await Promise.all(
        ([[d1, oids.d1], [d2, oids.d2]] as const).map(async ([account, oid]) =>
          signAssociation(account, { domain, token: await issueToken(head, { gid: CHILD, oid, device: account.address }), deadline }),
        ),
      );
      await mined(associateBatch(headWallet, { registry, associations }));
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
      // Undo what a test wrote (revocations, deactivation); a reverted snapshot is used up.
      expect(await request("evm_revert", [snapshot])).to.equal(true);
      snapshot = (await request("evm_snapshot")) as Hex;
    });

    after(async () => {
      await deployed?.stop();
    });

    const rootStep = (index: number): AuthPathStep => ({ gid: ROOT, entry: rootEntries[index], proof: rootTree.proof(index) });
    const childStep = (index: number): AuthPathStep => ({ gid: CHILD, entry: childEntries[index], proof: childTree.proof(index) });
    const d1Path = (): AuthPath => [childStep(0), rootStep(1)];

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

    it("the state snapshot is restored between tests (the revocations above did not leak)", async () => {
      const state = await getGroupState(deployed.chain.publicClient, { registry: deployed.registry, gid: ROOT });
      expect(state.revocationWords).to.deep.equal([WORD_ALLOCATED]);
      expect(state.master).to.not.equal(zeroAddress);
    });
  });
});
