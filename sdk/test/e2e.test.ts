// End to end through the SDK alone, against a real anvil node (started on 127.0.0.1 on a free port,
// stopped after) and against Hardhat's in-process network: Al Ahmed et al.'s three-level hierarchy with
// 20 devices, association in all three forms, the data plane, batch anchoring, AuthTable paths
// verified offline and on chain (and kept verifiable as the groups grow), and the lifecycle
// (revocation, hand-over, take-over of a revoked head's cluster, deactivation) breaking exactly
// the paths it should and no others.
import { expect } from "chai";
import { parseEventLogs, zeroAddress, zeroHash, type Hex } from "viem";
import {
  authPathSize,
  getBatchItemResults,
  buildBatchTree,
  createDataMessage,
  createExchange,
  createNonceCounter,
  decodeAuthPath,
  encodeAuthPath,
  genesisAnchor,
  getGroupState,
  hashDataMessage,
  commitPayload,
  iomtRegistryAbi,
  verifyAuthPath,
  verifyBatchProof,
  verifyDataMessage,
  verifyExchange,
  type AuthPath,
  type AuthTableIndexer,
  type SignedDataMessage,
  type TrustedState,
  type VerifyAuthPathReturnType,
  randomSalt,
} from "../src/index.js";
import { startAnvil, startInProcess, type TestChain } from "./support/chain.js";
import { associateDirect, buildHierarchy, clusterOf, trustedGroups, type Hierarchy, type Joined, type Node } from "./support/scenario.js";

const networks = [
  { name: "anvil", start: () => startAnvil() },
  { name: "the in-process network", start: () => startInProcess() },
];

const VALID: VerifyAuthPathReturnType = { status: "Valid", failedStep: 0 };

