// Hierarchical anchoring on chain (contracts/AggregateVerifier.sol): a parent anchors, with
// `anchorBatch` under its own group, one root over batch roots of its group and of the groups below
// it (an aggregate), and the verifier's `verifyAggregatedMessage` proves a message through its batch
// proof and its batch's leaf in the aggregate. The SDK's offline
// verdict (`verifyAggregatePath` plus the ancestry the registry holds) is compared with the
// contract's in every case. The fixture has the paper's three levels: the root group, three
// clusters below it, and a sub-cluster below cluster 0; and a stranger's root group with a cluster.
import { expect } from "chai";
import { encodeAbiParameters, keccak256, parseAbiParameters, stringToHex, zeroAddress, zeroHash, type Hex } from "viem";
import {
  aggregateLeaf,
  buildAggregateTree,
  buildBatchTree,
  hashDataMessage,
  verifyAggregatePath,
  type AggregateEntry,
  type AggregatePath,
  type DataMessage,
} from "../sdk/src/index.js";
import { createGroup, deployHierarchy, domainOf, enrol, funded, id, networkHelpers, viem, type Registry } from "./support/fixtures.js";

/** `count` messages of group `gid` (messages need not be recorded on chain to be anchored). */
function messagesOf(gid: Hex, label: string, count: number): DataMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    gid,
    oid: id(`oid:${label}-${i % 2}`),
    nonce: BigInt(i),
    payloadHash: id(`payload:${label}:${i}`),
    timestamp: 1_800_000_000n + BigInt(i),
    deadline: 1_900_000_000n,
  }));
}

/** A batch of `count` messages of `gid`: its messages, digests, tree and aggregate entry. */
function batchOf(registry: Registry, gid: Hex, label: string, count: number) {
  const messages = messagesOf(gid, label, count);
  const digests = messages.map((message) => hashDataMessage(domainOf(registry), message));
  const tree = buildBatchTree(digests);
  const entry: AggregateEntry = { gid, batchRoot: tree.root, messageCount: count };
  return { messages, digests, tree, entry };
}
type Batch = ReturnType<typeof batchOf>;

/** The path of message `m` of `batches[b]` in the aggregate over all `batches`, anchored under `aggregateGid`. */
function pathOf(batches: Batch[], b: number, m: number, aggregateGid: Hex): AggregatePath {
  const aggregate = buildAggregateTree(batches.map((batch) => batch.entry));
  return {
    batchRoot: batches[b].tree.root,
    batchMessageCount: batches[b].entry.messageCount,
    batchProof: batches[b].tree.proof(m),
    aggregateGid,
    aggregateRoot: aggregate.root,
    aggregateProof: aggregate.proof(b),
  };
}

async function deployThreeLevels() {
  const hierarchy = await deployHierarchy();
  const { registry, clusters } = hierarchy;
  // Level 2: a member of cluster 0 heads a sub-cluster.
  const subHead = await funded("sub-head");
  const subHeadOid = id("oid:sub-head");
  await enrol(registry, clusters[0].head, subHead, clusters[0].gid, subHeadOid);
  const subGid = await createGroup(registry, subHead, "group:sub-cluster", subHeadOid, clusters[0].gid);
  // A stranger's hierarchy: its own root group and one cluster.
  const strangerRoot = await funded("stranger-root");
  const strangerRootGid = await createGroup(registry, strangerRoot, "group:stranger-root", id("oid:stranger-root"));
  const strangerHead = await funded("stranger-head");
  await enrol(registry, strangerRoot, strangerHead, strangerRootGid, id("oid:stranger-head"));
  const strangerGid = await createGroup(registry, strangerHead, "group:stranger-cluster", id("oid:stranger-head"), strangerRootGid);
  const gateway = await funded("root-gateway");
  const verifier = await viem.deployContract("AggregateVerifier", [registry.address]);
  return { ...hierarchy, subHead, subGid, strangerRoot, strangerRootGid, strangerGid, gateway, verifier };
}

const load = () => networkHelpers.loadFixture(deployThreeLevels);

