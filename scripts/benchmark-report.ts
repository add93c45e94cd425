// The benchmark report: gas against scale beside the EVM floor and other systems, and the papers'
// evaluation redone with this system on this machine. Writes gas-reports/benchmark-report.json,
// gas-reports/benchmark-report.md and SVG charts; run by `./iomt gas` after the gas report.
//
// Gas figures are receipts' gasUsed on Hardhat's in-process network (the tests' compiler
// settings); they and the sizes are the same bytes on every run for the same contracts (fixed keys,
// timestamps and deadlines, seeded fields), which `./iomt gas:check` relies on. Times are
// wall-clock on this machine: means and standard deviations over repeated runs, reported as
// measured in gas-reports/timings.{md,json}, which differ on every run (IOMT_GAS_TIMINGS=0 skips them).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  keccak256,
  parseEther,
  stringToHex,
  toHex,
  zeroHash,
  type Address,
  type Hash,
  type Hex,
  type Transport,
} from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import {
  anchorBatch,
  associate,
  associateBatchBySig,
  associateBySig,
  authPathSize,
  createDataMessage,
  createGatewayClient,
  createGroup,
  formClusters,
  getNonce,
  groupId,
  issueToken,
  randomSalt,
  recordDataBatchBySig,
  recordDataBySig,
  registryDomain,
  revoke,
  signAssociation,
  signDataMessage,
  toId,
  type AuthPath,
  type ClusterNode,
  type ReadClient,
  type SignedAssociation,
  type SignedDataMessage,
  type WriteClient,
} from "@iomt-auth/sdk";
import { deployRegistry } from "@iomt-auth/sdk/deploy";
import { enrolDevice } from "../gateway/src/index.js";
import { startAnvilNode } from "../sdk/test/support/anvil.js";
import { seededRandom } from "../sdk/test/support/random.js";
import { buildGroup } from "../sdk/test/support/synthetic-group.js";
import { REFERENCES } from "./lib/references.js";
import { intrinsicGas, REPORT_DEADLINE, REPORT_TIMESTAMP, reportDir } from "./lib/gas.js";
import { setBalance, startLoopbackGateway } from "./lib/nodes.js";
import { lineChart, renderSvg, type LinePoint } from "./lib/charts.js";

const GROUP_SIZES = [1, 10, 100, 1_000, 10_000];
const BATCH_SIZES = [1, 10, 50, 100, 200];
const SAMPLES = 3;
const FILL_BATCH = 200;

// The EVM floor of an operation: 21,000 + its calldata + the storage it must write + its ecrecovers.
const FRESH_SLOT = 22_100; // SSTORE zero → non-zero (20,000) on a cold slot (2,100)
const UPDATED_SLOT = 5_000; // SSTORE non-zero → non-zero (2,900) on a cold slot (2,100)
const ECRECOVER = 3_000;
const floorParts = {
  associate: { storage: FRESH_SLOT, ecrecovers: 1, why: "one fresh slot binding the device to its group; the token's ecrecover" },
  associateBySig: { storage: FRESH_SLOT, ecrecovers: 2, why: "one fresh slot; the token's and the device's ecrecover" },
  associateBatchBySig: { storage: FRESH_SLOT, ecrecovers: 2, why: "per device: one fresh slot, two ecrecovers; 21,000 shared by the batch" },
  recordDataBySig: { storage: UPDATED_SLOT, ecrecovers: 1, why: "the device's nonce updated; the device's ecrecover" },
  recordDataBatchBySig: { storage: UPDATED_SLOT, ecrecovers: 1, why: "per message: a nonce updated, one ecrecover; 21,000 shared by the batch" },
  anchorBatch: { storage: FRESH_SLOT, ecrecovers: 0, perTransaction: true, why: "one fresh slot recording the root, whatever the batch's size (the sender is authenticated by the transaction)" },
  revoke: { storage: UPDATED_SLOT, ecrecovers: 0, why: "one revocation word updated" },
} as const;
type Operation = keyof typeof floorParts;

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const sd = (values: number[]) => Math.sqrt(mean(values.map((value) => (value - mean(values)) ** 2)));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value: number, digits = 0) => Number(value.toFixed(digits));
const fmt = (value: number) => value.toLocaleString("en-US");

