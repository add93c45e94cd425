// Group lifecycle (create root/child, hand over, deactivate, revoke) and typed reads of groups
// and members.
import { getAddress, zeroAddress, zeroHash, type Address, type Hash } from "viem";
import { getBlockNumber, getChainId } from "viem/actions";
import { LEAVES_PER_REVOCATION_WORD } from "../authtable.js";
import { assertId, groupId, toId, type Id } from "../ids.js";
import { readRegistry, writeRegistry, type ReadClient, type RegistryParameter, type WriteClient } from "./internal.js";

// ----------------------------------------------------------------------------- writes

export interface CreateGroupParameters extends RegistryParameter {
  /** The caller's label for the group (a name, number or bytes32, as `toId` takes it); the gid is derived from it. */
  label: string | number | bigint;
  /** A root group's Master registers this oid as its identity; a child group's Master gives its own oid in the parent. */
  masterOid: Id;
  /** The parent group; omit (or zero) for a root group. */
  parentGid?: Id;
}

export interface CreateGroupReturnType {
  /** The transaction. */
  hash: Hash;
  /** The new group's id: `groupId({ chainId, registry, creator: the caller, label })`. */
  gid: Id;
}

/**
 * The caller creates a group and becomes its Master (Elhachmi & Kobbane, Algorithm 1, Master branch;
 * Al Ahmed et al., cluster head). The gid is derived from the caller and the label, so nobody can
 * take it first.
 */
export async function createGroup(client: WriteClient, { registry, label, masterOid, parentGid }: CreateGroupParameters): Promise<CreateGroupReturnType> {
  const parent = parentGid === undefined || parentGid === zeroHash ? zeroHash : assertId(parentGid, "parentGid");
  const chainId = client.chain?.id ?? (await getChainId(client));
  const gid = groupId({ chainId, registry, creator: client.account.address, label });
  const hash = await writeRegistry(client, registry, "createGroup", [toId(label), assertId(masterOid, "masterOid"), parent]);
  return { hash, gid };
}

export interface RevokeParameters extends RegistryParameter {
  gid: Id;
  oid: Id;
}

/** The group's Master revokes a member for good; every AuthTable path through it breaks. */
export async function revoke(client: WriteClient, { registry, gid, oid }: RevokeParameters): Promise<Hash> {
  return writeRegistry(client, registry, "revoke", [assertId(gid, "gid"), assertId(oid, "oid")]);
}

export interface ProposeMasterParameters extends RegistryParameter {
  gid: Id;
  /** The next Master; the zero address cancels a pending proposal. */
  candidate: Address;
}

/** Step one of a hand-over: the current Master names its successor. */
export async function proposeMaster(client: WriteClient, { registry, gid, candidate }: ProposeMasterParameters): Promise<Hash> {
  return writeRegistry(client, registry, "proposeMaster", [assertId(gid, "gid"), getAddress(candidate)]);
}

/** Cancels a pending hand-over. */
export async function cancelMasterProposal(client: WriteClient, { registry, gid }: GroupParameters): Promise<Hash> {
  return proposeMaster(client, { registry, gid, candidate: zeroAddress });
}

export interface GroupParameters extends RegistryParameter {
  gid: Id;
}

/** Step two of a hand-over: the proposed Master accepts and takes the group. */
export async function acceptMaster(client: WriteClient, { registry, gid }: GroupParameters): Promise<Hash> {
  return writeRegistry(client, registry, "acceptMaster", [assertId(gid, "gid")]);
}

export interface TakeOverGroupParameters extends RegistryParameter {
  /** The child group whose Master the caller (the parent group's Master) revoked. */
  gid: Id;
  /** Its next Master: an active member of the parent group that masters no group. */
  newMaster: Address;
}

/** The parent group's Master takes over a child group whose Master it revoked, and hands it to `newMaster`. */
export async function takeOverGroup(client: WriteClient, { registry, gid, newMaster }: TakeOverGroupParameters): Promise<Hash> {
  return writeRegistry(client, registry, "takeOverGroup", [assertId(gid, "gid"), getAddress(newMaster)]);
}

/** The Master (or, once it revoked that Master, the parent's Master) deactivates the group for good; its members stop being authenticated. */
export async function deactivateGroup(client: WriteClient, { registry, gid }: GroupParameters): Promise<Hash> {
  return writeRegistry(client, registry, "deactivateGroup", [assertId(gid, "gid")]);
}

// ----------------------------------------------------------------------------- reads

