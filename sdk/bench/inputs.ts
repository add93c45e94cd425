// Deterministic inputs of the SDK benchmark (sdk-bench.ts): seeded keys and addresses, the paper's
// two-level AuthTable hierarchy at 1k and 100k leaves, 10,000 synthetic registry logs served by a
// custom viem transport, and random fields of nodes to cluster. Nothing here is timed.
import { createPublicClient, custom, encodeAbiParameters, encodeEventTopics, getAddress, keccak256, numberToHex, stringToHex, zeroHash, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { ClusterNode } from "../src/clustering.js";
import { authEntryHash, genesisAnchor, groupId, iomtRegistryAbi, toId, type AuthPath, type TrustedState } from "../src/index.js";
import { seededRandom } from "../test/support/random.js";
import { buildGroup } from "../test/support/synthetic-group.js";

// ------------------------------------------------------------------ deterministic inputs

/** The bench's one seeded stream: the same calls in the same order give the same inputs every run. */
const random = seededRandom(2024);
export const randomIndex = (size: number): number => Math.floor(random() * size);
export const label = (text: string): Hex => keccak256(stringToHex(`iomt-bench:${text}`));
export const account = (text: string) => privateKeyToAccount(label(`key:${text}`));
/** A distinct, checksummed address without deriving a key. */
export const address = (text: string): Address => getAddress(`0x${label(`address:${text}`).slice(26)}`);
/** The `n`-th of a family of distinct addresses, made without hashing (cheap for 100k leaves; lowercase). */
export const nthAddress = (family: number, n: number): Address => `0x${family.toString(16).padStart(8, "0")}${n.toString(16).padStart(32, "0")}`;

// ------------------------------------------------------------------ AuthTable groups

/**
 * Al Ahmed et al.'s hierarchy as a verifier sees it: a root group of `heads` cluster heads (Master: the
 * hospital), and one cluster head's group of `leaves` devices. A device's path has two steps.
 */
export function buildHierarchy(leaves: number, heads = 10) {
  const hospital = address("hospital");
  const headAddresses = Array.from({ length: heads }, (_, i) => address(`head-${leaves}-${i}`));
  const root = buildGroup("root", zeroHash, zeroHash, hospital, headAddresses);
  const clusterHead = headAddresses[3];
  const cluster = buildGroup(`cluster-${leaves}`, root.head, root.gid, clusterHead, Array.from({ length: leaves }, (_, i) => nthAddress(leaves, i)));
  const headIndex = root.entries.findIndex((entry) => entry.device === clusterHead);
  const trusted: TrustedState = {
    trustedRoots: [root.gid],
    groups: [
      { gid: root.gid, master: hospital, parentGid: zeroHash, active: true, root: root.tree.root, leafCount: root.tree.size, revocationWords: revocationWords(root.tree.size) },
      { gid: cluster.gid, master: clusterHead, parentGid: root.gid, active: true, root: cluster.tree.root, leafCount: cluster.tree.size, revocationWords: revocationWords(cluster.tree.size) },
    ],
  };
  /** What `getAuthPath` returns for leaf `index`: the device's step, then its cluster head's step in the root group. */
  const path = (index: number): AuthPath => [
    { gid: cluster.gid, entry: { ...cluster.entries[index] }, leafCount: cluster.tree.size, proof: cluster.tree.proof(index), consistency: [] },
    { gid: root.gid, entry: { ...root.entries[headIndex] }, leafCount: root.tree.size, proof: root.tree.proof(headIndex), consistency: [] },
  ];
  return { root, cluster, trusted, path, headIndex };
}

/** The registry's revocation words for `size` leaves, none revoked (bit 255 marks an allocated word). */
export const revocationWords = (size: number): bigint[] => Array.from({ length: Math.ceil(size / 255) }, () => 1n << 255n);

// ------------------------------------------------------------------ synthetic registry logs

export const REGISTRY = address("registry");
export const LOGS_PER_BLOCK = 100;

/**
 * `count` DeviceAssociated logs (after one GroupCreated) as a node returns them from eth_getLogs,
 * `LOGS_PER_BLOCK` per block as `associateBatchBySig` of that size would emit them, with a correct
 * auth chain. Served by a custom transport that JSON-decodes the response as an HTTP one would.
 */
export function syntheticRegistryLogs(count: number) {
  const master = address("log-master");
  const gid = groupId({ chainId: 31337, registry: REGISTRY, creator: master, label: "logged-group" });
  const genesis = genesisAnchor(zeroHash, zeroHash, gid, master);
  const logs: Record<string, unknown>[] = [];
  const rpcLog = (blockNumber: number, logIndex: number, topics: readonly (Hex | Hex[] | null)[], data: Hex) => ({
    address: REGISTRY.toLowerCase(),
    topics,
    data,
    blockNumber: numberToHex(blockNumber),
    blockHash: label(`block-${blockNumber}`),
    transactionHash: label(`tx-${blockNumber}`),
    transactionIndex: "0x0",
    logIndex: numberToHex(logIndex),
    removed: false,
  });
  logs.push(
    rpcLog(
      1,
      0,
      encodeEventTopics({ abi: iomtRegistryAbi, eventName: "GroupCreated", args: { gid, master, parentGid: zeroHash } }),
      // label, masterOid, level, genesis
      encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "uint8" }, { type: "bytes32" }], [toId("logged-group"), toId("logged-group/master"), 0, genesis]),
    ),
  );
  let head = genesis;
  for (let index = 0; index < count; index++) {
    const device = nthAddress(7, index);
    const oid = toId(index + 1);
    head = authEntryHash(head, index, device, master, oid);
    const block = 2 + Math.floor(index / LOGS_PER_BLOCK);
    logs.push(
      rpcLog(
        block,
        index % LOGS_PER_BLOCK,
        encodeEventTopics({ abi: iomtRegistryAbi, eventName: "DeviceAssociated", args: { gid, device, oid } }),
        encodeAbiParameters([{ type: "address" }, { type: "uint32" }, { type: "bytes32" }], [master, index, head]),
      ),
    );
  }
  const headBlock = 2 + Math.ceil(count / LOGS_PER_BLOCK) - 1;
  const json = JSON.stringify(logs);
  const transport = custom({
    async request({ method, params }: { method: string; params?: unknown }) {
      if (method === "eth_blockNumber") return numberToHex(headBlock);
      if (method === "eth_chainId") return numberToHex(31337);
      if (method === "eth_getLogs") {
        const [filter] = params as [{ fromBlock: Hex; toBlock: Hex; address: Address }];
        const [from, to] = [Number(filter.fromBlock), Number(filter.toBlock)];
        const all = JSON.parse(json) as { blockNumber: Hex }[];
        return all.filter((log) => Number(log.blockNumber) >= from && Number(log.blockNumber) <= to);
      }
      throw new Error(`synthetic transport: ${method} is not served`);
    },
  });
  return { client: createPublicClient({ transport }), gid, count, headBlock, finalHead: head };
}

// ------------------------------------------------------------------ the fields to cluster

/** Nodes uniform over side × side, energy uniform in [0, 100); ≈2% processing index 3, 38% index 2, the rest 1. */
export function randomField(count: number, side: number, seed: number): ClusterNode[] {
  const draw = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const kind = draw();
    const processingIndex = kind < 0.02 ? 3 : kind < 0.4 ? 2 : 1;
    return { id: `n${i}`, x: draw() * side, y: draw() * side, processingIndex, energy: draw() * 100 };
  });
}
