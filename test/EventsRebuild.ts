// Every state change of the registry is in its logs: after a scenario that exercises every kind
// of write, the whole state (groups, members, flags, nonces, anchors, anchorers, epochs, pending
// hand-overs) is rebuilt from the logs alone and compared, field by field, with the views.
import { expect } from "chai";
import { parseEventLogs, zeroAddress, zeroHash, type Address, type Hex, type LocalAccount } from "viem";
import { AuthTree, authLeaf, createDataMessage, createExchange, randomSalt, signDataMessage, signExchange } from "../sdk/src/index.js";
import {
  createGroup,
  deployHierarchy,
  deviceAccount,
  domainOf,
  enrol,
  funded,
  id,
  networkHelpers,
  publicClient,
  signedAssociation,
  type Registry,
} from "./support/fixtures.js";

interface ModelGroup {
  master: Address;
  pendingMaster: Address;
  masterOid: Hex;
  parentGid: Hex;
  level: number;
  active: boolean;
  masterRevoked: boolean;
  masterEpoch: number;
  chainHead: Hex;
  tree: AuthTree;
}

interface ModelMember {
  account: Address;
  leafIndex: number;
  isMember: boolean;
  isMaster: boolean;
  revoked: boolean;
  nonce: number;
}

/** The registry's state, rebuilt from its logs alone. */
async function rebuildFromLogs(registry: Registry) {
  const raw = await publicClient.getLogs({ address: registry.address, fromBlock: 0n });
  const logs = parseEventLogs({ abi: registry.abi, logs: raw, strict: true });
  const groups = new Map<Hex, ModelGroup>();
  const members = new Map<string, ModelMember>();
  const oidOf = new Map<Address, Hex>();
  const anchorers = new Map<string, boolean>();
  const anchors = new Map<string, { anchorer: Address; anchoredAt: bigint; messageCount: number }>();
  const memberKey = (gid: Hex, oid: Hex) => `${gid}:${oid}`;
  const member = (gid: Hex, oid: Hex) => members.get(memberKey(gid, oid))!;
  /** The record holding a Master's flag: its identity in a root group, its membership in the parent otherwise. */
  const masterRecord = (gid: Hex, master: Address) => {
    const group = groups.get(gid)!;
    return member(group.parentGid === zeroHash ? gid : group.parentGid, oidOf.get(master)!);
  };
  const blockTimes = new Map<bigint, bigint>();

  for (const log of logs) {
    switch (log.eventName) {
      case "GroupCreated": {
        const { gid, master, parentGid, masterOid, level, genesis } = log.args;
        groups.set(gid, { master, pendingMaster: zeroAddress, masterOid, parentGid, level, active: true, masterRevoked: false, masterEpoch: 0, chainHead: genesis, tree: new AuthTree() });
        if (parentGid === zeroHash) {
          members.set(memberKey(gid, masterOid), { account: master, leafIndex: 0, isMember: false, isMaster: true, revoked: false, nonce: 0 });
          oidOf.set(master, masterOid);
        } else {
          member(parentGid, masterOid).isMaster = true;
        }
        break;
      }
      case "DeviceAssociated": {
        const { gid, device, oid, master, index, entryHash } = log.args;
        const group = groups.get(gid)!;
        group.chainHead = entryHash;
        group.tree.append(authLeaf({ device, master, index, entryHash }));
        members.set(memberKey(gid, oid), { account: device, leafIndex: index, isMember: true, isMaster: false, revoked: false, nonce: 1 });
        oidOf.set(device, oid);
        break;
      }
      case "DeviceRevoked":
        member(log.args.gid, log.args.oid).revoked = true;
        break;
      case "GroupMasterRevoked": {
        const group = groups.get(log.args.gid)!;
        group.masterRevoked = true;
        group.pendingMaster = zeroAddress;
        break;
      }
      case "MasterHandOverProposed":
        groups.get(log.args.gid)!.pendingMaster = log.args.candidate;
        break;
      case "MasterHandedOver": {
        const { gid, previousMaster, newMaster, masterOid, masterEpoch } = log.args;
        const group = groups.get(gid)!;
        if (group.parentGid === zeroHash) {
          member(gid, masterOid).account = newMaster;
          oidOf.set(newMaster, masterOid);
        } else {
          masterRecord(gid, previousMaster).isMaster = false;
          member(group.parentGid, masterOid).isMaster = true;
        }
        Object.assign(group, { master: newMaster, masterOid, masterEpoch, masterRevoked: false, pendingMaster: zeroAddress });
        break;
      }
      case "GroupDeactivated": {
        const group = groups.get(log.args.gid)!;
        masterRecord(log.args.gid, group.master).isMaster = false;
        Object.assign(group, { active: false, pendingMaster: zeroAddress });
        break;
      }
      case "DataMessageRecorded":
      case "ExchangeRecorded":
        member(log.args.gid, log.args.oid).nonce = Number(log.args.nonce) + 1;
        break;
      case "AnchorerSet":
        anchorers.set(`${log.args.gid}:${log.args.masterEpoch}:${log.args.anchorer}`, log.args.allowed);
        break;
      case "BatchAnchored": {
        if (!blockTimes.has(log.blockNumber)) blockTimes.set(log.blockNumber, (await publicClient.getBlock({ blockNumber: log.blockNumber })).timestamp);
        anchors.set(`${log.args.gid}:${log.args.root}`, { anchorer: log.args.anchorer, anchoredAt: blockTimes.get(log.blockNumber)!, messageCount: log.args.messageCount });
        break;
      }
      case "DirectDataMessageRecorded":
      case "BatchItemSkipped":
      case "EIP712DomainChanged":
        break; // no state
    }
  }
  return { groups, members, oidOf, anchorers, anchors };
}