export interface GetGroupReturnType {
  gid: Id;
  /** False when no group has this gid (every other field is then zero). */
  exists: boolean;
  master: Address;
  pendingMaster: Address;
  masterOid: Id;
  parentGid: Id;
  level: number;
  active: boolean;
  /** The Master was revoked in the parent group and has lost its powers until a take-over. */
  masterRevoked: boolean;
  /** Hand-overs and take-overs so far; anchorer authorisations belong to one epoch. */
  masterEpoch: number;
  leafCount: number;
  chainHead: Hash;
  root: Hash;
}

/** A group's record: Master, parent, level, activity, tree size, chain head and root. */
export async function getGroup(client: ReadClient, { registry, gid, blockNumber }: GroupParameters & { blockNumber?: bigint }): Promise<GetGroupReturnType> {
  const id = assertId(gid, "gid");
  const info = await readRegistry(client, registry, "groupInfo", [id], blockNumber);
  return { gid: id, exists: info.master !== zeroAddress, ...info, masterEpoch: Number(info.masterEpoch) };
}

export interface GetGroupStateReturnType extends GetGroupReturnType {
  /** The block the state was read at: root, count and words are consistent with each other. */
  blockNumber: bigint;
  /** Every revocation word of the group (⌈leafCount / 255⌉ of them). */
  revocationWords: bigint[];
}

/**
 * Everything an offline verifier needs of a group, read at one block: record, root, leaf count and
 * all revocation words.
 */
export async function getGroupState(client: ReadClient, { registry, gid, blockNumber }: GroupParameters & { blockNumber?: bigint }): Promise<GetGroupStateReturnType> {
  const id = assertId(gid, "gid");
  const at = blockNumber ?? (await getBlockNumber(client, { cacheTime: 0 }));
  const info = await readRegistry(client, registry, "groupInfo", [id], at);
  const words = BigInt(Math.ceil(info.leafCount / LEAVES_PER_REVOCATION_WORD));
  const [, , , revocationWords] = await readRegistry(client, registry, "groupState", [id, 0n, words], at);
  return { gid: id, exists: info.master !== zeroAddress, ...info, masterEpoch: Number(info.masterEpoch), blockNumber: at, revocationWords: [...revocationWords] };
}

export interface GetMemberReturnType {
  account: Address;
  gid: Id;
  oid: Id;
  leafIndex: number;
  /** Registered under this oid (also true once revoked: `revoked` says that). */
  isMember: boolean;
  isMaster: boolean;
  revoked: boolean;
  /** The device's next relayed-request nonce. */
  nonce: number;
}

/** Oids are scoped to their group: a member is named by (gid, oid), or by (gid, account). */
export type GetMemberParameters = RegistryParameter & { gid: Id } & ({ oid: Id; account?: never } | { account: Address; oid?: never });

/** A member's record in a group, by oid or by address (all zero when unknown there). */
export async function getMember(client: ReadClient, parameters: GetMemberParameters): Promise<GetMemberReturnType> {
  const { registry } = parameters;
  const gid = assertId(parameters.gid, "gid");
  const member =
    parameters.oid !== undefined
      ? await readRegistry(client, registry, "memberOf", [gid, assertId(parameters.oid, "oid")])
      : await readRegistry(client, registry, "memberByAccount", [gid, getAddress(parameters.account)]);
  return { ...member };
}

export interface GetOidParameters extends RegistryParameter {
  account: Address;
}

/** The oid an address registered under, in whichever group (zero when none); its group is in its `DeviceAssociated` or `GroupCreated` log. */
export async function getOid(client: ReadClient, { registry, account }: GetOidParameters): Promise<Hash> {
  return readRegistry(client, registry, "oidOf", [getAddress(account)]);
}

export interface IsAuthenticatedParameters extends RegistryParameter {
  gid: Id;
  oid: Id;
  device: Address;
}

/** The group-local rule: the device is the active, unrevoked member under (gid, oid) of an active group. */
export async function isAuthenticated(client: ReadClient, { registry, gid, oid, device }: IsAuthenticatedParameters): Promise<boolean> {
  return readRegistry(client, registry, "isAuthenticated", [assertId(gid, "gid"), assertId(oid, "oid"), getAddress(device)]);
}

export interface GetNonceParameters extends RegistryParameter {
  gid: Id;
  oid: Id;
}

/** Member (gid, oid)'s next relayed-request nonce (0 before it associates). */
export async function getNonce(client: ReadClient, { registry, gid, oid }: GetNonceParameters): Promise<bigint> {
  return readRegistry(client, registry, "nonces", [assertId(gid, "gid"), assertId(oid, "oid")]);
}
