// A group's Master may be a contract wallet — a hospital's multisig — instead of one hot key: its
// transactions come from the wallet, and its tokens are checked with ERC-1271. The tests use a
// minimal 2-of-3 wallet of our own (contracts/mocks/MultisigMaster.sol) as a root group's Master.
import { expect } from "chai";
import { concat, encodeErrorResult, encodeFunctionData, getAddress, hashMessage, zeroHash, type Address, type Hex, type LocalAccount } from "viem";
import { signAssociation, tokenDigest } from "../sdk/src/index.js";
import { deployRegistry, deviceAccount, domainOf, farDeadline, funded, gidOf, id, networkHelpers, viem, type Registry } from "./support/fixtures.js";

const { assertions } = viem;

type Multisig = Awaited<ReturnType<typeof deployMultisig>>["multisig"];

async function deployMultisig() {
  const owners = [deviceAccount("owner-a"), deviceAccount("owner-b"), deviceAccount("owner-c")];
  const multisig = await viem.deployContract("MultisigMaster", [owners.map((owner) => owner.address) as [Address, Address, Address]]);
  return { multisig, owners };
}

/** Approvals of `signers` over `hash`: 65-byte signatures in ascending signer order, as the wallet expects. */
async function approvals(hash: Hex, signers: LocalAccount[]): Promise<Hex> {
  const sorted = [...signers].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  return concat(await Promise.all(sorted.map((signer) => signer.sign!({ hash }))));
}

/** Runs `functionName(args)` on the registry from the wallet, approved by `signers`. */
async function execute(multisig: Multisig, registry: Registry, signers: LocalAccount[], functionName: string, args: readonly unknown[]) {
  const data = encodeFunctionData({ abi: registry.abi, functionName, args } as never);
  const hash = hashMessage({ raw: await multisig.read.executionHash([registry.address, data]) });
  return multisig.write.execute([registry.address, data, await approvals(hash, signers)]);
}

/** The wallet's token for (gid, oid, device): two owners approve its EIP-191 hash. */
const multisigToken = (gid: Hex, oid: Hex, device: Address, signers: LocalAccount[]) =>
  approvals(hashMessage({ raw: tokenDigest({ gid, oid, device }) }), signers);

async function multisigGroupFixture() {
  const { registry } = await deployRegistry();
  const { multisig, owners } = await deployMultisig();
  await execute(multisig, registry, owners.slice(0, 2), "createGroup", [id("hospital"), id("oid:hospital"), zeroHash]);
  const gid = gidOf(registry, multisig, "hospital");
  return { registry, multisig, owners, gid };
}

