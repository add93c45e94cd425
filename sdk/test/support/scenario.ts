// The shared fixture of the SDK's chain tests: a registry deployed on a TestChain, clients bound to
// it with the SDK's decorators, and Al Ahmed et al.'s three-level hierarchy built through the SDK alone.
//
// Al Ahmed et al. calls the single top cluster head "level 2", its cluster heads "level 1" and the
// devices "level 0". On chain the levels count downwards from the root group: the level-2 head is
// the Master of the root group (registry level 0), each level-1 head is a member of the root group
// and the Master of a child group (registry level 1), and the devices are members of the child groups.
import { expect } from "chai";
import { getAddress, keccak256, parseEventLogs, stringToHex, type Address, type Hash, type LocalAccount, type TransactionReceipt } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { deployRegistry } from "../../src/deploy.js";
import {
  getBatchItemResults,
  iomtPublicActions,
  iomtRegistryAbi,
  iomtWalletActions,
  registryDomain,
  toId,
  type Id,
  type RegistryDomain,
  type SignedAssociation,
  type TrustedGroupState,
  type TrustedState,
} from "../../src/index.js";
import type { TestChain } from "./chain.js";

export const makeReader = (testChain: TestChain, registry: Address) => testChain.publicClient.extend(iomtPublicActions({ registry }));
export const makeWallet = (testChain: TestChain, registry: Address, account: LocalAccount) =>
  testChain.walletClient(account).extend(iomtWalletActions({ registry }));
export type IomtReader = ReturnType<typeof makeReader>;
export type IomtWallet = ReturnType<typeof makeWallet>;

/** Anyone on the chain: a device, a cluster head, a gateway key, a stranger. */
export interface Node {
  name: string;
  /** The oid it registers (or would register) under. */
  oid: Id;
  account: LocalAccount;
  address: Address;
  wallet: IomtWallet;
}

export interface Deployment {
  testChain: TestChain;
  registry: Address;
  /** The block the registry was deployed in: where an indexer starts. */
  deployBlock: bigint;
  reader: IomtReader;
  domain: RegistryDomain;
  /** Waits for a transaction and checks that it succeeded. */
  mined(hash: Hash): Promise<TransactionReceipt>;
  /** A deadline `seconds` after the chain's latest block (chain time, not wall-clock time). */
  deadline(seconds?: bigint): Promise<bigint>;
  /** A node with 1,000 ether, able to send its own transactions. */
  funded(name: string): Promise<Node>;
  /** A node without ether: it only signs, others relay for it. */
  unfunded(name: string): Node;
}

export interface DeployParameters {
  evmTarget?: "cancun" | "london";
  /**
   * Derive every key (the deployer's and each node's, from its name) from this seed instead of
   * drawing it at random, so that addresses, the registry's address, gids and every hash repeat
   * from run to run. Names must then be unique.
   */
  seed?: string;
}

/** Deploys a registry with a fresh funded key (or one derived from `seed`). */
export async function deploy(testChain: TestChain, { evmTarget, seed }: DeployParameters = {}): Promise<Deployment> {
  const keyOf = (name: string): LocalAccount =>
    privateKeyToAccount(seed === undefined ? generatePrivateKey() : keccak256(stringToHex(`iomt-auth test key ${seed} ${name}`)));
  const deployer = await testChain.fundedAccount(keyOf("deployer"));
  const { address: registry, blockNumber: deployBlock } = await deployRegistry(testChain.walletClient(deployer), { evmTarget });
  const node = (name: string, account: LocalAccount): Node => ({
    name,
    oid: toId(name),
    account,
    address: account.address,
    wallet: makeWallet(testChain, registry, account),
  });
  return {
    testChain,
    registry,
    deployBlock,
    reader: makeReader(testChain, registry),
    domain: registryDomain({ chainId: testChain.chain.id, registry }),
    async mined(hash) {
      const receipt = await testChain.publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status, `transaction ${hash}`).to.equal("success");
      return receipt;
    },
    async deadline(seconds = 3_600n) {
      const latest = await testChain.publicClient.getBlock({ blockTag: "latest" });
      return latest.timestamp + seconds;
    },
    funded: async (name) => node(name, await testChain.fundedAccount(keyOf(name))),
    unfunded: (name) => node(name, keyOf(name)),
  };
}