// ------------------------------------------------------------------------------------ chain

type Chain = {
  transport: Transport;
  publicClient: ReadClient & ReturnType<typeof createPublicClient>;
  wallet(account: PrivateKeyAccount): WriteClient;
  fund(address: Address): Promise<void>;
  close(): Promise<void>;
  chainId: number;
};

async function connect(transport: Transport, close: () => Promise<void>): Promise<Chain> {
  const chainId = await createPublicClient({ transport }).getChainId();
  const chain = defineChain({ id: chainId, name: `chain ${chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: ["http://127.0.0.1"] } } });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 20 });
  return {
    transport,
    publicClient: publicClient as Chain["publicClient"],
    wallet: (account) => createWalletClient({ chain, transport, account, pollingInterval: 20 }) as WriteClient,
    async fund(address) {
      if (!(await setBalance(publicClient, address, parseEther("1000")))) throw new Error(`cannot fund ${address}: the node has no setBalance`);
    },
    close,
    chainId,
  };
}

const secretOf = (label: string): Hex => keccak256(stringToHex(`iomt-benchmark-report: ${label}`));
const keyOf = (label: string): PrivateKeyAccount => privateKeyToAccount(secretOf(label));
const oidOf = (label: string): Hex => toId(`oid:${label}`);

// ------------------------------------------------------------------------------------ gas against scale

type GasSample = { gas: number; intrinsic: number; items: number };
type GasRow = { operation: Operation; label: string; scale: number; perItem: number; floor: number; ratio: number; samples: number };

async function gasAgainstScale(): Promise<{ bySize: GasRow[]; byBatch: GasRow[] }> {
  const connection = await network.create();
  const chain = await connect(custom(connection.provider, { retryCount: 0 }), () => connection.close());
  const { publicClient } = chain;
  const deployer = keyOf("deployer");
  await chain.fund(deployer.address);
  const { address: registry } = await deployRegistry(chain.wallet(deployer));
  const domain = registryDomain({ chainId: chain.chainId, registry });
  const deadline = REPORT_DEADLINE;

  async function sample(hash: Promise<Hash> | Hash, items = 1): Promise<GasSample> {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash });
    if (receipt.status !== "success") throw new Error(`transaction ${receipt.transactionHash} reverted`);
    const { input } = await publicClient.getTransaction({ hash: receipt.transactionHash });
    return { gas: Number(receipt.gasUsed), intrinsic: intrinsicGas(input), items };
  }
  function row(operation: Operation, label: string, scale: number, samples: GasSample[]): GasRow {
    const perItem = median(samples.map((s) => s.gas / s.items));
    const parts: { storage: number; ecrecovers: number; perTransaction?: boolean } = floorParts[operation];
    const onceOrPerItem = (gasOfOne: number, items: number) => (parts.perTransaction === true ? gasOfOne / items : gasOfOne);
    const floor = median(samples.map((s) => s.intrinsic / s.items + onceOrPerItem(parts.storage + parts.ecrecovers * ECRECOVER, s.items)));
    return { operation, label, scale, perItem: round(perItem), floor: round(floor), ratio: round(perItem / floor, 2), samples: samples.length };
  }

  const master = keyOf("master");
  await chain.fund(master.address);
  const masterWallet = chain.wallet(master);
  let deviceCount = 0;
  const nextDevice = () => keyOf(`device-${deviceCount++}`);
  async function signed(gid: Hex, device: PrivateKeyAccount): Promise<SignedAssociation> {
    const token = await issueToken(master, { gid, oid: oidOf(device.address), device: device.address });
    return signAssociation(device, { domain, token, deadline });
  }
  async function fill(gid: Hex, members: PrivateKeyAccount[], count: number): Promise<void> {
    while (count > 0) {
      const chunk = Array.from({ length: Math.min(FILL_BATCH, count) }, nextDevice);
      await sample(associateBatchBySig(masterWallet, { registry, associations: await Promise.all(chunk.map((device) => signed(gid, device))) }));
      members.push(...chunk);
      count -= chunk.length;
    }
  }
  async function message(gid: Hex, device: PrivateKeyAccount, label: string): Promise<SignedDataMessage> {
    const nonce = await getNonce(publicClient, { registry, gid, oid: oidOf(device.address) });
    return signDataMessage(device, { domain, message: createDataMessage({ gid, oid: oidOf(device.address), nonce, payload: label, salt: keccak256(toHex(`salt:${label}`)), timestamp: REPORT_TIMESTAMP, deadline }) });
  }

  // One group grown to each size in turn; the operations are measured at that size.
  const { hash: created, gid } = await createGroup(masterWallet, { registry, label: "benchmark: growing group", masterOid: oidOf(master.address) });
  await sample(created);
  const members: PrivateKeyAccount[] = [];
  let anchors = 0;
  const bySize: GasRow[] = [];
  for (const size of GROUP_SIZES) {
    await fill(gid, members, size - members.length);
    log(`  group of ${fmt(size)}: measuring`);
    const joined: PrivateKeyAccount[] = [];
    const direct: GasSample[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const device = nextDevice();
      await chain.fund(device.address);
      const token = await issueToken(master, { gid, oid: oidOf(device.address), device: device.address });
      direct.push(await sample(associate(chain.wallet(device), { registry, token })));
      joined.push(device);
    }
    const relayed: GasSample[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const device = nextDevice();
      relayed.push(await sample(associateBySig(masterWallet, { registry, association: await signed(gid, device) })));
      joined.push(device);
    }
    const data: GasSample[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      data.push(await sample(recordDataBySig(masterWallet, { registry, signed: await message(gid, members[i % members.length], `size ${size} #${i}`) })));
    }
    const anchored: GasSample[] = [];
    for (let i = 0; i < SAMPLES; i++) anchored.push(await sample(anchorBatch(masterWallet, { registry, gid, root: keccak256(toHex(`root ${anchors++}`)), messageCount: 100 })));
    // Revoked: members that joined in this round (the filled ones keep sending data at the next sizes).
    const revocations: GasSample[] = [];
    for (const device of joined.slice(0, SAMPLES)) revocations.push(await sample(revoke(masterWallet, { registry, gid, oid: oidOf(device.address) })));
    members.push(...joined.slice(SAMPLES));
    bySize.push(
      row("associate", "associate (device sends it)", size, direct),
      row("associateBySig", "associateBySig (relayed)", size, relayed),
      row("recordDataBySig", "recordDataBySig (relayed, single)", size, data),
      row("anchorBatch", "anchorBatch (100 messages)", size, anchored),
      row("revoke", "revoke", size, revocations),
    );
  }

  // Batches from 1 to 200 in a root group of their own (a key masters one group).
  const batchMaster = keyOf("batch master");
  await chain.fund(batchMaster.address);
  const batchWallet = chain.wallet(batchMaster);
  const { hash: batchCreated, gid: batchGid } = await createGroup(batchWallet, { registry, label: "benchmark: batches", masterOid: oidOf(batchMaster.address) });
  await sample(batchCreated);
  const byBatch: GasRow[] = [];
  for (const n of BATCH_SIZES) {
    log(`  batches of ${n}: measuring`);
    const devices = Array.from({ length: n }, nextDevice);
    const items = await Promise.all(
      devices.map(async (device) => {
        const token = await issueToken(batchMaster, { gid: batchGid, oid: oidOf(device.address), device: device.address });
        return signAssociation(device, { domain, token, deadline });
      }),
    );
    const assoc = await sample(associateBatchBySig(batchWallet, { registry, associations: items }), n);
    const messages = await Promise.all(devices.map((device, i) => message(batchGid, device, `batch ${n} #${i}`)));
    const data = await sample(recordDataBatchBySig(batchWallet, { registry, messages }), n);
    const anchored = await sample(anchorBatch(batchWallet, { registry, gid: batchGid, root: keccak256(toHex(`batch root ${n}`)), messageCount: n }), n);
    byBatch.push(
      row("associateBatchBySig", "associateBatchBySig, per device", n, [assoc]),
      row("recordDataBatchBySig", "recordDataBatchBySig, per message (distinct devices)", n, [data]),
      row("anchorBatch", "anchorBatch, per message anchored", n, [anchored]),
    );
  }
  await chain.close();
  return { bySize, byBatch };
}

