import { expect } from "chai";
import { concat, keccak256, numberToHex, stringToHex, type Hex } from "viem";
import { verifyAggregatedMessageOnChain } from "../src/actions/aggregate.js";
import { anchorBatch } from "../src/actions/data.js";
import { deployAggregateVerifier } from "../src/deploy.js";
import { createGroup } from "../src/actions/groups.js";
import { aggregateLeaf, buildAggregateTree, verifyAggregatePath, type AggregateEntry } from "../src/aggregate-tree.js";
import { buildBatchTree } from "../src/batch-tree.js";
import { IomtError } from "../src/errors.js";
import { toId } from "../src/ids.js";
import { createDataMessage, hashDataMessage, randomSalt } from "../src/typed-data.js";
import { expectCode } from "./support/expect.js";
import { deployTestRegistry, type TestRegistry } from "./support/registry.js";

const h = (label: string): Hex => keccak256(stringToHex(label));
const digests = (label: string, count: number): Hex[] => Array.from({ length: count }, (_, i) => keccak256(concat([numberToHex(i, { size: 32 }), stringToHex(label)])));

/** Three batches of two groups, their trees, and the aggregate over them. */
function fixture() {
  const batches = [
    { gid: h("gid:a"), leaves: digests("a0", 3) },
    { gid: h("gid:b"), leaves: digests("b0", 5) },
    { gid: h("gid:a"), leaves: digests("a1", 1) },
  ].map(({ gid, leaves }) => ({ gid, leaves, tree: buildBatchTree(leaves) }));
  const entries: AggregateEntry[] = batches.map(({ gid, tree, leaves }) => ({ gid, batchRoot: tree.root, messageCount: leaves.length }));
  return { batches, entries, aggregate: buildAggregateTree(entries) };
}

describe("aggregate tree", () => {
  describe("buildAggregateTree", () => {
    it("is the batch tree over the entries' leaves, and sums their messages", () => {
      const { entries, aggregate } = fixture();
      expect(aggregate.root).to.equal(buildBatchTree(entries.map(aggregateLeaf)).root);
      expect(aggregate.messageCount).to.equal(9);
      expect(aggregate.entries).to.deep.equal(entries);
    });

    it("throws BatchEmpty for no entries", () => {
      expectCode(() => buildAggregateTree([]), IomtError, "BatchEmpty");
    });

    it("throws AggregateTooLarge when the messages add up past a uint32", () => {
      const entry = { gid: h("g"), batchRoot: h("r"), messageCount: 0xffffffff };
      expectCode(() => buildAggregateTree([entry, { ...entry, batchRoot: h("r2"), messageCount: 1 }]), IomtError, "AggregateTooLarge");
    });
  });

  describe("aggregateLeaf", () => {
    it("throws AggregateInvalidEntry for a malformed id or a count outside 1 … 2^32 - 1", () => {
      const good = { gid: h("g"), batchRoot: h("r"), messageCount: 1 };
      for (const bad of [
        { ...good, gid: "0x12" as Hex },
        { ...good, batchRoot: `0x${"zz".repeat(32)}` as Hex },
        { ...good, messageCount: 0 },
        { ...good, messageCount: 2 ** 32 },
        { ...good, messageCount: 1.5 },
      ]) {
        expectCode(() => aggregateLeaf(bad), IomtError, "AggregateInvalidEntry");
      }
    });
  });

  describe("verifyAggregatePath", () => {
    it("accepts every message of every batch through its two proofs", () => {
      const { batches, aggregate } = fixture();
      batches.forEach(({ gid, leaves, tree }, b) => {
        leaves.forEach((digest, m) => {
          const path = { batchRoot: tree.root, batchMessageCount: leaves.length, batchProof: tree.proof(m), aggregateGid: h("parent"), aggregateRoot: aggregate.root, aggregateProof: aggregate.proof(b) };
          expect(verifyAggregatePath({ gid, digest, path }), `batch ${b} message ${m}`).to.equal(true);
        });
      });
    });

    it("refuses another gid, another count, a foreign digest or a malformed path", () => {
      const { batches, aggregate } = fixture();
      const { gid, leaves, tree } = batches[1];
      const path = { batchRoot: tree.root, batchMessageCount: 5, batchProof: tree.proof(2), aggregateGid: h("parent"), aggregateRoot: aggregate.root, aggregateProof: aggregate.proof(1) };
      expect(verifyAggregatePath({ gid, digest: leaves[2], path })).to.equal(true);
      expect(verifyAggregatePath({ gid: h("gid:a"), digest: leaves[2], path })).to.equal(false);
      expect(verifyAggregatePath({ gid, digest: leaves[2], path: { ...path, batchMessageCount: 4 } })).to.equal(false);
      expect(verifyAggregatePath({ gid, digest: h("other"), path })).to.equal(false);
      expect(verifyAggregatePath({ gid, digest: leaves[2], path: { ...path, batchMessageCount: 0 } })).to.equal(false);
    });
  });

  describe("against a deployed registry", () => {
    let deployed: TestRegistry;

    before(async () => {
      deployed = await deployTestRegistry();
    });

    after(async () => {
      await deployed?.stop();
    });

    it("a message proves through the SDK's two proofs with verifyAggregatedMessageOnChain, as offline", async () => {
      const { chain, registry, domain, mined } = deployed;
      const master = await chain.fundedAccount();
      const wallet = chain.walletClient(master);
      const { hash, gid } = await createGroup(wallet, { registry, label: "aggregate/ward", masterOid: toId("aggregate/ward/master") });
      await mined(hash);
      const { address: verifier } = await deployAggregateVerifier(wallet, { registry });
      const messages = Array.from({ length: 3 }, (_, i) =>
        createDataMessage({ gid, oid: toId(`aggregate/ward/device-${i}`), nonce: 0n, payload: `{"spo2":${95 + i}}`, salt: randomSalt(), timestamp: 1_700_000_000n }),
      );
      const batch = buildBatchTree(messages.map((message) => hashDataMessage(domain, message)));
      const aggregate = buildAggregateTree([{ gid, batchRoot: batch.root, messageCount: 3 }, { gid, batchRoot: h("another batch"), messageCount: 7 }]);
      const pathOf = (m: number) => ({ batchRoot: batch.root, batchMessageCount: 3, batchProof: batch.proof(m), aggregateGid: gid, aggregateRoot: aggregate.root, aggregateProof: aggregate.proof(0) });
      // Not anchored yet: the proofs hold offline, the chain says no.
      expect(verifyAggregatePath({ gid, digest: batch.leaves[1], path: pathOf(1) })).to.equal(true);
      expect(await verifyAggregatedMessageOnChain(chain.publicClient, { verifier, message: messages[1], path: pathOf(1) })).to.equal(false);
      await mined(anchorBatch(wallet, { registry, gid, root: aggregate.root, messageCount: aggregate.messageCount }));
      for (let m = 0; m < 3; m++) {
        expect(await verifyAggregatedMessageOnChain(chain.publicClient, { verifier, message: messages[m], path: pathOf(m) }), `message ${m}`).to.equal(true);
      }
      expect(await verifyAggregatedMessageOnChain(chain.publicClient, { verifier, message: messages[0], path: pathOf(1) })).to.equal(false);
    });
  });
});