// ----------------------------------------------------------------------------- association

export type AssociationForm = "direct" | "relayed" | "batch";

/** The Master issues `device` a token and the device signs its relayed association request. */
export async function signedAssociation(d: Deployment, gid: Id, master: Node, device: Node, deadline?: bigint): Promise<SignedAssociation> {
  const token = await master.wallet.issueToken({ gid, oid: device.oid, device: device.address });
  return device.wallet.signAssociation({ token, deadline: deadline ?? (await d.deadline()) });
}

/** The device associates itself with the token its Master issued (it pays the gas). */
export async function associateDirect(d: Deployment, gid: Id, master: Node, device: Node): Promise<TransactionReceipt> {
  const token = await master.wallet.issueToken({ gid, oid: device.oid, device: device.address });
  return d.mined(await device.wallet.associate({ token }));
}

/** The device signs, `relayer` (by default the Master) submits it with `associateBySig`. */
export async function associateRelayed(d: Deployment, gid: Id, master: Node, device: Node, relayer = master): Promise<TransactionReceipt> {
  return d.mined(await relayer.wallet.associateBySig({ association: await signedAssociation(d, gid, master, device) }));
}

/**
 * The devices sign, `relayer` (by default the Master) submits them all in one `associateBatchBySig`,
 * and every item must have been applied (a batch skips bad items instead of reverting).
 */
export async function associateInBatch(d: Deployment, gid: Id, master: Node, devices: readonly Node[], relayer = master): Promise<TransactionReceipt> {
  const deadline = await d.deadline();
  const associations = await Promise.all(devices.map((device) => signedAssociation(d, gid, master, device, deadline)));
  const receipt = await d.mined(await relayer.wallet.associateBatchBySig({ associations }));
  const results = getBatchItemResults({ logs: receipt.logs, registry: d.registry, itemCount: associations.length });
  expect(results.filter((result) => result.status !== "Applied"), "skipped batch items").to.deep.equal([]);
  return receipt;
}

/** `node` creates a group (a root group without `parentGid`); returns the gid the SDK derived, checked against the registry's log. */
export async function createGroup(d: Deployment, node: Node, label: string, parentGid?: Id): Promise<Id> {
  const { hash, gid } = await node.wallet.createGroup({ label, masterOid: node.oid, parentGid });
  const receipt = await d.mined(hash);
  const [created] = parseEventLogs({ abi: iomtRegistryAbi, eventName: "GroupCreated", logs: receipt.logs });
  expect(created.args.gid, "the gid the SDK derived is the one the registry created").to.equal(gid);
  return gid;
}

// ----------------------------------------------------------------------------- the hierarchy

/** A node that joined a group, and how. */
export interface Joined extends Node {
  gid: Id;
  form: AssociationForm;
  /** The account that sent the association transaction (the node itself only for `direct`). */
  sentBy: Address;
  /** The block the association was mined in. */
  associatedIn: bigint;
}

export interface Cluster {
  gid: Id;
  /** The level-1 cluster head: a member of the root group and the Master of this group. */
  head: Joined;
  devices: Joined[];
}

export interface Hierarchy extends Deployment {
  rootGid: Id;
  /** The level-2 cluster head: the Master of the root group. */
  rootMaster: Node;
  clusters: Cluster[];
  /** A member of the root group that heads no cluster: eligible to take a cluster over. */
  spare: Joined;
  /** Every level-0 device, in creation order. */
  devices: Joined[];
  /** Every group: the root first, then the clusters. */
  gids: Id[];
}

const FORMS: readonly AssociationForm[] = ["direct", "relayed", "batch"];

function joined(node: Node, gid: Id, form: AssociationForm, receipt: TransactionReceipt): Joined {
  return { ...node, gid, form, sentBy: getAddress(receipt.from), associatedIn: receipt.blockNumber };
}

