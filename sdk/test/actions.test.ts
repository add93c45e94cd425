// Every SDK action against a deployed registry: each one's typed error on bad input (the registry's
// custom error decoded into a ContractRuleError with its arguments, or the SDK's own IomtError
// before anything is sent), with the chain left exactly as it was, and the read actions' results.
// On anvil and on the in-process network; the london build on an anvil started with the london hardfork.
import { expect } from "chai";
import { zeroAddress, zeroHash } from "viem";
import {
  ContractRuleError,
  createDataMessage,
  createExchange,
  getGroup,
  hashPayload,
  IomtError,
  isLeafRevoked,
  registryDomain,
  registryRules,
  toId,
  type RegistryErrorName,
  type SignedDataMessage,
} from "../src/index.js";
import { startAnvil, startInProcess, type TestChain } from "./support/chain.js";
import { expectError, rejection } from "./support/expect.js";
import { associateDirect, associateRelayed, buildHierarchy, deploy, signedAssociation, type Hierarchy, type Joined, type Node } from "./support/scenario.js";

/** The registry's custom error `code`, with these decoded arguments and the rule in words. */
function expectRule(error: unknown, code: RegistryErrorName, args: readonly unknown[]): void {
  const rule = expectError(error, ContractRuleError, code);
  expect(rule.args).to.deep.equal(args);
  expect(rule.rule).to.equal(registryRules[code]);
}

const networks = [
  { name: "anvil", start: () => startAnvil() },
  { name: "the in-process network", start: () => startInProcess() },
];

