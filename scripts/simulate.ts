// The scale simulation (issue 16, item 1): a hospital network of 1,000, 10,000 and 100,000
// clusters over a chain of blocks with a gas limit and a period, fed with the gas our own
// benchmark measured. It answers: how long enrolling every device takes (direct, relayed,
// batched), how much chain gas per second data costs under each anchoring policy and batch age,
// how long a message waits to be anchored (a FIFO queue of blocks filling up: when the offered gas
// exceeds what the blocks carry, the backlog grows), and where the chain saturates.
//
//   ./iomt simulate [--gas-limit 30000000] [--block-time 1] [--message-interval 10]
//                   [--horizon 3600] [--fields 8] [--seed 2026] [--out reports]
//
// Inputs, and which are measured here:
// - measured: every gas figure, read from gas-reports/gas-report.json (./iomt gas), never typed
//   in here (its benchmark-report.json shows the same operations flat from 1 to 10,000 members,
//   which is why one figure per operation serves every group size); the gateway's batching defaults, read from
//   gateway/src/config.ts; the cluster sizes, from formClusters (the SDK's paper-003 clustering)
//   run on seeded random fields;
// - assumed: the chain (gas limit, period, blocks always full-sized and on time, the whole block
//   ours), the field (density, range, capability mix), how often a device sends a message; the
//   hand-over of child roots to the parent gateway is off chain and costs no gas;
// - quoted: Besu QBFT's throughput (the issue's 500–1,200 simple transactions per second with at
//   least 4 validators), shown beside our figures, not measured: no multi-validator chain runs here.
//
// Writes reports/scale.json, reports/scale.md and the charts reports/scale-*.svg. Deterministic:
// the same inputs and flags give the same bytes (seeded draws, no clock).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formClusters, type ClusterNode } from "../sdk/src/clustering.js";
import { seededRandom } from "../sdk/test/support/random.js";
import {
  capacity,
  enrolment,
  hierarchicalAnchoring,
  networkSize,
  perClusterAnchoring,
  poisson,
  relayEveryMessage,
  sampleNetwork,
  saturationClusters,
  simulateQueue,
  type ChainModel,
  type DataAssumptions,
  type DataGas,
  type EnrolmentGas,
  type EnrolmentMethod,
  type Network,
  type PolicyLoad,
  type RootTree,
} from "./lib/scale-model.js";
import { renderSvg, seriesChart, type SeriesPoint } from "./lib/charts.js";

