import { expect } from "chai";
import { zeroHash, type Address, type Hex } from "viem";
import {
  AuthTree,
  authEntryHash,
  authLeaf,
  createAuthTableIndexer,
  genesisAnchor,
  type AuthEntry,
  type AuthPath,
  type AuthPathStep,
} from "../sdk/src/index.js";
import {
  createGroup,
  deployHierarchy,
  deployRegistry,
  deviceAccount,
  enrol,
  funded,
  id,
  networkHelpers,
  publicClient,
  signedAssociation,
  type Registry,
} from "./support/fixtures.js";

/** Status codes of IGroupRegistry.AuthPathStatus, in declaration order. */
const Status = {
  Valid: 0,
  EmptyPath: 1,
  UnknownGroup: 2,
  InactiveGroup: 3,
  IndexOutOfRange: 4,
  InvalidProof: 5,
  Revoked: 6,
  NotParentGroup: 7,
  NotGroupMaster: 8,
  UntrustedRoot: 9,
  Stale: 10,
} as const;

/** The registry's own verifyAuthPath; the SDK's index and leaf count are numbers, the contract's uint256. */
async function verify(registry: Registry, path: AuthPathStep[], trustedRoot: Hex) {
  const steps = path.map((step) => ({
    ...step,
    entry: { ...step.entry, index: BigInt(step.entry.index) },
    leafCount: BigInt(step.leafCount),
    consistency: step.consistency ?? [],
  }));
  const [status, step] = await registry.read.verifyAuthPath([steps, trustedRoot]);
  return { status, step: Number(step) };
}

/** The SDK's indexer over the registry's logs, synced to the chain head. */
async function indexed(registry: Registry) {
  const indexer = createAuthTableIndexer(publicClient, { registry: registry.address });
  await indexer.sync();
  return indexer;
}

/** A group's AuthTable rebuilt from the registry's events alone, in leaf order. */
async function authTableFromEvents(registry: Registry, gid: Hex): Promise<AuthEntry[]> {
  return (await indexed(registry)).group(gid)!.entries;
}

/** The AuthTable path of `device`, from the indexed events: its own step, then each cluster head's. */
async function authPath(registry: Registry, device: Address): Promise<AuthPath> {
  return (await indexed(registry)).getAuthPath(device);
}