/** Every kind of write: a hierarchy, relayed and direct data, exchanges, batches with skipped items,
 * revocations of a device and of a cluster head, a take-over, child and root hand-overs, anchorers
 * of two epochs, anchors, a pending proposal and a deactivation. */
async function everyKindOfWrite() {
  const hierarchy = await deployHierarchy();
  const { registry, rootMaster, rootGid, clusters } = hierarchy;
  const domain = domainOf(registry);
  const device = (c: number, d: number) => ({ ...clusters[c].devices[d], gid: clusters[c].gid });
  const signedData = async (d: { account: LocalAccount; gid: Hex; oid: Hex }, label: string, nonce?: bigint) =>
    signDataMessage(d.account, {
      domain,
      message: createDataMessage({ gid: d.gid, oid: d.oid, nonce: nonce ?? (await registry.read.nonces([d.gid, d.oid])), payload: label, salt: randomSalt(), timestamp: 1n, deadline: 2n ** 40n }),
    });

  const gateway = await funded("gateway");
  await registry.write.setAnchorer([clusters[0].gid, gateway.address, true], { account: clusters[0].head });
  await registry.write.setAnchorer([clusters[2].gid, gateway.address, true], { account: clusters[2].head });
  await registry.write.setAnchorer([clusters[2].gid, gateway.address, false], { account: clusters[2].head });

  const first = await signedData(device(0, 0), "a");
  await registry.write.recordDataBySig([first.message, first.signature]);
  const batch = [await signedData(device(0, 1), "b"), await signedData(device(1, 0), "c"), first];
  await registry.write.recordDataBatchBySig([batch]); // the replayed `first` is skipped
  const exchange = createExchange({ ...device(1, 1), receiverGid: device(2, 2).gid, receiverOid: device(2, 2).oid, nonce: 1n, payload: "x", salt: randomSalt(), timestamp: 1n, deadline: 2n ** 40n });
  const signedExchange = await signExchange(device(1, 1).account, { domain, exchange });
  await registry.write.recordExchangeBySig([signedExchange.exchange, signedExchange.signature]);
  const direct = await funded("device-2-0");
  await registry.write.recordData([clusters[2].gid, clusters[2].devices[0].oid, id("direct"), 1n], { account: direct });
  await registry.write.anchorBatch([clusters[0].gid, id("batch-root-1"), 3], { account: gateway });

  // A batch association with one bad item.
  const items = [
    await signedAssociation(registry, clusters[1].head, deviceAccount("late-0"), clusters[1].gid, id("late-0")),
    await signedAssociation(registry, deviceAccount("forger"), deviceAccount("late-1"), clusters[1].gid, id("late-1")),
  ];
  await registry.write.associateBatchBySig([items], { account: clusters[1].head });

  // A compromised head: revoked, then taken over by a spare member of the root group.
  const spare = await funded("spare");
  await enrol(registry, rootMaster, spare, rootGid, id("spare"));
  await registry.write.revoke([clusters[0].gid, clusters[0].devices[2].oid], { account: clusters[0].head });
  await registry.write.revoke([rootGid, clusters[0].headOid], { account: rootMaster });
  await registry.write.takeOverGroup([clusters[0].gid, spare.address], { account: rootMaster });
  await registry.write.setAnchorer([clusters[0].gid, gateway.address, true], { account: spare });
  await registry.write.anchorBatch([clusters[0].gid, id("batch-root-2"), 1], { account: gateway });

  // A child hand-over and a root hand-over; a pending proposal left open; a grandchild group.
  const successor = await funded("successor");
  await enrol(registry, rootMaster, successor, rootGid, id("successor"));
  await registry.write.proposeMaster([clusters[1].gid, successor.address], { account: clusters[1].head });
  await registry.write.acceptMaster([clusters[1].gid], { account: successor });
  const nextRoot = await funded("next-root");
  await registry.write.proposeMaster([rootGid, nextRoot.address], { account: rootMaster });
  await registry.write.acceptMaster([rootGid], { account: nextRoot });
  const deep = device(2, 1);
  await networkHelpers.setBalance(deep.account.address, 10n ** 18n);
  const deepGid = await createGroup(registry, deep.account, "deep", deep.oid, clusters[2].gid);
  await enrol(registry, deep.account, deviceAccount("deep-0"), deepGid, id("deep-0"));
  const pending = await funded("pending");
  await enrol(registry, nextRoot, pending, rootGid, id("pending"));
  await registry.write.proposeMaster([clusters[2].gid, pending.address], { account: clusters[2].head });
  await registry.write.deactivateGroup([deepGid], { account: deep.account });
  return { ...hierarchy, gateway, deepGid, candidates: [gateway.address, spare.address, successor.address, nextRoot.address, pending.address] };
}