for (const network of networks) {
  describe(`SDK actions on ${network.name}`, function () {
    let testChain: TestChain;
    let h: Hierarchy;
    let stranger: Node;

    before(async function () {
      testChain = await network.start();
      h = await buildHierarchy(testChain, { devices: 9, label: "clinic" });
      stranger = await h.funded("clinic/stranger");
    });

    after(async function () {
      await testChain?.stop();
    });

    const cluster = (i: number) => h.clusters[i];
    const device = (clusterIndex: number, i = 0): Joined => h.clusters[clusterIndex].devices[i];

    /** What a failed action must leave untouched: no block, no transaction, every group, member and nonce. */
    async function chainState(extra: readonly Node[]) {
      const nodes = [h.rootMaster, h.spare, ...h.clusters.map(({ head }) => head), ...h.devices, stranger, ...extra];
      const { publicClient } = testChain;
      return {
        blockNumber: await publicClient.getBlockNumber({ cacheTime: 0 }),
        groups: await Promise.all(h.gids.map((gid) => h.reader.getGroupState({ gid }))),
        transactionCounts: await Promise.all(nodes.map(({ address }) => publicClient.getTransactionCount({ address }))),
        members: await Promise.all(nodes.map(({ oid }) => h.reader.getMember({ oid }))),
        nonces: await Promise.all(nodes.map(({ address }) => h.reader.getNonce({ device: address }))),
      };
    }

    /**
     * Runs an action that must fail: it returns a rejected promise (never throws synchronously), and
     * the chain is exactly as before. `extra` names nodes outside the hierarchy that it involves.
     */
    async function failure(action: () => Promise<unknown>, extra: readonly Node[] = []): Promise<unknown> {
      const before = await chainState(extra);
      let pending: Promise<unknown> | undefined;
      expect(() => (pending = action()), "an action reports a bad input by rejecting, not by throwing").to.not.throw();
      const outcome = await pending!.then(
        () => ({ failed: false as const }),
        (error: unknown) => ({ failed: true as const, error }),
      );
      expect(outcome.failed, "the action should fail").to.equal(true);
      expect(await chainState(extra), "a failed action changes nothing").to.deep.equal(before);
      return outcome.failed ? outcome.error : undefined;
    }

    async function signedMessage(from: Node, nonce?: bigint, signer: Node = from): Promise<SignedDataMessage> {
      const member = await h.reader.getMember({ oid: from.oid });
      const message = createDataMessage({
        gid: member.gid,
        oid: from.oid,
        nonce: nonce ?? (await h.reader.getNonce({ device: from.address })),
        payload: `reading of ${from.name}`,
        deadline: await h.deadline(),
      });
      return signer.wallet.signDataMessage(message);
    }

    describe("createGroup", function () {
      it("refuses a gid that is taken, naming it", async function () {
        const error = await failure(() => stranger.wallet.createGroup({ gid: h.rootGid, masterOid: stranger.oid }));
        expectRule(error, "GroupRegistryGidTaken", [h.rootGid]);
      });

      it("refuses a child group from an account that is not a member of the parent", async function () {
        const error = await failure(() => stranger.wallet.createGroup({ gid: toId("clinic/stray"), masterOid: stranger.oid, parentGid: h.rootGid }));
        expectRule(error, "GroupRegistryNotParentMember", [h.rootGid, stranger.address]);
      });

      it("refuses a second group from an account that already masters one", async function () {
        const { head } = cluster(0);
        const error = await failure(() => head.wallet.createGroup({ gid: toId("clinic/second"), masterOid: head.oid, parentGid: h.rootGid }));
        expectRule(error, "GroupRegistryAlreadyMaster", [head.address]);
      });

      it("refuses a malformed gid before sending anything", async function () {
        const error = await failure(() => stranger.wallet.createGroup({ gid: "0x1234", masterOid: stranger.oid }));
        expectError(error, IomtError, "InvalidId");
      });
    });

    describe("associate", function () {
      it("refuses a token that the group's Master did not sign", async function () {
        const newcomer = await h.funded("clinic/newcomer-with-a-forged-token");
        const token = await stranger.wallet.issueToken({ gid: cluster(0).gid, oid: newcomer.oid, device: newcomer.address });
        const error = await failure(() => newcomer.wallet.associate({ token }), [newcomer]);
        expectRule(error, "GroupRegistryTokenNotFromMaster", [stranger.address, cluster(0).head.address]);
      });

      it("refuses a token issued for another device before sending any transaction", async function () {
        const [owner, thief] = await Promise.all([h.funded("clinic/token-owner"), h.funded("clinic/token-thief")]);
        const token = await cluster(0).head.wallet.issueToken({ gid: cluster(0).gid, oid: owner.oid, device: owner.address });
        const error = await failure(() => thief.wallet.associate({ token }), [owner, thief]);
        expectError(error, IomtError, "RequestTokenForAnotherDevice");
        expect(error).not.to.be.instanceOf(ContractRuleError);
      });

      it("refuses an oid that is already registered", async function () {
        const newcomer = await h.funded("clinic/newcomer-with-a-taken-oid");
        const taken = device(0).oid;
        const token = await cluster(0).head.wallet.issueToken({ gid: cluster(0).gid, oid: taken, device: newcomer.address });
        const error = await failure(() => newcomer.wallet.associate({ token }), [newcomer]);
        expectRule(error, "GroupRegistryOidTaken", [taken]);
      });
    });

    describe("associateFor", function () {
      it("refuses a relayed request once its deadline has passed", async function () {
        const late = h.unfunded("clinic/late-device");
        const deadline = await h.deadline(60n);
        const association = await signedAssociation(h, cluster(1).gid, cluster(1).head, late, deadline);
        await testChain.increaseTime(120);
        const error = await failure(() => cluster(1).head.wallet.associateFor({ association }), [late]);
        expectRule(error, "GroupRegistryExpiredRequest", [deadline]);
      });
    });

    describe("associateBatch", function () {
      it("reverts the whole batch when one item is bad, associating none of its devices", async function () {
        const { gid, head } = cluster(1);
        const newcomers = [0, 1, 2].map((i) => h.unfunded(`clinic/batch-newcomer-${i}`));
        const associations = await Promise.all(newcomers.slice(0, 2).map((newcomer) => signedAssociation(h, gid, head, newcomer)));
        associations.push(await signedAssociation(h, gid, stranger, newcomers[2]));
        const error = await failure(() => head.wallet.associateBatch({ associations }), newcomers);
        expectRule(error, "GroupRegistryTokenNotFromMaster", [stranger.address, head.address]);
        for (const newcomer of newcomers) expect(await h.reader.getMember({ oid: newcomer.oid })).to.include({ account: zeroAddress, isMember: false });
      });

      it("refuses an empty batch", async function () {
        const error = await failure(() => cluster(1).head.wallet.associateBatch({ associations: [] }));
        expectRule(error, "GroupRegistryEmptyBatch", []);
      });
    });

    describe("revoke", function () {
      it("refuses a revocation by anyone but the group's Master", async function () {
        const error = await failure(() => cluster(1).head.wallet.revoke({ gid: cluster(0).gid, oid: device(0).oid }));
        expectRule(error, "GroupRegistryNotMaster", [cluster(0).gid, cluster(1).head.address]);
      });

      it("refuses to revoke an oid that is not a member of the group", async function () {
        const error = await failure(() => cluster(0).head.wallet.revoke({ gid: cluster(0).gid, oid: device(1).oid }));
        expectRule(error, "GroupRegistryNotMember", [cluster(0).gid, device(1).oid]);
      });
    });

    describe("proposeMaster, cancelMasterProposal and acceptMaster", function () {
      it("refuses a candidate that is not an active member of the parent group", async function () {
        const { gid, head } = cluster(1);
        const error = await failure(() => head.wallet.proposeMaster({ gid, candidate: stranger.address }));
        expectRule(error, "GroupRegistryIneligibleMaster", [gid, stranger.address]);
      });

      it("refuses acceptance by anyone but the proposed Master", async function () {
        const { gid, head } = cluster(1);
        await h.mined(await head.wallet.proposeMaster({ gid, candidate: h.spare.address }));
        expect(await h.reader.getGroup({ gid })).to.include({ pendingMaster: h.spare.address });
        const error = await failure(() => stranger.wallet.acceptMaster({ gid }));
        expectRule(error, "GroupRegistryNotPendingMaster", [gid, stranger.address]);
      });

      it("refuses a cancellation by anyone but the Master", async function () {
        const { gid } = cluster(1);
        const error = await failure(() => h.spare.wallet.cancelMasterProposal({ gid }));
        expectRule(error, "GroupRegistryNotMaster", [gid, h.spare.address]);
      });

      it("cancels a pending proposal, after which the candidate can no longer accept", async function () {
        const { gid, head } = cluster(1);
        await h.mined(await head.wallet.cancelMasterProposal({ gid }));
        expect(await h.reader.getGroup({ gid })).to.include({ master: head.address, pendingMaster: zeroAddress });
        const error = await failure(() => h.spare.wallet.acceptMaster({ gid }));
        expectRule(error, "GroupRegistryNotPendingMaster", [gid, h.spare.address]);
      });
    });

    describe("deactivateGroup", function () {
      it("refuses a deactivation by anyone but the Master", async function () {
        const error = await failure(() => stranger.wallet.deactivateGroup({ gid: cluster(2).gid }));
        expectRule(error, "GroupRegistryNotMaster", [cluster(2).gid, stranger.address]);
      });
    });

    describe("recordData", function () {
      it("refuses a nonce other than the device's next one, naming the expected nonce", async function () {
        const from = device(0);
        const signed = await signedMessage(from, 5n);
        const error = await failure(() => cluster(0).head.wallet.recordData({ signed }));
        expectRule(error, "DataLedgerInvalidNonce", [from.address, 1n]);
      });
    });

    describe("recordDataBatch", function () {
      it("reverts the whole batch when one message is signed by another key, spending no nonce", async function () {
        const [first, second, claimed] = cluster(2).devices;
        const messages = [await signedMessage(first), await signedMessage(second), await signedMessage(claimed, undefined, first)];
        const error = await failure(() => cluster(2).head.wallet.recordDataBatch({ messages }));
        expectRule(error, "DataLedgerWrongSigner", [first.address, claimed.address]);
      });
    });

    describe("recordDataDirect", function () {
      it("refuses a message sent by anyone but the device registered under its oid", async function () {
        const owner = device(0);
        const error = await failure(() => stranger.wallet.recordDataDirect({ gid: owner.gid, oid: owner.oid, payloadHash: hashPayload("spoofed") }));
        expectRule(error, "DataLedgerWrongSender", [stranger.address, owner.address]);
      });
    });

    describe("recordExchange", function () {
      it("refuses an exchange with a receiver that is not a member of the named group", async function () {
        const sender = device(0);
        const exchange = createExchange({
          gid: sender.gid,
          oid: sender.oid,
          receiverGid: cluster(1).gid,
          receiverOid: device(2).oid,
          nonce: await h.reader.getNonce({ device: sender.address }),
          payload: "to the wrong cluster",
          deadline: await h.deadline(),
        });
        const signed = await sender.wallet.signExchange(exchange);
        const error = await failure(() => h.rootMaster.wallet.recordExchange({ signed }));
        expectRule(error, "GroupRegistryNotMember", [cluster(1).gid, device(2).oid]);
      });
    });

    describe("setAnchorer, anchorBatch and isAnchorer", function () {
      it("refuses an authorisation by anyone but the Master", async function () {
        const error = await failure(() => stranger.wallet.setAnchorer({ gid: cluster(0).gid, anchorer: stranger.address, allowed: true }));
        expectRule(error, "GroupRegistryNotMaster", [cluster(0).gid, stranger.address]);
      });

      it("refuses a batch anchored by a key the Master did not authorise", async function () {
        const error = await failure(() => stranger.wallet.anchorBatch({ gid: cluster(0).gid, root: hashPayload("batch"), messageCount: 3 }));
        expectRule(error, "DataLedgerNotAnchorer", [cluster(0).gid, stranger.address]);
      });

      it("says who may anchor: the Master, and a gateway key while it is authorised", async function () {
        const { gid, head } = cluster(0);
        const gateway = await h.funded("clinic/cluster-0/gateway");
        expect(await h.reader.isAnchorer({ gid, anchorer: head.address })).to.equal(true);
        expect(await h.reader.isAnchorer({ gid, anchorer: gateway.address })).to.equal(false);
        await h.mined(await head.wallet.setAnchorer({ gid, anchorer: gateway.address, allowed: true }));
        expect(await h.reader.isAnchorer({ gid, anchorer: gateway.address })).to.equal(true);
        await h.mined(await head.wallet.setAnchorer({ gid, anchorer: gateway.address, allowed: false }));
        expect(await h.reader.isAnchorer({ gid, anchorer: gateway.address })).to.equal(false);
      });
    });

    describe("getMember", function () {
      it("gives the same record by oid and by account", async function () {
        for (const node of [h.rootMaster, cluster(1).head, device(1)]) {
          const byOid = await h.reader.getMember({ oid: node.oid });
          expect(byOid.account).to.equal(node.address);
          expect(await h.reader.getMember({ account: node.address })).to.deep.equal(byOid);
        }
        expect(await h.reader.getMember({ oid: device(1).oid })).to.include({ gid: device(1).gid, isMember: true, isMaster: false, revoked: false });
        expect(await h.reader.getMember({ oid: h.rootMaster.oid })).to.include({ gid: h.rootGid, isMember: false, isMaster: true });
      });

      it("gives an all-zero record for an unknown oid or account", async function () {
        const unknown = { account: zeroAddress, gid: zeroHash, oid: zeroHash, leafIndex: 0, isMember: false, isMaster: false, revoked: false, nonce: 0 };
        expect(await h.reader.getMember({ oid: toId("clinic/nobody") })).to.deep.equal(unknown);
        expect(await h.reader.getMember({ account: stranger.address })).to.deep.equal(unknown);
      });
    });

    describe("getGroup", function () {
      it("says an unknown gid does not exist", async function () {
        const group = await h.reader.getGroup({ gid: toId("clinic/no-such-group") });
        expect(group).to.include({ exists: false, master: zeroAddress, parentGid: zeroHash, active: false, leafCount: 0, root: zeroHash });
      });

      it("reads a group as it was at an earlier block when given one", async function () {
        const { gid, devices } = cluster(0);
        const at = (blockNumber: bigint) => getGroup(testChain.publicClient, { registry: h.registry, gid, blockNumber });
        expect(await at(devices[0].associatedIn - 1n)).to.include({ exists: true, leafCount: 0, root: zeroHash });
        expect(await at(devices[0].associatedIn)).to.include({ leafCount: 1 });
      });
    });

    describe("getGroupState", function () {
      it("holds one revocation word per 255 leaves, none for an empty group", async function () {
        const loner = await h.funded("clinic/empty-root-master");
        const gid = toId("clinic/empty-root");
        await h.mined(await loner.wallet.createGroup({ gid, masterOid: loner.oid }));
        expect(await h.reader.getGroupState({ gid })).to.include({ exists: true, leafCount: 0 }).and.deep.include({ revocationWords: [] });
        for (const groupGid of h.gids) {
          const state = await h.reader.getGroupState({ gid: groupGid });
          expect(state.revocationWords, groupGid).to.have.length(Math.ceil(state.leafCount / 255)).and.deep.equal([1n << 255n]);
        }
      });

      it("reflects a revocation in the revocation words", async function () {
        const { gid, head, devices } = cluster(2);
        const revoked = devices[1];
        const { leafIndex } = await h.reader.getMember({ oid: revoked.oid });
        await h.mined(await head.wallet.revoke({ gid, oid: revoked.oid }));
        const { revocationWords } = await h.reader.getGroupState({ gid });
        expect(revocationWords).to.deep.equal([(1n << 255n) | (1n << BigInt(leafIndex))]);
        for (const [i, member] of devices.entries()) expect(isLeafRevoked(revocationWords, i), member.name).to.equal(member === revoked);
      });
    });

    describe("isAuthenticated", function () {
      it("holds for an active member under its own gid, oid and address only", async function () {
        const member = device(1);
        expect(await h.reader.isAuthenticated({ gid: member.gid, oid: member.oid, device: member.address })).to.equal(true);
        expect(await h.reader.isAuthenticated({ gid: cluster(0).gid, oid: member.oid, device: member.address })).to.equal(false);
        expect(await h.reader.isAuthenticated({ gid: member.gid, oid: member.oid, device: stranger.address })).to.equal(false);
        expect(await h.reader.isAuthenticated({ gid: member.gid, oid: device(1, 1).oid, device: member.address })).to.equal(false);
      });

      it("stops holding once the member is revoked", async function () {
        const member = device(1, 1);
        expect(await h.reader.isAuthenticated({ gid: member.gid, oid: member.oid, device: member.address })).to.equal(true);
        await h.mined(await cluster(1).head.wallet.revoke({ gid: member.gid, oid: member.oid }));
        expect(await h.reader.isAuthenticated({ gid: member.gid, oid: member.oid, device: member.address })).to.equal(false);
      });
    });

    describe("getNonce", function () {
      it("counts 0 before association, 1 after it, then one more per relayed message", async function () {
        const newcomer = h.unfunded("clinic/counted-device");
        const { gid, head } = cluster(0);
        expect(await h.reader.getNonce({ device: newcomer.address })).to.equal(0n);
        await associateRelayed(h, gid, head, newcomer);
        const seen = [await h.reader.getNonce({ device: newcomer.address })];
        for (let i = 0; i < 2; i++) {
          await h.mined(await head.wallet.recordData({ signed: await signedMessage(newcomer) }));
          seen.push(await h.reader.getNonce({ device: newcomer.address }));
        }
        expect(seen).to.deep.equal([1n, 2n, 3n]);
        expect(await h.reader.getMember({ oid: newcomer.oid })).to.include({ nonce: 3 });
      });
    });

    describe("getRegistryDomain", function () {
      it("equals the domain built offline from the chain id and the registry address", async function () {
        const domain = await h.reader.getRegistryDomain();
        expect(domain).to.deep.equal(registryDomain({ chainId: testChain.chain.id, registry: h.registry }));
        expect(domain).to.deep.equal({ name: "iomt-auth", version: "1", chainId: testChain.chain.id, verifyingContract: h.registry });
      });
    });
  });
}