const { values: flags } = parseArgs({
  options: {
    "gas-limit": { type: "string", default: "30000000" },
    "block-time": { type: "string", default: "1" },
    "message-interval": { type: "string", default: "10" },
    horizon: { type: "string", default: "3600" },
    fields: { type: "string", default: "8" },
    seed: { type: "string", default: "2026" },
    out: { type: "string", default: "reports" },
  },
});
const positive = (name: keyof typeof flags): number => {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${flags[name]}`);
  return value;
};
const chain: ChainModel = { gasLimit: positive("gas-limit"), period: positive("block-time") };
const messageInterval = positive("message-interval");
const horizon = positive("horizon");
const fieldCount = Math.round(positive("fields"));
const seed = Math.round(positive("seed"));

const NETWORK_CLUSTERS = [1_000, 10_000, 100_000];
const AGES = [1, 2, 5, 10, 30, 60];
const FIELD_NODES = 10_000;
const FIELD = { densityNodes: 135, densitySide: 150, range: 30, levelTwoShare: 0.02, levelOneShare: 0.38 };
const BESU_QUOTED_TPS = [500, 1_200];
/** A simple transfer's gas (the protocol's intrinsic gas): the quoted rates as gas per second. */
const TRANSFER_GAS = 21_000;
const besuGasPerSecond = BESU_QUOTED_TPS.map((tps) => tps * TRANSFER_GAS);

// ------------------------------------------------------------------ measured inputs

interface Measured {
  value: number;
  source: string;
  row: string;
}
const measured: Record<string, Measured> = {};
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));
const gasReport = readJson("gas-reports/gas-report.json") as { operations: { operation: string; median: number; perItem: number | null; batchSize: number | null }[] };

function fromGasReport(key: string, operation: string, field: "median" | "perItem" = "median"): number {
  const row = gasReport.operations.find((candidate) => candidate.operation === operation);
  const value = row?.[field];
  if (typeof value !== "number") throw new Error(`gas-reports/gas-report.json has no "${operation}" (${field}); run ./iomt gas`);
  measured[key] = { value, source: "gas-reports/gas-report.json", row: `${operation}, ${field === "median" ? "median gas per transaction" : "median gas per item"}` };
  return value;
}
function gatewayDefault(key: string, name: string): number {
  const source = readFileSync("gateway/src/config.ts", "utf8");
  const defaults = source.slice(source.indexOf("export const defaultConfig"));
  const match = new RegExp(`\\b${name}:\\s*([\\d_]+),`).exec(defaults);
  if (match === null) throw new Error(`gateway/src/config.ts: no default for ${name}`);
  const value = Number(match[1].replaceAll("_", ""));
  measured[key] = { value, source: "gateway/src/config.ts", row: `defaultConfig.${name}` };
  return value;
}

const batchedChildRow = gasReport.operations.find((row) => row.operation.startsWith("associateBatchBySig (N = "));
const associationBatchSize = batchedChildRow?.batchSize ?? NaN;
const enrolmentGas: EnrolmentGas = {
  createRoot: fromGasReport("createRoot", "createGroup (root)"),
  createChild: fromGasReport("createChild", "createGroup (child, by an active member of the parent)"),
  direct: { root: fromGasReport("associateRoot", "associate (device is msg.sender; root group)"), child: fromGasReport("associateChild", "associate (device is msg.sender; child group)") },
  relayed: { root: NaN, child: fromGasReport("associateBySigChild", "associateBySig (relayed, Master submits; child group)") },
  batched: { root: NaN, child: fromGasReport("associateBatchChild", batchedChildRow?.operation ?? "associateBatchBySig (N = ?)", "perItem"), batchSize: associationBatchSize },
};
// The gas report measures relayed and batched associations, and anchoring, in child groups only: the
// root-group ones (a tenth of the associations, the root groups' own anchors) are costed the same,
// an upper bound (a root group skips the read of a parent: direct association is 4 % cheaper there).
enrolmentGas.relayed.root = enrolmentGas.relayed.child;
enrolmentGas.batched.root = enrolmentGas.batched.child;
const relayBatchedRow = gasReport.operations.find((row) => row.operation.startsWith("recordDataBatchBySig (N = ") && row.operation.includes("distinct devices"));
const dataGas: DataGas = {
  anchorChild: fromGasReport("anchorChild", "anchorBatch (by the Master, 100 messages)"),
  anchorRoot: NaN,
  anchorAggregate: NaN,
  relaySingle: fromGasReport("relaySingle", "recordDataBySig (relayed, steady state)"),
  relayBatched: fromGasReport("relayBatched", relayBatchedRow?.operation ?? "recordDataBatchBySig (N = ?, distinct devices)", "perItem"),
  relayBatchSize: relayBatchedRow?.batchSize ?? NaN,
};
dataGas.anchorRoot = dataGas.anchorChild;
// Measured: the aggregate root is anchored with anchorBatch in the root group by its gateway key.
dataGas.anchorAggregate = fromGasReport("anchorAggregate", "anchorBatch (root group's gateway key, an aggregate of 100 batch roots of 100 messages)");
const data: DataAssumptions = {
  messageInterval,
  pollInterval: gatewayDefault("pollIntervalMs", "pollIntervalMs") / 1000,
  batchMaxMessages: gatewayDefault("batchMaxMessages", "batchMaxMessages"),
};
const gatewayBatchAge = gatewayDefault("batchMaxAgeMs", "batchMaxAgeMs") / 1000;
if (!AGES.includes(gatewayBatchAge)) AGES.push(gatewayBatchAge), AGES.sort((a, b) => a - b);

// ------------------------------------------------------------------ cluster sizes from formClusters

/** The SDK benchmark's field: nodes uniform over side × side, energy uniform in [0, 100), 2 % processing index 3, 38 % index 2, the rest 1. */
function randomField(count: number, fieldSeed: number): ClusterNode[] {
  const draw = seededRandom(fieldSeed);
  const side = FIELD.densitySide * Math.sqrt(count / FIELD.densityNodes);
  return Array.from({ length: count }, (_, i) => {
    const kind = draw();
    const processingIndex = kind < FIELD.levelTwoShare ? 3 : kind < FIELD.levelTwoShare + FIELD.levelOneShare ? 2 : 1;
    return { id: `n${i}`, x: draw() * side, y: draw() * side, processingIndex, energy: draw() * 100 };
  });
}

const pool: RootTree[] = [];
const fieldSummaries: { seed: number; nodes: number; rootGroups: number; childGroups: number }[] = [];
for (let f = 0; f < fieldCount; f++) {
  const fieldSeed = seed * 1_000 + f;
  const result = formClusters({ nodes: randomField(FIELD_NODES, fieldSeed), range: FIELD.range });
  const clusterOf = new Map(result.clusters.map((cluster) => [cluster.head, cluster]));
  const trees = result.roots.map((root) => ({ children: clusterOf.get(root)!.members.map((head) => clusterOf.get(head)?.members.length ?? 0) }));
  // A field without level-2 heads makes level-1 roots: the simulation keeps Al Ahmed et al.'s three levels.
  if (result.levelTwoHeads.length === 0) throw new Error(`field ${fieldSeed}: no level-2 head`);
  pool.push(...trees);
  fieldSummaries.push({ seed: fieldSeed, nodes: FIELD_NODES, rootGroups: trees.length, childGroups: trees.reduce((sum, tree) => sum + tree.children.length, 0) });
}

/** Percentiles and mean of a list of counts. */
function distribution(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { count: sorted.length, mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length, 2), min: sorted[0], p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] };
}
const histogram = (values: number[]) => {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0] - b[0]).map(([members, clusters]) => ({ members, clusters }));
};
const childSizes = pool.flatMap((tree) => tree.children);
const rootSizes = pool.map((tree) => tree.children.length);

// ------------------------------------------------------------------ the networks

function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

interface PolicyResult {
  policy: string;
  seconds: number | null;
  transactionsPerSecond: number;
  gasPerSecond: number;
  busyGasPerSecond: number | null;
  utilisation: number;
  saturated: boolean;
  chainWait: { mean: number; p99: number; queuedAtEnd: number; drainSecondsAtEnd: number };
  /** Mean seconds from a message's arrival to its inclusion in a block; null when the queue grows without bound. */
  meanMessageWait: number | null;
  /** What a message sent at the end of the horizon waits: before the chain, plus the queue left then, plus half a block. */
  waitAtEnd: number;
  saturationClusters: number;
}

function runPolicy(load: PolicyLoad, clusters: number, draw: () => number): PolicyResult {
  const blocks = Math.round(horizon / chain.period);
  const queue = simulateQueue(chain, blocks, () => load.transactions.map(({ perSecond, gas }) => ({ count: poisson(perSecond * chain.period, draw), gas })));
  const saturated = load.gasPerSecond > capacity(chain);
  return {
    policy: load.policy,
    seconds: load.seconds ?? null,
    transactionsPerSecond: round(load.transactions.reduce((sum, t) => sum + t.perSecond, 0), 2),
    gasPerSecond: round(load.gasPerSecond),
    busyGasPerSecond: load.busyGasPerSecond === undefined ? null : round(load.busyGasPerSecond),
    utilisation: round(load.gasPerSecond / capacity(chain), 4),
    saturated,
    chainWait: { mean: round(queue.meanWait, 3), p99: round(queue.p99Wait, 3), queuedAtEnd: queue.queued, drainSecondsAtEnd: round(queue.drainSeconds, 1) },
    meanMessageWait: saturated ? null : round(load.meanWaitBeforeChain + queue.meanWait, 3),
    waitAtEnd: round(load.meanWaitBeforeChain + queue.drainSeconds + chain.period / 2, 1),
    saturationClusters: Math.floor(saturationClusters(load, clusters, chain)),
  };
}

const policiesFor = (network: Network): PolicyLoad[] => [
  ...AGES.map((age) => perClusterAnchoring(network, age, dataGas, data)),
  relayEveryMessage(network, false, dataGas, data),
  relayEveryMessage(network, true, dataGas, data),
  ...AGES.map((interval) => hierarchicalAnchoring(network, interval, dataGas, data)),
];

const methods: EnrolmentMethod[] = ["direct", "relayed", "batched"];
const networks = NETWORK_CLUSTERS.map((clusters, n) => {
  const network = sampleNetwork(pool, clusters, seededRandom(seed + 17 * (n + 1)));
  const size = networkSize(network);
  const queueDraw = seededRandom(seed + 31 * (n + 1));
  return {
    clusters,
    size,
    rootGroupMembers: distribution(network.roots.map((tree) => tree.children.length)),
    childGroupMembers: distribution(network.roots.flatMap((tree) => tree.children)),
    enrolment: methods.map((method) => {
      const result = enrolment(network, enrolmentGas, method, chain);
      return {
        ...result,
        /** At the quoted Besu rates taken as gas (transfers × 21,000), fastest first. */
        quotedBesuSeconds: besuGasPerSecond.map((gasPerSecond) => round(result.gas / gasPerSecond)).reverse(),
      };
    }),
    policies: policiesFor(network).map((load) => runPolicy(load, clusters, queueDraw)),
  };
});

// Sensitivity: clusters the chain carries at other message rates (the 100k network's mix).
const largest = sampleNetwork(pool, NETWORK_CLUSTERS[NETWORK_CLUSTERS.length - 1], seededRandom(seed + 17 * NETWORK_CLUSTERS.length));
const largestSize = networkSize(largest);
const SENSITIVITY_INTERVALS = [...new Set([1, messageInterval, 60])].sort((a, b) => a - b);
const sensitivity = SENSITIVITY_INTERVALS.map((interval) => {
  const assumptions = { ...data, messageInterval: interval };
  const loads = [
    ...AGES.map((age) => perClusterAnchoring(largest, age, dataGas, assumptions)),
    relayEveryMessage(largest, false, dataGas, assumptions),
    relayEveryMessage(largest, true, dataGas, assumptions),
    ...AGES.map((age) => hierarchicalAnchoring(largest, age, dataGas, assumptions)),
  ];
  return { messageInterval: interval, clusters: loads.map((load) => ({ policy: load.policy, seconds: load.seconds ?? null, saturationClusters: Math.floor(saturationClusters(load, largestSize.clusters, chain)) })) };
});

// ------------------------------------------------------------------ the report

const assumptions = {
  chain: { gasLimit: chain.gasLimit, blockPeriodSeconds: chain.period, note: "every block on time, its whole gas limit ours (no other traffic), transactions taken first come first served" },
  field: {
    nodesPerField: FIELD_NODES,
    fields: fieldCount,
    density: `${FIELD.densityNodes} nodes per ${FIELD.densitySide} m × ${FIELD.densitySide} m (Al Ahmed et al.'s field)`,
    rangeMetres: FIELD.range,
    capabilityMix: `${FIELD.levelTwoShare * 100} % processing index 3, ${FIELD.levelOneShare * 100} % index 2, the rest 1; energy uniform in [0, 100) (the SDK benchmark's field)`,
  },
  messages: { messageIntervalSeconds: messageInterval, note: "every member of a group (level-1 heads and level-0 devices; a root Master is no member) sends one message every interval on average, Poisson" },
  hierarchicalAnchor: "one anchor per root group per interval (the aggregate root, anchored with anchorBatch; its gas is measured); every gateway below hands its batch roots up over the authenticated protocol, off chain and free",
  rootGroupCosts: "relayed and batched associations into root groups, and root groups' anchors, cost what the gas report measures in child groups (an upper bound: a root group skips the read of its parent)",
  relayBatches: `relayed messages go in batches of ${dataGas.relayBatchSize} (the measured batch size) or one per transaction`,
  enrolmentBatches: `associations in batches of ${enrolmentGas.batched.batchSize} across groups of one level (one relayer for the hospital)`,
  gatewayBatching: "a batch is cut on the first poll after its oldest message is the batch age old, or at batchMaxMessages; a message is relayed on the next poll",
  horizonSeconds: horizon,
  seed,
};
const quoted = {
  besuQbft: `${BESU_QUOTED_TPS[0]}–${BESU_QUOTED_TPS[1].toLocaleString("en-US")} simple transactions per second with at least 4 validators (quoted in issue 16; not measured here: no multi-validator chain runs on these machines)`,
  besuQbftAsGasPerSecond: besuGasPerSecond,
};