// ------------------------------------------------------------------------------------ Elhachmi & Kobbane, Table 2

async function preparationTimes(): Promise<{ association: { mean: number; sd: number }; data: { mean: number; sd: number }; runs: number }> {
  const runs = 100;
  const master = keyOf("t2 master");
  const device = keyOf("t2 device");
  const registry = "0x000000000000000000000000000000000000dEaD";
  const domain = registryDomain({ chainId: 1337, registry });
  const gid = groupId({ chainId: 1337, registry, creator: master.address, label: "t2 group" });
  const token = await issueToken(master, { gid, oid: oidOf("t2"), device: device.address });
  const time = async (work: (i: number) => Promise<unknown>): Promise<number[]> => {
    for (let i = 0; i < 20; i++) await work(i);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await work(i);
      times.push(performance.now() - started);
    }
    return times;
  };
  const association = await time(() => signAssociation(device, { domain, token, deadline: 2_000_000_000n }));
  const data = await time((i) => signDataMessage(device, { domain, message: createDataMessage({ gid, oid: oidOf("t2"), nonce: BigInt(i + 1), payload: `{"hr":${60 + (i % 40)}}`, salt: randomSalt() }) }));
  return { association: { mean: round(mean(association), 3), sd: round(sd(association), 3) }, data: { mean: round(mean(data), 3), sd: round(sd(data), 3) }, runs };
}