describe("Events suffice to rebuild everything", () => {
  it("rebuilds every group from logs alone: Master, pending Master, parent, level, flags, epoch, chain head, root", async () => {
    const { registry } = await networkHelpers.loadFixture(everyKindOfWrite);
    const { groups } = await rebuildFromLogs(registry);
    expect(groups.size).to.equal(5);
    for (const [gid, model] of groups) {
      const info = await registry.read.groupInfo([gid]);
      expect(info, gid).to.deep.equal({
        master: model.master,
        pendingMaster: model.pendingMaster,
        masterOid: model.masterOid,
        parentGid: model.parentGid,
        level: model.level,
        active: model.active,
        masterRevoked: model.masterRevoked,
        masterEpoch: model.masterEpoch,
        leafCount: model.tree.size,
        chainHead: model.chainHead,
        root: model.tree.root,
      });
    }
  });

  it("rebuilds every identity from logs alone: account, leaf, member, Master and revoked flags, nonce, the address's oid", async () => {
    const { registry } = await networkHelpers.loadFixture(everyKindOfWrite);
    const { members, oidOf } = await rebuildFromLogs(registry);
    expect(members.size).to.be.greaterThan(15);
    for (const [key, model] of members) {
      const [gid, oid] = key.split(":") as [Hex, Hex];
      expect(await registry.read.memberOf([gid, oid]), key).to.deep.equal({ ...model, gid, oid });
      expect(await registry.read.nonces([gid, oid])).to.equal(BigInt(model.nonce));
    }
    for (const [account, oid] of oidOf) expect(await registry.read.oidOf([account])).to.equal(oid);
  });

  it("rebuilds anchors and anchorer authorisations, epoch by epoch, from logs alone", async () => {
    const { registry, candidates, clusters, rootGid, deepGid } = await networkHelpers.loadFixture(everyKindOfWrite);
    const { groups, anchors, anchorers } = await rebuildFromLogs(registry);
    expect(anchors.size).to.equal(2);
    for (const [key, model] of anchors) {
      const [gid, root] = key.split(":") as [Hex, Hex];
      expect(await registry.read.anchorOf([gid, root])).to.deep.equal(model);
    }
    // isAnchorer from the model: the group's Master has its powers, and the key is the Master or
    // was allowed in the current epoch.
    const hasPowers = (gid: Hex) => {
      const group = groups.get(gid)!;
      const parent = group.parentGid === zeroHash ? undefined : groups.get(group.parentGid)!;
      return group.active && !group.masterRevoked && (parent === undefined || parent.active);
    };
    for (const gid of [rootGid, ...clusters.map((c) => c.gid), deepGid]) {
      const group = groups.get(gid)!;
      for (const key of [...candidates, group.master]) {
        const allowed = key === group.master || anchorers.get(`${gid}:${group.masterEpoch}:${key}`) === true;
        expect(await registry.read.isAnchorer([gid, key]), `${gid} ${key}`).to.equal(hasPowers(gid) && allowed);
      }
    }
  });
});