for (const network of networks) {
  describe(`Al Ahmed et al.'s three-level hierarchy end to end on ${network.name}`, function () {
    let testChain: TestChain;
    let h: Hierarchy;

    before(async function () {
      testChain = await network.start();
      h = await buildHierarchy(testChain, { devices: 20 });
    });

    after(async function () {
      await testChain?.stop();
    });

    /** A device signs a data message with `nonce` (by default its next nonce on chain). */
    async function signedMessage(device: Node, gid: Hex, payload: string, nonce?: bigint): Promise<SignedDataMessage> {
      const message = createDataMessage({
        gid,
        oid: device.oid,
        nonce: nonce ?? (await h.reader.getNonce({ gid, oid: device.oid })),
        payload,
        salt: randomSalt(),
        deadline: await h.deadline(),
      });
      return device.wallet.signDataMessage(message);
    }

    /** The path's verdict offline (with state fetched now, trusting the root group) and on chain are both `expected`. */
    async function expectVerdict(path: AuthPath, expected: VerifyAuthPathReturnType, who: string): Promise<void> {
      const trusted = await h.reader.fetchTrustedState({ gids: path.map((step) => step.gid), trustedRoots: [h.rootGid] });
      expect(verifyAuthPath(path, trusted), `${who}, offline`).to.deep.equal(expected);
      expect(await h.reader.verifyAuthPathOnChain({ path, trustedRootGid: h.rootGid }), `${who}, on chain`).to.deep.equal(expected);
    }

    describe("the hierarchy", function () {
      it("is rooted in a group mastered by the level-2 cluster head", async function () {
        const root = await h.reader.getGroup({ gid: h.rootGid });
        expect(root).to.include({ exists: true, active: true, master: h.rootMaster.address, masterOid: h.rootMaster.oid, parentGid: zeroHash, level: 0 });
        expect(root.leafCount, "three cluster heads and the spare").to.equal(4);
      });

      it("admits the level-1 cluster heads into the root group: one directly, one relayed, one in a batch", async function () {
        expect(h.clusters.map(({ head }) => head.form)).to.deep.equal(["direct", "relayed", "batch"]);
        for (const [i, { head }] of h.clusters.entries()) {
          expect(head.sentBy, `${head.name} sent by`).to.equal(head.form === "direct" ? head.address : h.rootMaster.address);
          const member = await h.reader.getMember({ gid: h.rootGid, account: head.address });
          expect(member).to.include({ gid: h.rootGid, oid: head.oid, leafIndex: i, isMember: true, isMaster: true, revoked: false });
          expect(await h.reader.isAuthenticated({ gid: h.rootGid, oid: head.oid, device: head.address })).to.equal(true);
        }
      });

      it("gives each level-1 cluster head a child group of the root, with its own oid as masterOid", async function () {
        for (const { gid, head } of h.clusters) {
          const group = await h.reader.getGroup({ gid });
          expect(group).to.include({ exists: true, active: true, master: head.address, masterOid: head.oid, parentGid: h.rootGid, level: 1 });
        }
      });

      it("spreads 20 level-0 devices over the three clusters, associated in all three forms", async function () {
        expect(h.devices).to.have.length(20);
        expect(h.clusters.map((cluster) => cluster.devices.length)).to.deep.equal([7, 7, 6]);
        for (const cluster of h.clusters) {
          expect(new Set(cluster.devices.map((device) => device.form)), `forms in ${cluster.gid}`).to.have.keys("direct", "relayed", "batch");
          expect((await h.reader.getGroup({ gid: cluster.gid })).leafCount).to.equal(cluster.devices.length);
        }
        for (const device of h.devices) {
          const { head } = clusterOf(h, device);
          expect(device.sentBy, `${device.name} sent by`).to.equal(device.form === "direct" ? device.address : head.address);
          expect(await h.reader.isAuthenticated({ gid: device.gid, oid: device.oid, device: device.address }), device.name).to.equal(true);
          expect(await h.reader.getMember({ gid: device.gid, oid: device.oid })).to.include({ account: device.address, gid: device.gid, isMember: true, isMaster: false, nonce: 1 });
        }
      });

      it("lets relayed and batched devices join without holding any ether", async function () {
        const relayed = h.devices.filter((device) => device.form !== "direct");
        expect(relayed).to.not.be.empty;
        for (const device of relayed) expect(await testChain.publicClient.getBalance({ address: device.address }), device.name).to.equal(0n);
      });
    });

    describe("data messages", function () {
      const byForm = (form: Joined["form"], cluster = 0) => h.clusters[cluster].devices.filter((device) => device.form === form);

      it("records a relayed message signed with the nonce read from chain, spending that nonce", async function () {
        const [device] = byForm("relayed");
        const { head } = clusterOf(h, device);
        const signed = await signedMessage(device, device.gid, '{"hr":72}');
        expect(signed.message.nonce).to.equal(1n);
        expect(verifyDataMessage({ domain: h.domain, signed, device: device.address })).to.equal(true);
        const receipt = await h.mined(await head.wallet.recordDataBySig({ signed }));
        const [log] = parseEventLogs({ abi: iomtRegistryAbi, logs: receipt.logs, eventName: "DataMessageRecorded" });
        // Everything the device signed is in the log, so its digest (a batch leaf) can be rebuilt from logs alone.
        expect(log.args).to.deep.equal({ ...signed.message, device: device.address });
        expect(hashDataMessage(h.domain, { gid: log.args.gid!, oid: log.args.oid!, nonce: log.args.nonce!, payloadHash: log.args.payloadHash!, timestamp: log.args.timestamp!, deadline: log.args.deadline! })).to.equal(
          hashDataMessage(h.domain, signed.message),
        );
        expect(await h.reader.getNonce({ gid: device.gid, oid: device.oid })).to.equal(2n);
      });

      it("records messages of several devices of a cluster in one batch transaction", async function () {
        const devices = h.clusters[1].devices.slice(0, 4);
        const messages = await Promise.all(devices.map((device, i) => signedMessage(device, device.gid, `{"spo2":${95 + i}}`)));
        const receipt = await h.mined(await h.clusters[1].head.wallet.recordDataBatchBySig({ messages }));
        expect(getBatchItemResults({ logs: receipt.logs, registry: h.registry, itemCount: messages.length }).every((item) => item.status === "Applied")).to.equal(true);
        const logs = parseEventLogs({ abi: iomtRegistryAbi, logs: receipt.logs, eventName: "DataMessageRecorded" });
        expect(logs.map((log) => log.args.device)).to.deep.equal(devices.map((device) => device.address));
        for (const device of devices) expect(await h.reader.getNonce({ gid: device.gid, oid: device.oid }), device.name).to.equal(2n);
      });

      it("records a message the device sends itself, without spending a nonce", async function () {
        const [device] = byForm("direct", 2);
        const payloadHash = commitPayload('{"temp":36.8}', randomSalt());
        const receipt = await h.mined(await device.wallet.recordData({ gid: device.gid, oid: device.oid, payloadHash, timestamp: 1_700_000_000n }));
        const [log] = parseEventLogs({ abi: iomtRegistryAbi, logs: receipt.logs, eventName: "DirectDataMessageRecorded" });
        expect(log.args).to.deep.equal({ gid: device.gid, device: device.address, oid: device.oid, payloadHash, timestamp: 1_700_000_000n });
        expect(await h.reader.getNonce({ gid: device.gid, oid: device.oid })).to.equal(1n);
      });

      it("records a sequence a device signed offline with a local nonce counter that persists before use", async function () {
        const [device] = byForm("batch");
        const persisted: bigint[] = [];
        const counter = createNonceCounter({ next: await h.reader.getNonce({ gid: device.gid, oid: device.oid }), persist: (next) => persisted.push(next) });
        const messages: SignedDataMessage[] = [];
        for (let i = 0; i < 3; i++) messages.push(await signedMessage(device, device.gid, `{"seq":${i}}`, counter.take()));
        expect(messages.map((signed) => signed.message.nonce)).to.deep.equal([1n, 2n, 3n]);
        expect(persisted).to.deep.equal([2n, 3n, 4n]);
        for (const signed of messages) await h.mined(await clusterOf(h, device).head.wallet.recordDataBySig({ signed }));
        expect(await h.reader.getNonce({ gid: device.gid, oid: device.oid })).to.equal(counter.next);
      });

      it("records a device-to-device exchange between devices of two different clusters", async function () {
        const sender = h.clusters[0].devices[1];
        const receiver = h.clusters[2].devices[1];
        const nonce = await h.reader.getNonce({ gid: sender.gid, oid: sender.oid });
        const exchange = createExchange({
          gid: sender.gid,
          oid: sender.oid,
          receiverGid: receiver.gid,
          receiverOid: receiver.oid,
          nonce,
          payload: "ecg-segment-17", salt: randomSalt(),
          deadline: await h.deadline(),
        });
        const signed = await sender.wallet.signExchange(exchange);
        expect(verifyExchange({ domain: h.domain, signed, device: sender.address })).to.equal(true);
        expect(verifyExchange({ domain: h.domain, signed, device: receiver.address })).to.equal(false);
        const receipt = await h.mined(await h.rootMaster.wallet.recordExchangeBySig({ signed }));
        const [log] = parseEventLogs({ abi: iomtRegistryAbi, logs: receipt.logs, eventName: "ExchangeRecorded" });
        expect(log.args).to.deep.include({ sender: sender.address, receiver: receiver.address, receiverGid: receiver.gid, nonce });
        expect(await h.reader.getNonce({ gid: sender.gid, oid: sender.oid })).to.equal(nonce + 1n);
      });
    });

    describe("batch anchoring", function () {
      let gateway: Node;
      let accepted: SignedDataMessage[];
      let forged: SignedDataMessage;
      let root: Hex;

      before(async function () {
        gateway = await h.funded("hospital/cluster-1/gateway");
      });

      it("lets a cluster head authorise a gateway key to anchor for its cluster only", async function () {
        const { gid, head } = h.clusters[1];
        expect(await h.reader.isAnchorer({ gid, anchorer: gateway.address })).to.equal(false);
        await h.mined(await head.wallet.setAnchorer({ gid, anchorer: gateway.address, allowed: true }));
        expect(await h.reader.isAnchorer({ gid, anchorer: gateway.address })).to.equal(true);
        expect(await h.reader.isAnchorer({ gid: h.clusters[0].gid, anchorer: gateway.address })).to.equal(false);
      });

      it("anchors the root of a batch tree over the messages the gateway verified", async function () {
        const { gid, devices } = h.clusters[1];
        const received = await Promise.all(devices.map((device, i) => signedMessage(device, gid, `{"bp":"12${i}/80"}`)));
        // A message claiming to come from devices[0] but signed by devices[1]'s key.
        forged = await devices[1].wallet.signDataMessage({ ...received[0].message, payloadHash: commitPayload("forged", randomSalt()) });
        received.push(forged);
        const senders = [...devices.map((device) => device.address), devices[0].address];
        accepted = received.filter((signed, i) => verifyDataMessage({ domain: h.domain, signed, device: senders[i] }));
        expect(accepted).to.have.length(devices.length).and.not.include(forged);

        const tree = buildBatchTree(accepted.map((signed) => hashDataMessage(h.domain, signed.message)));
        root = tree.root;
        const receipt = await h.mined(await gateway.wallet.anchorBatch({ gid, root, messageCount: accepted.length }));
        const [log] = parseEventLogs({ abi: iomtRegistryAbi, logs: receipt.logs, eventName: "BatchAnchored" });
        expect(log.args).to.deep.equal({ gid, root, anchorer: gateway.address, messageCount: accepted.length });
        const anchor = await h.reader.getAnchor({ gid, root });
        expect(anchor).to.include({ anchored: true, anchorer: gateway.address, messageCount: accepted.length });
        expect(anchor.anchoredAt).to.equal((await testChain.publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp);
      });

      it("proves every message of the batch offline and on chain", async function () {
        const tree = buildBatchTree(accepted.map((signed) => hashDataMessage(h.domain, signed.message)));
        for (const [i, { message }] of accepted.entries()) {
          const proof = tree.proof(i);
          expect(verifyBatchProof({ root, leaf: hashDataMessage(h.domain, message), proof }), `message ${i} offline`).to.equal(true);
          expect(await h.reader.verifyAnchoredMessageOnChain({ message, root, proof }), `message ${i} on chain`).to.equal(true);
        }
      });

      it("proves on chain that the member registered under each message's (gid, oid) signed it, and not for another signature", async function () {
        const tree = buildBatchTree(accepted.map((signed) => hashDataMessage(h.domain, signed.message)));
        for (const [i, { message, signature }] of accepted.entries()) {
          const proof = tree.proof(i);
          expect(await h.reader.verifyAnchoredSignedMessageOnChain({ message, signature, root, proof }), `message ${i}`).to.equal(true);
        }
        const [first, second] = accepted;
        const proof = tree.proof(0);
        expect(await h.reader.verifyAnchoredSignedMessageOnChain({ message: first.message, signature: second.signature, root, proof })).to.equal(false);
        expect(await h.reader.verifyAnchoredSignedMessageOnChain({ message: first.message, signature: forged.signature, root, proof })).to.equal(false);
        expect(await h.reader.verifyAnchoredSignedMessageOnChain({ message: forged.message, signature: forged.signature, root, proof })).to.equal(false);
      });

      it("proves no message the gateway rejected, and no root that was never anchored", async function () {
        const tree = buildBatchTree(accepted.map((signed) => hashDataMessage(h.domain, signed.message)));
        const proof = tree.proof(0);
        expect(verifyBatchProof({ root, leaf: hashDataMessage(h.domain, forged.message), proof })).to.equal(false);
        expect(await h.reader.verifyAnchoredMessageOnChain({ message: forged.message, root, proof })).to.equal(false);
        const unanchored = buildBatchTree([hashDataMessage(h.domain, accepted[0].message)]);
        expect(await h.reader.verifyAnchoredMessageOnChain({ message: accepted[0].message, root: unanchored.root, proof: [] })).to.equal(false);
        expect(await h.reader.getAnchor({ gid: h.clusters[1].gid, root: unanchored.root })).to.include({ anchored: false, anchorer: zeroAddress });
      });
    });

    describe("AuthTable paths", function () {
      let indexer: AuthTableIndexer;
      let requests: number;

      before(async function () {
        indexer = h.reader.createAuthTableIndexer({ fromBlock: h.deployBlock, maxBlockRange: 5n });
        ({ requests } = await indexer.sync());
      });

      it("rebuilds every group from logs read in pages of at most 5 blocks, with the chain's roots", async function () {
        const head = await testChain.publicClient.getBlockNumber();
        expect(requests).to.be.at.least(Math.ceil(Number(head - h.deployBlock + 1n) / 5)).and.greaterThan(1);
        expect(indexer.groups()).to.have.length(h.gids.length);
        for (const gid of h.gids) {
          const group = await h.reader.getGroup({ gid });
          const indexed = indexer.group(gid)!;
          expect({ root: indexed.tree.root, leafCount: indexed.tree.size, chainHead: indexed.chainHead, master: indexed.master }, gid).to.deep.equal({
            root: group.root,
            leafCount: group.leafCount,
            chainHead: group.chainHead,
            master: group.master,
          });
        }
      });

      it("starts each cluster's auth chain from the genesis hash of the root group's head when it was created", async function () {
        for (const { gid, head } of h.clusters) {
          const indexed = indexer.group(gid)!;
          const [created] = await testChain.publicClient.getContractEvents({
            address: h.registry,
            abi: iomtRegistryAbi,
            eventName: "GroupCreated",
            args: { gid },
            fromBlock: h.deployBlock,
          });
          const rootBefore = await getGroupState(testChain.publicClient, { registry: h.registry, gid: h.rootGid, blockNumber: created.blockNumber - 1n });
          expect(indexed.genesis).to.equal(genesisAnchor(rootBefore.chainHead, h.rootGid, gid, head.address));
        }
      });

      it("gives every device a two-step path: its entry in its cluster, then its head's entry in the root", async function () {
        for (const device of h.devices) {
          const { head } = clusterOf(h, device);
          const path = indexer.getAuthPath(device.address);
          expect(path.map((step) => step.gid), device.name).to.deep.equal([device.gid, h.rootGid]);
          expect(path[0].entry).to.include({ device: device.address, master: head.address });
          expect(path[1].entry).to.include({ device: head.address, master: h.rootMaster.address });
        }
      });

      it("verifies every device's path offline and on chain", async function () {
        const trusted = await h.reader.fetchTrustedState({ gids: h.gids, trustedRoots: [h.rootGid] });
        for (const device of h.devices) {
          const path = indexer.getAuthPath(device.address);
          expect(verifyAuthPath(path, trusted), `${device.name} offline`).to.deep.equal(VALID);
          expect(await h.reader.verifyAuthPathOnChain({ path, trustedRootGid: h.rootGid }), `${device.name} on chain`).to.deep.equal(VALID);
        }
      });

      it("trusts only the pinned root group", async function () {
        const path = indexer.getAuthPath(h.devices[0].address);
        const pinnedElsewhere = await h.reader.fetchTrustedState({ gids: h.gids, trustedRoots: [h.clusters[0].gid] });
        expect(verifyAuthPath(path, pinnedElsewhere)).to.deep.equal({ status: "UntrustedRoot", failedStep: 1 });
        expect(await h.reader.verifyAuthPathOnChain({ path, trustedRootGid: h.clusters[0].gid })).to.deep.equal({ status: "UntrustedRoot", failedStep: 1 });
      });

      it("agrees with the state read from chain when the verifier takes the indexer's own state", async function () {
        const path = indexer.getAuthPath(h.devices[5].address);
        expect(verifyAuthPath(path, indexer.trustedState([h.rootGid]))).to.deep.equal(VALID);
        const fromChain = await h.reader.fetchTrustedState({ gids: h.gids, trustedRoots: [h.rootGid] });
        expect(trustedGroups(indexer.trustedState([h.rootGid], h.gids))).to.deep.equal(trustedGroups(fromChain));
      });

      it("encodes every path compactly, and the decoded path still verifies", async function () {
        const trusted = await h.reader.fetchTrustedState({ gids: h.gids, trustedRoots: [h.rootGid] });
        const sizes = new Map<string, { bytes: number; devices: number }>();
        for (const device of h.devices) {
          const path = indexer.getAuthPath(device.address);
          const encoded = encodeAuthPath(path);
          const bytes = (encoded.length - 2) / 2;
          expect(bytes).to.equal(authPathSize(path));
          const decoded = decodeAuthPath(encoded);
          expect(decoded, device.name).to.deep.equal(path);
          expect(verifyAuthPath(decoded, trusted)).to.deep.equal(VALID);
          const shape = path.map((step) => step.proof.length).join("+");
          const seen = sizes.get(shape) ?? { bytes, devices: 0 };
          sizes.set(shape, { bytes, devices: seen.devices + 1 });
        }
        const report = [...sizes].sort(([, a], [, b]) => a.bytes - b.bytes).map(([shape, { bytes, devices }]) => `${bytes} B (${shape} siblings, ${devices} devices)`);
        console.log(`        encoded 2-step AuthTable paths on ${network.name}: ${report.join("; ")}`);
        // O(log n): no step carries more siblings than its group's tree is deep.
        for (const shape of sizes.keys()) {
          const [cluster, root] = shape.split("+").map(Number);
          expect(cluster).to.be.at.most(Math.ceil(Math.log2(7)));
          expect(root).to.be.at.most(Math.ceil(Math.log2(4)));
        }
      });
    });

    describe("paths that last", function () {
      it("keeps a saved path verifiable as its groups grow: Stale without a consistency proof, Valid with one or with the indexer's state", async function () {
        const indexer = h.reader.createAuthTableIndexer({ fromBlock: h.deployBlock });
        await indexer.sync();
        const device = h.clusters[1].devices[2];
        const saved = indexer.getAuthPath(device.address);
        // Both groups on the path grow: a new device in the cluster, a new member in the root group.
        await associateDirect(h, device.gid, h.clusters[1].head, await h.funded("hospital/cluster-1/joins-later"));
        await associateDirect(h, h.rootGid, h.rootMaster, await h.funded("hospital/root/joins-later"));
        await indexer.sync();

        await expectVerdict(saved, { status: "Stale", failedStep: 0 }, "the saved path");
        const withConsistency = saved.map((step) => ({ ...step, consistency: indexer.group(step.gid)!.tree.consistencyProof(step.leafCount) }));
        await expectVerdict(withConsistency, VALID, "the saved path with consistency proofs");
        expect(decodeAuthPath(encodeAuthPath(withConsistency))).to.deep.equal(withConsistency);
        expect(verifyAuthPath(saved, indexer.trustedState([h.rootGid])), "with the indexer's state").to.deep.equal(VALID);
        // Only the cluster's step carries a proof: the root step is still Stale.
        await expectVerdict([withConsistency[0], saved[1]], { status: "Stale", failedStep: 1 }, "a consistency proof on one step only");
      });
    });

    describe("revocation", function () {
      let indexer: AuthTableIndexer;
      let stateBefore: TrustedState;

      beforeEach(async function () {
        indexer ??= h.reader.createAuthTableIndexer({ fromBlock: h.deployBlock, maxBlockRange: 5n });
        await indexer.sync();
      });

      it("breaks the path of every member of a cluster whose head the root Master revokes, at step 1", async function () {
        const [revoked] = h.clusters;
        stateBefore = await h.reader.fetchTrustedState({ gids: h.gids, trustedRoots: [h.rootGid] });
        await h.mined(await h.rootMaster.wallet.revoke({ gid: h.rootGid, oid: revoked.head.oid }));
        await indexer.sync();
        expect(await h.reader.getMember({ gid: h.rootGid, oid: revoked.head.oid })).to.include({ revoked: true });
        expect(await h.reader.getGroup({ gid: revoked.gid })).to.include({ masterRevoked: true, active: true });
        for (const device of revoked.devices) await expectVerdict(indexer.getAuthPath(device.address), { status: "Revoked", failedStep: 1 }, device.name);
      });

      it("leaves the paths of the other clusters valid", async function () {
        for (const device of h.devices.filter((device) => device.gid !== h.clusters[0].gid)) {
          await expectVerdict(indexer.getAuthPath(device.address), VALID, device.name);
        }
      });

      it("is seen offline only once the verifier refetches the state", async function () {
        const path = indexer.getAuthPath(h.clusters[0].devices[0].address);
        expect(verifyAuthPath(path, stateBefore)).to.deep.equal(VALID);
        expect(verifyAuthPath(path, indexer.trustedState([h.rootGid]))).to.deep.equal({ status: "Revoked", failedStep: 1 });
      });

      it("breaks only the path of a device its cluster head revokes, at step 0", async function () {
        const { gid, head, devices } = h.clusters[1];
        const [revoked, ...others] = devices;
        await h.mined(await head.wallet.revoke({ gid, oid: revoked.oid }));
        await indexer.sync();
        expect(await h.reader.isAuthenticated({ gid, oid: revoked.oid, device: revoked.address })).to.equal(false);
        await expectVerdict(indexer.getAuthPath(revoked.address), { status: "Revoked", failedStep: 0 }, revoked.name);
        for (const device of others) await expectVerdict(indexer.getAuthPath(device.address), VALID, device.name);
      });
    });

    describe("hand-over", function () {
      let indexer: AuthTableIndexer;
      let stalePaths: AuthPath[];

      before(async function () {
        indexer = h.reader.createAuthTableIndexer({ fromBlock: h.deployBlock });
        await indexer.sync();
        stalePaths = h.clusters[2].devices.map((device) => indexer.getAuthPath(device.address));
      });

      it("hands a cluster over to another member of the root group in two steps", async function () {
        const { gid, head } = h.clusters[2];
        await h.mined(await head.wallet.proposeMaster({ gid, candidate: h.spare.address }));
        expect(await h.reader.getGroup({ gid })).to.include({ master: head.address, pendingMaster: h.spare.address });
        await h.mined(await h.spare.wallet.acceptMaster({ gid }));
        expect(await h.reader.getGroup({ gid })).to.include({ master: h.spare.address, pendingMaster: zeroAddress, masterOid: h.spare.oid });
        expect(await h.reader.getMember({ gid: h.rootGid, account: h.spare.address })).to.include({ isMaster: true });
        expect(await h.reader.getMember({ gid: h.rootGid, account: head.address })).to.include({ isMaster: false });
        expect(await h.reader.getGroup({ gid })).to.include({ masterEpoch: 1 });
      });

      it("keeps the cluster's paths valid through the new Master's entry in the root, once re-synced", async function () {
        await indexer.sync();
        const { gid, head } = h.clusters[2];
        expect(indexer.group(gid)!.master).to.equal(h.spare.address);
        for (const device of h.clusters[2].devices) {
          const path = indexer.getAuthPath(device.address);
          expect(path[0].entry.master, "the entry keeps the head it joined under").to.equal(head.address);
          expect(path[1].entry.device).to.equal(h.spare.address);
          await expectVerdict(path, VALID, device.name);
        }
      });

      it("refuses a path built before the hand-over: its step 1 is no longer the group's Master", async function () {
        for (const path of stalePaths) await expectVerdict(path, { status: "NotGroupMaster", failedStep: 1 }, path[0].entry.device);
      });

      it("lets the new Master enrol devices with its own tokens", async function () {
        const { gid } = h.clusters[2];
        const device = await h.funded("hospital/cluster-2/device-after-hand-over");
        await associateDirect(h, gid, h.spare, device);
        await indexer.sync();
        const path = indexer.getAuthPath(device.address);
        expect(path[0].entry.master).to.equal(h.spare.address);
        await expectVerdict(path, VALID, device.name);
      });
    });

    describe("take-over of a revoked cluster head's cluster", function () {
      let indexer: AuthTableIndexer;
      let deputy: Node;

      before(async function () {
        indexer = h.reader.createAuthTableIndexer({ fromBlock: h.deployBlock });
        await indexer.sync();
      });

      it("leaves the revoked head without powers: its tokens no longer enrol anyone", async function () {
        const { gid, head } = h.clusters[0];
        const rogue = await h.funded("hospital/cluster-0/rogue");
        const token = await head.wallet.issueToken({ gid, oid: rogue.oid, device: rogue.address });
        const error = await rogue.wallet.associate({ token }).then(
          () => expect.fail("a revoked head enrolled a device"),
          (caught: unknown) => caught,
        );
        expect(error).to.include({ code: "GroupRegistryMasterRevoked" });
      });

      it("lets the root Master hand the cluster to a new member of the root group", async function () {
        const { gid } = h.clusters[0];
        deputy = await h.funded("hospital/level-1-deputy");
        await associateDirect(h, h.rootGid, h.rootMaster, deputy);
        await h.mined(await h.rootMaster.wallet.takeOverGroup({ gid, newMaster: deputy.address }));
        expect(await h.reader.getGroup({ gid })).to.include({ master: deputy.address, masterOid: deputy.oid, masterRevoked: false, masterEpoch: 1 });
        await indexer.sync();
        expect(indexer.group(gid)).to.include({ master: deputy.address, masterRevoked: false });
      });

      it("makes the paths of the devices enrolled before valid again, through the new Master's entry", async function () {
        for (const device of h.clusters[0].devices) {
          const path = indexer.getAuthPath(device.address);
          expect(path[1].entry.device).to.equal(deputy.address);
          await expectVerdict(path, VALID, device.name);
        }
      });
    });

    describe("deactivation", function () {
      it("fails every path through a deactivated cluster with InactiveGroup at step 0", async function () {
        const { gid, devices } = h.clusters[2];
        await h.mined(await h.spare.wallet.deactivateGroup({ gid }));
        const indexer = h.reader.createAuthTableIndexer({ fromBlock: h.deployBlock });
        await indexer.sync();
        expect(indexer.group(gid)!.active).to.equal(false);
        expect(await h.reader.getGroup({ gid })).to.include({ active: false });
        for (const device of devices) {
          expect(await h.reader.isAuthenticated({ gid, oid: device.oid, device: device.address })).to.equal(false);
          await expectVerdict(indexer.getAuthPath(device.address), { status: "InactiveGroup", failedStep: 0 }, device.name);
        }
      });
    });
  });
}
