// The AuthTable indexer against a real chain: paged and range-halving log reads, JSON checkpoints,
// the consistency checks that refuse a gap, `confirmations`, the lifecycle logs, and a 300-device
// group that crosses a revocation-word boundary — always compared with what the registry itself says.
import { expect } from "chai";
import { createPublicClient, custom, type Hex } from "viem";
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
import { associateInBatch, associateRelayed, buildHierarchy, deploy, trustedFields, trustedGroups, type Hierarchy } from "./support/scenario.js";

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
    async function expectMatchesChain(indexer: AuthTableIndexer): Promise<void> {
      const at = indexer.nextBlock - 1n;
      const created = await testChain.publicClient.getContractEvents({
        address: h.registry,
        abi: iomtRegistryAbi,
        eventName: "GroupCreated",
        fromBlock: h.deployBlock,
        toBlock: at,
      });
      expect(indexer.groups().map((group) => group.gid)).to.have.members(created.map((log) => log.args.gid!));
      for (const group of indexer.groups()) {
        const state = await h.reader.getGroupState({ gid: group.gid, blockNumber: at });
        const [indexed] = trustedGroups(indexer.trustedState([], [group.gid]));
        expect({ ...indexed, chainHead: group.chainHead }, group.gid).to.deep.equal({ ...trustedFields(state), chainHead: state.chainHead });
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
        const { leafIndex } = await h.reader.getMember({ oid: revokedDevice.oid });
        expect(isLeafRevoked(byGid.get(c1.gid)!.revocationWords, leafIndex)).to.equal(true);
        expect(isLeafRevoked(byGid.get(h.rootGid)!.revocationWords, 0), "the first cluster head").to.equal(true);
        expect(byGid.get(c2.gid)!.master).to.equal(h.spare.address);
        expect(byGid.get(c1.gid)!.active).to.equal(false);
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

    describe("a large group", function () {
      it("rebuilds a 300-device group associated in batches of 50, across the revocation-word boundary at leaf 255", async function () {
        const master = await h.funded("ward/large/master");
        const gid = toId("ward/large");
        await h.mined(await master.wallet.createGroup({ gid, masterOid: master.oid }));
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