// ------------------------------------------------------------------------------------ Al Ahmed et al., Table 5

type AuthTimes = { onChain: { mean: number; sd: number }; throughGateway: { mean: number; sd: number }; runs: number };

/** Time to authenticate a node: its association signed, relayed and mined (on chain), and the whole device flow through a gateway. */
async function authenticationTimes(chain: Chain, label: string): Promise<AuthTimes> {
  const runs = 10;
  const master = keyOf(`t5 ${label} master`);
  const deployer = keyOf(`t5 ${label} deployer`);
  await chain.fund(master.address);
  await chain.fund(deployer.address);
  const deployment = await deployRegistry(chain.wallet(deployer));
  const registry = deployment.address;
  const domain = registryDomain({ chainId: chain.chainId, registry });
  const masterWallet = chain.wallet(master);
  const { hash: created, gid } = await createGroup(masterWallet, { registry, label: `t5 ${label}`, masterOid: oidOf(master.address) });
  await chain.publicClient.waitForTransactionReceipt({ hash: created });

  const onChain: number[] = [];
  for (let i = 0; i < runs; i++) {
    const device = keyOf(`t5 ${label} chain device ${i}`);
    const token = await issueToken(master, { gid, oid: oidOf(device.address), device: device.address });
    const started = performance.now();
    const association = await signAssociation(device, { domain, token, deadline: BigInt(Math.floor(Date.now() / 1000) + 600) });
    await chain.publicClient.waitForTransactionReceipt({ hash: await associateBySig(masterWallet, { registry, association }), pollingInterval: 20 });
    onChain.push(performance.now() - started);
  }

  const dir = mkdtempSync(join(tmpdir(), "iomt-report-"));
  const gateway = await startLoopbackGateway({
    dir,
    name: "master",
    privateKey: secretOf(`t5 ${label} master`),
    transport: chain.transport,
    // By label: the gateway derives the gid from the Master's key.
    settings: { chainId: chain.chainId, registry, fromBlock: deployment.blockNumber, groups: `t5 ${label}`, pollIntervalMs: 20 },
  });
  const throughGateway: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const device = keyOf(`t5 ${label} gateway device ${i}`);
      await enrolDevice(gateway.store, { gid, oid: oidOf(device.address), address: device.address });
      const client = createGatewayClient({ url: gateway.url, account: device, master: master.address, context: { chainId: chain.chainId, registry, gid } });
      const started = performance.now();
      await client.keySession();
      await client.associate({ token: await client.getTicket() });
      const status = await client.waitForAssociation({ pollIntervalMs: 10 });
      if (status.status !== "associated") throw new Error(`device ${i}: ${status.status}`);
      throughGateway.push(performance.now() - started);
    }
  } finally {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { onChain: { mean: round(mean(onChain)), sd: round(sd(onChain)) }, throughGateway: { mean: round(mean(throughGateway)), sd: round(sd(throughGateway)) }, runs };
}