describe("Contract Masters (ERC-1271)", () => {
  describe("a 2-of-3 multisig masters a root group", () => {
    it("creates the group from the wallet: the wallet is its Master", async () => {
      const { registry, multisig, gid } = await networkHelpers.loadFixture(multisigGroupFixture);
      expect(await registry.read.groupInfo([gid])).to.include({ master: getAddress(multisig.address), masterOid: id("oid:hospital"), level: 0 });
    });

    it("associates a device with a token two owners approved, directly and relayed", async () => {
      const { registry, owners, gid } = await networkHelpers.loadFixture(multisigGroupFixture);
      const device = await funded("device");
      await registry.write.associate([gid, id("d1"), await multisigToken(gid, id("d1"), device.address, [owners[0], owners[2]])], { account: device });
      expect(await registry.read.isAuthenticated([gid, id("d1"), device.address])).to.equal(true);
      const relayed = deviceAccount("relayed");
      const token = { gid, oid: id("d2"), device: relayed.address, signature: await multisigToken(gid, id("d2"), relayed.address, owners.slice(1)) };
      const item = await signAssociation(relayed, { domain: domainOf(registry), token, deadline: await farDeadline() });
      await registry.write.associateBySig([item.request, item.signature, item.token]);
      expect(await registry.read.isAuthenticated([gid, id("d2"), relayed.address])).to.equal(true);
    });

    it("refuses a token with one owner's approval, one owner twice, or a non-owner, with GroupRegistryTokenNotFromMaster(0, wallet)", async () => {
      const { registry, multisig, owners, gid } = await networkHelpers.loadFixture(multisigGroupFixture);
      const device = await funded("device");
      const hash = hashMessage({ raw: tokenDigest({ gid, oid: id("d"), device: device.address }) });
      const outsider = deviceAccount("outsider");
      const single = await owners[0].sign!({ hash });
      for (const token of [single, concat([single, single]), await approvals(hash, [owners[0], outsider]), `0x${"00".repeat(130)}` as Hex]) {
        await assertions.revertWithCustomErrorWithArgs(registry.write.associate([gid, id("d"), token], { account: device }), registry, "GroupRegistryTokenNotFromMaster", [
          "0x0000000000000000000000000000000000000000",
          getAddress(multisig.address),
        ]);
      }
    });

    it("revokes a device and hands the group over to a fresh key, each approved by two owners", async () => {
      const { registry, multisig, owners, gid } = await networkHelpers.loadFixture(multisigGroupFixture);
      const device = await funded("device");
      await registry.write.associate([gid, id("d"), await multisigToken(gid, id("d"), device.address, owners.slice(0, 2))], { account: device });
      await execute(multisig, registry, owners.slice(1), "revoke", [gid, id("d")]);
      expect(await registry.read.isAuthenticated([gid, id("d"), device.address])).to.equal(false);
      const next = await funded("next-master");
      await execute(multisig, registry, [owners[0], owners[2]], "proposeMaster", [gid, next.address]);
      await registry.write.acceptMaster([gid], { account: next });
      expect((await registry.read.groupInfo([gid])).master).to.equal(next.address);
    });

    it("hands a key's group over to a wallet: a fresh wallet is an eligible root Master", async () => {
      const { registry } = await deployRegistry();
      const { multisig, owners } = await deployMultisig();
      const keyMaster = await funded("key-master");
      await registry.write.createGroup([id("ward"), id("oid:ward"), zeroHash], { account: keyMaster });
      const gid = gidOf(registry, keyMaster, "ward");
      await registry.write.proposeMaster([gid, multisig.address], { account: keyMaster });
      await execute(multisig, registry, owners.slice(0, 2), "acceptMaster", [gid]);
      expect((await registry.read.groupInfo([gid])).master).to.equal(getAddress(multisig.address));
      const device = await funded("device");
      await registry.write.associate([gid, id("d"), await multisigToken(gid, id("d"), device.address, owners.slice(0, 2))], { account: device });
    });
  });

  describe("the test wallet itself", () => {
    it("refuses owners that are zero or repeated", async () => {
      const a = deviceAccount("a").address;
      const b = deviceAccount("b").address;
      const { multisig } = await deployMultisig();
      for (const owners of [[a, a, b], [a, b, b], [a, b, a], ["0x0000000000000000000000000000000000000000", a, b]] as [Address, Address, Address][]) {
        await assertions.revertWithCustomError(viem.deployContract("MultisigMaster", [owners]), multisig, "MultisigMasterInvalidOwners");
      }
    });

    it("refuses a call with too few approvals or approvals for another call, and reports a reverting call with its reason", async () => {
      const { registry, multisig, owners, gid } = await networkHelpers.loadFixture(multisigGroupFixture);
      const data = encodeFunctionData({ abi: registry.abi, functionName: "revoke", args: [gid, id("nobody")] });
      const hash = hashMessage({ raw: await multisig.read.executionHash([registry.address, data]) });
      await assertions.revertWithCustomError(multisig.write.execute([registry.address, data, await owners[0].sign!({ hash })]), multisig, "MultisigMasterNotApproved");
      const otherData = encodeFunctionData({ abi: registry.abi, functionName: "revoke", args: [gid, id("someone")] });
      await assertions.revertWithCustomError(multisig.write.execute([registry.address, otherData, await approvals(hash, owners.slice(0, 2))]), multisig, "MultisigMasterNotApproved");
      const reason = encodeErrorResult({ abi: registry.abi, errorName: "GroupRegistryNotMember", args: [gid, id("nobody")] });
      await assertions.revertWithCustomErrorWithArgs(multisig.write.execute([registry.address, data, await approvals(hash, owners.slice(0, 2))]), multisig, "MultisigMasterCallFailed", [reason]);
    });

    it("answers ERC-1271 with the magic value for two owners' approval and 0xffffffff otherwise", async () => {
      const { multisig, owners } = await networkHelpers.loadFixture(multisigGroupFixture);
      const hash = id("any hash");
      expect(await multisig.read.isValidSignature([hash, await approvals(hash, owners.slice(0, 2))])).to.equal("0x1626ba7e");
      expect(await multisig.read.isValidSignature([hash, "0x"])).to.equal("0xffffffff");
      expect(await multisig.read.isValidSignature([hash, `0x${"00".repeat(131)}`])).to.equal("0xffffffff");
    });
  });
});