const report = {
  generatedBy: "scripts/simulate.ts (./iomt simulate)",
  flags: { gasLimit: chain.gasLimit, blockTime: chain.period, messageInterval, horizon, fields: fieldCount, seed },
  inputs: { measured, assumptions, quoted },
  clustering: { fields: fieldSummaries, childGroupMembers: distribution(childSizes), rootGroupMembers: distribution(rootSizes), childGroupHistogram: histogram(childSizes), rootGroupHistogram: histogram(rootSizes) },
  networks,
  sensitivity,
};

const out = flags.out!;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "scale.json"), `${JSON.stringify(report, null, 2)}\n`);

const fmt = (value: number, digits = 0): string => value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mgas = (gas: number): string => fmt(gas / 1e6, gas >= 1e8 || Number.isInteger(gas / 1e6) ? 0 : gas >= 1e6 ? 1 : 2);
const duration = (seconds: number): string =>
  seconds < 120 ? `${fmt(seconds, seconds < 10 ? 1 : 0)} s` : seconds < 7_200 ? `${fmt(seconds / 60, 1)} min` : seconds < 172_800 ? `${fmt(seconds / 3_600, 1)} h` : `${fmt(seconds / 86_400, 1)} d`;
const policyName = (p: { policy: string; seconds: number | null }) => (p.seconds === null ? p.policy : `${p.policy}, ${p.policy.startsWith("hierarchical") ? "interval" : "batch age"} ${p.seconds} s`);
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

