// The AuthTable indexer against a real chain: paged and range-halving log reads, JSON checkpoints
// (version 2), the consistency checks that refuse a gap, `confirmations`, the lifecycle logs
// (revocations, a revoked cluster head, hand-over, take-over, deactivation), the older roots its
// state knows (rootAt), and a 300-device group that crosses a revocation-word boundary — always
// compared with what the registry itself says.
import { expect } from "chai";
import { createPublicClient, custom, zeroHash, type Hex } from "viem";
import {
  iomtPublicActions,
  iomtRegistryAbi,
  IndexerInconsistentError,
  IndexerNotFoundError,
  IomtError,
  isLeafRevoked,
  toId,
  verifyAuthPath,
  type AuthTableCheckpoint,
  type AuthTableIndexer,
} from "../src/index.js";
import { startAnvil, startInProcess, type TestChain } from "./support/chain.js";
import { expectCode, expectRejection } from "./support/expect.js";
import {
  associateInBatch,
  associateRelayed,
  buildHierarchy,
  createGroup,
  deploy,
  trustedFields,
  trustedGroups,
  type Hierarchy,
  type Joined,
} from "./support/scenario.js";

const networks = [
  { name: "anvil", start: () => startAnvil() },
  { name: "the in-process network", start: () => startInProcess() },
];