/**
 * Deploys a registry and builds Al Ahmed et al.'s scenario with the SDK: the level-2 head creates the
 * root group; three level-1 heads join it (one directly, one relayed, one in a batch with the spare
 * member) and each creates its child group; `devices` level-0 devices are spread round-robin over
 * the clusters and join them directly, relayed by their head, or in one batch per cluster.
 * Devices that join directly hold ether; the others never do.
 */
export async function buildHierarchy(testChain: TestChain, { devices: deviceCount = 20, label = "hospital" } = {}): Promise<Hierarchy> {
  const d = await deploy(testChain);
  const rootMaster = await d.funded(`${label}/level-2-head`);
  const rootGid = await createGroup(d, rootMaster, `${label}/root`);

  const [head0, head1, head2, spareNode] = await Promise.all([0, 1, 2].map((i) => d.funded(`${label}/level-1-head-${i}`)).concat(d.funded(`${label}/level-1-spare`)));
  const heads: Joined[] = [];
  heads.push(joined(head0, rootGid, "direct", await associateDirect(d, rootGid, rootMaster, head0)));
  heads.push(joined(head1, rootGid, "relayed", await associateRelayed(d, rootGid, rootMaster, head1)));
  const batch = await associateInBatch(d, rootGid, rootMaster, [head2, spareNode]);
  heads.push(joined(head2, rootGid, "batch", batch));
  const spare = joined(spareNode, rootGid, "batch", batch);

  const clusters: Cluster[] = [];
  for (const [i, head] of heads.entries()) {
    const gid = await createGroup(d, head, `${label}/cluster-${i}`, rootGid);
    clusters.push({ gid, head, devices: [] });
  }

  const devices: Joined[] = [];
  const batched = clusters.map((): Node[] => []);
  for (let i = 0; i < deviceCount; i++) {
    const c = i % clusters.length;
    const form = FORMS[Math.floor(i / clusters.length) % FORMS.length];
    const { gid, head } = clusters[c];
    const name = `${label}/cluster-${c}/device-${i}`;
    if (form === "batch") {
      batched[c].push(d.unfunded(name));
      continue;
    }
    const device = form === "direct" ? await d.funded(name) : d.unfunded(name);
    const receipt = form === "direct" ? await associateDirect(d, gid, head, device) : await associateRelayed(d, gid, head, device);
    devices.push(joined(device, gid, form, receipt));
  }
  for (const [c, members] of batched.entries()) {
    if (members.length === 0) continue;
    const receipt = await associateInBatch(d, clusters[c].gid, clusters[c].head, members);
    devices.push(...members.map((device) => joined(device, clusters[c].gid, "batch", receipt)));
  }
  // Creation order, whatever the form.
  const order = (device: Joined) => Number(device.name.slice(device.name.lastIndexOf("-") + 1));
  devices.sort((a, b) => order(a) - order(b));
  for (const device of devices) clusters.find((cluster) => cluster.gid === device.gid)!.devices.push(device);

  return { ...d, rootGid, rootMaster, clusters, spare, devices, gids: [rootGid, ...clusters.map((cluster) => cluster.gid)] };
}

/** The cluster a device belongs to. */
export const clusterOf = (h: Hierarchy, device: Joined): Cluster => h.clusters.find((cluster) => cluster.gid === device.gid)!;

/** Just the fields an offline verifier holds of a group (`getGroupState` returns more). */
export const trustedFields = ({ gid, master, parentGid, active, root, leafCount, revocationWords }: TrustedGroupState): TrustedGroupState => ({
  gid,
  master,
  parentGid,
  active,
  root,
  leafCount,
  revocationWords,
});

/** A trusted state's groups as an array, each reduced to `trustedFields`. */
export const trustedGroups = (state: TrustedState): TrustedGroupState[] =>
  [...(state.groups instanceof Map ? state.groups.values() : (state.groups as Iterable<TrustedGroupState>))].map(trustedFields);