// ------------------------------------------------------------------------------------ Al Ahmed et al., Fig. 17 and 19, Tables 3–4

/** A field like the paper's: N devices in 150 m × 150 m, one level-2 node in the middle, ~15 % level-1 capable. */
function field(count: number, seed: number): ClusterNode[] {
  const random = seededRandom(seed);
  const nodes: ClusterNode[] = [{ id: "n0", x: 75, y: 75, processingIndex: 3, energy: 100 }];
  for (let i = 1; i < count; i++) nodes.push({ id: `n${i}`, x: random() * 150, y: random() * 150, processingIndex: random() < 0.15 ? 2 : 1, energy: 20 + 80 * random() });
  return nodes;
}

const addressOf = (id: string): Address => `0x${keccak256(stringToHex(id)).slice(26)}` as Address;

type ClusterFigures = { nodes: number; largestCluster: number; singleLevel: number; reduction: number; hierarchicalPath: number; singleLevelPath: number };

function clusterFigures(count: number, seed: number): ClusterFigures {
  const result = formClusters({ nodes: field(count, seed), range: 30 });
  const largestCluster = Math.max(...result.clusters.map((cluster) => cluster.members.length));
  // Paths: every device's step in its cluster, then its head's step in the cluster above.
  const tables = new Map(result.clusters.map((cluster) => [cluster.head, { cluster, ...buildGroup(`cluster ${cluster.head}`, zeroHash, zeroHash, addressOf(cluster.head), cluster.members.map(addressOf)) }]));
  let hierarchicalPath = 0;
  for (const device of result.nodes) {
    const path: AuthPath = [];
    for (let id: string | undefined = device; id !== undefined && result.headOf[id] !== undefined; id = result.headOf[id]) {
      const head = result.headOf[id] as string;
      const { cluster, gid, tree, entries } = tables.get(head)!;
      const index = cluster.members.indexOf(id);
      path.push({ gid, entry: entries[index], leafCount: tree.size, proof: tree.proof(index) });
    }
    hierarchicalPath = Math.max(hierarchicalPath, authPathSize(path));
  }
  const everyone = field(count, seed).map((node) => node.id).filter((id) => id !== "n0");
  const single = buildGroup("single level", zeroHash, zeroHash, addressOf("n0"), everyone.map(addressOf));
  let singleLevelPath = 0;
  for (let index = 0; index < everyone.length; index++) {
    singleLevelPath = Math.max(singleLevelPath, authPathSize([{ gid: single.gid, entry: single.entries[index], leafCount: single.tree.size, proof: single.tree.proof(index) }]));
  }
  return { nodes: count, largestCluster, singleLevel: count - 1, reduction: round(100 * (1 - largestCluster / (count - 1))), hierarchicalPath, singleLevelPath };
}

// ------------------------------------------------------------------------------------ main

log("benchmark report: gas against group size and batch size (in-process network)");
const gas = await gasAgainstScale();

/** Wall-clock times: Elhachmi & Kobbane Table 2 and Al Ahmed et al. Table 5. */
async function timings() {
  log("benchmark report: Elhachmi & Kobbane Table 2 (preparation times)");
  const table2 = await preparationTimes();
  log("benchmark report: Al Ahmed et al. Table 5 (time to authenticate a node), in-process");
  const inProcessConnection = await network.create();
  const inProcess = await authenticationTimes(await connect(custom(inProcessConnection.provider, { retryCount: 0 }), () => inProcessConnection.close()), "in-process");
  await inProcessConnection.close();
  log("benchmark report: Al Ahmed et al. Table 5, anvil with 1 s blocks");
  const anvil = await startAnvilNode({ chainId: 1337, blockTime: 1 });
  const onAnvil = await authenticationTimes(await connect(http(anvil.url, { retryCount: 0 }), () => anvil.stop()), "anvil");
  await anvil.stop();
  return { table2, inProcess, onAnvil };
}
const times = process.env.IOMT_GAS_TIMINGS === "0" ? null : await timings();
log("benchmark report: Al Ahmed et al. Fig. 17 and 19 (clusters of 10 to 135 nodes)");
const clusters = [10, 20, 40, 60, 80, 100, 120, 135].map((count) => clusterFigures(count, 17 + count));

