// Shared fixtures: one in-process network per test file, a fresh registry per test (snapshots
// through loadFixture), deterministic device keys, and the signing helpers devices and Masters use.
import { network } from "hardhat";
import {
  keccak256,
  parseEther,
  stringToHex,
  zeroHash,
  type Address,
  type Hex,
  type LocalAccount,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  associationTypes,
  groupId,
  issueToken,
  registryDomain,
  signAssociation,
  type AssociationRequest,
  type RegistryDomain,
} from "../../sdk/src/index.js";
import { withRecordingAssertions } from "./assertions.js";

export const connection = await network.create();
export const { networkHelpers } = connection;
/** Hardhat's viem helpers, whose custom-error assertions record what they saw for the coverage gate (./assertions.ts). */
export const viem = withRecordingAssertions(connection.viem);
/** The same assertions as `viem.assertions`, for `import { assertions } from "./support/fixtures.js"`. */
export const { assertions } = viem;
export const publicClient = await viem.getPublicClient();
export const chainId = await publicClient.getChainId();

export const id = (label: string): Hex => keccak256(stringToHex(label));

/** A deterministic local key (not funded: see `funded`). */
export function deviceAccount(label: string): LocalAccount {
  return privateKeyToAccount(keccak256(stringToHex(`iomt-test-key:${label}`)));
}

export async function funded(label: string): Promise<LocalAccount> {
  const account = deviceAccount(label);
  await networkHelpers.setBalance(account.address, parseEther("10"));
  return account;
}

export async function deployRegistry() {
  const registry = await viem.deployContract("IomtRegistry");
  return { registry };
}

export type Registry = Awaited<ReturnType<typeof deployRegistry>>["registry"];

export const domainOf = (registry: { address: Address }, overrides: { chainId?: number } = {}): RegistryDomain =>
  registryDomain({ chainId: overrides.chainId ?? chainId, registry: registry.address });

export async function farDeadline(): Promise<bigint> {
  return BigInt(await networkHelpers.time.latest()) + 3600n;
}

/** The Master's token signature for (gid, oid, device), through the SDK's `issueToken`. */
export const tokenSignature = async (master: LocalAccount, gid: Hex, oid: Hex, device: Address): Promise<Hex> =>
  (await issueToken(master, { gid, oid, device })).signature;

/**
 * The device's EIP-712 signature over any association request, signed raw: unlike the SDK's
 * `signAssociation` (which builds the request from a matching token), it signs whatever request a
 * test builds — a wrong nonce, an impostor's key, another chain id.
 */
export const signAssociationRequest = (
  device: LocalAccount,
  registry: { address: Address },
  request: AssociationRequest,
  domain: RegistryDomain = domainOf(registry),
): Promise<Hex> => device.signTypedData({ domain, types: associationTypes, primaryType: "Association", message: request });

/** A complete relayed-association item: request (nonce 0, one-hour deadline), device signature, Master token. */
export const signedAssociation = async (
  registry: { address: Address },
  master: LocalAccount,
  device: LocalAccount,
  gid: Hex,
  oid: Hex,
) => {
  const token = await issueToken(master, { gid, oid, device: device.address });
  return signAssociation(device, { domain: domainOf(registry), token, deadline: await farDeadline() });
};

/** The malleable high-s twin of a signature (same signer, rejected by OZ ECDSA); shared with the SDK's and gateway's tests. */
export { toHighS } from "../../sdk/test/support/signatures.js";

/** Associates `device` as `oid` of `gid` through a relayed request that `master` signs a token for and submits. */
export async function enrol(registry: Registry, master: LocalAccount, device: LocalAccount, gid: Hex, oid: Hex) {
  const item = await signedAssociation(registry, master, device, gid, oid);
  await registry.write.associateBySig([item.request, item.signature, item.token], { account: master });
}

/** The gid `creator` gets for `label` on `registry` (the registry derives it; see the SDK's `groupId`). */
export const gidOf = (registry: { address: Address }, creator: { address: Address }, label: string): Hex =>
  groupId({ chainId, registry: registry.address, creator: creator.address, label });

/** `creator` creates the group labelled `label` (a root group unless `parentGid` is given); returns its gid. */
export async function createGroup(registry: Registry, creator: LocalAccount, label: string, masterOid: Hex, parentGid: Hex = zeroHash) {
  await registry.write.createGroup([id(label), masterOid, parentGid], { account: creator });
  return gidOf(registry, creator, label);
}

export interface Cluster {
  gid: Hex;
  head: LocalAccount;
  headOid: Hex;
  devices: { account: LocalAccount; oid: Hex }[];
}

/**
 * Al Ahmed et al.'s scenario as groups: one root group whose Master is the level-2 cluster head, three
 * level-1 cluster heads that are members of the root group and each create a child group, and
 * three devices in each cluster (nine in all), associated through relayed requests.
 */
export async function deployHierarchy() {
  const { registry } = await deployRegistry();
  const rootMaster = await funded("root-master");
  const rootOid = id("oid:root-master");
  const rootGid = await createGroup(registry, rootMaster, "group:root", rootOid);

  const clusters: Cluster[] = [];
  for (let c = 0; c < 3; c++) {
    const head = await funded(`head-${c}`);
    const headOid = id(`oid:head-${c}`);
    await enrol(registry, rootMaster, head, rootGid, headOid);
    const gid = await createGroup(registry, head, `group:cluster-${c}`, headOid, rootGid);
    const devices = [];
    for (let d = 0; d < 3; d++) {
      const account = deviceAccount(`device-${c}-${d}`);
      const oid = id(`oid:device-${c}-${d}`);
      await enrol(registry, head, account, gid, oid);
      devices.push({ account, oid });
    }
    clusters.push({ gid, head, headOid, devices });
  }
  return { registry, rootMaster, rootGid, rootOid, clusters };
}