const measuredRows = Object.entries(measured).map(([key, m]) => row([key, fmt(m.value, Number.isInteger(m.value) ? 0 : 1), `\`${m.source}\`: ${m.row}`]));
const md: string[] = [
  "# Scale simulation",
  "",
  `Generated by \`./iomt simulate\` (\`scripts/simulate.ts\`, arithmetic in \`scripts/lib/scale-model.ts\`). Chain: ${fmt(chain.gasLimit)} gas per block every ${chain.period} s = ${mgas(capacity(chain))} Mgas/s. Messages: one per member every ${messageInterval} s. Raw figures: [\`scale.json\`](scale.json). Same flags and inputs, same bytes.`,
  "",
  "## Inputs: measured here, assumed, quoted",
  "",
  "**Measured here** (read by the script, never typed in): gas from `./iomt gas` (receipts on Hardhat's in-process network, median), the gateway's batching defaults, and cluster sizes from `formClusters` on seeded random fields.",
  "",
  "| input | value | from |",
  "| --- | ---: | --- |",
  ...measuredRows,
  "",
  "**Assumed** (flags where it makes sense):",
  "",
  `- Chain: ${fmt(chain.gasLimit)} gas per block (\`--gas-limit\`), one block every ${chain.period} s (\`--block-time\`); every block on time and all its gas ours; first come, first served.`,
  `- Field: ${assumptions.field.density}, range ${FIELD.range} m, ${assumptions.field.capabilityMix}; ${fieldCount} fields of ${fmt(FIELD_NODES)} nodes (\`--fields\`, \`--seed\`).`,
  `- Data: every group member sends a message every ${messageInterval} s on average (\`--message-interval\`), Poisson; a root Master is not a member and sends none.`,
  `- Gateways: ${assumptions.gatewayBatching}.`,
  `- Hierarchical anchoring: ${assumptions.hierarchicalAnchor}.`,
  `- Root groups: ${assumptions.rootGroupCosts}.`,
  `- Relaying: ${assumptions.relayBatches}. Enrolment batches: ${assumptions.enrolmentBatches}.`,
  "",
  `**Quoted, not measured**: Besu QBFT, ${quoted.besuQbft}. As gas, that is ${mgas(besuGasPerSecond[0])}–${mgas(besuGasPerSecond[1])} Mgas/s of ${fmt(TRANSFER_GAS)}-gas transfers, at or below the modelled ${mgas(capacity(chain))} Mgas/s: the enrolment table gives the times at that rate too, and the saturation points scale with the rate (\`--gas-limit ${besuGasPerSecond[0]}\` reruns everything at the low end).`,
  "",
  "## The networks (cluster sizes from formClusters)",
  "",
  `Sampled from ${fmt(pool.length)} root trees of ${fieldCount} fields (${fmt(childSizes.length)} level-1 clusters): a level-1 cluster holds ${report.clustering.childGroupMembers.mean} level-0 devices on average (median ${report.clustering.childGroupMembers.p50}, p99 ${report.clustering.childGroupMembers.p99}, max ${report.clustering.childGroupMembers.max}; ${childSizes.filter((size) => size === 0).length} of them none), a root group ${report.clustering.rootGroupMembers.mean} level-1 heads (median ${report.clustering.rootGroupMembers.p50}, max ${report.clustering.rootGroupMembers.max}). Whole root trees are drawn until the cluster count is reached.`,
  "",
  "| clusters | root groups | child groups | devices | members sending data | messages/s |",
  "| ---: | ---: | ---: | ---: | ---: | ---: |",
  ...networks.map(({ clusters, size }) => row([fmt(clusters), fmt(size.rootGroups), fmt(size.childGroups), fmt(size.devices), fmt(size.senders), fmt(size.senders / messageInterval)])),
  "",
  "## Enrolling every device",
  "",
  "Four phases in the order the registry requires (root groups, level-1 heads into them, child groups, level-0 devices into those), each starting in a new block; whole transactions per block. `direct`: each device sends its `associate`; `relayed`: `associateBySig`, one per transaction; `batched`: `associateBatchBySig`, " +
    `${enrolmentGas.batched.batchSize} per transaction.`,
  "",
  `| clusters | method | transactions | gas | blocks | time | at Besu's quoted rate (${mgas(besuGasPerSecond[1])}–${mgas(besuGasPerSecond[0])} Mgas/s) |`,
  "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
  ...networks.flatMap(({ clusters, enrolment: results }) =>
    results.map((result) => row([fmt(clusters), result.method, fmt(result.transactions), `${fmt(result.gas / 1e9, 2)} G`, fmt(result.blocks), duration(result.seconds), `${duration(result.quotedBesuSeconds[0])} – ${duration(result.quotedBesuSeconds[1])}`])),
  ),
  "",
  "## Data: chain gas per second and the wait to be anchored",
  "",
  `Per-cluster anchoring: every group's gateway anchors its own batches (the gateway today). Relaying: every message on chain. Hierarchical (issue 16 item 2): one anchor per root group per interval. Utilisation = offered gas / ${mgas(capacity(chain))} Mgas/s. "Busy" = every cluster with a message always waiting (one anchor per cluster per batch age), the issue's estimate. ` +
    `Chain wait: a FIFO queue over ${fmt(horizon)} s of ${chain.period}-s blocks with Poisson arrivals. Message wait = wait for the batch (or the relay poll, or the parent's interval) + the chain's wait; when the offered gas exceeds the capacity the backlog grows and the wait has no mean: the last column gives what a message sent after ${duration(horizon)} waits.`,
  "",
];
for (const network of networks) {
  md.push(
    `### ${fmt(network.clusters)} clusters (${fmt(network.size.devices)} devices)`,
    "",
    "| policy | tx/s | Mgas/s | busy Mgas/s | utilisation | chain wait, mean / p99 | message wait, mean | wait after the horizon |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...network.policies.map((p) =>
      row([
        policyName(p),
        fmt(p.transactionsPerSecond, p.transactionsPerSecond < 10 ? 2 : 0),
        mgas(p.gasPerSecond),
        p.busyGasPerSecond === null ? "" : mgas(p.busyGasPerSecond),
        `${fmt(p.utilisation * 100, 1)} %`,
        p.saturated ? "grows" : `${fmt(p.chainWait.mean, 2)} s / ${fmt(p.chainWait.p99, 2)} s`,
        p.meanMessageWait === null ? "**saturated**" : duration(p.meanMessageWait),
        duration(p.waitAtEnd),
      ]),
    ),
    "",
  );
}
md.push(
  "## Where the chain saturates",
  "",
  `Clusters (and devices, at ${fmt(largestSize.devices / largestSize.clusters, 2)} devices per cluster) at which a policy's offered gas reaches the capacity, from the ${fmt(largestSize.clusters)}-cluster network's mix (load grows linearly with clusters), at three message intervals.`,
  "",
  `| policy | ${SENSITIVITY_INTERVALS.map((interval) => `clusters, a message every ${interval} s`).join(" | ")} | devices, every ${messageInterval} s |`,
  `| --- | ${SENSITIVITY_INTERVALS.map(() => "---:").join(" | ")} | ---: |`,
  ...sensitivity[0].clusters.map((entry, i) => {
    const atDefault = sensitivity.find((s) => s.messageInterval === messageInterval)!.clusters[i].saturationClusters;
    return row([policyName(entry), ...sensitivity.map((s) => fmt(s.clusters[i].saturationClusters)), fmt(atDefault * (largestSize.devices / largestSize.clusters))]);
  }),
  "",
  "## Charts",
  "",
  "Vega-Lite, rendered to SVG by `scripts/lib/charts.ts` (`seriesChart`); both axes on log scales.",
  "",
  "![chain gas per second by policy](scale-gas-per-second.svg)",
  "",
  "![clusters the chain carries by policy](scale-saturation.svg)",
  "",
  "![time to enrol every device](scale-enrolment.svg)",
  "",
  "![message wait by policy](scale-wait.svg)",
  "",
  "## What the model leaves out",
  "",
  "- Consensus: a QBFT round that misses its period (a slow or absent validator) makes blocks later, not smaller; at least 4 validators tolerate one fault. The period here is the period the network keeps.",
  "- Other traffic on the chain, gas price, and transactions larger than a block (none here: the largest is an enrolment batch).",
  "- The gateway's own limits (one anchor in flight per gateway: a congested chain piles batches up in the gateway's store instead of the mempool; the wait is the same) and its CPU (issue 16, item 3).",
  "- Revocations, hand-overs and re-enrolment: rare next to data.",
  "",
);
writeFileSync(join(out, "scale.md"), md.join("\n"));