/** The offline verdict: both proofs hold, and the aggregate's group is the message's group or above it. */
async function offlineVerdict(registry: Registry, message: DataMessage, path: AggregatePath, anchored: boolean): Promise<boolean> {
  let gid = message.gid;
  for (;;) {
    if (gid === path.aggregateGid) break;
    const group = await registry.read.groupInfo([gid]);
    if (group.parentGid === zeroHash) return false;
    gid = group.parentGid;
  }
  return anchored && verifyAggregatePath({ gid: message.gid, digest: hashDataMessage(domainOf(registry), message), path });
}

type Verifier = Awaited<ReturnType<typeof deployThreeLevels>>["verifier"];

/** Asserts the contract and the SDK agree on `message` by `path`, and that the verdict is `expected`. */
async function expectVerdict({ registry, verifier }: { registry: Registry; verifier: Verifier }, message: DataMessage, path: AggregatePath, expected: boolean) {
  const onChain = await verifier.read.verifyAggregatedMessage([message, { ...path, batchProof: [...path.batchProof], aggregateProof: [...path.aggregateProof] }]);
  const anchored = (await registry.read.anchorOf([path.aggregateGid, path.aggregateRoot])).anchoredAt !== 0n;
  expect(onChain, "on chain").to.equal(expected);
  expect(await offlineVerdict(registry, message, path, anchored), "offline").to.equal(expected);
}

