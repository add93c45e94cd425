// Every SDK action against a deployed registry: each one's typed error on bad input (the registry's
// custom error decoded into a ContractRuleError with its arguments, or the SDK's own IomtError
// before anything is sent), with the chain left exactly as it was, and the read actions' results.
// Batches apply their valid items and skip the others: each skipped item's outcome is read from the
// real receipt with getBatchItemResults (Rejected with the decoded rule, or AlreadyApplied after a
// front-run). On anvil and on the in-process network; the london build on an anvil started with the
// london hardfork.
import { expect } from "chai";
import { zeroAddress, zeroHash, type TransactionReceipt } from "viem";
import {
  associationTypes,
  ContractRuleError,
  createDataMessage,
  createExchange,
  getBatchItemResults,
  getGroup,
  groupId,
  commitPayload,
  iomtRegistryAbi,
  IomtError,
  isLeafRevoked,
  registryDomain,
  registryRules,
  toId,
  type BatchItemResult,
  type BatchItemStatus,
  type Id,
  type RegistryErrorName,
  type SignedDataMessage,
  randomSalt,
} from "../src/index.js";
import { startAnvil, startInProcess, type TestChain } from "./support/chain.js";
import { expectCode, expectError, rejection } from "./support/expect.js";
import {
  associateDirect,
  associateRelayed,
  buildHierarchy,
  createGroup,
  deploy,
  signedAssociation,
  type Hierarchy,
  type Joined,
  type Node,
} from "./support/scenario.js";

/** The registry's custom error `code`, with these decoded arguments and the rule in words. */
function expectRule(error: unknown, code: RegistryErrorName, args: readonly unknown[]): void {
  const rule = expectError(error, ContractRuleError, code);
  expect(rule.args).to.deep.equal(args);
  expect(rule.rule).to.equal(registryRules[code]);
}