// ------------------------------------------------------------------ charts

const FAMILIES = ["per-cluster anchoring", "relaying", "hierarchical anchoring"];
const familyOf = (policy: string): string => (policy.startsWith("per-cluster") ? FAMILIES[0] : policy.startsWith("relay") ? FAMILIES[1] : FAMILIES[2]);
const seriesOf = (p: { policy: string; seconds: number | null }): string => (p.seconds !== null ? `${p.seconds} s` : p.policy.includes("batches") ? `batches of ${dataGas.relayBatchSize}` : "one per transaction");
const SERIES = [...AGES.map((age) => `${age} s`), "one per transaction", `batches of ${dataGas.relayBatchSize}`];
const policyPoints = (value: (p: PolicyResult) => number): SeriesPoint[] =>
  networks.flatMap((network) => network.policies.map((p) => ({ x: network.clusters, y: value(p), series: seriesOf(p), panel: familyOf(p.policy) })));
const charts = {
  "scale-gas-per-second.svg": seriesChart({
    title: "Chain gas per second for data",
    subtitle: `Lines: batch age (per cluster) or interval (hierarchical); relaying one message per transaction or in batches. A message every ${messageInterval} s per member.`,
    points: policyPoints((p) => round(p.gasPerSecond / 1e6, 3)),
    series: SERIES,
    seriesTitle: "age / interval / relay",
    panels: FAMILIES,
    xTitle: "clusters",
    yTitle: "Mgas per second",
    xScale: "log",
    yScale: "log",
    rule: { y: capacity(chain) / 1e6, label: `capacity ${mgas(capacity(chain))} Mgas/s` },
    width: 200,
  }),
  "scale-wait.svg": seriesChart({
    title: "How long a message waits to be anchored (or relayed)",
    subtitle: `Mean while the chain keeps up; past saturation, the wait of a message sent after ${duration(horizon)} (it keeps growing).`,
    points: policyPoints((p) => p.meanMessageWait ?? p.waitAtEnd),
    series: SERIES,
    seriesTitle: "age / interval / relay",
    panels: FAMILIES,
    xTitle: "clusters",
    yTitle: "seconds",
    xScale: "log",
    yScale: "log",
    width: 200,
  }),
  "scale-saturation.svg": seriesChart({
    title: "Clusters the chain carries before it saturates",
    subtitle: `${mgas(capacity(chain))} Mgas/s; the cluster mix of the ${fmt(largestSize.clusters)}-cluster network (${fmt(largestSize.devices / largestSize.clusters, 2)} devices per cluster).`,
    points: sensitivity.flatMap((s) => s.clusters.map((entry) => ({ x: s.messageInterval, y: entry.saturationClusters, series: seriesOf(entry), panel: familyOf(entry.policy) }))),
    series: SERIES,
    seriesTitle: "age / interval / relay",
    panels: FAMILIES,
    xTitle: "s between messages",
    yTitle: "clusters",
    xScale: "log",
    yScale: "log",
    width: 200,
  }),
  "scale-enrolment.svg": seriesChart({
    title: "Time to enrol every device",
    subtitle: `${fmt(chain.gasLimit)} gas every ${chain.period} s; the four phases in order; batches of ${enrolmentGas.batched.batchSize}.`,
    points: networks.flatMap((network) => network.enrolment.map((result) => ({ x: network.clusters, y: round(result.seconds / 60, 2), series: result.method }))),
    series: methods,
    seriesTitle: "association",
    xTitle: "clusters",
    yTitle: "minutes",
    xScale: "log",
    yScale: "log",
    width: 320,
  }),
};
for (const [file, spec] of Object.entries(charts)) writeFileSync(join(out, file), await renderSvg(spec));

console.log(md.slice(0, md.indexOf("## Charts")).join("\n"));
console.log(`wrote ${join(out, "scale.json")}, ${join(out, "scale.md")} and four charts`);