describe("hierarchical anchoring: aggregates and verifyAggregatedMessage", () => {
  describe("aggregateLeaf: the SDK encodes a batch's leaf as the contract's NatSpec specifies", () => {
    it("is keccak256(abi.encode(AGGREGATE_LEAF_TYPEHASH, gid, batchRoot, uint32 messageCount)) at every count bound, as on chain", async () => {
      const { verifier } = await load();
      const typehash = keccak256(stringToHex("AggregateLeaf(bytes32 gid,bytes32 batchRoot,uint32 messageCount)"));
      for (const messageCount of [1, 2, 255, 65_536, 0xffffffff]) {
        const entry = { gid: id("g"), batchRoot: id(`root-${messageCount}`), messageCount };
        const reference = keccak256(
          encodeAbiParameters(parseAbiParameters("bytes32, bytes32, bytes32, uint32"), [typehash, entry.gid, entry.batchRoot, messageCount]),
        );
        expect(aggregateLeaf(entry)).to.equal(reference);
        expect(await verifier.read.aggregateLeaf([entry.gid, entry.batchRoot, messageCount])).to.equal(reference);
      }
    });

    it("binds the gid, the batch root and the count: changing any one changes the leaf", () => {
      const base = { gid: id("g"), batchRoot: id("r"), messageCount: 3 };
      const leaves = new Set([
        aggregateLeaf(base),
        aggregateLeaf({ ...base, gid: id("g2") }),
        aggregateLeaf({ ...base, batchRoot: id("r2") }),
        aggregateLeaf({ ...base, messageCount: 4 }),
      ]);
      expect(leaves.size).to.equal(4);
    });
  });

  describe("the verifier: a companion of one registry", () => {
    it("refuses to be deployed without a registry with AggregateVerifierZeroRegistry", async () => {
      const { verifier } = await load();
      await viem.assertions.revertWithCustomError(viem.deployContract("AggregateVerifier", [zeroAddress]), verifier, "AggregateVerifierZeroRegistry");
    });

    it("reads the hierarchy: isSelfOrAncestor holds for the group itself and every group above it, and nothing else", async () => {
      const { verifier, rootGid, clusters, subGid, strangerRootGid, strangerGid } = await load();
      const cases: [Hex, Hex, boolean][] = [
        [subGid, subGid, true],
        [clusters[0].gid, subGid, true],
        [rootGid, subGid, true],
        [rootGid, clusters[2].gid, true],
        [clusters[1].gid, subGid, false],
        [subGid, clusters[0].gid, false],
        [strangerRootGid, subGid, false],
        [rootGid, strangerGid, false],
        [rootGid, id("unknown group"), false],
      ];
      for (const [ancestor, gid, expected] of cases) expect(await verifier.read.isSelfOrAncestor([ancestor, gid]), `${ancestor} above ${gid}`).to.equal(expected);
    });
  });

  describe("anchoring an aggregate: anchorBatch under the parent's group, with its usual rules", () => {
    it("lets the root group's Master anchor an aggregate root as a batch root, counting the aggregate's messages", async () => {
      const fixture = await load();
      const { registry, rootGid, rootMaster, clusters } = fixture;
      const batches = [batchOf(registry, clusters[0].gid, "c0", 3), batchOf(registry, clusters[1].gid, "c1", 5)];
      const aggregate = buildAggregateTree(batches.map((batch) => batch.entry));
      expect(aggregate.messageCount).to.equal(8);
      await viem.assertions.emitWithArgs(
        registry.write.anchorBatch([rootGid, aggregate.root, aggregate.messageCount], { account: rootMaster }),
        registry,
        "BatchAnchored",
        [rootGid, aggregate.root, rootMaster.address, 8],
      );
      await expectVerdict(fixture, batches[1].messages[4], pathOf(batches, 1, 4, rootGid), true);
    });

    it("lets a gateway key the root group's Master authorised anchor it", async () => {
      const fixture = await load();
      const { registry, rootGid, rootMaster, gateway, clusters } = fixture;
      await registry.write.setAnchorer([rootGid, gateway.address, true], { account: rootMaster });
      const batches = [batchOf(registry, clusters[2].gid, "c2", 2)];
      const aggregate = buildAggregateTree(batches.map((batch) => batch.entry));
      await registry.write.anchorBatch([rootGid, aggregate.root, 2], { account: gateway });
      await expectVerdict(fixture, batches[0].messages[0], pathOf(batches, 0, 0, rootGid), true);
    });

    it("does not let a child's Master anchor in its parent's group (DataLedgerNotAnchorer)", async () => {
      const { registry, rootGid, clusters } = await load();
      const batches = [batchOf(registry, clusters[0].gid, "c0", 2)];
      const aggregate = buildAggregateTree(batches.map((batch) => batch.entry));
      await viem.assertions.revertWithCustomErrorWithArgs(
        registry.write.anchorBatch([rootGid, aggregate.root, 2], { account: clusters[0].head }),
        registry,
        "DataLedgerNotAnchorer",
        [rootGid, clusters[0].head.address],
      );
    });
  });

  describe("verifyAggregatedMessage: batch proof plus aggregate proof, vouched for by an ancestor", () => {
    it("verifies every message of every batch across three levels, on chain and offline alike", async () => {
      const fixture = await load();
      const { registry, rootGid, rootMaster, clusters, subGid } = fixture;
      const batches = [
        batchOf(registry, rootGid, "root-own", 2),
        batchOf(registry, clusters[0].gid, "c0", 5),
        batchOf(registry, subGid, "sub", 3),
        batchOf(registry, clusters[2].gid, "c2", 1),
      ];
      const aggregate = buildAggregateTree(batches.map((batch) => batch.entry));
      await registry.write.anchorBatch([rootGid, aggregate.root, aggregate.messageCount], { account: rootMaster });
      for (const [b, batch] of batches.entries()) {
        for (const [m, message] of batch.messages.entries()) await expectVerdict(fixture, message, pathOf(batches, b, m, rootGid), true);
      }
    });

    it("accepts an aggregate a middle-level group anchored for its sub-cluster", async () => {
      const fixture = await load();
      const { registry, clusters, subGid } = fixture;
      const batches = [batchOf(registry, clusters[0].gid, "c0", 2), batchOf(registry, subGid, "sub", 2)];
      const aggregate = buildAggregateTree(batches.map((batch) => batch.entry));
      await registry.write.anchorBatch([clusters[0].gid, aggregate.root, 4], { account: clusters[0].head });
      await expectVerdict(fixture, batches[1].messages[1], pathOf(batches, 1, 1, clusters[0].gid), true);
    });

    it("refuses an aggregate a stranger's root group anchored over another hierarchy's batch", async () => {
      const fixture = await load();
      const { registry, clusters, strangerRoot, strangerRootGid } = fixture;
      const batches = [batchOf(registry, clusters[0].gid, "c0", 3)];
      const aggregate = buildAggregateTree(batches.map((batch) => batch.entry));
      await registry.write.anchorBatch([strangerRootGid, aggregate.root, 3], { account: strangerRoot });
      await expectVerdict(fixture, batches[0].messages[0], pathOf(batches, 0, 0, strangerRootGid), false);
    });

    it("refuses an aggregate a sibling or a child anchored: only the group itself or an ancestor vouches", async () => {
      const fixture = await load();
      const { registry, clusters, subGid, subHead } = fixture;
      const sibling = [batchOf(registry, clusters[0].gid, "c0", 2)];
      const siblingAggregate = buildAggregateTree(sibling.map((batch) => batch.entry));
      await registry.write.anchorBatch([clusters[1].gid, siblingAggregate.root, 2], { account: clusters[1].head });
      await expectVerdict(fixture, sibling[0].messages[0], pathOf(sibling, 0, 0, clusters[1].gid), false);
      // The sub-cluster's Master anchors an aggregate holding a batch of its parent's group.
      const upward = [batchOf(registry, clusters[0].gid, "c0-up", 2)];
      const upwardAggregate = buildAggregateTree(upward.map((batch) => batch.entry));
      await registry.write.anchorBatch([subGid, upwardAggregate.root, 2], { account: subHead });
      await expectVerdict(fixture, upward[0].messages[1], pathOf(upward, 0, 1, subGid), false);
    });

    it("refuses an aggregate root that was never anchored, even with valid proofs", async () => {
      const fixture = await load();
      const { registry, rootGid, clusters } = fixture;
      const batches = [batchOf(registry, clusters[0].gid, "c0", 3), batchOf(registry, clusters[1].gid, "c1", 2)];
      await expectVerdict(fixture, batches[0].messages[2], pathOf(batches, 0, 2, rootGid), false);
    });

    it("refuses a batch leaf claimed under another group, or with another count", async () => {
      const fixture = await load();
      const { registry, rootGid, rootMaster, clusters } = fixture;
      const batches = [batchOf(registry, clusters[0].gid, "c0", 3)];
      const aggregate = buildAggregateTree(batches.map((batch) => batch.entry));
      await registry.write.anchorBatch([rootGid, aggregate.root, 3], { account: rootMaster });
      // A message of cluster 1 with cluster 0's digest position: the leaf binds cluster 0's gid.
      const moved = { ...batches[0].messages[0], gid: clusters[1].gid };
      await expectVerdict(fixture, moved, pathOf(batches, 0, 0, rootGid), false);
      await expectVerdict(fixture, batches[0].messages[0], { ...pathOf(batches, 0, 0, rootGid), batchMessageCount: 4 }, false);
      await expectVerdict(fixture, batches[0].messages[0], pathOf(batches, 0, 0, rootGid), true);
    });

    it("keeps the two kinds of root apart: a message proves through neither with the other's view", async () => {
      const fixture = await load();
      const { registry, rootGid, rootMaster } = fixture;
      // The root group's own batch, and an aggregate over it, both anchored in the root group.
      const own = [batchOf(registry, rootGid, "root-own", 4)];
      const aggregate = buildAggregateTree(own.map((batch) => batch.entry));
      await registry.write.anchorBatch([rootGid, own[0].tree.root, 4], { account: rootMaster });
      await registry.write.anchorBatch([rootGid, aggregate.root, 4], { account: rootMaster });
      const message = own[0].messages[1];
      const path = pathOf(own, 0, 1, rootGid);
      expect(await registry.read.verifyAnchoredMessage([message, own[0].tree.root, path.batchProof])).to.equal(true);
      // The aggregate root is not a batch of messages: the joined proofs do not reach it.
      expect(await registry.read.verifyAnchoredMessage([message, aggregate.root, [...path.batchProof, ...path.aggregateProof]])).to.equal(false);
      // A batch root is not an aggregate: the batch's own root given as the aggregate fails.
      await expectVerdict(fixture, message, { ...path, aggregateRoot: own[0].tree.root, aggregateProof: [] }, false);
      await expectVerdict(fixture, message, path, true);
    });

    it("refuses a path whose batch proof is tampered with", async () => {
      const fixture = await load();
      const { registry, rootGid, rootMaster, clusters } = fixture;
      const batches = [batchOf(registry, clusters[0].gid, "c0", 4)];
      const aggregate = buildAggregateTree(batches.map((batch) => batch.entry));
      await registry.write.anchorBatch([rootGid, aggregate.root, 4], { account: rootMaster });
      const path = pathOf(batches, 0, 1, rootGid);
      await expectVerdict(fixture, batches[0].messages[1], { ...path, batchProof: [id("forged"), ...path.batchProof.slice(1)] }, false);
      await expectVerdict(fixture, batches[0].messages[1], { ...path, aggregateProof: [id("forged")] }, false);
    });
  });
});
