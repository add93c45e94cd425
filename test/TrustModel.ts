// The attacks of the security review of the trust model (issue "Trust model v2 on chain"), each
// written as the attacker would run it, on Al Ahmed et al.'s 3-level scenario where it applies:
// one root group (the level-2 cluster head), three level-1 cluster heads with child groups, and
// nine devices. Each test failed on the registry before v2 and passes now.
import { expect } from "chai";
import { zeroAddress, zeroHash, type Hex } from "viem";
import { createAuthTableIndexer, issueToken, type AuthPathStep } from "../sdk/src/index.js";
import {
  createGroup,
  deployHierarchy,
  deviceAccount,
  enrol,
  funded,
  gidOf,
  id,
  networkHelpers,
  publicClient,
  signedAssociation,
  tokenSignature,
  viem,
  type Registry,
} from "./support/fixtures.js";

const { assertions } = viem;

/** The registry's verifyAuthPath over the indexed path of `device`. */
async function pathStatus(registry: Registry, device: Hex, trustedRoot: Hex) {
  const indexer = createAuthTableIndexer(publicClient, { registry: registry.address });
  await indexer.sync();
  const steps = indexer.getAuthPath(device).map((step: AuthPathStep) => ({
    ...step,
    entry: { ...step.entry, index: BigInt(step.entry.index) },
    leafCount: BigInt(step.leafCount),
    consistency: [],
  }));
  const [status, failedStep] = await registry.read.verifyAuthPath([steps, trustedRoot]);
  return [["Valid", "EmptyPath", "UnknownGroup", "InactiveGroup", "IndexOutOfRange", "InvalidProof", "Revoked", "NotParentGroup", "NotGroupMaster", "UntrustedRoot", "Stale"][status], Number(failedStep)];
}

/** The 3-level scenario with cluster 0's head revoked in the root group, and a spare root member. */
async function compromisedHead() {
  const hierarchy = await deployHierarchy();
  const { registry, rootMaster, rootGid, clusters } = hierarchy;
  const spare = await funded("spare");
  await enrol(registry, rootMaster, spare, rootGid, id("spare"));
  await registry.write.revoke([rootGid, clusters[0].headOid], { account: rootMaster });
  return { ...hierarchy, spare, head: clusters[0].head, gid: clusters[0].gid };
}

