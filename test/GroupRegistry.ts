import { expect } from "chai";
import {
  encodeAbiParameters,
  encodeErrorResult,
  hashTypedData,
  keccak256,
  numberToHex,
  zeroAddress,
  zeroHash,
  type Hex,
  type LocalAccount,
} from "viem";
import { associationTypes, genesisAnchor, groupId, tokenDigest } from "../sdk/src/index.js";
import {
  chainId,
  createGroup,
  deployHierarchy,
  deployRegistry,
  deviceAccount,
  enrol,
  domainOf,
  farDeadline,
  funded,
  gidOf,
  id,
  networkHelpers,
  signAssociationRequest,
  signedAssociation,
  toHighS,
  tokenSignature,
  publicClient,
  viem,
} from "./support/fixtures.js";

const { assertions } = viem;
/** Bit 255 of a revocation word marks it as holding leaves; bits 0..254 are leaves 255w..255w+254. */
const WORD_ALLOCATED = 1n << 255n;

async function rootGroupFixture() {
  const { registry } = await deployRegistry();
  const master = await funded("master");
  const masterOid = id("oid:master");
  const gid = await createGroup(registry, master, "group:ward-1", masterOid);
  return { registry, master, gid, masterOid };
}


describe("GroupRegistry", () => {
  describe("createGroup: root groups", () => {
    it("creates a root group whose gid is derived from the creator and its label, with the genesis anchor of (0, 0, gid, master)", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      const master = await funded("m");
      const gid = groupId({ chainId, registry: registry.address, creator: master.address, label: "g" });
      expect(await registry.read.groupId([master.address, id("g")])).to.equal(gid);
      const genesis = genesisAnchor(zeroHash, zeroHash, gid, master.address);
      await assertions.emitWithArgs(
        registry.write.createGroup([id("g"), id("m-oid"), zeroHash], { account: master }),
        registry,
        "GroupCreated",
        [gid, master.address, zeroHash, id("g"), id("m-oid"), 0, genesis],
      );
      const info = await registry.read.groupInfo([gid]);
      expect(info).to.include({ master: master.address, masterOid: id("m-oid"), parentGid: zeroHash, level: 0 });
      expect(info).to.include({ active: true, masterRevoked: false, masterEpoch: 0, leafCount: 0, chainHead: genesis, root: zeroHash });
      const me = await registry.read.memberByAccount([gid, master.address]);
      expect(me).to.include({ gid, oid: id("m-oid"), isMaster: true, isMember: false, revoked: false });
      expect(await registry.read.oidOf([master.address])).to.equal(id("m-oid"));
    });

    it("anchors a root group's genesis at keccak256(abi.encode(0, 0, gid, master)), as docs/contracts.md defines it", async () => {
      // From the documented encoding alone, with viem's ABI encoder (not the SDK's genesisAnchor).
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const documented = keccak256(
        encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "address" }], [zeroHash, zeroHash, gid, master.address]),
      );
      expect(documented, "not zero").not.to.equal(zeroHash);
      expect((await registry.read.groupInfo([gid])).chainHead, "the chain head before any association").to.equal(documented);
      const [created] = await publicClient.getContractEvents({ address: registry.address, abi: registry.abi, eventName: "GroupCreated", args: { gid }, fromBlock: 0n, strict: true });
      expect(created.args.genesis).to.equal(documented);
    });

    it("returns the derived gid to a calling contract", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      const master = await funded("m");
      const { result } = await publicClient.simulateContract({
        address: registry.address,
        abi: registry.abi,
        functionName: "createGroup",
        args: [id("g"), id("m-oid"), zeroHash],
        account: master,
      });
      expect(result).to.equal(gidOf(registry, master, "g"));
    });

    it("accepts any label, zero included, and rejects a zero masterOid", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      const master = await funded("m");
      await registry.write.createGroup([zeroHash, id("o"), zeroHash], { account: master });
      expect((await registry.read.groupInfo([await registry.read.groupId([master.address, zeroHash])])).master).to.equal(master.address);
      await assertions.revertWithCustomError(
        registry.write.createGroup([id("g"), zeroHash, zeroHash], { account: await funded("other") }),
        registry,
        "GroupRegistryZeroId",
      );
    });

    it("gives another creator with the same label another gid, and the same creator no second group per label", async () => {
      const { registry, master, gid, masterOid } = await networkHelpers.loadFixture(rootGroupFixture);
      const other = await funded("other");
      const otherGid = await createGroup(registry, other, "group:ward-1", masterOid);
      expect(otherGid).to.not.equal(gid);
      expect((await registry.read.groupInfo([gid])).master).to.equal(master.address);
      // A Master's key holds its identity, so it cannot create another root group; a second
      // group under the same label would be the same gid.
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("group:ward-1"), id("again"), zeroHash], { account: master }),
        registry,
        "GroupRegistryGidTaken",
        [gid],
      );
    });

    it("scopes oids to their group: another group may use the same masterOid", async () => {
      const { registry, masterOid, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const other = await funded("other");
      const otherGid = await createGroup(registry, other, "g2", masterOid);
      expect((await registry.read.memberOf([otherGid, masterOid])).account).to.equal(other.address);
      expect((await registry.read.memberOf([gid, masterOid])).account).to.not.equal(other.address);
    });

    it("rejects a root group from a key that already masters a group", async () => {
      const { registry, master } = await networkHelpers.loadFixture(rootGroupFixture);
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("g2"), id("o2"), zeroHash], { account: master }),
        registry,
        "GroupRegistryAddressTaken",
        [master.address],
      );
    });

    it("rejects a root group from a device that is already a member of a group", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = await funded("device");
      await enrol(registry, master, device, gid, id("d"));
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("g2"), id("o2"), zeroHash], { account: device }),
        registry,
        "GroupRegistryAddressTaken",
        [device.address],
      );
    });
  });

  describe("createGroup: child groups", () => {
    it("lets an active member of the parent create a child one level down, anchored to the parent's chain head", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const head = await funded("head");
      await enrol(registry, master, head, gid, id("head"));
      const parentHead = (await registry.read.groupInfo([gid])).chainHead;
      const child = gidOf(registry, head, "child");
      await assertions.emitWithArgs(
        registry.write.createGroup([id("child"), id("head"), gid], { account: head }),
        registry,
        "GroupCreated",
        [child, head.address, gid, id("child"), id("head"), 1, genesisAnchor(parentHead, gid, child, head.address)],
      );
      const info = await registry.read.groupInfo([child]);
      expect(info).to.include({ master: head.address, masterOid: id("head"), parentGid: gid, level: 1 });
      expect((await registry.read.memberByAccount([gid, head.address])).isMaster).to.equal(true);
    });

    it("rejects a caller that is not a member of the parent group", async () => {
      const { registry, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const stranger = await funded("stranger");
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("child"), id("x"), gid], { account: stranger }),
        registry,
        "GroupRegistryNotParentMember",
        [gid, stranger.address],
      );
    });

    it("rejects a member of another group", async () => {
      const { registry, clusters, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const device = deviceAccount("device-0-0");
      await networkHelpers.setBalance(device.address, 10n ** 18n);
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("child"), clusters[0].devices[0].oid, rootGid], { account: device }),
        registry,
        "GroupRegistryNotParentMember",
        [rootGid, device.address],
      );
    });

    it("rejects a revoked member of the parent group", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const head = await funded("head");
      await enrol(registry, master, head, gid, id("head"));
      await registry.write.revoke([gid, id("head")], { account: master });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("child"), id("head"), gid], { account: head }),
        registry,
        "GroupRegistryNotParentMember",
        [gid, head.address],
      );
    });

    it("requires the child's masterOid to be the creator's own oid", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const head = await funded("head");
      await enrol(registry, master, head, gid, id("head"));
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("child"), id("not-mine"), gid], { account: head }),
        registry,
        "GroupRegistryMasterOidMismatch",
        [id("head"), id("not-mine")],
      );
    });

    it("rejects an unknown or inactive parent", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const head = await funded("head");
      await enrol(registry, master, head, gid, id("head"));
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("child"), id("head"), id("nowhere")], { account: head }),
        registry,
        "GroupRegistryUnknownGroup",
        [id("nowhere")],
      );
      await registry.write.deactivateGroup([gid], { account: master });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("child"), id("head"), gid], { account: head }),
        registry,
        "GroupRegistryGroupInactive",
        [gid],
      );
    });

    it("lets a cluster head master only one group", async () => {
      const { registry, clusters, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("second"), clusters[0].headOid, rootGid], { account: clusters[0].head }),
        registry,
        "GroupRegistryAlreadyMaster",
        [clusters[0].head.address],
      );
    });

    it("stops at level 255, the deepest a uint8 level holds", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      let parent = gid;
      let parentMaster = master;
      for (let level = 1; level <= 256; level++) {
        const head = await funded(`deep-${level}`);
        await enrol(registry, parentMaster, head, parent, id(`deep-oid-${level}`));
        if (level === 256) {
          await assertions.revertWithCustomErrorWithArgs(
            registry.write.createGroup([id(`deep-${level}`), id(`deep-oid-${level}`), parent], { account: head }),
            registry,
            "GroupRegistryHierarchyTooDeep",
            [parent],
          );
          break;
        }
        parent = await createGroup(registry, head, `deep-${level}`, id(`deep-oid-${level}`), parent);
        parentMaster = head;
      }
      expect((await registry.read.groupInfo([parent])).level).to.equal(255);
    });
  });

  describe("tokens", () => {
    it("exposes the token digest keccak256(gid ‖ oid ‖ pubAddr)", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      const device = deviceAccount("d");
      expect(await registry.read.tokenDigest([id("g"), id("o"), device.address])).to.equal(
        tokenDigest({ gid: id("g"), oid: id("o"), device: device.address }),
      );
    });

    for (const [what, tamper] of [
      ["another gid", (_gid: Hex, oid: Hex, device: Hex) => [id("other-gid"), oid, device]],
      ["another oid", (gid: Hex, _oid: Hex, device: Hex) => [gid, id("other-oid"), device]],
      ["another address", (gid: Hex, oid: Hex) => [gid, oid, deviceAccount("someone-else").address]],
    ] as const) {
      it(`rejects a token issued for ${what}`, async () => {
        const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
        const device = await funded("d");
        const [g, o, d] = tamper(gid, id("d"), device.address);
        const token = await tokenSignature(master, g, o, d as Hex);
        await assertions.revertWithCustomError(
          registry.write.associate([gid, id("d"), token], { account: device }),
          registry,
          "GroupRegistryTokenNotFromMaster",
        );
      });
    }

    it("rejects a token signed by a key other than the group's Master", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = await funded("d");
      const forger = deviceAccount("forger");
      const token = await tokenSignature(forger, gid, id("d"), device.address);
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associate([gid, id("d"), token], { account: device }),
        registry,
        "GroupRegistryTokenNotFromMaster",
        [forger.address, master.address],
      );
    });

    it("rejects a token signed over the bare digest, without the EIP-191 prefix", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = await funded("d");
      const token = await master.sign!({ hash: tokenDigest({ gid, oid: id("d"), device: device.address }) });
      await assertions.revertWithCustomError(
        registry.write.associate([gid, id("d"), token], { account: device }),
        registry,
        "GroupRegistryTokenNotFromMaster",
      );
    });

    it("rejects a malleable high-s token and a token of the wrong length", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = await funded("d");
      const token = await tokenSignature(master, gid, id("d"), device.address);
      for (const bad of [toHighS(token), token.slice(0, 130) as Hex, "0x" as Hex]) {
        await assertions.revertWithCustomError(
          registry.write.associate([gid, id("d"), bad], { account: device }),
          registry,
          "GroupRegistryInvalidToken",
        );
      }
    });
  });

  describe("associate (the device sends the transaction)", () => {
    it("adds the device to the group's AuthTable and authenticates it", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = await funded("d");
      const token = await tokenSignature(master, gid, id("d"), device.address);
      await assertions.emit(registry.write.associate([gid, id("d"), token], { account: device }), registry, "DeviceAssociated");
      expect(await registry.read.isAuthenticated([gid, id("d"), device.address])).to.equal(true);
      const member = await registry.read.memberOf([gid, id("d")]);
      expect(member).to.include({ account: device.address, gid, leafIndex: 0, isMember: true, isMaster: false });
      expect(await registry.read.memberByAccount([gid, device.address])).to.deep.equal(member);
      expect(await registry.read.nonces([gid, id("d")])).to.equal(1n);
      expect((await registry.read.groupInfo([gid])).leafCount).to.equal(1);
    });

    it("rejects a zero oid, an unknown group and an inactive group", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = await funded("d");
      // The SDK's issueToken refuses a zero oid, so the Master signs this token by hand.
      const token = await master.signMessage({ message: { raw: tokenDigest({ gid, oid: zeroHash, device: device.address }) } });
      await assertions.revertWithCustomError(
        registry.write.associate([gid, zeroHash, token], { account: device }),
        registry,
        "GroupRegistryZeroId",
      );
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associate([id("nowhere"), id("d"), token], { account: device }),
        registry,
        "GroupRegistryUnknownGroup",
        [id("nowhere")],
      );
      await registry.write.deactivateGroup([gid], { account: master });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associate([gid, id("d"), await tokenSignature(master, gid, id("d"), device.address)], { account: device }),
        registry,
        "GroupRegistryGroupInactive",
        [gid],
      );
    });

    it("rejects an oid already used in the group by a device or by its Master", async () => {
      const { registry, master, gid, masterOid } = await networkHelpers.loadFixture(rootGroupFixture);
      const first = await funded("first");
      const second = await funded("second");
      await registry.write.associate([gid, id("d"), await tokenSignature(master, gid, id("d"), first.address)], { account: first });
      for (const oid of [id("d"), masterOid]) {
        await assertions.revertWithCustomErrorWithArgs(
          registry.write.associate([gid, oid, await tokenSignature(master, gid, oid, second.address)], { account: second }),
          registry,
          "GroupRegistryOidTaken",
          [gid, oid],
        );
      }
    });

    it("reports a repeated association of the same device and oid as already associated", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = await funded("d");
      const token = await tokenSignature(master, gid, id("d"), device.address);
      await registry.write.associate([gid, id("d"), token], { account: device });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associate([gid, id("d"), token], { account: device }),
        registry,
        "GroupRegistryAlreadyAssociated",
        [gid, id("d"), device.address],
      );
    });

    it("rejects an address that already has an identity, in this group or any other", async () => {
      const { registry, clusters } = await networkHelpers.loadFixture(deployHierarchy);
      const device = clusters[0].devices[0].account;
      await networkHelpers.setBalance(device.address, 10n ** 18n);
      const other = clusters[1];
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associate([other.gid, id("new"), await tokenSignature(other.head, other.gid, id("new"), device.address)], {
          account: device,
        }),
        registry,
        "GroupRegistryAddressTaken",
        [device.address],
      );
    });
  });

  describe("capacity", () => {
    // Storage slot of `_groups` in IomtRegistry: EIP712's two fallback strings take slots 0 and 1.
    const GROUPS_SLOT = 2n;

    it("rejects an association once a group holds 2^32 - 1 members", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const slot = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [gid, GROUPS_SLOT]));
      const packed = BigInt((await publicClient.getStorageAt({ address: registry.address, slot }))!);
      expect(numberToHex(packed & ((1n << 160n) - 1n), { size: 20 })).to.equal(master.address.toLowerCase());
      const leafCountMask = 0xffffffffn << 160n; // right after master (160 bits)
      await networkHelpers.setStorageAt(registry.address, slot, numberToHex(packed | leafCountMask, { size: 32 }));
      expect((await registry.read.groupInfo([gid])).leafCount).to.equal(2 ** 32 - 1);
      const device = await funded("d");
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associate([gid, id("d"), await tokenSignature(master, gid, id("d"), device.address)], { account: device }),
        registry,
        "GroupRegistryGroupFull",
        [gid],
      );
    });
  });

  describe("associateBySig (relayed, device-signed EIP-712 request)", () => {
    it("lets anyone relay a device's signed request", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = deviceAccount("d");
      const relayer = await funded("relayer");
      const item = await signedAssociation(registry, master, device, gid, id("d"));
      await assertions.emit(
        registry.write.associateBySig([item.request, item.signature, item.token], { account: relayer }),
        registry,
        "DeviceAssociated",
      );
      expect(await registry.read.isAuthenticated([gid, id("d"), device.address])).to.equal(true);
    });

    it("computes the same EIP-712 digest as viem", async () => {
      const { registry, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const request = { gid, oid: id("d"), device: deviceAccount("d").address, nonce: 0n, deadline: 99n };
      expect(await registry.read.associationDigest([request])).to.equal(
        hashTypedData({ domain: domainOf(registry), types: associationTypes, primaryType: "Association", message: request }),
      );
    });

    it("rejects an expired request", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = deviceAccount("d");
      const request = { gid, oid: id("d"), device: device.address, nonce: 0n, deadline: 1n };
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associateBySig(
          [request, await signAssociationRequest(device, registry, request), await tokenSignature(master, gid, id("d"), device.address)],
          { account: master },
        ),
        registry,
        "RequestExpired",
        [1n],
      );
    });

    it("rejects any nonce but 0, and reports a replay of an executed request as already associated", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = deviceAccount("d");
      const token = await tokenSignature(master, gid, id("d"), device.address);
      const wrong = { gid, oid: id("d"), device: device.address, nonce: 1n, deadline: await farDeadline() };
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associateBySig([wrong, await signAssociationRequest(device, registry, wrong), token], { account: master }),
        registry,
        "RequestInvalidNonce",
        [device.address, 0n],
      );
      const item = await signedAssociation(registry, master, device, gid, id("d"));
      await registry.write.associateBySig([item.request, item.signature, item.token], { account: master });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associateBySig([item.request, item.signature, item.token], { account: master }),
        registry,
        "GroupRegistryAlreadyAssociated",
        [gid, id("d"), device.address],
      );
    });

    it("reports a replayed request as GroupRegistryAlreadyAssociated before any other check, even after its deadline and with its signature mangled", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = deviceAccount("d");
      const item = await signedAssociation(registry, master, device, gid, id("d"));
      await registry.write.associateBySig([item.request, item.signature, item.token], { account: master });
      await networkHelpers.time.increaseTo(item.request.deadline + 1n);
      for (const signature of [item.signature, toHighS(item.signature), "0x" as Hex]) {
        await assertions.revertWithCustomErrorWithArgs(
          registry.write.associateBySig([item.request, signature, item.token], { account: master }),
          registry,
          "GroupRegistryAlreadyAssociated",
          [gid, id("d"), device.address],
        );
      }
      // The same request for a device that is not yet a member gets the deadline's error.
      const other = deviceAccount("e");
      const late = { gid, oid: id("e"), device: other.address, nonce: 0n, deadline: item.request.deadline };
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associateBySig([late, await signAssociationRequest(other, registry, late), await tokenSignature(master, gid, id("e"), other.address)], { account: master }),
        registry,
        "RequestExpired",
        [late.deadline],
      );
    });

    it("rejects a request signed by another key", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = deviceAccount("d");
      const impostor = deviceAccount("impostor");
      const request = { gid, oid: id("d"), device: device.address, nonce: 0n, deadline: await farDeadline() };
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associateBySig(
          [request, await signAssociationRequest(impostor, registry, request), await tokenSignature(master, gid, id("d"), device.address)],
          { account: master },
        ),
        registry,
        "RequestWrongSigner",
        [impostor.address, device.address],
      );
    });

    it("rejects malformed and high-s signatures", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const item = await signedAssociation(registry, master, deviceAccount("d"), gid, id("d"));
      for (const bad of [toHighS(item.signature), `0x${"11".repeat(64)}` as Hex]) {
        await assertions.revertWithCustomError(
          registry.write.associateBySig([item.request, bad, item.token], { account: master }),
          registry,
          "RequestInvalidSignature",
        );
      }
    });

    it("rejects a request signed for another chain id", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = deviceAccount("d");
      const request = { gid, oid: id("d"), device: device.address, nonce: 0n, deadline: await farDeadline() };
      const signature = await signAssociationRequest(device, registry, request, domainOf(registry, { chainId: 1 }));
      await assertions.revertWithCustomError(
        registry.write.associateBySig([request, signature, await tokenSignature(master, gid, id("d"), device.address)], {
          account: master,
        }),
        registry,
        "RequestWrongSigner",
      );
    });

    it("rejects a request signed for another registry, where the same Master's gid is another one", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const other = await viem.deployContract("IomtRegistry");
      await other.write.createGroup([id("group:ward-1"), id("oid:master"), zeroHash], { account: master });
      expect(gidOf(other, master, "group:ward-1")).to.not.equal(gid);
      const device = deviceAccount("d");
      const item = await signedAssociation(registry, master, device, gid, id("d"));
      await assertions.revertWithCustomError(
        other.write.associateBySig([item.request, item.signature, item.token], { account: master }),
        other,
        "RequestWrongSigner",
      );
      await registry.write.associateBySig([item.request, item.signature, item.token], { account: master });
    });
  });

  describe("associateBatchBySig (applies valid items, skips and reports the others)", () => {
    const Applied = 0;
    const AlreadyApplied = 1;
    const Rejected = 2;

    it("associates many devices in one transaction, in order, and reports each as applied", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const items = [];
      for (let i = 0; i < 5; i++) items.push(await signedAssociation(registry, master, deviceAccount(`b${i}`), gid, id(`b${i}`)));
      const { result } = await publicClient.simulateContract({
        address: registry.address,
        abi: registry.abi,
        functionName: "associateBatchBySig",
        args: [items],
        account: master,
      });
      expect(result).to.deep.equal([Applied, Applied, Applied, Applied, Applied]);
      await registry.write.associateBatchBySig([items], { account: master });
      expect((await registry.read.groupInfo([gid])).leafCount).to.equal(5);
      for (let i = 0; i < 5; i++) {
        expect((await registry.read.memberOf([gid, id(`b${i}`)])).leafIndex).to.equal(i);
      }
    });

    it("rejects an empty batch with BatchEmpty", async () => {
      const { registry, master } = await networkHelpers.loadFixture(rootGroupFixture);
      await assertions.revertWithCustomError(registry.write.associateBatchBySig([[]], { account: master }), registry, "BatchEmpty");
    });

    it("skips a duplicate oid, naming it in BatchItemSkipped, and applies the rest", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const first = await signedAssociation(registry, master, deviceAccount("x"), gid, id("dup"));
      const second = await signedAssociation(registry, master, deviceAccount("y"), gid, id("dup"));
      const third = await signedAssociation(registry, master, deviceAccount("z"), gid, id("z"));
      const reason = encodeErrorResult({ abi: registry.abi, errorName: "GroupRegistryOidTaken", args: [gid, id("dup")] });
      await assertions.emitWithArgs(
        registry.write.associateBatchBySig([[first, second, third]], { account: master }),
        registry,
        "BatchItemSkipped",
        [1n, Rejected, reason],
      );
      expect((await registry.read.groupInfo([gid])).leafCount).to.equal(2);
      expect(await registry.read.isAuthenticated([gid, id("z"), deviceAccount("z").address])).to.equal(true);
    });

    it("skips an item with a bad token and applies the good one", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const good = await signedAssociation(registry, master, deviceAccount("x"), gid, id("x"));
      const forger = deviceAccount("forger");
      const bad = await signedAssociation(registry, forger, deviceAccount("y"), gid, id("y"));
      const reason = encodeErrorResult({ abi: registry.abi, errorName: "GroupRegistryTokenNotFromMaster", args: [forger.address, master.address] });
      await assertions.emitWithArgs(
        registry.write.associateBatchBySig([[good, bad]], { account: master }),
        registry,
        "BatchItemSkipped",
        [1n, Rejected, reason],
      );
      expect(await registry.read.isAuthenticated([gid, id("x"), deviceAccount("x").address])).to.equal(true);
      expect(await registry.read.isAuthenticated([gid, id("y"), deviceAccount("y").address])).to.equal(false);
    });

    it("reports an item someone submitted first as already applied, not as an error", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const items = [];
      for (let i = 0; i < 3; i++) items.push(await signedAssociation(registry, master, deviceAccount(`f${i}`), gid, id(`f${i}`)));
      const griefer = await funded("griefer");
      await registry.write.associateBySig([items[1].request, items[1].signature, items[1].token], { account: griefer });
      const reason = encodeErrorResult({
        abi: registry.abi,
        errorName: "GroupRegistryAlreadyAssociated",
        args: [gid, id("f1"), deviceAccount("f1").address],
      });
      await assertions.emitWithArgs(
        registry.write.associateBatchBySig([items], { account: master }),
        registry,
        "BatchItemSkipped",
        [1n, AlreadyApplied, reason],
      );
      expect((await registry.read.groupInfo([gid])).leafCount).to.equal(3);
    });
  });

  describe("revoke", () => {
    it("lets the Master revoke a member: flagged, bit set in its revocation word, no longer authenticated", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const devices = [deviceAccount("r0"), deviceAccount("r1")];
      for (const [i, d] of devices.entries()) await enrol(registry, master, d, gid, id(`r${i}`));
      await assertions.emitWithArgs(registry.write.revoke([gid, id("r1")], { account: master }), registry, "DeviceRevoked", [
        gid,
        devices[1].address,
        id("r1"),
        1,
      ]);
      expect(await registry.read.isAuthenticated([gid, id("r1"), devices[1].address])).to.equal(false);
      expect(await registry.read.isAuthenticated([gid, id("r0"), devices[0].address])).to.equal(true);
      expect((await registry.read.memberOf([gid, id("r1")])).revoked).to.equal(true);
      const [, , , words] = await registry.read.groupState([gid, 0n, 2n]);
      expect(words).to.deep.equal([WORD_ALLOCATED | 2n, 0n]);
    });

    it("rejects a caller that is not the Master, and an unknown group", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      await enrol(registry, master, deviceAccount("d"), gid, id("d"));
      const other = await funded("other");
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.revoke([gid, id("d")], { account: other }),
        registry,
        "GroupRegistryNotMaster",
        [gid, other.address],
      );
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.revoke([id("nowhere"), id("d")], { account: master }),
        registry,
        "GroupRegistryUnknownGroup",
        [id("nowhere")],
      );
    });

    it("rejects an oid that is not a member of the group, including the Master's own", async () => {
      const { registry, clusters, rootMaster, rootGid, rootOid } = await networkHelpers.loadFixture(deployHierarchy);
      for (const oid of [id("nobody"), clusters[0].devices[0].oid, rootOid]) {
        await assertions.revertWithCustomErrorWithArgs(
          registry.write.revoke([rootGid, oid], { account: rootMaster }),
          registry,
          "GroupRegistryNotMember",
          [rootGid, oid],
        );
      }
    });

    it("rejects a second revocation", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      await enrol(registry, master, deviceAccount("d"), gid, id("d"));
      await registry.write.revoke([gid, id("d")], { account: master });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.revoke([gid, id("d")], { account: master }),
        registry,
        "GroupRegistryMemberRevoked",
        [gid, id("d")],
      );
    });

    it("is final: the revoked key cannot re-associate, the device re-enrols under a new key", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const old = deviceAccount("old-key");
      await enrol(registry, master, old, gid, id("d"));
      await registry.write.revoke([gid, id("d")], { account: master });
      const again = await signedAssociation(registry, master, old, gid, id("d-2"));
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associateBySig([again.request, again.signature, again.token], { account: master }),
        registry,
        "GroupRegistryAddressTaken",
        [old.address],
      );
      await enrol(registry, master, deviceAccount("new-key"), gid, id("d-2"));
      expect(await registry.read.isAuthenticated([gid, id("d-2"), deviceAccount("new-key").address])).to.equal(true);
    });
  });

  describe("Master hand-over (propose, then accept)", () => {
    it("hands a child group to another active member of the parent group", async () => {
      const { registry, clusters, rootMaster, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const successor = await funded("successor");
      await enrol(registry, rootMaster, successor, rootGid, id("successor"));
      const { gid, head } = clusters[0];
      await assertions.emitWithArgs(
        registry.write.proposeMaster([gid, successor.address], { account: head }),
        registry,
        "MasterHandOverProposed",
        [gid, head.address, successor.address],
      );
      expect((await registry.read.groupInfo([gid])).pendingMaster).to.equal(successor.address);
      await assertions.emitWithArgs(registry.write.acceptMaster([gid], { account: successor }), registry, "MasterHandedOver", [
        gid,
        head.address,
        successor.address,
        id("successor"),
        1,
        successor.address,
      ]);
      const info = await registry.read.groupInfo([gid]);
      expect(info).to.include({ master: successor.address, masterOid: id("successor"), pendingMaster: zeroAddress, masterEpoch: 1 });
      expect((await registry.read.memberByAccount([rootGid, head.address])).isMaster).to.equal(false);
      expect((await registry.read.memberByAccount([rootGid, successor.address])).isMaster).to.equal(true);
      // The previous head may now lead a new cluster; the successor's tokens are the valid ones.
      await registry.write.createGroup([id("new-cluster"), clusters[0].headOid, rootGid], { account: head });
      const device = deviceAccount("after");
      await enrol(registry, successor, device, gid, id("after"));
      const stale = await signedAssociation(registry, head, deviceAccount("stale"), gid, id("stale"));
      await assertions.revertWithCustomError(
        registry.write.associateBySig([stale.request, stale.signature, stale.token], { account: successor }),
        registry,
        "GroupRegistryTokenNotFromMaster",
      );
    });

    it("moves a root group's Master identity to a fresh key and burns the old one", async () => {
      const { registry, master, gid, masterOid } = await networkHelpers.loadFixture(rootGroupFixture);
      const next = await funded("next");
      await registry.write.proposeMaster([gid, next.address], { account: master });
      await registry.write.acceptMaster([gid], { account: next });
      expect((await registry.read.groupInfo([gid])).masterOid).to.equal(masterOid);
      expect((await registry.read.memberOf([gid, masterOid])).account).to.equal(next.address);
      expect((await registry.read.memberByAccount([gid, master.address])).account).to.equal(zeroAddress);
      expect((await registry.read.memberByAccount([gid, next.address])).oid).to.equal(masterOid);
      // The old key keeps the oid as a burnt marker: it can never hold an identity again.
      expect(await registry.read.oidOf([master.address])).to.equal(masterOid);
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("again"), id("again"), zeroHash], { account: master }),
        registry,
        "GroupRegistryAddressTaken",
        [master.address],
      );
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.createGroup([id("child"), masterOid, gid], { account: master }),
        registry,
        "GroupRegistryNotParentMember",
        [gid, master.address],
      );
    });

    it("rejects a proposal by anyone but the Master, or on an inactive group", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const other = await funded("other");
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.proposeMaster([gid, other.address], { account: other }),
        registry,
        "GroupRegistryNotMaster",
        [gid, other.address],
      );
      await registry.write.deactivateGroup([gid], { account: master });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.proposeMaster([gid, other.address], { account: master }),
        registry,
        "GroupRegistryGroupInactive",
        [gid],
      );
    });

    it("rejects ineligible candidates: a root Master candidate with an identity or zero, a child Master candidate outside the parent, revoked, or already a Master", async () => {
      const { registry, clusters, rootMaster, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const cases: [Hex, LocalAccount, Hex][] = [
        [rootGid, rootMaster, clusters[0].devices[0].account.address],
        [clusters[0].gid, clusters[0].head, clusters[1].devices[0].account.address],
        [clusters[0].gid, clusters[0].head, deviceAccount("nobody").address],
        [clusters[0].gid, clusters[0].head, clusters[1].head.address],
      ];
      const revoked = deviceAccount("revoked-member");
      await enrol(registry, rootMaster, revoked, rootGid, id("revoked-member"));
      await registry.write.revoke([rootGid, id("revoked-member")], { account: rootMaster });
      cases.push([clusters[0].gid, clusters[0].head, revoked.address]);
      for (const [gid, by, candidate] of cases) {
        await assertions.revertWithCustomErrorWithArgs(
          registry.write.proposeMaster([gid, candidate], { account: by }),
          registry,
          "GroupRegistryIneligibleMaster",
          [gid, candidate],
        );
      }
    });

    it("lets only the proposed candidate accept, and the Master cancel with the zero address", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const next = await funded("next");
      const other = await funded("other");
      await registry.write.proposeMaster([gid, next.address], { account: master });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.acceptMaster([gid], { account: other }),
        registry,
        "GroupRegistryNotPendingMaster",
        [gid, other.address],
      );
      await registry.write.proposeMaster([gid, zeroAddress], { account: master });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.acceptMaster([gid], { account: next }),
        registry,
        "GroupRegistryNotPendingMaster",
        [gid, next.address],
      );
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.acceptMaster([id("nowhere")], { account: next }),
        registry,
        "GroupRegistryUnknownGroup",
        [id("nowhere")],
      );
    });

    it("re-checks eligibility on acceptance: a candidate revoked meanwhile cannot accept", async () => {
      const { registry, clusters, rootMaster, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const successor = await funded("successor");
      await enrol(registry, rootMaster, successor, rootGid, id("successor"));
      await registry.write.proposeMaster([clusters[0].gid, successor.address], { account: clusters[0].head });
      await registry.write.revoke([rootGid, id("successor")], { account: rootMaster });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.acceptMaster([clusters[0].gid], { account: successor }),
        registry,
        "GroupRegistryIneligibleMaster",
        [clusters[0].gid, successor.address],
      );
    });
  });

  describe("deactivateGroup", () => {
    it("lets the Master deactivate its group for good; members stop being authenticated", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = deviceAccount("d");
      await enrol(registry, master, device, gid, id("d"));
      const next = await funded("next");
      await registry.write.proposeMaster([gid, next.address], { account: master });
      await assertions.emitWithArgs(registry.write.deactivateGroup([gid], { account: master }), registry, "GroupDeactivated", [
        gid,
        master.address,
      ]);
      expect(await registry.read.isAuthenticated([gid, id("d"), device.address])).to.equal(false);
      expect((await registry.read.groupInfo([gid])).pendingMaster).to.equal(zeroAddress);
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.acceptMaster([gid], { account: next }),
        registry,
        "GroupRegistryGroupInactive",
        [gid],
      );
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.deactivateGroup([gid], { account: master }),
        registry,
        "GroupRegistryGroupInactive",
        [gid],
      );
    });

    it("releases the Master flag: a child group's Master may lead a new cluster afterwards", async () => {
      const { registry, clusters, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const { gid, head, headOid } = clusters[0];
      await registry.write.deactivateGroup([gid], { account: head });
      expect((await registry.read.memberByAccount([rootGid, head.address])).isMaster).to.equal(false);
      const again = await createGroup(registry, head, "cluster-0-again", headOid, rootGid);
      expect((await registry.read.groupInfo([again])).master).to.equal(head.address);
    });

    it("rejects anyone but the Master", async () => {
      const { registry, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const other = await funded("other");
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.deactivateGroup([gid], { account: other }),
        registry,
        "GroupRegistryNotMaster",
        [gid, other.address],
      );
    });
  });

  describe("Master standing: a Master revoked in the parent group, or under an inactive parent, has no powers", () => {
    async function revokedHeadFixture() {
      const hierarchy = await deployHierarchy();
      const { registry, rootMaster, rootGid, clusters } = hierarchy;
      await assertions.emitWithArgs(
        registry.write.revoke([rootGid, clusters[0].headOid], { account: rootMaster }),
        registry,
        "GroupMasterRevoked",
        [clusters[0].gid, clusters[0].head.address],
      );
      return hierarchy;
    }

    it("marks the head's group as masterRevoked and clears a pending hand-over", async () => {
      const { registry, rootMaster, rootGid, clusters } = await networkHelpers.loadFixture(deployHierarchy);
      const candidate = await funded("candidate");
      await enrol(registry, rootMaster, candidate, rootGid, id("candidate"));
      await registry.write.proposeMaster([clusters[0].gid, candidate.address], { account: clusters[0].head });
      await registry.write.revoke([rootGid, clusters[0].headOid], { account: rootMaster });
      const info = await registry.read.groupInfo([clusters[0].gid]);
      expect(info).to.include({ masterRevoked: true, active: true, pendingMaster: zeroAddress });
      expect((await registry.read.groupInfo([clusters[1].gid])).masterRevoked).to.equal(false);
    });

    it("refuses the revoked head's own tokens with GroupRegistryMasterRevoked", async () => {
      const { registry, clusters } = await networkHelpers.loadFixture(revokedHeadFixture);
      const { gid, head } = clusters[0];
      const item = await signedAssociation(registry, head, deviceAccount("rogue"), gid, id("rogue"));
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.associateBySig([item.request, item.signature, item.token], { account: head }),
        registry,
        "GroupRegistryMasterRevoked",
        [gid, head.address],
      );
    });

    it("refuses revoke, proposeMaster and deactivateGroup by the revoked head", async () => {
      const { registry, clusters, rootMaster, rootGid } = await networkHelpers.loadFixture(revokedHeadFixture);
      const { gid, head, devices } = clusters[0];
      const candidate = await funded("candidate");
      await enrol(registry, rootMaster, candidate, rootGid, id("candidate"));
      for (const call of [
        registry.write.revoke([gid, devices[0].oid], { account: head }),
        registry.write.proposeMaster([gid, candidate.address], { account: head }),
        registry.write.deactivateGroup([gid], { account: head }),
      ]) {
        await assertions.revertWithCustomErrorWithArgs(call, registry, "GroupRegistryMasterRevoked", [gid, head.address]);
      }
    });

    it("refuses acceptance of a hand-over proposed before the revocation of the Master", async () => {
      const { registry, clusters, rootMaster, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      const candidate = await funded("candidate");
      await enrol(registry, rootMaster, candidate, rootGid, id("candidate"));
      await registry.write.proposeMaster([clusters[0].gid, candidate.address], { account: clusters[0].head });
      await registry.write.revoke([rootGid, clusters[0].headOid], { account: rootMaster });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.acceptMaster([clusters[0].gid], { account: candidate }),
        registry,
        "GroupRegistryMasterRevoked",
        [clusters[0].gid, clusters[0].head.address],
      );
    });

    it("cuts every cluster head off when the parent group is deactivated, with GroupRegistryParentInactive", async () => {
      const { registry, clusters, rootMaster, rootGid } = await networkHelpers.loadFixture(deployHierarchy);
      await registry.write.deactivateGroup([rootGid], { account: rootMaster });
      for (const { gid, head } of clusters) {
        const item = await signedAssociation(registry, head, deviceAccount(`late-${gid}`), gid, id("late"));
        await assertions.revertWithCustomErrorWithArgs(
          registry.write.associateBySig([item.request, item.signature, item.token], { account: head }),
          registry,
          "GroupRegistryParentInactive",
          [gid, rootGid],
        );
      }
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.revoke([clusters[1].gid, clusters[1].devices[0].oid], { account: clusters[1].head }),
        registry,
        "GroupRegistryParentInactive",
        [clusters[1].gid, rootGid],
      );
    });

    it("keeps the cluster's devices members: membership is group-local, paths say the rest", async () => {
      const { registry, clusters } = await networkHelpers.loadFixture(revokedHeadFixture);
      const { gid, devices } = clusters[0];
      expect(await registry.read.isAuthenticated([gid, devices[0].oid, devices[0].account.address])).to.equal(true);
    });
  });

  describe("takeOverGroup: the parent group's Master takes over a child group whose Master it revoked", () => {
    async function takeOverFixture() {
      const hierarchy = await deployHierarchy();
      const { registry, rootMaster, rootGid, clusters } = hierarchy;
      const successor = await funded("successor");
      await enrol(registry, rootMaster, successor, rootGid, id("successor"));
      await registry.write.revoke([rootGid, clusters[0].headOid], { account: rootMaster });
      return { ...hierarchy, successor };
    }

    it("hands the group to an eligible member of the parent, moves the epoch on and ends the cut-off", async () => {
      const { registry, rootMaster, rootGid, clusters, successor } = await networkHelpers.loadFixture(takeOverFixture);
      const { gid, head } = clusters[0];
      await assertions.emitWithArgs(
        registry.write.takeOverGroup([gid, successor.address], { account: rootMaster }),
        registry,
        "MasterHandedOver",
        [gid, head.address, successor.address, id("successor"), 1, rootMaster.address],
      );
      expect(await registry.read.groupInfo([gid])).to.include({ master: successor.address, masterRevoked: false, masterEpoch: 1 });
      expect((await registry.read.memberByAccount([rootGid, successor.address])).isMaster).to.equal(true);
      expect((await registry.read.memberByAccount([rootGid, head.address])).isMaster).to.equal(false);
      await enrol(registry, successor, deviceAccount("after-takeover"), gid, id("after-takeover"));
      // The new Master can revoke what the compromised head enrolled.
      await registry.write.revoke([gid, clusters[0].devices[0].oid], { account: successor });
    });

    it("refuses a take-over while the child's Master is in good standing with GroupRegistryMasterNotRevoked", async () => {
      const { registry, rootMaster, clusters, successor } = await networkHelpers.loadFixture(takeOverFixture);
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.takeOverGroup([clusters[1].gid, successor.address], { account: rootMaster }),
        registry,
        "GroupRegistryMasterNotRevoked",
        [clusters[1].gid],
      );
    });

    it("refuses anyone but the parent's Master, a root group, and an inactive or unknown group", async () => {
      const { registry, rootMaster, rootGid, clusters, successor } = await networkHelpers.loadFixture(takeOverFixture);
      const { gid } = clusters[0];
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.takeOverGroup([gid, successor.address], { account: clusters[1].head }),
        registry,
        "GroupRegistryNotMaster",
        [rootGid, clusters[1].head.address],
      );
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.takeOverGroup([rootGid, successor.address], { account: rootMaster }),
        registry,
        "GroupRegistryRootGroup",
        [rootGid],
      );
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.takeOverGroup([id("nowhere"), successor.address], { account: rootMaster }),
        registry,
        "GroupRegistryUnknownGroup",
        [id("nowhere")],
      );
      await registry.write.deactivateGroup([gid], { account: rootMaster });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.takeOverGroup([gid, successor.address], { account: rootMaster }),
        registry,
        "GroupRegistryGroupInactive",
        [gid],
      );
    });

    it("refuses an ineligible new Master: the revoked head itself, a Master of another cluster, an outsider, zero", async () => {
      const { registry, rootMaster, clusters } = await networkHelpers.loadFixture(takeOverFixture);
      const { gid } = clusters[0];
      for (const candidate of [clusters[0].head.address, clusters[1].head.address, deviceAccount("outsider").address, zeroAddress]) {
        await assertions.revertWithCustomErrorWithArgs(
          registry.write.takeOverGroup([gid, candidate], { account: rootMaster }),
          registry,
          "GroupRegistryIneligibleMaster",
          [gid, candidate],
        );
      }
    });

    it("lets the parent's Master deactivate a child whose Master it revoked, and no other child", async () => {
      const { registry, rootMaster, clusters } = await networkHelpers.loadFixture(takeOverFixture);
      const { gid } = clusters[0];
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.deactivateGroup([clusters[1].gid], { account: rootMaster }),
        registry,
        "GroupRegistryMasterNotRevoked",
        [clusters[1].gid],
      );
      await assertions.emitWithArgs(registry.write.deactivateGroup([gid], { account: rootMaster }), registry, "GroupDeactivated", [
        gid,
        rootMaster.address,
      ]);
      expect((await registry.read.groupInfo([gid])).active).to.equal(false);
    });

    it("refuses a take-over by a parent Master that lost its own powers", async () => {
      const { registry, rootMaster, rootGid, clusters } = await networkHelpers.loadFixture(deployHierarchy);
      // cluster-0's head masters a level-1 group; one of its devices leads a level-2 group below it.
      const { gid, head, devices } = clusters[0];
      const deep = devices[0];
      await networkHelpers.setBalance(deep.account.address, 10n ** 18n);
      const deepGid = await createGroup(registry, deep.account, "deep", deep.oid, gid);
      await enrol(registry, deep.account, deviceAccount("deep-device"), deepGid, id("deep-device"));
      await registry.write.revoke([gid, deep.oid], { account: head }); // cut the level-2 head off
      await registry.write.revoke([rootGid, clusters[0].headOid], { account: rootMaster }); // then the level-1 head
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.takeOverGroup([deepGid, devices[2].account.address], { account: head }),
        registry,
        "GroupRegistryMasterRevoked",
        [gid, head.address],
      );
    });
  });

  describe("Master epoch: a bounded counter with its own error", () => {
    // Storage slot of `_groups` in IomtRegistry: EIP712's two fallback strings take slots 0 and 1.
    const GROUPS_SLOT = 2n;

    it("refuses a hand-over once the epoch is 2^48 - 1, with GroupRegistryEpochsExhausted instead of a panic", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const slot = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [gid, GROUPS_SLOT]));
      const packed = BigInt((await publicClient.getStorageAt({ address: registry.address, slot }))!);
      const epochMask = ((1n << 48n) - 1n) << 208n; // master 160, leafCount 32, level 8, status 8, then the epoch
      await networkHelpers.setStorageAt(registry.address, slot, numberToHex(packed | epochMask, { size: 32 }));
      expect((await registry.read.groupInfo([gid])).masterEpoch).to.equal(2 ** 48 - 1);
      const next = await funded("next");
      await registry.write.proposeMaster([gid, next.address], { account: master });
      await assertions.revertWithCustomErrorWithArgs(
        registry.write.acceptMaster([gid], { account: next }),
        registry,
        "GroupRegistryEpochsExhausted",
        [gid],
      );
    });
  });

  describe("views", () => {
    it("return empty records for unknown identities and false for mismatched ones", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const device = deviceAccount("d");
      await enrol(registry, master, device, gid, id("d"));
      expect((await registry.read.memberOf([gid, id("nobody")])).account).to.equal(zeroAddress);
      expect((await registry.read.memberByAccount([gid, deviceAccount("nobody").address])).account).to.equal(zeroAddress);
      expect((await registry.read.memberByAccount([id("other"), device.address])).account).to.equal(zeroAddress);
      expect(await registry.read.oidOf([deviceAccount("nobody").address])).to.equal(zeroHash);
      expect(await registry.read.nonces([gid, id("nobody")])).to.equal(0n);
      expect(await registry.read.isAuthenticated([gid, id("d"), master.address])).to.equal(false);
      expect(await registry.read.isAuthenticated([id("other"), id("d"), device.address])).to.equal(false);
      expect(await registry.read.isAuthenticated([gid, id("nobody"), zeroAddress])).to.equal(false);
      expect((await registry.read.groupInfo([id("nowhere")])).master).to.equal(zeroAddress);
    });

    it("serve revocation words by range for offline verifiers", async () => {
      const { registry, master, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      await enrol(registry, master, deviceAccount("d"), gid, id("d"));
      await registry.write.revoke([gid, id("d")], { account: master });
      const [root, leafCount, chainHead, words] = await registry.read.groupState([gid, 0n, 1n]);
      const info = await registry.read.groupInfo([gid]);
      expect({ root, leafCount, chainHead }).to.deep.equal({ root: info.root, leafCount: 1, chainHead: info.chainHead });
      expect(words).to.deep.equal([WORD_ALLOCATED | 1n]);
      expect((await registry.read.groupState([gid, 1n, 3n]))[3]).to.deep.equal([0n, 0n, 0n]);
    });

    it("refuse a revocation-word range that overflows with GroupRegistryWordRangeOverflow, never a panic", async () => {
      const { registry, gid } = await networkHelpers.loadFixture(rootGroupFixture);
      const max = (1n << 256n) - 1n;
      await assertions.revertWithCustomErrorWithArgs(
        registry.read.groupState([gid, max, 2n]),
        registry,
        "GroupRegistryWordRangeOverflow",
        [max, 2n],
      );
      expect((await registry.read.groupState([gid, max - 1n, 1n]))[3]).to.deep.equal([0n]);
    });
  });
});