// Bytes stored per device (Al Ahmed et al. Tables 3–4): on chain, two fresh 32-byte slots per device
// (its member record and its address → oid index) plus 1/255 of a revocation word; off chain, the
// AuthTable entry the indexer keeps (device 20, Master 20, index 4, entry hash 32, oid 32).
const storedPerDevice = { onChainState: round(2 * 32 + 32 / 255, 1), authTableEntry: 20 + 20 + 4 + 32 + 32, paperBlock: 417, paperTableEntry: 289 };

// revokeFirst and revokeNext are one row here: a revocation costs the same whether or not it is the first in its word.
const referenceRows = REFERENCES.filter((reference) => reference.ours !== "revokeNext").map((reference) => {
  const ours =
    reference.ours === "associate" || reference.ours === "associateBySig"
      ? gas.bySize.find((row) => row.operation === reference.ours && row.scale === 1_000)
      : reference.ours === "associateBatchBySig"
        ? gas.byBatch.find((row) => row.operation === "associateBatchBySig" && row.scale === 50)
        : gas.bySize.find((row) => row.operation === "revoke" && row.scale === 1_000);
  return { ...reference, oursLabel: `${ours!.label} (${ours!.operation === "associateBatchBySig" ? `batch of ${ours!.scale}` : `group of ${fmt(ours!.scale)}`})`, oursGas: ours!.perItem, ratio: round(ours!.perItem / reference.gas, 2) };
});

const outDir = reportDir;
mkdirSync(outDir, { recursive: true });
const report = { generatedBy: "scripts/benchmark-report.ts (./iomt gas)", floorModel: { FRESH_SLOT, UPDATED_SLOT, ECRECOVER, operations: floorParts }, gas, references: referenceRows, paper003Clusters: clusters, storedPerDevice };
writeFileSync(join(outDir, "benchmark-report.json"), `${JSON.stringify(report, null, 2)}\n`);