describe("AuthTable", () => {
  describe("auth chain and tree, rebuilt from events alone", () => {
    it("chains every association's entry hash from the genesis anchor, and the tree root matches after each insert", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      const master = await funded("m");
      const gid = await createGroup(registry, master, "g", id("m"));
      let head = genesisAnchor(zeroHash, zeroHash, gid, master.address);
      const leaves: Hex[] = [];
      for (let i = 0; i < 37; i++) {
        const device = deviceAccount(`d${i}`);
        await enrol(registry, master, device, gid, id(`d${i}`));
        head = authEntryHash(head, i, device.address, master.address, id(`d${i}`));
        leaves.push(authLeaf({ device: device.address, master: master.address, index: i, entryHash: head }));
        const info = await registry.read.groupInfo([gid]);
        expect(info.chainHead).to.equal(head);
        expect(info.root).to.equal(AuthTree.from(leaves).root);
      }
      const fromEvents = (await authTableFromEvents(registry, gid)).map(authLeaf);
      expect(fromEvents).to.deep.equal(leaves);
    });

    it("rebuilds every group of the hierarchy, root and clusters, from its events", async () => {
      const { registry, clusters, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      for (const gid of [rootGid, ...clusters.map((c) => c.gid)]) {
        const leaves = (await authTableFromEvents(registry, gid)).map(authLeaf);
        const info = await registry.read.groupInfo([gid]);
        expect(leaves).to.have.length(info.leafCount);
        expect(AuthTree.from(leaves).root).to.equal(info.root);
      }
    });

    it("anchors a child group's genesis to its parent's chain head at creation", async () => {
      const { registry, clusters, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const rootTable = await authTableFromEvents(registry, rootGid);
      const [created] = await registry.getEvents.GroupCreated({ gid: clusters[2].gid }, { fromBlock: 0n });
      const parentHeadThen = rootTable[2].entryHash;
      expect(created.args.genesis).to.equal(genesisAnchor(parentHeadThen, rootGid, clusters[2].gid, clusters[2].head.address));
    });
  });

  describe("verifyAuthPath on the 3-level hierarchy (1 root, 3 clusters, 9 devices)", () => {
    it("accepts every device's path up to the trusted root group, with proofs of at most ceil(log2 n) siblings", async () => {
      const { registry, clusters, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      for (const cluster of clusters) {
        for (const { account } of cluster.devices) {
          const path = await authPath(registry, account.address);
          expect(path.map((step) => step.gid)).to.deep.equal([cluster.gid, rootGid]);
          for (const step of path) expect(step.proof.length).to.be.at.most(2);
          expect(await verify(registry, path, rootGid)).to.deep.equal({ status: Status.Valid, step: 0 });
        }
      }
    });

    it("level 0: a revoked device fails alone; its cluster mates still pass", async () => {
      const { registry, clusters, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const [c] = clusters;
      await registry.write.revoke([c.gid, c.devices[1].oid], { account: c.head });
      expect(await verify(registry, await authPath(registry, c.devices[1].account.address), rootGid)).to.deep.equal({
        status: Status.Revoked,
        step: 0,
      });
      for (const d of [c.devices[0], c.devices[2]]) {
        expect((await verify(registry, await authPath(registry, d.account.address), rootGid)).status).to.equal(Status.Valid);
      }
    });

    it("level 1: a revoked cluster head breaks the path of every device of its cluster, and only those", async () => {
      const { registry, clusters, rootMaster, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      await registry.write.revoke([rootGid, clusters[1].headOid], { account: rootMaster });
      for (const [c, cluster] of clusters.entries()) {
        for (const { account } of cluster.devices) {
          const result = await verify(registry, await authPath(registry, account.address), rootGid);
          expect(result).to.deep.equal(c === 1 ? { status: Status.Revoked, step: 1 } : { status: Status.Valid, step: 0 });
        }
      }
    });

    it("level 2: deactivating the root group breaks every path; a root hand-over breaks none", async () => {
      const { registry, clusters, rootMaster, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const next = await funded("next-root-master");
      await registry.write.proposeMaster([rootGid, next.address], { account: rootMaster });
      await registry.write.acceptMaster([rootGid], { account: next });
      const paths = [];
      for (const cluster of clusters) for (const { account } of cluster.devices) paths.push(await authPath(registry, account.address));
      for (const path of paths) expect((await verify(registry, path, rootGid)).status).to.equal(Status.Valid);
      await registry.write.deactivateGroup([rootGid], { account: next });
      for (const path of paths) expect(await verify(registry, path, rootGid)).to.deep.equal({ status: Status.InactiveGroup, step: 1 });
    });

    it("follows a child group's hand-over: devices keep their path through the new cluster head", async () => {
      const { registry, clusters, rootMaster, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const successor = deviceAccount("successor");
      await enrol(registry, rootMaster, successor, rootGid, id("successor"));
      await networkHelpers.setBalance(successor.address, 10n ** 18n);
      await registry.write.proposeMaster([clusters[0].gid, successor.address], { account: clusters[0].head });
      await registry.write.acceptMaster([clusters[0].gid], { account: successor });
      const device = clusters[0].devices[0].account.address;
      const path = await authPath(registry, device);
      expect(path[1].entry.device).to.equal(successor.address);
      expect((await verify(registry, path, rootGid)).status).to.equal(Status.Valid);
      // The old head's leaf no longer vouches for the cluster.
      const oldHeadPath = await authPath(registry, clusters[0].head.address);
      expect(await verify(registry, [path[0], oldHeadPath[0]], rootGid)).to.deep.equal({ status: Status.NotGroupMaster, step: 1 });
    });
  });

  describe("paths last: a path saved before its groups grew stays verifiable with a consistency proof", () => {
    /** Each step of `path` with an RFC 9162 consistency proof from its size to its group's current size. */
    async function withConsistency(registry: Registry, path: AuthPath): Promise<AuthPath> {
      const indexer = await indexed(registry);
      return path.map((step) => {
        const tree = indexer.group(step.gid)!.tree;
        return step.leafCount < tree.size ? { ...step, consistency: tree.consistencyProof(step.leafCount) } : step;
      });
    }

    /** A device's path saved now, then both its groups grow. */
    async function savedThenGrown() {
      const fixture = await networkHelpers.loadFixture(deployHierarchy);
      const { registry, clusters, rootMaster, rootGid } = fixture;
      const saved = await authPath(registry, clusters[0].devices[1].account.address);
      for (let i = 0; i < 5; i++) await enrol(registry, clusters[0].head, deviceAccount(`grow-${i}`), clusters[0].gid, id(`grow-${i}`));
      for (let i = 0; i < 3; i++) await enrol(registry, rootMaster, deviceAccount(`grow-root-${i}`), rootGid, id(`grow-root-${i}`));
      return { ...fixture, saved };
    }

    it("reports a saved path as Stale, never InvalidProof, once its group grew", async () => {
      const { registry, rootGid, saved } = await savedThenGrown();
      expect(await verify(registry, saved, rootGid)).to.deep.equal({ status: Status.Stale, step: 0 });
    });

    it("verifies the saved path with a consistency proof to the current size, at every level", async () => {
      const { registry, rootGid, saved } = await savedThenGrown();
      const refreshed = await withConsistency(registry, saved);
      expect(refreshed.map((step) => step.consistency?.length ?? 0).every((n) => n > 0)).to.equal(true);
      expect(await verify(registry, refreshed, rootGid)).to.deep.equal({ status: Status.Valid, step: 0 });
      // Only the upper step outdated: Stale at step 1.
      expect(await verify(registry, [refreshed[0], saved[1]], rootGid)).to.deep.equal({ status: Status.Stale, step: 1 });
    });

    it("refuses a tampered or misdirected consistency proof with InvalidProof", async () => {
      const { registry, rootGid, saved } = await savedThenGrown();
      const [step, upper] = await withConsistency(registry, saved);
      const consistency = step.consistency!;
      const indexer = await indexed(registry);
      const tree = indexer.group(step.gid)!.tree;
      const mutations: AuthPathStep[] = [
        { ...step, consistency: [id("forged"), ...consistency.slice(1)] },
        { ...step, consistency: consistency.slice(0, -1) },
        { ...step, consistency: [...consistency, id("extra")] },
        // A proof built for another (smaller) target size.
        { ...step, consistency: tree.consistencyProof(step.leafCount, tree.size - 1) },
      ];
      for (const mutated of mutations) {
        expect(await verify(registry, [mutated, upper], rootGid)).to.deep.equal({ status: Status.InvalidProof, step: 0 });
      }
    });

    it("reports a step that claims more leaves than its group holds as Stale", async () => {
      const { registry, rootGid, saved } = await savedThenGrown();
      const ahead = { ...saved[0], leafCount: 1_000 };
      expect(await verify(registry, [ahead, saved[1]], rootGid)).to.deep.equal({ status: Status.Stale, step: 0 });
    });

    it("still reports a revocation of the saved entry: a lasting path does not outlast a revocation", async () => {
      const { registry, rootGid, saved, clusters } = await savedThenGrown();
      await registry.write.revoke([clusters[0].gid, clusters[0].devices[1].oid], { account: clusters[0].head });
      expect(await verify(registry, await withConsistency(registry, saved), rootGid)).to.deep.equal({ status: Status.Revoked, step: 0 });
    });
  });

  describe("revocation words: 255 leaves each, bit 255 marks a word in use", () => {
    it("sets bit index % 255 of word index / 255, across a word boundary, and the path checks the right bit", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      const master = await funded("m");
      const gid = await createGroup(registry, master, "g", id("m"));
      for (let start = 0; start < 258; start += 86) {
        const items = [];
        for (let i = start; i < Math.min(start + 86, 258); i++) {
          items.push(await signedAssociation(registry, master, deviceAccount(`w${i}`), gid, id(`w${i}`)));
        }
        await registry.write.associateBatchBySig([items], { account: master });
      }
      const marker = 1n << 255n;
      expect((await registry.read.groupState([gid, 0n, 3n]))[3]).to.deep.equal([marker, marker, 0n]);
      await registry.write.revoke([gid, id("w254")], { account: master });
      await registry.write.revoke([gid, id("w255")], { account: master });
      expect((await registry.read.groupState([gid, 0n, 2n]))[3]).to.deep.equal([marker | (1n << 254n), marker | 1n]);
      const entries = await authTableFromEvents(registry, gid);
      const tree = AuthTree.from(entries.map(authLeaf));
      for (const [index, expected] of [[253, Status.Valid], [254, Status.Revoked], [255, Status.Revoked], [256, Status.Valid]] as const) {
        const step = { gid, entry: entries[index], leafCount: tree.size, proof: tree.proof(index) };
        expect((await verify(registry, [step], gid)).status).to.equal(expected);
      }
    });
  });

  describe("verifyAuthPath names the first broken rule", () => {
    async function validPath() {
      const fixture = await networkHelpers.loadFixture(deployHierarchy);
      const path = await authPath(fixture.registry, fixture.clusters[0].devices[1].account.address);
      return { ...fixture, path };
    }

    it("EmptyPath for no steps", async () => {
      const { registry, rootGid } = await validPath();
      expect(await verify(registry, [], rootGid)).to.deep.equal({ status: Status.EmptyPath, step: 0 });
    });

    it("UnknownGroup for a gid that does not exist", async () => {
      const { registry, rootGid, path } = await validPath();
      expect(await verify(registry, [{ ...path[0], gid: id("nowhere") }, path[1]], rootGid)).to.deep.equal({
        status: Status.UnknownGroup,
        step: 0,
      });
    });

    it("InactiveGroup for a deactivated cluster", async () => {
      const { registry, rootGid, path, clusters } = await validPath();
      await registry.write.deactivateGroup([clusters[0].gid], { account: clusters[0].head });
      expect(await verify(registry, path, rootGid)).to.deep.equal({ status: Status.InactiveGroup, step: 0 });
    });

    it("IndexOutOfRange for an index past the leaf count", async () => {
      const { registry, rootGid, path } = await validPath();
      const bad = { ...path[0], entry: { ...path[0].entry, index: 3 } };
      expect(await verify(registry, [bad, path[1]], rootGid)).to.deep.equal({ status: Status.IndexOutOfRange, step: 0 });
    });

    it("IndexOutOfRange for an index at or past the step's own leaf count, and for a zero leaf count", async () => {
      const { registry, rootGid, path } = await validPath();
      for (const bad of [{ ...path[0], leafCount: 1 }, { ...path[0], leafCount: 0 }]) {
        expect(await verify(registry, [bad, path[1]], rootGid)).to.deep.equal({ status: Status.IndexOutOfRange, step: 0 });
      }
    });

    it("InvalidProof for a tampered entry, sibling or proof length", async () => {
      const { registry, rootGid, path } = await validPath();
      const tampered: AuthPathStep[] = [
        { ...path[0], entry: { ...path[0].entry, entryHash: id("forged") } },
        { ...path[0], entry: { ...path[0].entry, index: 0 } },
        { ...path[0], proof: [id("forged"), ...path[0].proof.slice(1)] },
        { ...path[0], proof: path[0].proof.slice(1) },
        { ...path[0], proof: [...path[0].proof, id("extra")] },
      ];
      for (const step of tampered) {
        expect(await verify(registry, [step, path[1]], rootGid)).to.deep.equal({ status: Status.InvalidProof, step: 0 });
      }
    });

    it("NotParentGroup when a step is not the parent of the one below", async () => {
      const { registry, rootGid, path, clusters } = await validPath();
      const other = await authPath(registry, clusters[1].devices[0].account.address);
      expect(await verify(registry, [path[0], other[0]], rootGid)).to.deep.equal({ status: Status.NotParentGroup, step: 1 });
    });

    it("NotGroupMaster when the upper entry is not the Master of the group below", async () => {
      const { registry, rootGid, path, clusters } = await validPath();
      const otherHead = await authPath(registry, clusters[1].head.address);
      expect(await verify(registry, [path[0], otherHead[0]], rootGid)).to.deep.equal({ status: Status.NotGroupMaster, step: 1 });
    });

    it("UntrustedRoot when the path stops below a root group or ends at a root the caller does not trust", async () => {
      const { registry, rootGid, path } = await validPath();
      expect(await verify(registry, [path[0]], rootGid)).to.deep.equal({ status: Status.UntrustedRoot, step: 0 });
      expect(await verify(registry, path, id("another-root"))).to.deep.equal({ status: Status.UntrustedRoot, step: 1 });
    });
  });
});