describe("deployRegistry on an anvil node with the london hardfork", function () {
  let testChain: TestChain;

  before(async function () {
    testChain = await startAnvil({ hardfork: "london" });
  });

  after(async function () {
    await testChain?.stop();
  });

  it("deploys the london build, on which groups, association, data and paths work", async function () {
    const d = await deploy(testChain, { evmTarget: "london" });
    const master = await d.funded("london/master");
    const member = await d.funded("london/device");
    const gid = toId("london/root");
    await d.mined(await master.wallet.createGroup({ gid, masterOid: master.oid }));
    await associateDirect(d, gid, master, member);
    const message = createDataMessage({ gid, oid: member.oid, nonce: 1n, payload: "42", deadline: await d.deadline() });
    await d.mined(await master.wallet.recordData({ signed: await member.wallet.signDataMessage(message) }));
    expect(await d.reader.getNonce({ device: member.address })).to.equal(2n);
    const indexer = d.reader.createAuthTableIndexer({ fromBlock: d.deployBlock });
    await indexer.sync();
    expect(await d.reader.verifyAuthPathOnChain({ path: indexer.getAuthPath(member.address), trustedRootGid: gid })).to.deep.equal({ status: "Valid", failedStep: 0 });
  });

  it("needs that build: the default (cancun) bytecode does not deploy there", async function () {
    const error = await rejection(deploy(testChain));
    // PUSH0 (Shanghai) is not activated on london.
    expect(String(error)).to.match(/NotActivated/);
  });
});
