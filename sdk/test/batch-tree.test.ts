import { expect } from "chai";
import { concat, keccak256, numberToHex, stringToHex } from "viem";
import type { Hex } from "viem";
import { anchorBatch, getAnchor, verifyAnchoredMessageOnChain } from "../src/actions/data.js";
import { createGroup } from "../src/actions/groups.js";
import { buildBatchTree, verifyBatchProof } from "../src/batch-tree.js";
import { IomtError } from "../src/errors.js";
import { setKeccak256Backend } from "../src/keccak.js";
import { toId } from "../src/ids.js";
import { createDataMessage, hashDataMessage, randomSalt } from "../src/typed-data.js";
import { deployTestRegistry } from "./support/registry.js";
import type { TestRegistry } from "./support/registry.js";
import { expectCode } from "./support/expect.js";

const leavesOf = (count: number, salt = "leaf"): Hex[] =>
  Array.from({ length: count }, (_, i) => keccak256(concat([numberToHex(i + 1, { size: 32 }), stringToHex(salt)])));

// ---------------------------------------------------------------- an independent reference

/** OpenZeppelin's commutative pair hash: keccak256 of the two nodes in ascending order, over raw bytes. */
function sortedPair(a: Hex, b: Hex): Hex {
  const [low, high] = BigInt(a) <= BigInt(b) ? [a, b] : [b, a];
  return keccak256(Buffer.concat([Buffer.from(low.slice(2), "hex"), Buffer.from(high.slice(2), "hex")]));
}

/** viem's keccak-256 over bytes (another implementation than the SDK's default, noble's), counting its calls. */
function countedKeccak(): { keccak256: (data: Uint8Array) => Uint8Array; calls: number } {
  const counted = {
    calls: 0,
    keccak256: (data: Uint8Array) => {
      counted.calls++;
      return keccak256(data, "bytes");
    },
  };
  return counted;
}

/** Largest power of two strictly below n (n ≥ 2). */
const split = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

/**
 * The tree with the last unpaired node carried up is the RFC 6962 shape: the left subtree is the
 * complete tree of the largest power of two below n leaves, the right subtree the rest.
 */