/** The outcome of every item of a batch, read from its receipt, as `[status, rule code, rule args]`. */
function outcomes(receipt: TransactionReceipt, registry: `0x${string}`, itemCount: number): [BatchItemStatus, string?, unknown[]?][] {
  return getBatchItemResults({ logs: receipt.logs, registry, itemCount }).map(({ status, error }: BatchItemResult) =>
    error === undefined ? [status] : [status, error.code, [...error.args]],
  );
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

    /** What a failed action must leave untouched: no block, no transaction, every group, identity, member and nonce. */
    async function chainState(extra: readonly Node[]) {
      const nodes = [h.rootMaster, h.spare, ...h.clusters.map(({ head }) => head), ...h.devices, stranger, ...extra];
      const members: { gid: Id; oid: Id }[] = [
        { gid: h.rootGid, oid: h.rootMaster.oid },
        ...[h.spare, ...h.clusters.map(({ head }) => head), ...h.devices].map(({ gid, oid }) => ({ gid, oid })),
      ];
      const { publicClient } = testChain;
      return {
        blockNumber: await publicClient.getBlockNumber({ cacheTime: 0 }),
        groups: await Promise.all(h.gids.map((gid) => h.reader.getGroupState({ gid }))),
        transactionCounts: await Promise.all(nodes.map(({ address }) => publicClient.getTransactionCount({ address }))),
        oids: await Promise.all(nodes.map(({ address }) => h.reader.getOid({ account: address }))),
        members: await Promise.all(members.map((member) => h.reader.getMember(member))),
        nonces: await Promise.all(members.map((member) => h.reader.getNonce(member))),
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

    async function signedMessage(from: Joined, nonce?: bigint, signer: Node = from): Promise<SignedDataMessage> {
      const message = createDataMessage({
        gid: from.gid,
        oid: from.oid,
        nonce: nonce ?? (await h.reader.getNonce({ gid: from.gid, oid: from.oid })),
        payload: `reading of ${from.name}`, salt: randomSalt(),
        deadline: await h.deadline(),
      });
      return signer.wallet.signDataMessage(message);
    }

    describe("createGroup", function () {
      it("returns the gid the registry derives from the chain, the registry, the creator and the label", async function () {
        const creator = await h.funded("clinic/label-owner");
        const { hash, gid } = await creator.wallet.createGroup({ label: "clinic/ward-9", masterOid: creator.oid });
        await h.mined(hash);
        expect(gid).to.equal(groupId({ chainId: testChain.chain.id, registry: h.registry, creator: creator.address, label: "clinic/ward-9" }));
        const onChain = await testChain.publicClient.readContract({
          address: h.registry,
          abi: iomtRegistryAbi,
          functionName: "groupId",
          args: [creator.address, toId("clinic/ward-9")],
        });
        expect(gid).to.equal(onChain);
        expect(await h.reader.getGroup({ gid })).to.include({ exists: true, master: creator.address, masterOid: creator.oid });
      });

      it("refuses a label the caller already used, naming the gid", async function () {
        const error = await failure(() => h.rootMaster.wallet.createGroup({ label: "clinic/root", masterOid: toId("clinic/another-oid") }));
        expectRule(error, "GroupRegistryGidTaken", [h.rootGid]);
      });

      it("gives another creator of the same label another gid, so nobody can squat a group", async function () {
        const squatter = await h.funded("clinic/squatter");
        const gid = await createGroup(h, squatter, "clinic/root");
        expect(gid).to.not.equal(h.rootGid);
        expect(await h.reader.getGroup({ gid: h.rootGid })).to.include({ master: h.rootMaster.address });
      });

      it("refuses a child group from an account that is not a member of the parent", async function () {
        const error = await failure(() => stranger.wallet.createGroup({ label: "clinic/stray", masterOid: stranger.oid, parentGid: h.rootGid }));
        expectRule(error, "GroupRegistryNotParentMember", [h.rootGid, stranger.address]);
      });

      it("refuses a child group whose masterOid is not its creator's oid in the parent", async function () {
        const { spare } = h;
        const error = await failure(() => spare.wallet.createGroup({ label: "clinic/mismatch", masterOid: toId("clinic/not-mine"), parentGid: h.rootGid }));
        expectRule(error, "GroupRegistryMasterOidMismatch", [spare.oid, toId("clinic/not-mine")]);
      });

      it("refuses a second group from an account that already masters one", async function () {
        const { head } = cluster(0);
        const error = await failure(() => head.wallet.createGroup({ label: "clinic/second", masterOid: head.oid, parentGid: h.rootGid }));
        expectRule(error, "GroupRegistryAlreadyMaster", [head.address]);
      });

      it("refuses a root group from an account that already holds an identity", async function () {
        const member = device(0);
        const error = await failure(() => member.wallet.createGroup({ label: "clinic/own-root", masterOid: member.oid }));
        expectRule(error, "GroupRegistryAddressTaken", [member.address]);
      });

      it("refuses a malformed parent gid or an empty label before sending anything", async function () {
        for (const action of [
          () => stranger.wallet.createGroup({ label: "clinic/x", masterOid: stranger.oid, parentGid: "0x1234" }),
          () => stranger.wallet.createGroup({ label: "", masterOid: stranger.oid }),
        ]) {
          expectError(await failure(action), IomtError, "InvalidId");
        }
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

      it("refuses an oid that another identity of the group holds, naming the group and the oid", async function () {
        const newcomer = await h.funded("clinic/newcomer-with-a-taken-oid");
        const taken = device(0).oid;
        const token = await cluster(0).head.wallet.issueToken({ gid: cluster(0).gid, oid: taken, device: newcomer.address });
        const error = await failure(() => newcomer.wallet.associate({ token }), [newcomer]);
        expectRule(error, "GroupRegistryOidTaken", [cluster(0).gid, taken]);
      });

      it("accepts an oid that only another group uses: oids are scoped to their group", async function () {
        const newcomer = await h.funded("clinic/newcomer-with-another-groups-oid");
        const shared = device(0).oid;
        const token = await cluster(1).head.wallet.issueToken({ gid: cluster(1).gid, oid: shared, device: newcomer.address });
        await h.mined(await newcomer.wallet.associate({ token }));
        expect(await h.reader.getMember({ gid: cluster(1).gid, oid: shared })).to.include({ account: newcomer.address, isMember: true });
        expect(await h.reader.getMember({ gid: cluster(0).gid, oid: shared })).to.include({ account: device(0).address, isMember: true });
      });

      it("refuses a device that is already this member, as already associated", async function () {
        const member = device(0);
        const token = await cluster(0).head.wallet.issueToken({ gid: member.gid, oid: member.oid, device: member.address });
        const error = await failure(() => member.wallet.associate({ token }));
        expectRule(error, "GroupRegistryAlreadyAssociated", [member.gid, member.oid, member.address]);
      });

      it("refuses an address that already holds an identity, in any group", async function () {
        const member = device(0);
        const oid = toId("clinic/second-identity");
        const token = await cluster(1).head.wallet.issueToken({ gid: cluster(1).gid, oid, device: member.address });
        const error = await failure(() => member.wallet.associate({ token }));
        expectRule(error, "GroupRegistryAddressTaken", [member.address]);
      });

      it("refuses a group that does not exist", async function () {
        const newcomer = await h.funded("clinic/newcomer-of-no-group");
        const gid = toId("clinic/no-such-group");
        const token = await cluster(0).head.wallet.issueToken({ gid, oid: newcomer.oid, device: newcomer.address });
        const error = await failure(() => newcomer.wallet.associate({ token }), [newcomer]);
        expectRule(error, "GroupRegistryUnknownGroup", [gid]);
      });
    });

    describe("associateBySig", function () {
      it("refuses a relayed request once its deadline has passed", async function () {
        const late = h.unfunded("clinic/late-device");
        const deadline = await h.deadline(60n);
        const association = await signedAssociation(h, cluster(1).gid, cluster(1).head, late, deadline);
        await testChain.increaseTime(120);
        const error = await failure(() => cluster(1).head.wallet.associateBySig({ association }), [late]);
        expectRule(error, "RequestExpired", [deadline]);
      });

      it("refuses a request signed by a key other than the device it names", async function () {
        const named = h.unfunded("clinic/named-device");
        const association = await signedAssociation(h, cluster(1).gid, cluster(1).head, named);
        // The stranger signs the very request the device would sign (the SDK refuses to sign another device's token).
        association.signature = await stranger.account.signTypedData({ domain: h.domain, types: associationTypes, primaryType: "Association", message: { ...association.request } });
        const error = await failure(() => cluster(1).head.wallet.associateBySig({ association }), [named]);
        expectRule(error, "RequestWrongSigner", [stranger.address, named.address]);
      });

      it("refuses a request with a nonce other than 0, naming 0 as expected", async function () {
        const newcomer = h.unfunded("clinic/nonce-1-device");
        const token = await cluster(1).head.wallet.issueToken({ gid: cluster(1).gid, oid: newcomer.oid, device: newcomer.address });
        const association = await newcomer.wallet.signAssociation({ token, deadline: await h.deadline(), nonce: 1n });
        const error = await failure(() => cluster(1).head.wallet.associateBySig({ association }), [newcomer]);
        expectRule(error, "RequestInvalidNonce", [newcomer.address, 0n]);
      });

      it("refuses a request that took effect before with the error a batch reports as already applied", async function () {
        const newcomer = h.unfunded("clinic/relayed-twice");
        const association = await signedAssociation(h, cluster(1).gid, cluster(1).head, newcomer);
        await h.mined(await cluster(1).head.wallet.associateBySig({ association }));
        const error = await failure(() => stranger.wallet.associateBySig({ association }), [newcomer]);
        expectRule(error, "GroupRegistryAlreadyAssociated", [cluster(1).gid, newcomer.oid, newcomer.address]);
      });
    });

    describe("associateBatchBySig", function () {
      it("applies the valid items and skips a bad one, reporting it Rejected with the decoded rule", async function () {
        const { gid, head } = cluster(1);
        const newcomers = [0, 1, 2].map((i) => h.unfunded(`clinic/batch-newcomer-${i}`));
        const associations = await Promise.all([0, 2].map((i) => signedAssociation(h, gid, head, newcomers[i])));
        associations.splice(1, 0, await signedAssociation(h, gid, stranger, newcomers[1]));
        const receipt = await h.mined(await head.wallet.associateBatchBySig({ associations }));
        expect(outcomes(receipt, h.registry, 3)).to.deep.equal([["Applied"], ["Rejected", "GroupRegistryTokenNotFromMaster", [stranger.address, head.address]], ["Applied"]]);
        const [skipped] = getBatchItemResults({ logs: receipt.logs, registry: h.registry, itemCount: 3 }).filter((result) => result.status !== "Applied");
        expect(skipped.error).to.be.instanceOf(ContractRuleError).and.include({ rule: registryRules.GroupRegistryTokenNotFromMaster });
        for (const [i, newcomer] of newcomers.entries()) {
          expect(await h.reader.isAuthenticated({ gid, oid: newcomer.oid, device: newcomer.address }), newcomer.name).to.equal(i !== 1);
        }
      });

      it("refuses to read a receipt against a smaller batch than the one sent (a skipped item beyond the count), with BatchResultOutOfRange", async function () {
        const { gid, head } = cluster(1);
        const newcomers = [0, 1].map((i) => h.unfunded(`clinic/batch-count-${i}`));
        const associations = [await signedAssociation(h, gid, head, newcomers[0]), await signedAssociation(h, gid, stranger, newcomers[1])];
        const receipt = await h.mined(await head.wallet.associateBatchBySig({ associations }));
        expect(outcomes(receipt, h.registry, 2).map(([status]) => status)).to.deep.equal(["Applied", "Rejected"]);
        const error = expectCode(() => getBatchItemResults({ logs: receipt.logs, registry: h.registry, itemCount: 1 }), IomtError, "BatchResultOutOfRange");
        expect(error.message).to.equal("a BatchItemSkipped log names item 1 of a batch of 1");
      });

      it("reports an item that someone submitted alone first as AlreadyApplied, and applies the rest", async function () {
        const { gid, head } = cluster(1);
        const newcomers = [0, 1, 2].map((i) => h.unfunded(`clinic/front-run-${i}`));
        const deadline = await h.deadline();
        const associations = await Promise.all(newcomers.map((newcomer) => signedAssociation(h, gid, head, newcomer, deadline)));
        // The front-runner copies item 1 out of the pending batch and relays it alone.
        await h.mined(await stranger.wallet.associateBySig({ association: associations[1] }));
        const { result } = await testChain.publicClient.simulateContract({
          address: h.registry,
          abi: iomtRegistryAbi,
          functionName: "associateBatchBySig",
          args: [associations.map(({ request, signature, token }) => ({ request, signature, token }))],
          account: head.account,
        });
        expect(result, "the statuses the call returns").to.deep.equal([0, 1, 0]);
        const receipt = await h.mined(await head.wallet.associateBatchBySig({ associations }));
        expect(outcomes(receipt, h.registry, 3)).to.deep.equal([
          ["Applied"],
          ["AlreadyApplied", "GroupRegistryAlreadyAssociated", [gid, newcomers[1].oid, newcomers[1].address]],
          ["Applied"],
        ]);
        for (const newcomer of newcomers) expect(await h.reader.isAuthenticated({ gid, oid: newcomer.oid, device: newcomer.address }), newcomer.name).to.equal(true);
      });

      it("reports every item of a batch where none applies, and the transaction still succeeds", async function () {
        const { gid, head } = cluster(1);
        const late = h.unfunded("clinic/batch-late");
        const deadline = await h.deadline(30n);
        const associations = [await signedAssociation(h, gid, head, late, deadline)];
        await testChain.increaseTime(60);
        const receipt = await h.mined(await head.wallet.associateBatchBySig({ associations }));
        expect(outcomes(receipt, h.registry, 1)).to.deep.equal([["Rejected", "RequestExpired", [deadline]]]);
        expect(await h.reader.getOid({ account: late.address })).to.equal(zeroHash);
      });

      it("refuses an empty batch", async function () {
        const error = await failure(() => cluster(1).head.wallet.associateBatchBySig({ associations: [] }));
        expectRule(error, "BatchEmpty", []);
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

    describe("recordDataBySig", function () {
      it("refuses a nonce above the device's next one, naming the expected nonce", async function () {
        const from = device(0);
        const signed = await signedMessage(from, 5n);
        const error = await failure(() => cluster(0).head.wallet.recordDataBySig({ signed }));
        expectRule(error, "RequestInvalidNonce", [from.address, 1n]);
      });

      it("refuses a nonce the device already used, nonce 0 (its association) included", async function () {
        const from = device(0);
        const error = await failure(async () => cluster(0).head.wallet.recordDataBySig({ signed: await signedMessage(from, 0n) }));
        expectRule(error, "DataLedgerNonceUsed", [from.address, 0n]);
      });

      it("refuses a message signed by another key than the member's", async function () {
        const [claimed, signer] = cluster(0).devices;
        const error = await failure(async () => cluster(0).head.wallet.recordDataBySig({ signed: await signedMessage(claimed, undefined, signer) }));
        expectRule(error, "RequestWrongSigner", [signer.address, claimed.address]);
      });
    });

    describe("recordDataBatchBySig", function () {
      it("records the valid messages and skips one signed by another key, spending no nonce for it", async function () {
        const [first, second, claimed] = cluster(2).devices;
        const nonceOf = (member: Joined) => h.reader.getNonce({ gid: member.gid, oid: member.oid });
        const before = await Promise.all([first, second, claimed].map(nonceOf));
        const messages = [await signedMessage(first), await signedMessage(claimed, undefined, first), await signedMessage(second)];
        const receipt = await h.mined(await cluster(2).head.wallet.recordDataBatchBySig({ messages }));
        expect(outcomes(receipt, h.registry, 3)).to.deep.equal([["Applied"], ["Rejected", "RequestWrongSigner", [first.address, claimed.address]], ["Applied"]]);
        expect(await Promise.all([first, second, claimed].map(nonceOf))).to.deep.equal([before[0] + 1n, before[1] + 1n, before[2]]);
      });

      it("reports a message that someone recorded alone first as AlreadyApplied, with the nonce it used", async function () {
        const [first, second] = cluster(2).devices;
        const messages = [await signedMessage(first), await signedMessage(second)];
        await h.mined(await stranger.wallet.recordDataBySig({ signed: messages[0] }));
        const receipt = await h.mined(await cluster(2).head.wallet.recordDataBatchBySig({ messages }));
        expect(outcomes(receipt, h.registry, 2)).to.deep.equal([["AlreadyApplied", "DataLedgerNonceUsed", [first.address, messages[0].message.nonce]], ["Applied"]]);
      });

      it("refuses an empty batch", async function () {
        const error = await failure(() => cluster(2).head.wallet.recordDataBatchBySig({ messages: [] }));
        expectRule(error, "BatchEmpty", []);
      });
    });

    describe("recordData (sent by the device itself)", function () {
      it("refuses a message sent by anyone but the device registered under its (gid, oid)", async function () {
        const owner = device(0);
        const error = await failure(() => stranger.wallet.recordData({ gid: owner.gid, oid: owner.oid, payloadHash: commitPayload("spoofed", randomSalt()) }));
        expectRule(error, "DataLedgerWrongSender", [stranger.address, owner.address]);
      });
    });

    describe("recordExchangeBySig", function () {
      it("refuses an exchange with a receiver that is not a member of the named group", async function () {
        const sender = device(0);
        const exchange = createExchange({
          gid: sender.gid,
          oid: sender.oid,
          receiverGid: cluster(1).gid,
          receiverOid: device(2).oid,
          nonce: await h.reader.getNonce({ gid: sender.gid, oid: sender.oid }),
          payload: "to the wrong cluster", salt: randomSalt(),
          deadline: await h.deadline(),
        });
        const signed = await sender.wallet.signExchange(exchange);
        const error = await failure(() => h.rootMaster.wallet.recordExchangeBySig({ signed }));
        expectRule(error, "GroupRegistryNotMember", [cluster(1).gid, device(2).oid]);
      });
    });

    describe("setAnchorer, anchorBatch and isAnchorer", function () {
      it("refuses an authorisation by anyone but the Master", async function () {
        const error = await failure(() => stranger.wallet.setAnchorer({ gid: cluster(0).gid, anchorer: stranger.address, allowed: true }));
        expectRule(error, "GroupRegistryNotMaster", [cluster(0).gid, stranger.address]);
      });

      it("refuses a batch anchored by a key the Master did not authorise", async function () {
        const error = await failure(() => stranger.wallet.anchorBatch({ gid: cluster(0).gid, root: commitPayload("batch", randomSalt()), messageCount: 3 }));
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

    describe("getMember and getOid", function () {
      it("gives the same record by (gid, oid) and by (gid, account)", async function () {
        for (const [gid, node] of [[h.rootGid, h.rootMaster], [h.rootGid, cluster(1).head], [device(1).gid, device(1)]] as const) {
          const byOid = await h.reader.getMember({ gid, oid: node.oid });
          expect(byOid.account).to.equal(node.address);
          expect(await h.reader.getMember({ gid, account: node.address })).to.deep.equal(byOid);
        }
        expect(await h.reader.getMember({ gid: device(1).gid, oid: device(1).oid })).to.include({ gid: device(1).gid, isMember: true, isMaster: false, revoked: false });
        expect(await h.reader.getMember({ gid: h.rootGid, oid: h.rootMaster.oid })).to.include({ gid: h.rootGid, isMember: false, isMaster: true });
        expect(await h.reader.getMember({ gid: h.rootGid, oid: cluster(1).head.oid })).to.include({ isMember: true, isMaster: true });
      });

      it("gives an all-zero record for an unknown oid, an outsider, or a member asked about in another group", async function () {
        const unknown = { account: zeroAddress, gid: zeroHash, oid: zeroHash, leafIndex: 0, isMember: false, isMaster: false, revoked: false, nonce: 0 };
        expect(await h.reader.getMember({ gid: h.rootGid, oid: toId("clinic/nobody") })).to.deep.equal(unknown);
        expect(await h.reader.getMember({ gid: h.rootGid, account: stranger.address })).to.deep.equal(unknown);
        expect(await h.reader.getMember({ gid: cluster(0).gid, oid: device(1).oid })).to.deep.equal(unknown);
        expect(await h.reader.getMember({ gid: cluster(0).gid, account: device(1).address })).to.deep.equal(unknown);
      });

      it("names the oid an address registered under, zero for an address without identity", async function () {
        expect(await h.reader.getOid({ account: device(1).address })).to.equal(device(1).oid);
        expect(await h.reader.getOid({ account: h.rootMaster.address })).to.equal(h.rootMaster.oid);
        expect(await h.reader.getOid({ account: stranger.address })).to.equal(zeroHash);
      });
    });

    describe("getGroup", function () {
      it("says an unknown gid does not exist", async function () {
        const group = await h.reader.getGroup({ gid: toId("clinic/no-such-group") });
        expect(group).to.include({ exists: false, master: zeroAddress, parentGid: zeroHash, active: false, masterRevoked: false, masterEpoch: 0, leafCount: 0, root: zeroHash });
      });

      it("gives a new group Master epoch 0 and an unrevoked Master", async function () {
        expect(await h.reader.getGroup({ gid: cluster(0).gid })).to.include({ masterRevoked: false, masterEpoch: 0, level: 1, parentGid: h.rootGid });
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
        const gid = await createGroup(h, loner, "clinic/empty-root");
        expect(await h.reader.getGroupState({ gid })).to.include({ exists: true, leafCount: 0 }).and.deep.include({ revocationWords: [] });
        for (const groupGid of h.gids) {
          const state = await h.reader.getGroupState({ gid: groupGid });
          expect(state.revocationWords, groupGid).to.have.length(Math.ceil(state.leafCount / 255)).and.deep.equal([1n << 255n]);
        }
      });

      it("reflects a revocation in the revocation words", async function () {
        const { gid, head, devices } = cluster(2);
        const revoked = devices[1];
        const { leafIndex } = await h.reader.getMember({ gid, oid: revoked.oid });
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
        const { gid, head } = cluster(0);
        const newcomer: Joined = { ...h.unfunded("clinic/counted-device"), gid, form: "relayed", sentBy: head.address, associatedIn: 0n };
        expect(await h.reader.getNonce({ gid, oid: newcomer.oid })).to.equal(0n);
        await associateRelayed(h, gid, head, newcomer);
        const seen = [await h.reader.getNonce({ gid, oid: newcomer.oid })];
        for (let i = 0; i < 2; i++) {
          await h.mined(await head.wallet.recordDataBySig({ signed: await signedMessage(newcomer) }));
          seen.push(await h.reader.getNonce({ gid, oid: newcomer.oid }));
        }
        expect(seen).to.deep.equal([1n, 2n, 3n]);
        expect(await h.reader.getMember({ gid, oid: newcomer.oid })).to.include({ nonce: 3 });
      });

      it("is scoped to the group: the same oid in another group has its own nonce", async function () {
        expect(await h.reader.getNonce({ gid: cluster(2).gid, oid: device(0).oid })).to.equal(0n);
      });
    });

    describe("getRegistryDomain", function () {
      it("equals the domain built offline from the chain id and the registry address", async function () {
        const domain = await h.reader.getRegistryDomain();
        expect(domain).to.deep.equal(registryDomain({ chainId: testChain.chain.id, registry: h.registry }));
        expect(domain).to.deep.equal({ name: "iomt-auth", version: "2", chainId: testChain.chain.id, verifyingContract: h.registry });
      });
    });

    // Last: these tests revoke cluster 0's head and hand its group to the spare member.
    describe("a revoked cluster head, and takeOverGroup", function () {
      it("refuses a take-over while the group's Master is not revoked", async function () {
        const { gid } = cluster(0);
        const error = await failure(() => h.rootMaster.wallet.takeOverGroup({ gid, newMaster: h.spare.address }));
        expectRule(error, "GroupRegistryMasterNotRevoked", [gid]);
      });

      it("refuses a take-over of a root group, which has no parent", async function () {
        const error = await failure(() => h.rootMaster.wallet.takeOverGroup({ gid: h.rootGid, newMaster: h.spare.address }));
        expectRule(error, "GroupRegistryRootGroup", [h.rootGid]);
      });

      it("refuses a take-over by anyone but the parent group's Master", async function () {
        const error = await failure(() => h.spare.wallet.takeOverGroup({ gid: cluster(0).gid, newMaster: h.spare.address }));
        expectRule(error, "GroupRegistryNotMaster", [h.rootGid, h.spare.address]);
      });

      it("cuts the revoked head off at once: it can no longer associate, revoke, authorise or anchor", async function () {
        const { gid, head } = cluster(0);
        await h.mined(await h.rootMaster.wallet.revoke({ gid: h.rootGid, oid: head.oid }));
        expect(await h.reader.getGroup({ gid })).to.include({ masterRevoked: true, master: head.address, active: true });

        const rogue = await h.funded("clinic/rogue-device");
        const token = await head.wallet.issueToken({ gid, oid: rogue.oid, device: rogue.address });
        expectRule(await failure(() => rogue.wallet.associate({ token }), [rogue]), "GroupRegistryMasterRevoked", [gid, head.address]);
        expectRule(await failure(() => head.wallet.revoke({ gid, oid: device(0).oid })), "GroupRegistryMasterRevoked", [gid, head.address]);
        expectRule(await failure(() => head.wallet.setAnchorer({ gid, anchorer: rogue.address, allowed: true }), [rogue]), "GroupRegistryMasterRevoked", [gid, head.address]);
        expectRule(await failure(() => head.wallet.anchorBatch({ gid, root: commitPayload("rogue batch", randomSalt()), messageCount: 1 })), "GroupRegistryMasterRevoked", [gid, head.address]);
        expect(await h.reader.isAnchorer({ gid, anchorer: head.address })).to.equal(false);
      });

      it("refuses a new Master that is not an active member of the parent group", async function () {
        const { gid } = cluster(0);
        const error = await failure(() => h.rootMaster.wallet.takeOverGroup({ gid, newMaster: stranger.address }));
        expectRule(error, "GroupRegistryIneligibleMaster", [gid, stranger.address]);
      });

      it("hands the group to an eligible member of the parent, who regains every power", async function () {
        const { gid } = cluster(0);
        await h.mined(await h.rootMaster.wallet.takeOverGroup({ gid, newMaster: h.spare.address }));
        expect(await h.reader.getGroup({ gid })).to.include({ master: h.spare.address, masterOid: h.spare.oid, masterRevoked: false, masterEpoch: 1, active: true });
        expect(await h.reader.getMember({ gid: h.rootGid, oid: h.spare.oid })).to.include({ isMaster: true });
        const newcomer = await h.funded("clinic/after-take-over");
        await associateDirect(h, gid, h.spare, newcomer);
        expect(await h.reader.isAuthenticated({ gid, oid: newcomer.oid, device: newcomer.address })).to.equal(true);
        expect(await h.reader.isAuthenticated({ gid, oid: device(0).oid, device: device(0).address }), "a member enrolled before stays one").to.equal(true);
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
    const gid = await createGroup(d, master, "london/root");
    await associateDirect(d, gid, master, member);
    const message = createDataMessage({ gid, oid: member.oid, nonce: 1n, payload: "42", salt: randomSalt(), deadline: await d.deadline() });
    await d.mined(await master.wallet.recordDataBySig({ signed: await member.wallet.signDataMessage(message) }));
    expect(await d.reader.getNonce({ gid, oid: member.oid })).to.equal(2n);
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