describe("Trust model v2: the review's attacks", () => {
  describe("1. A revoked cluster head is cut off on chain", () => {
    it("a revoked head's tokens no longer associate devices (directly or relayed)", async () => {
      const { registry, head, gid } = await networkHelpers.loadFixture(compromisedHead);
      const rogue = await funded("rogue");
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associate([gid, id("rogue"), await tokenSignature(head, gid, id("rogue"), rogue.address)], { account: rogue }),
        registry,
        "GroupRegistryMasterRevoked",
        [gid, head.address],
      );
      const relayed = await signedAssociation(registry, head, deviceAccount("rogue-2"), gid, id("rogue-2"));
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associateBySig([relayed.request, relayed.signature, relayed.token], { account: head }),
        registry,
        "GroupRegistryMasterRevoked",
        [gid, head.address],
      );
    });

    it("a revoked head can no longer authorise an anchorer", async () => {
      const { registry, head, gid } = await networkHelpers.loadFixture(compromisedHead);
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.setAnchorer([gid, deviceAccount("rogue-gateway").address, true], { account: head }),
        registry,
        "GroupRegistryMasterRevoked",
        [gid, head.address],
      );
    });

    it("a revoked head, and the gateway it authorised before, can no longer anchor batches", async () => {
      const { registry, rootMaster, rootGid, clusters } = await networkHelpers.loadFixture(deployHierarchy);
      const { gid, head, headOid } = clusters[0];
      const gateway = await funded("gateway");
      await registry.write.setAnchorer([gid, gateway.address, true], { account: head });
      await registry.write.revoke([rootGid, headOid], { account: rootMaster });
      for (const account of [head, gateway]) {
        await assertions.revertWithCustomErrorWithArgs(
          registry.write.anchorBatch([gid, id("forged-batch"), 10], { account }),
          registry,
          "GroupRegistryMasterRevoked",
          [gid, head.address],
        );
      }
    });

    it("a revoked head can no longer propose a hand-over of its cluster", async () => {
      const { registry, head, gid, spare } = await networkHelpers.loadFixture(compromisedHead);
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.proposeMaster([gid, spare.address], { account: head }),
        registry,
        "GroupRegistryMasterRevoked",
        [gid, head.address],
      );
    });

    it("a hand-over the head proposed before its revocation can no longer be accepted", async () => {
      const { registry, rootMaster, rootGid, clusters } = await networkHelpers.loadFixture(deployHierarchy);
      const { gid, head, headOid } = clusters[0];
      const accomplice = await funded("accomplice");
      await enrol(registry, rootMaster, accomplice, rootGid, id("accomplice"));
      await registry.write.proposeMaster([gid, accomplice.address], { account: head });
      await registry.write.revoke([rootGid, headOid], { account: rootMaster });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.acceptMaster([gid], { account: accomplice }),
        registry,
        "GroupRegistryMasterRevoked",
        [gid, head.address],
      );
      expect((await registry.read.groupInfo([gid])).pendingMaster).to.equal(zeroAddress);
    });

    it("a revoked head cannot accept another cluster's hand-over", async () => {
      const { registry, head, clusters } = await networkHelpers.loadFixture(compromisedHead);
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.proposeMaster([clusters[1].gid, head.address], { account: clusters[1].head }),
        registry,
        "GroupRegistryIneligibleMaster",
        [clusters[1].gid, head.address],
      );
    });

    it("the review's exploit fails: a rogue device enrolled by the revoked head never gets a Valid path", async () => {
      const { registry, head, gid, spare, rootMaster } = await networkHelpers.loadFixture(compromisedHead);
      const rogue = deviceAccount("rogue");
      const item = await signedAssociation(registry, head, rogue, gid, id("rogue"));
      await assertions.revertWithCustomError(
        registry.write.associateBySig([item.request, item.signature, item.token], { account: head }),
        registry,
        "GroupRegistryMasterRevoked",
      );
      await assertions.revertWithCustomError(registry.write.proposeMaster([gid, spare.address], { account: head }), registry, "GroupRegistryMasterRevoked");
      // Only the root group's Master can move the cluster on, and the rogue is not in it.
      await registry.write.takeOverGroup([gid, spare.address], { account: rootMaster });
      expect(await registry.read.memberByAccount([gid, rogue.address])).to.include({ isMember: false });
      expect(await registry.read.isAuthenticated([gid, id("rogue"), rogue.address])).to.equal(false);
    });

    it("devices enrolled before the revocation fail with Revoked at step 1, then verify Valid again after the take-over", async () => {
      const { registry, rootMaster, rootGid, gid, spare, clusters } = await networkHelpers.loadFixture(compromisedHead);
      const device = clusters[0].devices[0].account.address;
      expect(await pathStatus(registry, device, rootGid)).to.deep.equal(["Revoked", 1]);
      await registry.write.takeOverGroup([gid, spare.address], { account: rootMaster });
      expect(await pathStatus(registry, device, rootGid)).to.deep.equal(["Valid", 0]);
      // The new Master vouches for them until it revokes the ones it does not trust.
      await registry.write.revoke([gid, clusters[0].devices[0].oid], { account: spare });
      expect(await pathStatus(registry, device, rootGid)).to.deep.equal(["Revoked", 0]);
    });

    it("deactivating the parent group cuts off every cluster head below it", async () => {
      const { registry, rootMaster, rootGid, clusters } = await networkHelpers.loadFixture(deployHierarchy);
      await registry.write.deactivateGroup([rootGid], { account: rootMaster });
      const { gid, head } = clusters[2];
      const rogue = await funded("rogue");
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associate([gid, id("rogue"), await tokenSignature(head, gid, id("rogue"), rogue.address)], { account: rogue }),
        registry,
        "GroupRegistryParentInactive",
        [gid, rootGid],
      );
    });
  });

  describe("2. Nothing can be squatted", () => {
    it("a squatter who creates a root group with the hospital's label gets its own gid, not the hospital's", async () => {
      const { registry } = await networkHelpers.loadFixture(deployHierarchy);
      const squatter = await funded("squatter");
      const hospital = await funded("hospital-master");
      const squatted = await createGroup(registry, squatter, "hospital", id("oid:hospital-master"));
      const pinned = gidOf(registry, hospital, "hospital"); // what the hospital's verifiers pin
      expect(squatted).to.not.equal(pinned);
      expect(await createGroup(registry, hospital, "hospital", id("oid:hospital-master"))).to.equal(pinned);
      expect((await registry.read.groupInfo([pinned])).master).to.equal(hospital.address);
    });

    it("an attacker cannot burn the oid a hospital will give a device: oids are scoped to their group", async () => {
      const { registry, clusters } = await networkHelpers.loadFixture(deployHierarchy);
      const attacker = await funded("attacker");
      const victimOid = id("oid:infusion-pump-17");
      // Burn attempt 1: the oid as the masterOid of the attacker's root group.
      await createGroup(registry, attacker, "burner", victimOid);
      // Burn attempt 2: the oid given to a device of the attacker's own group.
      const attackersGid = gidOf(registry, attacker, "burner");
      await enrol(registry, attacker, deviceAccount("attackers-device"), attackersGid, id("other"));
      await enrol(registry, clusters[0].head, deviceAccount("pump-17"), clusters[0].gid, victimOid);
      expect(await registry.read.isAuthenticated([clusters[0].gid, victimOid, deviceAccount("pump-17").address])).to.equal(true);
    });

    it("a token issued on a staging registry does not associate on production, even with the same Master key and label", async () => {
      const { registry } = await networkHelpers.loadFixture(deployHierarchy);
      const staging = await viem.deployContract("IomtRegistry");
      const master = await funded("ward-master");
      const stagingGid = await createGroup(staging, master, "ward-3", id("oid:ward-master"));
      const productionGid = await createGroup(registry, master, "ward-3", id("oid:ward-master"));
      expect(stagingGid).to.not.equal(productionGid);
      const device = await funded("device");
      const stagingToken = await issueToken(master, { gid: stagingGid, oid: id("d"), device: device.address });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associate([stagingGid, id("d"), stagingToken.signature], { account: device }),
        registry,
        "GroupRegistryUnknownGroup",
        [stagingGid],
      );
      await assertions.revertWithCustomError(
        registry.write.associate([productionGid, id("d"), stagingToken.signature], { account: device }),
        registry,
        "GroupRegistryTokenNotFromMaster",
      );
    });

    it("an unused token of a root Master does not come back to life: its old key can never master the group again", async () => {
      const { registry, rootMaster, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const b = await funded("next-root-master");
      const token = await issueToken(rootMaster, { gid: rootGid, oid: id("late"), device: deviceAccount("late").address });
      await registry.write.proposeMaster([rootGid, b.address], { account: rootMaster });
      await registry.write.acceptMaster([rootGid], { account: b });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.proposeMaster([rootGid, rootMaster.address], { account: b }),
        registry,
        "GroupRegistryIneligibleMaster",
        [rootGid, rootMaster.address],
      );
      const late = await funded("late");
      await assertions.revertWithCustomError(
        registry.write.associate([rootGid, id("late"), token.signature], { account: late }),
        registry,
        "GroupRegistryTokenNotFromMaster",
      );
    });

    it("documented: a child Master's unused token is valid again when the group comes back to it (A → B → A)", async () => {
      const { registry, rootMaster, rootGid, clusters } = await networkHelpers.loadFixture(deployHierarchy);
      const { gid, head: a } = clusters[0];
      const b = await funded("b");
      await enrol(registry, rootMaster, b, rootGid, id("b"));
      const device = await funded("late");
      const token = await issueToken(a, { gid, oid: id("late"), device: device.address });
      await registry.write.proposeMaster([gid, b.address], { account: a });
      await registry.write.acceptMaster([gid], { account: b });
      await assertions.revertWithCustomError(
        registry.write.associate([gid, id("late"), token.signature], { account: device }),
        registry,
        "GroupRegistryTokenNotFromMaster",
      );
      await registry.write.proposeMaster([gid, a.address], { account: b });
      await registry.write.acceptMaster([gid], { account: a });
      // A token is "signed by the group's current Master": A is that again, and could sign it anew.
      await registry.write.associate([gid, id("late"), token.signature], { account: device });
    });
  });

  describe("3. No permanent denial of service through bounded counters", () => {
    it("a flood of root groups takes nothing from anyone else: there is no registry-wide counter left", async () => {
      const { registry } = await networkHelpers.loadFixture(deployHierarchy);
      for (let i = 0; i < 40; i++) await createGroup(registry, await funded(`flooder-${i}`), "spam", id(`spam-${i}`));
      const hospital = await funded("hospital-master");
      const gid = await createGroup(registry, hospital, "hospital", id("oid:hospital"));
      expect((await registry.read.groupInfo([gid])).master).to.equal(hospital.address);
      expect((await registry.read.groupInfo([gid])).parentGid).to.equal(zeroHash);
    });
  });

  describe("4. Batches cannot be griefed", () => {
    it("copying one signed association out of a pending batch and submitting it first does not make the batch fail", async () => {
      const { registry, clusters } = await networkHelpers.loadFixture(deployHierarchy);
      const { gid, head } = clusters[1];
      const items = [];
      for (let i = 0; i < 20; i++) items.push(await signedAssociation(registry, head, deviceAccount(`batch-${i}`), gid, id(`batch-${i}`)));
      const griefer = await funded("griefer");
      await registry.write.associateBySig([items[7].request, items[7].signature, items[7].token], { account: griefer });
      const hash = await registry.write.associateBatchBySig([items], { account: head });
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status).to.equal("success");
      expect((await registry.read.groupInfo([gid])).leafCount).to.equal(3 + 20);
    });
  });
});