const sizeTable = (operation: Operation) => {
  const rows = gas.bySize.filter((row) => row.operation === operation);
  return `| ${rows[0].label} | ${rows.map((row) => fmt(row.perItem)).join(" | ")} | ${fmt(rows[rows.length - 1].floor)} | ${rows.map((row) => row.ratio).join(" / ")} |`;
};
const batchTable = (operation: Operation) => {
  const rows = gas.byBatch.filter((row) => row.operation === operation);
  return `| ${rows[0].label} | ${rows.map((row) => fmt(row.perItem)).join(" | ")} | ${rows.map((row) => fmt(row.floor)).join(" / ")} | ${rows.map((row) => row.ratio).join(" / ")} |`;
};
const markdown = `# Benchmark report

Generated by \`./iomt gas\` (\`scripts/benchmark-report.ts\`). Gas: receipts' \`gasUsed\` on Hardhat's in-process network, default (Cancun) build, median of ${SAMPLES} transactions per point. Raw figures: [\`benchmark-report.json\`](benchmark-report.json). The same contracts give the same report, byte for byte. Times (Elhachmi & Kobbane Table 2, Al Ahmed et al. Table 5) are measured, so they differ on every run: [\`timings.md\`](timings.md).

## Gas against group size

Gas per transaction with the group at each size (members before the measured transactions). The floor is the EVM's minimum for what the operation must do: 21,000 + its calldata + the storage it must write + 3,000 per ecrecover (a fresh slot costs ${fmt(FRESH_SLOT)}, an updated one ${fmt(UPDATED_SLOT)}). Ratio = ours / floor, per size.

| operation | ${GROUP_SIZES.map((size) => fmt(size)).join(" | ")} | floor | ratio |
| --- | ${GROUP_SIZES.map(() => "---:").join(" | ")} | ---: | --- |
${(["associate", "associateBySig", "recordDataBySig", "anchorBatch", "revoke"] as const).map(sizeTable).join("\n")}

![gas against group size](gas-vs-group-size.svg)

## Gas against batch size

Per item (device or message); the floor shares the 21,000 base and counts each item's calldata.

| operation | ${BATCH_SIZES.join(" | ")} | floor | ratio |
| --- | ${BATCH_SIZES.map(() => "---:").join(" | ")} | --- | --- |
${(["associateBatchBySig", "recordDataBatchBySig", "anchorBatch"] as const).map(batchTable).join("\n")}

![gas against batch size](gas-vs-batch-size.svg)

## Beside other systems

| ours | gas | reference | gas | ours / reference |
| --- | ---: | --- | ---: | ---: |
${referenceRows.map((row) => `| ${row.oursLabel} | ${fmt(row.oursGas)} | ${row.reference}${row.approximate ? " (approximate)" : ""} | ${fmt(row.gas)} | ${row.ratio} |`).join("\n")}

## Al Ahmed et al., Fig. 17: AuthTable size per cluster (random fields in 150 m × 150 m, range 30 m)

| nodes | largest cluster (entries) | single level (entries) | reduction | largest cluster, bytes (ours, ${storedPerDevice.authTableEntry} B/entry) | paper's bytes for it (289 B/entry) |
| ---: | ---: | ---: | ---: | ---: | ---: |
${clusters.map((row) => `| ${row.nodes} | ${row.largestCluster} | ${row.singleLevel} | ${row.reduction} % | ${fmt(row.largestCluster * storedPerDevice.authTableEntry)} | ${fmt(row.largestCluster * 289)} |`).join("\n")}

The paper reports a reduction of 30 % to about 44 % (59 level-0 nodes in one cluster of its 135-node network).

![AuthTable size per cluster](paper-fig17.svg)

## Al Ahmed et al., Fig. 19: largest message exchanged for authentication

Ours: the largest AuthTable path a device presents to a peer (compact encoding), hierarchical (its cluster, then its head's cluster up to the root) against one single-level group of all nodes. The association request a device sends is constant: 484 bytes of calldata when relayed.

| nodes | hierarchical path (bytes) | single-level path (bytes) |
| ---: | ---: | ---: |
${clusters.map((row) => `| ${row.nodes} | ${row.hierarchicalPath} | ${row.singleLevelPath} |`).join("\n")}

The paper: 3.9 KB hierarchical against 8.66 KB single level (its consensus messages carry chain data). Here a proof grows with log₂ of the group, so a single level stays small too, and the hierarchy's extra step makes its path longer. What the hierarchy buys is smaller trees to keep, index and fetch per cluster (Fig. 17) and cluster heads that can be revoked with everything below them.

![largest authentication message](paper-fig19.svg)

## Al Ahmed et al., Tables 3–4: bytes stored per device

| | ours | paper |
| --- | ---: | ---: |
| per device on chain (state) | ${storedPerDevice.onChainState} B: two fresh 32-byte slots (member record; address → oid) and 1/255 of a revocation word | 417 B per block |
| AuthTable entry (off chain, per device) | ${storedPerDevice.authTableEntry} B: device 20, Master 20, index 4, entry hash 32, oid 32 | 289 B per entry |
`;
writeFileSync(join(outDir, "benchmark-report.md"), markdown);
if (times !== null) {
  const { table2, inProcess, onAnvil } = times;
  const timingsMarkdown = `# Timings

Generated by \`./iomt gas\` (\`scripts/benchmark-report.ts\`) beside [the benchmark report](benchmark-report.md). Wall-clock on the machine that ran it (2 shared vCPUs here), mean ± standard deviation: unlike the gas figures, these differ on every run, and \`./iomt gas:check\` does not compare them. Raw figures: [\`timings.json\`](timings.json).

## Elhachmi & Kobbane, Table 2: preparation time on the device (${table2.runs} runs after 20 warm-up runs)

| | ours (this machine) | paper (laptop) | paper (Raspberry Pi 4) |
| --- | ---: | ---: | ---: |
| association request (EIP-712 signature over gid, oid, device, nonce, deadline) | ${table2.association.mean} ± ${table2.association.sd} ms | 1.03 ± 0.12 ms | 1.7 ± 0.029 ms |
| data message (create + EIP-712 signature, with nonce and deadline) | ${table2.data.mean} ± ${table2.data.sd} ms | 0.13 ± 0.001 ms | 0.6 ± 0.029 ms |

## Al Ahmed et al., Table 5: time to authenticate a node (${inProcess.runs} nodes each)

| | in-process network | anvil, 1 s blocks | paper |
| --- | ---: | ---: | --- |
| AuthReq signed, relayed and mined (the AuthTable entry exists) | ${inProcess.onChain.mean} ± ${inProcess.onChain.sd} ms | ${onAnvil.onChain.mean} ± ${onAnvil.onChain.sd} ms | block creation 0.031 s (Docker), 0.267 s (PC), 0.302 s (RPi 3B+) |
| whole device flow through its gateway (keySession → getTicket → assoc → entry) | ${inProcess.throughGateway.mean} ± ${inProcess.throughGateway.sd} ms | ${onAnvil.throughGateway.mean} ± ${onAnvil.throughGateway.sd} ms | |

On anvil with 1 s blocks the time is the wait for the block that includes the association: the nodes here join one after another, each right after the previous block, so each waits about a full interval (a node arriving at a random moment waits half of one on average). The rest — signing, the handshake, the ticket, the relay — is the in-process column.
`;
  writeFileSync(join(outDir, "timings.md"), timingsMarkdown);
  writeFileSync(join(outDir, "timings.json"), `${JSON.stringify({ generatedBy: "scripts/benchmark-report.ts (./iomt gas)", paper000Table2: table2, paper003Table5: { inProcess, anvil1sBlocks: onAnvil } }, null, 2)}\n`);
}
// Charts: the measured series solid, the EVM floor (or the single level) dashed, y from zero.
const gasPoints = (rows: GasRow[]): LinePoint[] => rows.flatMap((row) => [{ x: row.scale, y: row.perItem, reference: false, panel: row.label }, { x: row.scale, y: row.floor, reference: true, panel: row.label }]);
const panelsOf = (rows: GasRow[]) => [...new Set(rows.map((row) => row.label))];
const floorNote = "EVM floor: 21,000 + calldata + the storage the operation must write + 3,000 per ecrecover";
const charts = {
  "gas-vs-group-size.svg": lineChart({ title: "Gas per transaction as the group grows (1 to 10,000 members)", subtitle: `Median of ${SAMPLES} transactions per point. ${floorNote}`, points: gasPoints(gas.bySize), panels: panelsOf(gas.bySize), xTitle: "members in the group", xScale: "log", yTitle: "gas per transaction", series: ["ours", "EVM floor"], width: 170, height: 170 }),
  "gas-vs-batch-size.svg": lineChart({ title: "Gas per item as batches grow (1 to 200)", subtitle: `One batch per point; the 21,000 base is shared by the batch. ${floorNote}`, points: gasPoints(gas.byBatch), panels: panelsOf(gas.byBatch), independentY: true, xTitle: "items in the batch", yTitle: "gas per item", series: ["ours", "EVM floor"], width: 240, height: 180 }),
  "paper-fig17.svg": lineChart({ title: "AuthTable entries: largest cluster vs single level", subtitle: "Random fields in 150 m × 150 m, range 30 m (Al Ahmed et al., Fig. 17)", points: clusters.flatMap((row) => [{ x: row.nodes, y: row.largestCluster, reference: false }, { x: row.nodes, y: row.singleLevel, reference: true }]), xTitle: "nodes in the field", yTitle: "AuthTable entries", series: ["largest cluster", "single level"] }),
  "paper-fig19.svg": lineChart({ title: "Largest AuthTable path a device presents", subtitle: "Compact encoding, same fields as Fig. 17 (Al Ahmed et al., Fig. 19)", points: clusters.flatMap((row) => [{ x: row.nodes, y: row.hierarchicalPath, reference: false }, { x: row.nodes, y: row.singleLevelPath, reference: true }]), xTitle: "nodes in the field", yTitle: "bytes", series: ["hierarchical", "single level"] }),
};
for (const [file, spec] of Object.entries(charts)) writeFileSync(join(outDir, file), await renderSvg(spec));

console.log(markdown);
log(`benchmark report written to ${outDir}/benchmark-report.{md,json} and 4 SVG charts${times === null ? " (timings skipped: IOMT_GAS_TIMINGS=0)" : `, timings to ${outDir}/timings.{md,json}`}`);
