// Group lifecycle (create root/child, hand over, deactivate, revoke) and typed reads of groups
// and members.
import { getAddress, zeroAddress, zeroHash, type Address, type Hash } from "viem";
import { getBlockNumber } from "viem/actions";
import { LEAVES_PER_REVOCATION_WORD } from "../authtable.js";
import { assertId, type Id } from "../ids.js";
import { readRegistry, writeRegistry, type ReadClient, type RegistryParameter, type WriteClient } from "./internal.js";

// ----------------------------------------------------------------------------- writes

export interface CreateGroupParameters extends RegistryParameter {
  gid: Id;
  /** A root group's Master registers this fresh oid; a child group's Master gives its own oid in the parent. */
  masterOid: Id;
  /** The parent group; omit (or zero) for a root group. */
  parentGid?: Id;
}

/** The caller creates a group and becomes its Master (paper 000 Algorithm 1, Master branch; paper 003 cluster head). */
export async function createGroup(client: WriteClient, { registry, gid, masterOid, parentGid }: CreateGroupParameters): Promise<Hash> {
  const parent = parentGid === undefined || parentGid === zeroHash ? zeroHash : assertId(parentGid, "parentGid");
  return writeRegistry(client, registry, "createGroup", [assertId(gid, "gid"), assertId(masterOid, "masterOid"), parent]);
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

/** The Master deactivates the group for good; its members stop being authenticated. */
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
  leafCount: number;
  chainHead: Hash;
  root: Hash;
}

/** A group's record: Master, parent, level, activity, tree size, chain head and root. */
export async function getGroup(client: ReadClient, { registry, gid, blockNumber }: GroupParameters & { blockNumber?: bigint }): Promise<GetGroupReturnType> {
  const id = assertId(gid, "gid");
  const info = await readRegistry(client, registry, "groupInfo", [id], blockNumber);
  return { gid: id, exists: info.master !== zeroAddress, ...info };
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
  return { gid: id, exists: info.master !== zeroAddress, ...info, blockNumber: at, revocationWords: [...revocationWords] };
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

export type GetMemberParameters = RegistryParameter & ({ oid: Id; account?: never } | { account: Address; oid?: never });

/** A member's record by oid or by address (all zero when unknown). */
export async function getMember(client: ReadClient, parameters: GetMemberParameters): Promise<GetMemberReturnType> {
  const { registry } = parameters;
  const member =
    parameters.oid !== undefined
      ? await readRegistry(client, registry, "memberByOid", [assertId(parameters.oid, "oid")])
      : await readRegistry(client, registry, "memberByAddress", [getAddress(parameters.account)]);
  return { ...member };
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

/** The device's next relayed-request nonce (0 before it associates). */
export async function getNonce(client: ReadClient, { registry, device }: RegistryParameter & { device: Address }): Promise<bigint> {
  return readRegistry(client, registry, "nonces", [getAddress(device)]);
}