function naiveRoot(leaves: readonly Hex[]): Hex {
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return sortedPair(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

/** The audit path of leaf m, siblings from the leaf up. */
function naiveProof(leaves: readonly Hex[], m: number): Hex[] {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k ? [...naiveProof(leaves.slice(0, k), m), naiveRoot(leaves.slice(k))] : [...naiveProof(leaves.slice(k), m - k), naiveRoot(leaves.slice(0, k))];
}

describe("batch tree", () => {
  describe("buildBatchTree", () => {
    for (let count = 1; count <= 9; count++) {
      it(`gives the reference root and proofs for ${count} leaves`, () => {
        const leaves = leavesOf(count);
        const tree = buildBatchTree(leaves);
        expect(tree.root).to.equal(naiveRoot(leaves));
        expect(tree.leaves).to.deep.equal(leaves);
        for (let i = 0; i < count; i++) {
          expect(tree.proof(i), `proof ${i}`).to.deep.equal(naiveProof(leaves, i));
          expect(verifyBatchProof({ root: tree.root, leaf: leaves[i], proof: tree.proof(i) }), `leaf ${i}`).to.equal(true);
        }
      });
    }

    it("makes the root of one leaf that leaf, with an empty proof", () => {
      const [leaf] = leavesOf(1);
      const tree = buildBatchTree([leaf]);
      expect(tree.root).to.equal(leaf);
      expect(tree.proof(0)).to.deep.equal([]);
    });

    it("hashes a pair in ascending order whichever side the smaller node is on", () => {
      const [a, b] = leavesOf(2);
      expect(buildBatchTree([a, b]).root).to.equal(buildBatchTree([b, a]).root);
      expect(buildBatchTree([a, b]).root).to.equal(sortedPair(a, b));
    });

    it("depends on every leaf", () => {
      const leaves = leavesOf(7);
      const root = buildBatchTree(leaves).root;
      for (let i = 0; i < leaves.length; i++) {
        const changed = [...leaves];
        changed[i] = keccak256(changed[i]);
        expect(buildBatchTree(changed).root, `leaf ${i}`).to.not.equal(root);
      }
    });

    it("copies the leaves, so changing the caller's array afterwards does not change the tree", () => {
      const leaves = leavesOf(3);
      const tree = buildBatchTree(leaves);
      const root = tree.root;
      leaves[0] = keccak256("0x00");
      expect(tree.root).to.equal(root);
      expect(tree.leaves[0]).to.not.equal(leaves[0]);
    });

    it("throws BatchEmpty for no leaves", () => {
      expectCode(() => buildBatchTree([]), IomtError, "BatchEmpty");
    });

    it("throws BatchIndexOutOfRange for a proof index outside the batch", () => {
      const tree = buildBatchTree(leavesOf(5));
      for (const index of [-1, 5, 6, 1.5, Number.NaN]) expectCode(() => tree.proof(index), IomtError, "BatchIndexOutOfRange");
    });

    it("throws BatchLeafInvalid for a leaf that is not a 32-byte hex digest", () => {
      const [good] = leavesOf(1);
      for (const bad of ["0x1234", `${good}00`, good.slice(0, -1), `0x${"zz".repeat(32)}`, good.slice(2), 7]) {
        expectCode(() => buildBatchTree([good, bad as Hex]), IomtError, "BatchLeafInvalid");
      }
    });
  });

  describe("buildBatchTree with a given keccak256", () => {
    it("gives the same root and proofs as noble's when the hash is another keccak-256", () => {
      for (const count of [1, 2, 3, 7, 64, 100]) {
        const leaves = leavesOf(count, "given");
        const reference = buildBatchTree(leaves);
        const given = buildBatchTree(leaves, { keccak256: (data) => keccak256(data, "bytes") });
        expect(given.root).to.equal(reference.root);
        for (let i = 0; i < count; i++) expect(given.proof(i)).to.deep.equal(reference.proof(i));
      }
    });

    it("hashes every pair with the given function and nothing else", () => {
      const counted = countedKeccak();
      const leaves = leavesOf(7, "counted");
      expect(buildBatchTree(leaves, { keccak256: counted.keccak256 }).root).to.equal(buildBatchTree(leaves).root);
      expect(counted.calls).to.equal(6); // 7 leaves: 3 + 2 + 1 pairs
      expect(buildBatchTree(leaves, { keccak256: () => new Uint8Array(32) }).root).to.equal(`0x${"00".repeat(32)}`);
    });

    it("hashes with the SDK's keccak backend when given none, so a native backend installed once serves every tree and proof", () => {
      const counted = countedKeccak();
      const leaves = leavesOf(7, "backend");
      const expected = buildBatchTree(leaves).root;
      setKeccak256Backend(counted.keccak256);
      try {
        const tree = buildBatchTree(leaves);
        expect(tree.root).to.equal(expected);
        expect(verifyBatchProof({ root: tree.root, leaf: leaves[2], proof: tree.proof(2) })).to.equal(true);
        expect(counted.calls).to.equal(6 + 3); // the tree's 6 pairs, then the proof's 3 levels
      } finally {
        setKeccak256Backend(undefined);
      }
    });

    it("accepts upper-case hex leaves and orders them as numbers", () => {
      const leaves = leavesOf(5, "case");
      const upper = leaves.map((leaf) => `0x${leaf.slice(2).toUpperCase()}` as Hex);
      expect(buildBatchTree(upper).root).to.equal(buildBatchTree(leaves).root);
      expect(buildBatchTree(upper).leaves).to.deep.equal(upper);
    });
  });

  describe("verifyBatchProof", () => {
    const leaves = leavesOf(6);
    const tree = buildBatchTree(leaves);

    it("rejects a leaf that is not in the batch", () => {
      expect(verifyBatchProof({ root: tree.root, leaf: leavesOf(1, "other")[0], proof: tree.proof(0) })).to.equal(false);
    });

    it("rejects another leaf's proof", () => {
      expect(verifyBatchProof({ root: tree.root, leaf: leaves[0], proof: tree.proof(2) })).to.equal(false);
    });

    it("rejects a proof with a changed, missing or extra sibling", () => {
      const proof = tree.proof(3);
      expect(verifyBatchProof({ root: tree.root, leaf: leaves[3], proof: [keccak256(proof[0]), ...proof.slice(1)] })).to.equal(false);
      expect(verifyBatchProof({ root: tree.root, leaf: leaves[3], proof: proof.slice(0, -1) })).to.equal(false);
      expect(verifyBatchProof({ root: tree.root, leaf: leaves[3], proof: [...proof, leaves[0]] })).to.equal(false);
    });

    it("rejects the right proof against another batch's root", () => {
      expect(verifyBatchProof({ root: buildBatchTree(leavesOf(6, "other")).root, leaf: leaves[1], proof: tree.proof(1) })).to.equal(false);
    });

    it("compares the root case-insensitively", () => {
      const upper = `0x${tree.root.slice(2).toUpperCase()}` as Hex;
      expect(verifyBatchProof({ root: upper, leaf: leaves[4], proof: tree.proof(4) })).to.equal(true);
    });

    it("answers false, not an exception, for a root, leaf or sibling that is not a 32-byte hex digest", () => {
      const proof = tree.proof(3);
      const misshapen = (node: Hex): Hex[] => ["0x1234", `${node}00`, node.slice(0, -1), `0x${"zz".repeat(32)}`, node.slice(2), `0X${node.slice(2)}`, 7, undefined] as Hex[];
      for (const bad of misshapen(leaves[3])) expect(verifyBatchProof({ root: tree.root, leaf: bad, proof }), `leaf ${String(bad)}`).to.equal(false);
      for (const bad of misshapen(tree.root)) expect(verifyBatchProof({ root: bad, leaf: leaves[3], proof }), `root ${String(bad)}`).to.equal(false);
      for (const bad of misshapen(proof[1])) expect(verifyBatchProof({ root: tree.root, leaf: leaves[3], proof: [proof[0], bad, ...proof.slice(2)] }), `sibling ${String(bad)}`).to.equal(false);
      expect(verifyBatchProof({ root: tree.root, leaf: leaves[3], proof: "0x" as unknown as Hex[] })).to.equal(false);
    });

    it("does not take a shorter spelling of a root's number for the root itself", () => {
      // The old hex rule compared nodes as numbers, so "0x01" passed for the root 0x00…01.
      const root = numberToHex(1, { size: 32 });
      expect(verifyBatchProof({ root, leaf: "0x01", proof: [] })).to.equal(false);
      expect(verifyBatchProof({ root, leaf: root, proof: [] })).to.equal(true);
    });
  });

  describe("verifyBatchProof with a given keccak256", () => {
    const leaves = leavesOf(6, "verify-given");
    const tree = buildBatchTree(leaves);

    it("hashes every pair of the proof with the given function, as buildBatchTree does", () => {
      for (let i = 0; i < leaves.length; i++) {
        const counted = countedKeccak();
        expect(verifyBatchProof({ root: tree.root, leaf: leaves[i], proof: tree.proof(i) }, { keccak256: counted.keccak256 }), `leaf ${i}`).to.equal(true);
        expect(counted.calls, `leaf ${i}`).to.equal(tree.proof(i).length);
      }
    });

    it("rejects the proofs when the given function is not the keccak-256 the tree was built with", () => {
      const zeros = () => new Uint8Array(32);
      expect(verifyBatchProof({ root: tree.root, leaf: leaves[0], proof: tree.proof(0) }, { keccak256: zeros })).to.equal(false);
      expect(verifyBatchProof({ root: buildBatchTree(leaves, { keccak256: zeros }).root, leaf: leaves[0], proof: tree.proof(0) }, { keccak256: zeros })).to.equal(true);
    });
  });

  describe("batch trees against a deployed registry", () => {
    let deployed: TestRegistry;

    before(async () => {
      deployed = await deployTestRegistry();
    });

    after(async () => {
      await deployed?.stop();
    });

    it("an anchored 5-message batch verifies on chain with the SDK's proofs, and a message outside it does not", async () => {
      const { chain, registry, domain, mined } = deployed;
      const master = await chain.fundedAccount();
      const wallet = chain.walletClient(master);
      const { hash, gid } = await createGroup(wallet, { registry, label: "batch/ward", masterOid: toId("batch/ward/master") });
      await mined(hash);

      const messages = Array.from({ length: 5 }, (_, i) =>
        createDataMessage({ gid, oid: toId(`batch/ward/device-${i % 2}`), nonce: BigInt(i), payload: `{"hr":${70 + i}}`, salt: randomSalt(), timestamp: 1_700_000_000n + BigInt(i) }),
      );
      const tree = buildBatchTree(messages.map((message) => hashDataMessage(domain, message)));
      expect(tree.root).to.equal(naiveRoot(tree.leaves));
      await mined(anchorBatch(wallet, { registry, gid, root: tree.root, messageCount: messages.length }));
      expect((await getAnchor(chain.publicClient, { registry, gid, root: tree.root })).messageCount).to.equal(5);

      for (let i = 0; i < messages.length; i++) {
        expect(await verifyAnchoredMessageOnChain(chain.publicClient, { registry, message: messages[i], root: tree.root, proof: tree.proof(i) }), `message ${i}`).to.equal(true);
      }
      const outsider = createDataMessage({ gid, oid: toId("batch/ward/device-0"), nonce: 99n, payload: "not in the batch", salt: randomSalt(), timestamp: 1_700_000_000n });
      expect(await verifyAnchoredMessageOnChain(chain.publicClient, { registry, message: outsider, root: tree.root, proof: tree.proof(0) })).to.equal(false);
      expect(await verifyAnchoredMessageOnChain(chain.publicClient, { registry, message: messages[1], root: tree.root, proof: tree.proof(2) })).to.equal(false);
    });
  });
});