for (const network of networks) {
  describe(`the AuthTable indexer on ${network.name}`, function () {
    let testChain: TestChain;
    let h: Hierarchy;

    before(async function () {
      testChain = await network.start();
      h = await buildHierarchy(testChain, { devices: 20, label: "ward" });
    });

    after(async function () {
      await testChain?.stop();
    });

    const newIndexer = (parameters: { maxBlockRange?: bigint; confirmations?: bigint } = {}) =>
      h.reader.createAuthTableIndexer({ fromBlock: h.deployBlock, ...parameters });

    /** Every group the registry created up to the indexer's last block, as the indexer holds it, equals the registry's state at that block. */
    async function expectMatchesChain(indexer: AuthTableIndexer, d: Hierarchy = h): Promise<void> {
      const at = indexer.nextBlock - 1n;
      const created = await testChain.publicClient.getContractEvents({
        address: d.registry,
        abi: iomtRegistryAbi,
        eventName: "GroupCreated",
        fromBlock: d.deployBlock,
        toBlock: at,
      });
      expect(indexer.groups().map((group) => group.gid)).to.have.members(created.map((log) => log.args.gid!));
      const labels = new Map(created.map((log) => [log.args.gid!, log.args.label!]));
      for (const group of indexer.groups()) {
        const state = await d.reader.getGroupState({ gid: group.gid, blockNumber: at });
        const [indexed] = trustedGroups(indexer.trustedState([], [group.gid]));
        expect({ ...indexed, chainHead: group.chainHead }, group.gid).to.deep.equal({ ...trustedFields(state), chainHead: state.chainHead });
        const { masterOid, level, masterRevoked, masterEpoch } = state;
        expect({ masterOid: group.masterOid, level: group.level, masterRevoked: group.masterRevoked, masterEpoch: group.masterEpoch, label: group.label }, group.gid).to.deep.equal({
          masterOid,
          level,
          masterRevoked,
          masterEpoch,
          label: labels.get(group.gid),
        });
      }
    }

    describe("paging", function () {
      it("reads logs in pages of at most maxBlockRange blocks and rebuilds the registry's state", async function () {
        const indexer = newIndexer({ maxBlockRange: 5n });
        const result = await indexer.sync();
        const head = await testChain.publicClient.getBlockNumber({ cacheTime: 0 });
        expect(result).to.include({ fromBlock: h.deployBlock, toBlock: head });
        expect(result.logs, "group creations and associations").to.equal(h.gids.length + 4 + h.devices.length);
        expect(result.requests).to.equal(Math.ceil(Number(head - h.deployBlock + 1n) / 5)).and.greaterThan(1);
        expect(indexer.nextBlock).to.equal(head + 1n);
        await expectMatchesChain(indexer);
      });

      it("halves the range while the node refuses it, and still rebuilds the registry's state", async function () {
        const spans: { span: bigint; refused: boolean }[] = [];
        const transport = custom(
          {
            async request({ method, params }: { method: string; params?: unknown }) {
              if (method === "eth_getLogs") {
                const [{ fromBlock, toBlock }] = params as [{ fromBlock: Hex; toBlock: Hex }];
                const span = BigInt(toBlock) - BigInt(fromBlock);
                spans.push({ span, refused: span > 3n });
                if (span > 3n) throw Object.assign(new Error("query exceeds the maximum block range of 4"), { code: -32005 });
              }
              return testChain.publicClient.request({ method, params } as never);
            },
          },
          { retryCount: 0 },
        );
        const narrow = createPublicClient({ chain: testChain.chain, transport }).extend(iomtPublicActions({ registry: h.registry }));
        const indexer = narrow.createAuthTableIndexer({ fromBlock: h.deployBlock, maxBlockRange: 64n });
        const result = await indexer.sync();
        const refused = spans.filter((request) => request.refused).map((request) => Number(request.span));
        expect(refused).to.not.be.empty;
        refused.forEach((span, i) => i > 0 && expect(span, "each retry asks for a narrower range").to.be.lessThan(refused[i - 1]));
        expect(spans.slice(refused.length), "once narrow enough, every request is served").to.satisfy((served: typeof spans) =>
          served.length > 1 && served.every((request) => !request.refused),
        );
        expect(result.requests).to.equal(spans.length);
        await expectMatchesChain(indexer);
      });

      it("refuses a maxBlockRange below 1 when it is created, before it reads anything", function () {
        for (const maxBlockRange of [0n, -1n]) expectCode(() => newIndexer({ maxBlockRange }), IomtError, "IndexerInvalidParameter");
        expect(newIndexer({ maxBlockRange: 1n }).nextBlock).to.equal(h.deployBlock);
      });
    });

    describe("checkpoints", function () {
      it("resumes from a checkpoint that went through JSON to the state of a fresh full sync", async function () {
        const first = newIndexer();
        await first.sync();
        const saved = JSON.parse(JSON.stringify(first.checkpoint())) as AuthTableCheckpoint;

        const { gid, head } = h.clusters[0];
        for (let i = 0; i < 2; i++) await associateRelayed(h, gid, head, h.unfunded(`ward/cluster-0/after-checkpoint-${i}`));
        await h.mined(await h.clusters[1].head.wallet.revoke({ gid: h.clusters[1].gid, oid: h.clusters[1].devices[0].oid }));

        const resumed = h.reader.createAuthTableIndexer({ checkpoint: saved, maxBlockRange: 3n });
        expect(resumed.nextBlock).to.equal(first.nextBlock);
        const result = await resumed.sync();
        expect(result.fromBlock).to.equal(first.nextBlock);
        expect(result.logs, "two associations and a revocation").to.equal(3);
        const fresh = newIndexer();
        await fresh.sync();
        expect(resumed.checkpoint()).to.deep.equal(fresh.checkpoint());
        await expectMatchesChain(resumed);
      });

      it("writes version 2: each group with its label, Master standing and epoch, and its entries with their oids", async function () {
        const indexer = newIndexer();
        await indexer.sync();
        const checkpoint = indexer.checkpoint();
        expect(checkpoint).to.include({ version: 2, registry: h.registry, nextBlock: indexer.nextBlock.toString() });
        const [cluster] = h.clusters;
        const saved = checkpoint.groups.find((group) => group.gid === cluster.gid)!;
        expect(saved).to.include({ master: cluster.head.address, parentGid: h.rootGid, label: toId("ward/cluster-0"), masterOid: cluster.head.oid, level: 1, active: true, masterRevoked: false, masterEpoch: 0 });
        const first = cluster.devices[0];
        expect(saved.entries[0]).to.deep.equal([first.address, cluster.head.address, indexer.group(cluster.gid)!.entries[0].entryHash, first.oid]);
        expect(saved.revoked).to.deep.equal([]);
        expect(checkpoint.groups.find((group) => group.gid === h.rootGid)).to.include({ label: toId("ward/root"), parentGid: zeroHash, level: 0 });
      });

      it("refuses a checkpoint of version 1", async function () {
        const indexer = newIndexer();
        await indexer.sync();
        const old = { ...indexer.checkpoint(), version: 1 } as unknown as AuthTableCheckpoint;
        expect(() => h.reader.createAuthTableIndexer({ checkpoint: old }))
          .to.throw(IndexerInconsistentError)
          .with.property("code", "IndexerInconsistent");
      });

      it("refuses a checkpoint taken for another registry", async function () {
        const indexer = newIndexer();
        await indexer.sync();
        const other = await deploy(testChain);
        const checkpoint = indexer.checkpoint();
        expectCode(() => other.reader.createAuthTableIndexer({ checkpoint }), IndexerInconsistentError, "IndexerInconsistent");
      });

      it("detects a checkpoint whose next block skips an association", async function () {
        const indexer = newIndexer();
        await indexer.sync();
        const { gid, head } = h.clusters[2];
        const skipped = await associateRelayed(h, gid, head, h.unfunded("ward/cluster-2/skipped"));
        await associateRelayed(h, gid, head, h.unfunded("ward/cluster-2/after-the-skipped-one"));
        const tampered = { ...indexer.checkpoint(), nextBlock: String(skipped.blockNumber + 1n) };
        await expectRejection(h.reader.createAuthTableIndexer({ checkpoint: tampered }).sync(), IndexerInconsistentError, "IndexerInconsistent");
      });
    });

    describe("consistency", function () {
      it("refuses logs that start after some associations (a gap), instead of building a wrong root", async function () {
        const late = h.reader.createAuthTableIndexer({ fromBlock: h.devices[3].associatedIn });
        await expectRejection(late.sync(), IndexerInconsistentError, "IndexerInconsistent");
      });

      it("leaves gids it has not indexed out of trustedState, so a path through them is UnknownGroup, as with fetchTrustedState", async function () {
        const indexer = newIndexer();
        await indexer.sync();
        const path = indexer.getAuthPath(h.devices[0].address);
        const forged = [{ ...path[0], gid: toId("ward/forged-group") }, path[1]];
        const gids = forged.map((step) => step.gid);
        const indexed = indexer.trustedState([h.rootGid], gids);
        expect(trustedGroups(indexed).map((group) => group.gid)).to.deep.equal([h.rootGid]);
        const fromChain = await h.reader.fetchTrustedState({ gids, trustedRoots: [h.rootGid] });
        const expected = { status: "UnknownGroup", failedStep: 0 };
        expect(verifyAuthPath(forged, indexed)).to.deep.equal(expected);
        expect(verifyAuthPath(forged, fromChain)).to.deep.equal(expected);
        expect(await h.reader.verifyAuthPathOnChain({ path: forged, trustedRootGid: h.rootGid })).to.deep.equal(expected);
      });

      it("has no proof or path for a device that never associated", async function () {
        const indexer = newIndexer();
        await indexer.sync();
        const stranger = h.unfunded("ward/never-associated");
        for (const lookup of [() => indexer.getAuthProof(stranger.address), () => indexer.getAuthPath(stranger.address)]) {
          expectCode(lookup, IndexerNotFoundError, "IndexerNotFound");
        }
      });
    });

    describe("confirmations", function () {
      it("stays that many blocks behind the head, and indexes a block once it is deep enough", async function () {
        const indexer = newIndexer({ confirmations: 3n });
        const newcomer = h.unfunded("ward/cluster-1/recent");
        await associateRelayed(h, h.clusters[1].gid, h.clusters[1].head, newcomer);
        const head = await testChain.publicClient.getBlockNumber({ cacheTime: 0 });
        expect((await indexer.sync()).toBlock).to.equal(head - 3n);
        expectCode(() => indexer.getAuthProof(newcomer.address), IndexerNotFoundError, "IndexerNotFound");
        await expectMatchesChain(indexer);

        for (let i = 0; i < 3; i++) await testChain.increaseTime(1);
        expect((await indexer.sync()).toBlock).to.equal(head);
        expect(indexer.getAuthProof(newcomer.address).gid).to.equal(h.clusters[1].gid);
        await expectMatchesChain(indexer);
      });
    });

    describe("older roots (trustedState().rootAt)", function () {
      it("lets a path saved before its groups grew verify Valid offline with the indexer's state, while the chain and fetchTrustedState call it Stale", async function () {
        const indexer = newIndexer();
        await indexer.sync();
        const device = h.clusters[1].devices[1];
        const saved = indexer.getAuthPath(device.address);
        await associateRelayed(h, device.gid, h.clusters[1].head, h.unfunded("ward/cluster-1/grows-1"));
        await associateRelayed(h, h.rootGid, h.rootMaster, h.unfunded("ward/root/grows-1"));
        await indexer.sync();

        const indexed = indexer.trustedState([h.rootGid]);
        expect(verifyAuthPath(saved, indexed)).to.deep.equal({ status: "Valid", failedStep: 0 });
        const fromChain = await h.reader.fetchTrustedState({ gids: h.gids, trustedRoots: [h.rootGid] });
        expect(verifyAuthPath(saved, fromChain)).to.deep.equal({ status: "Stale", failedStep: 0 });
        expect(await h.reader.verifyAuthPathOnChain({ path: saved, trustedRootGid: h.rootGid })).to.deep.equal({ status: "Stale", failedStep: 0 });

        // The holder refreshes: the path built now verifies everywhere.
        const fresh = indexer.getAuthPath(device.address);
        expect(fresh.map((step) => step.leafCount)).to.deep.equal([saved[0].leafCount + 1, saved[1].leafCount + 1]);
        expect(verifyAuthPath(fresh, fromChain)).to.deep.equal({ status: "Valid", failedStep: 0 });
        expect(await h.reader.verifyAuthPathOnChain({ path: fresh, trustedRootGid: h.rootGid })).to.deep.equal({ status: "Valid", failedStep: 0 });
      });

      it("knows the root of every size up to the current one and of no later size", async function () {
        const indexer = newIndexer();
        await indexer.sync();
        const [state] = indexer.trustedState([h.rootGid], [h.clusters[0].gid]).groups as { rootAt?: (n: number) => Hex | undefined; leafCount: number; root: Hex }[];
        const { tree } = indexer.group(h.clusters[0].gid)!;
        for (let n = 0; n <= state.leafCount; n++) expect(state.rootAt!(n), `size ${n}`).to.equal(tree.rootAt(n));
        expect(state.rootAt!(state.leafCount)).to.equal(state.root);
        for (const n of [state.leafCount + 1, -1, 1.5]) expect(state.rootAt!(n), `size ${n}`).to.equal(undefined);
      });
    });

    describe("lifecycle logs", function () {
      it("reflects revocations, a hand-over and a deactivation in trustedState()", async function () {
        const indexer = newIndexer({ maxBlockRange: 4n });
        await indexer.sync();
        const [c0, c1, c2] = h.clusters;
        const revokedDevice = c1.devices[2];
        await h.mined(await c1.head.wallet.revoke({ gid: c1.gid, oid: revokedDevice.oid }));
        await h.mined(await h.rootMaster.wallet.revoke({ gid: h.rootGid, oid: c0.head.oid }));
        await h.mined(await c2.head.wallet.proposeMaster({ gid: c2.gid, candidate: h.spare.address }));
        await h.mined(await h.spare.wallet.acceptMaster({ gid: c2.gid }));
        await h.mined(await c1.head.wallet.deactivateGroup({ gid: c1.gid }));
        await indexer.sync();

        const trusted = indexer.trustedState([h.rootGid], h.gids);
        const byGid = new Map(trustedGroups(trusted).map((group) => [group.gid, group]));
        const { leafIndex } = await h.reader.getMember({ gid: c1.gid, oid: revokedDevice.oid });
        expect(isLeafRevoked(byGid.get(c1.gid)!.revocationWords, leafIndex)).to.equal(true);
        expect(isLeafRevoked(byGid.get(h.rootGid)!.revocationWords, 0), "the first cluster head").to.equal(true);
        expect(byGid.get(c2.gid)!.master).to.equal(h.spare.address);
        expect(byGid.get(c1.gid)!.active).to.equal(false);
        expect(indexer.group(c0.gid)).to.include({ masterRevoked: true, master: c0.head.address, masterEpoch: 0 });
        expect(indexer.group(c2.gid)).to.include({ masterRevoked: false, masterOid: h.spare.oid, masterEpoch: 1 });
        const fromChain = await h.reader.fetchTrustedState({ gids: h.gids, trustedRoots: [h.rootGid] });
        expect(trustedGroups(trusted)).to.deep.equal(trustedGroups(fromChain));
        await expectMatchesChain(indexer);

        // The same verdict for every device, whichever state the verifier holds.
        for (const device of h.devices) {
          const path = indexer.getAuthPath(device.address);
          const onChain = await h.reader.verifyAuthPathOnChain({ path, trustedRootGid: h.rootGid });
          expect(verifyAuthPath(path, trusted), device.name).to.deep.equal(onChain);
          expect(verifyAuthPath(path, fromChain), device.name).to.deep.equal(onChain);
        }
      });
    });

    describe("a revoked cluster head and a take-over", function () {
      it("follows GroupMasterRevoked and takeOverGroup, and paths through the taken-over group verify again", async function () {
        // A hierarchy of its own, so the take-over does not change the shared one.
        const w = await buildHierarchy(testChain, { devices: 6, label: "takeover" });
        const wIndexer = w.reader.createAuthTableIndexer({ fromBlock: w.deployBlock, maxBlockRange: 6n });
        await wIndexer.sync();
        const [cluster] = w.clusters;
        const before = cluster.devices.map((member: Joined) => wIndexer.getAuthPath(member.address));

        await w.mined(await w.rootMaster.wallet.revoke({ gid: w.rootGid, oid: cluster.head.oid }));
        await wIndexer.sync();
        expect(wIndexer.group(cluster.gid)).to.include({ masterRevoked: true, master: cluster.head.address, active: true });
        const revokedState = wIndexer.trustedState([w.rootGid]);
        for (const member of cluster.devices) {
          const path = wIndexer.getAuthPath(member.address);
          const onChain = await w.reader.verifyAuthPathOnChain({ path, trustedRootGid: w.rootGid });
          expect(onChain, member.name).to.deep.equal({ status: "Revoked", failedStep: 1 });
          expect(verifyAuthPath(path, revokedState), member.name).to.deep.equal(onChain);
        }

        // The parent's Master enrols a deputy in the root group and hands the cluster to it.
        const deputy = w.unfunded("takeover/deputy");
        await associateRelayed(w, w.rootGid, w.rootMaster, deputy);
        await w.mined(await w.rootMaster.wallet.takeOverGroup({ gid: cluster.gid, newMaster: deputy.address }));
        await wIndexer.sync();
        expect(wIndexer.group(cluster.gid)).to.include({ masterRevoked: false, master: deputy.address, masterOid: deputy.oid, masterEpoch: 1 });
        await expectMatchesChain(wIndexer, w);

        const indexedState = wIndexer.trustedState([w.rootGid]);
        const chainState = await w.reader.fetchTrustedState({ gids: w.gids, trustedRoots: [w.rootGid] });
        for (const [i, member] of cluster.devices.entries()) {
          const path = wIndexer.getAuthPath(member.address);
          expect(path.map((step) => step.gid)).to.deep.equal([cluster.gid, w.rootGid]);
          expect(path[0].entry.master, "the entry keeps the head it joined under").to.equal(cluster.head.address);
          expect(path[1].entry.device, "the link now goes through the new Master").to.equal(deputy.address);
          const valid = { status: "Valid", failedStep: 0 };
          expect(await w.reader.verifyAuthPathOnChain({ path, trustedRootGid: w.rootGid }), member.name).to.deep.equal(valid);
          expect(verifyAuthPath(path, chainState), member.name).to.deep.equal(valid);
          expect(verifyAuthPath(path, indexedState), member.name).to.deep.equal(valid);
          // A path saved before the take-over names the revoked head as the link.
          expect(await w.reader.verifyAuthPathOnChain({ path: before[i], trustedRootGid: w.rootGid })).to.deep.equal({ status: "NotGroupMaster", failedStep: 1 });
          expect(verifyAuthPath(before[i], chainState)).to.deep.equal({ status: "NotGroupMaster", failedStep: 1 });
        }
        // A fresh indexer rebuilds the same state from the logs alone.
        const rebuilt = w.reader.createAuthTableIndexer({ fromBlock: w.deployBlock });
        await rebuilt.sync();
        expect(rebuilt.checkpoint()).to.deep.equal(wIndexer.checkpoint());
      });
    });

    describe("a large group", function () {
      it("rebuilds a 300-device group associated in batches of 50, across the revocation-word boundary at leaf 255", async function () {
        const master = await h.funded("ward/large/master");
        const gid = await createGroup(h, master, "ward/large");
        const devices = Array.from({ length: 300 }, (_, i) => h.unfunded(`ward/large/device-${i}`));
        for (let start = 0; start < devices.length; start += 50) await associateInBatch(h, gid, master, devices.slice(start, start + 50));
        const revoked = [0, 254, 255, 299];
        for (const i of revoked) await h.mined(await master.wallet.revoke({ gid, oid: devices[i].oid }));

        const indexer = newIndexer({ maxBlockRange: 7n });
        await indexer.sync();
        const state = await h.reader.getGroupState({ gid });
        expect(state).to.include({ leafCount: 300 });
        const allocated = 1n << 255n;
        expect(state.revocationWords).to.deep.equal([allocated | 1n | (1n << 254n), allocated | 1n | (1n << 44n)]);
        expect(trustedGroups(indexer.trustedState([gid], [gid]))).to.deep.equal([trustedFields(state)]);
        await expectMatchesChain(indexer);

        const trusted = await h.reader.fetchTrustedState({ gids: [gid], trustedRoots: [gid] });
        for (const i of [0, 1, 253, 254, 255, 256, 298, 299]) {
          const path = indexer.getAuthPath(devices[i].address);
          expect(path, `device ${i}`).to.have.length(1);
          expect(path[0].proof.length).to.be.at.most(Math.ceil(Math.log2(300)));
          const expected = revoked.includes(i) ? { status: "Revoked", failedStep: 0 } : { status: "Valid", failedStep: 0 };
          expect(verifyAuthPath(path, trusted), `device ${i} offline`).to.deep.equal(expected);
          expect(await h.reader.verifyAuthPathOnChain({ path, trustedRootGid: gid }), `device ${i} on chain`).to.deep.equal(expected);
        }
      });
    });
  });
}
