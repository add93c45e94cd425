// The arithmetic of the scale simulation (scripts/simulate.ts), kept pure so that a test can check
// it by hand on a tiny network (scripts/test/scale-model.test.ts): a hospital network as root
// trees of clusters (a level-2 head's root group and its level-1 heads' child groups, as
// `formClusters` makes them), enrolment of every device over a chain of blocks with a gas limit
// and a period, chain gas per second for data under each anchoring policy, how long a message
// waits to be anchored, and a FIFO queue of blocks filling up. No I/O, no clock, no randomness of
// its own: callers pass the random draws.

/** The chain: every `period` seconds a block carrying at most `gasLimit` gas. */
export interface ChainModel {
  gasLimit: number;
  period: number;
}

/** Gas per second the chain carries. */
export const capacity = ({ gasLimit, period }: ChainModel): number => gasLimit / period;

/**
 * One root tree: a level-2 head's root group, whose members are its level-1 heads, and one child
 * group per level-1 head whose members are its level-0 devices (`children[i]` of them).
 */
export interface RootTree {
  children: number[];
}

/** A network: its root trees. Each group is a cluster (one root group + one child group per level-1 head). */
export interface Network {
  roots: RootTree[];
}

export interface NetworkSize {
  clusters: number;
  rootGroups: number;
  childGroups: number;
  /** Level-1 heads: members of the root groups. */
  levelOneHeads: number;
  /** Level-0 devices: members of the child groups. */
  levelZeroDevices: number;
  /** Every node: the level-2 heads (root Masters), the level-1 heads and the level-0 devices. */
  devices: number;
  /** Members that send data (every member of a group; a root Master is not a member). */
  senders: number;
}

export function networkSize({ roots }: Network): NetworkSize {
  const rootGroups = roots.length;
  const childGroups = roots.reduce((sum, tree) => sum + tree.children.length, 0);
  const levelZeroDevices = roots.reduce((sum, tree) => sum + tree.children.reduce((a, b) => a + b, 0), 0);
  return {
    clusters: rootGroups + childGroups,
    rootGroups,
    childGroups,
    levelOneHeads: childGroups,
    levelZeroDevices,
    devices: rootGroups + childGroups + levelZeroDevices,
    senders: childGroups + levelZeroDevices,
  };
}

/**
 * A network of exactly `clusters` clusters: root trees drawn (with replacement) from `pool`, the
 * last one cut to fit (its first children kept). `draw()` returns a number in [0, 1).
 */
export function sampleNetwork(pool: readonly RootTree[], clusters: number, draw: () => number): Network {
  if (pool.length === 0) throw new Error("sampleNetwork: the pool of root trees is empty");
  if (!Number.isInteger(clusters) || clusters < 1) throw new Error(`sampleNetwork: ${clusters} clusters`);
  const roots: RootTree[] = [];
  let left = clusters;
  while (left > 0) {
    const tree = pool[Math.floor(draw() * pool.length)];
    const children = tree.children.slice(0, left - 1);
    roots.push({ children });
    left -= 1 + children.length;
  }
  return { roots };
}

// ---------------------------------------------------------------------------------- enrolment

/** Gas of one operation, and where each association goes (a root group or a child group). */
export interface EnrolmentGas {
  createRoot: number;
  createChild: number;
  /** Per association, each its own transaction: the device sends it. */
  direct: { root: number; child: number };
  /** Per association, each its own transaction: a relayer submits the device's signed request. */
  relayed: { root: number; child: number };
  /** Per association in a batch of `batchSize` (one transaction per full batch; a last partial batch costs the same per device). */
  batched: { root: number; child: number; batchSize: number };
}

export type EnrolmentMethod = "direct" | "relayed" | "batched";

/** One phase of enrolment: transactions of one size, all sent once the previous phase is mined. */
export interface EnrolmentPhase {
  what: string;
  transactions: number;
  gasPerTransaction: number;
}

export interface EnrolmentResult {
  method: EnrolmentMethod;
  phases: (EnrolmentPhase & { blocks: number })[];
  transactions: number;
  gas: number;
  blocks: number;
  seconds: number;
}

/**
 * The four phases in the order the registry's rules impose (a child group is created by a member
 * of its parent): root groups created, level-1 heads associate into them, child groups created,
 * level-0 devices associate into those.
 */
export function enrolmentPhases(network: Network, gas: EnrolmentGas, method: EnrolmentMethod): EnrolmentPhase[] {
  const size = networkSize(network);
  const associations = (what: string, count: number, where: "root" | "child"): EnrolmentPhase => {
    if (method !== "batched") return { what, transactions: count, gasPerTransaction: gas[method][where] };
    const { batchSize } = gas.batched;
    // Whole batches; a partial last batch is counted as full (an upper bound of at most one batch).
    return { what, transactions: Math.ceil(count / batchSize), gasPerTransaction: gas.batched[where] * batchSize };
  };
  return [
    { what: "root groups created", transactions: size.rootGroups, gasPerTransaction: gas.createRoot },
    associations("level-1 heads associate into root groups", size.levelOneHeads, "root"),
    { what: "child groups created", transactions: size.childGroups, gasPerTransaction: gas.createChild },
    associations("level-0 devices associate into child groups", size.levelZeroDevices, "child"),
  ];
}

/** Blocks to mine `transactions` of `gasPerTransaction` each: whole transactions per block. */
export function blocksFor(transactions: number, gasPerTransaction: number, chain: ChainModel): number {
  if (transactions === 0) return 0;
  const perBlock = Math.floor(chain.gasLimit / gasPerTransaction);
  if (perBlock < 1) throw new Error(`a transaction of ${gasPerTransaction} gas does not fit a block of ${chain.gasLimit}`);
  return Math.ceil(transactions / perBlock);
}

/** Time to enrol every device: the phases one after another, each starting in a new block (an upper bound by at most three blocks). */
export function enrolment(network: Network, gas: EnrolmentGas, method: EnrolmentMethod, chain: ChainModel): EnrolmentResult {
  const phases = enrolmentPhases(network, gas, method).map((phase) => ({ ...phase, blocks: blocksFor(phase.transactions, phase.gasPerTransaction, chain) }));
  const blocks = phases.reduce((sum, phase) => sum + phase.blocks, 0);
  return {
    method,
    phases,
    transactions: phases.reduce((sum, phase) => sum + phase.transactions, 0),
    gas: phases.reduce((sum, phase) => sum + phase.transactions * phase.gasPerTransaction, 0),
    blocks,
    seconds: blocks * chain.period,
  };
}

// ---------------------------------------------------------------------------------- data

/** How devices send data and how a gateway batches it (the gateway's own defaults, gateway/src/config.ts). */
export interface DataAssumptions {
  /** Seconds between two messages of one member (Poisson). */
  messageInterval: number;
  /** The gateway's poll: batches are cut, and relayed messages sent, on a poll. */
  pollInterval: number;
  /** A batch is cut when it holds this many messages, whatever its age. */
  batchMaxMessages: number;
}

export interface DataGas {
  /** anchorBatch in a child group (the level-1 heads' clusters). */
  anchorChild: number;
  /** anchorBatch in a root group. */
  anchorRoot: number;
  /** The hierarchical anchor: anchorBatch of one aggregate root over a root group's subtree of batch roots. */
  anchorAggregate: number;
  /** recordDataBySig: one message per transaction. */
  relaySingle: number;
  /** recordDataBatchBySig: per message, in batches of `relayBatchSize`. */
  relayBatched: number;
  relayBatchSize: number;
}

/** A gateway's anchoring of one group: transactions per second and the mean wait of a message until its batch is cut. */
export interface GroupAnchoring {
  /** Batches cut (anchor transactions) per second. */
  anchorsPerSecond: number;
  /** Mean seconds from a message's arrival to its batch being cut, poll included. */
  meanBatchWait: number;
}

/**
 * The gateway's batching (gateway/src/chain.ts `createBatches`) for a group whose members send
 * `rate` messages per second in all (Poisson): a batch starts with the first waiting message and is
 * cut on the first poll after it is `age` seconds old, or as soon as it holds `batchMax` messages.
 *
 * - Cut by age (rate·age < batchMax): a cycle lasts age + poll/2 (the poll's mean delay) + 1/rate
 *   (the wait for the next first message); the first message waits age + poll/2, the rate·age
 *   others arrive uniformly over the age, so the mean wait is (age + rate·age²/2)/(1 + rate·age) + poll/2.
 * - Cut by size (rate·age ≥ batchMax): a cycle lasts batchMax/rate, and a message waits
 *   (batchMax − 1)/(2·rate) on average.
 */
export function groupAnchoring(rate: number, age: number, { pollInterval, batchMaxMessages }: DataAssumptions): GroupAnchoring {
  if (rate <= 0) return { anchorsPerSecond: 0, meanBatchWait: 0 };
  if (rate * age >= batchMaxMessages) return { anchorsPerSecond: rate / batchMaxMessages, meanBatchWait: (batchMaxMessages - 1) / (2 * rate) };
  return {
    anchorsPerSecond: 1 / (age + pollInterval / 2 + 1 / rate),
    meanBatchWait: (age + (rate * age * age) / 2) / (1 + rate * age) + pollInterval / 2,
  };
}

/** One class of transactions a policy sends: how many per second and the gas of each. */
export interface TransactionClass {
  label: string;
  perSecond: number;
  gas: number;
}

export interface PolicyLoad {
  policy: string;
  /** Batch age (per-cluster anchoring) or interval (hierarchical); undefined for relaying. */
  seconds?: number;
  transactions: TransactionClass[];
  /** Gas per second offered to the chain. */
  gasPerSecond: number;
  /** Gas per second if every cluster always had a message waiting (per-cluster anchoring: one anchor per cluster every `seconds`). */
  busyGasPerSecond?: number;
  /** Mean seconds from a message's arrival until its anchoring (or relaying) transaction is sent, message-weighted; the chain's wait is added by the queue model. */
  meanWaitBeforeChain: number;
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

/** Each group's message rate: members / messageInterval; root groups first (members: its level-1 heads), then their child groups. */
function groupRates(network: Network, { messageInterval }: DataAssumptions): { root: number; children: number[] }[] {
  return network.roots.map((tree) => ({ root: tree.children.length / messageInterval, children: tree.children.map((members) => members / messageInterval) }));
}

/** Per-cluster anchoring: every group's gateway anchors its own batches, cut at `age` seconds. */
export function perClusterAnchoring(network: Network, age: number, gas: DataGas, data: DataAssumptions): PolicyLoad {
  const rates = groupRates(network, data);
  const rootRuns = rates.map(({ root }) => ({ rate: root, ...groupAnchoring(root, age, data) }));
  const childRuns = rates.flatMap(({ children }) => children.map((rate) => ({ rate, ...groupAnchoring(rate, age, data) })));
  const transactions = [
    { label: "anchorBatch, root group", perSecond: sum(rootRuns.map((run) => run.anchorsPerSecond)), gas: gas.anchorRoot },
    { label: "anchorBatch, child group", perSecond: sum(childRuns.map((run) => run.anchorsPerSecond)), gas: gas.anchorChild },
  ];
  const runs = [...rootRuns, ...childRuns];
  const totalRate = sum(runs.map((run) => run.rate));
  const size = networkSize(network);
  return {
    policy: "per-cluster anchoring",
    seconds: age,
    transactions,
    gasPerSecond: sum(transactions.map((t) => t.perSecond * t.gas)),
    busyGasPerSecond: (size.rootGroups * gas.anchorRoot + size.childGroups * gas.anchorChild) / age,
    meanWaitBeforeChain: totalRate === 0 ? 0 : sum(runs.map((run) => run.rate * run.meanBatchWait)) / totalRate,
  };
}

/** Every message relayed on its own (recordDataBySig) or in batches (recordDataBatchBySig), sent on the gateway's next poll. */
export function relayEveryMessage(network: Network, batched: boolean, gas: DataGas, data: DataAssumptions): PolicyLoad {
  const messagesPerSecond = networkSize(network).senders / data.messageInterval;
  const transactions = batched
    ? [{ label: `recordDataBatchBySig, ${gas.relayBatchSize} messages`, perSecond: messagesPerSecond / gas.relayBatchSize, gas: gas.relayBatched * gas.relayBatchSize }]
    : [{ label: "recordDataBySig", perSecond: messagesPerSecond, gas: gas.relaySingle }];
  return {
    policy: batched ? `relay every message, in batches of ${gas.relayBatchSize}` : "relay every message, one per transaction",
    transactions,
    gasPerSecond: sum(transactions.map((t) => t.perSecond * t.gas)),
    meanWaitBeforeChain: data.pollInterval / 2,
  };
}

/**
 * Hierarchical anchoring: every child group's gateway cuts its batches at `interval`
 * seconds and hands their roots to its root group's gateway, which anchors one root over them
 * (and its own messages) once per interval. One anchor per root group per interval; a message
 * waits for its batch, then half an interval on average for the parent's next anchor.
 */
export function hierarchicalAnchoring(network: Network, interval: number, gas: DataGas, data: DataAssumptions): PolicyLoad {
  const rates = groupRates(network, data);
  const runs = rates.flatMap(({ root, children }) => [root, ...children].map((rate) => ({ rate, wait: groupAnchoring(rate, interval, data).meanBatchWait })));
  const totalRate = sum(runs.map((run) => run.rate));
  const transactions = [{ label: "aggregate anchor, root group", perSecond: network.roots.length / interval, gas: gas.anchorAggregate }];
  return {
    policy: "hierarchical anchoring",
    seconds: interval,
    transactions,
    gasPerSecond: sum(transactions.map((t) => t.perSecond * t.gas)),
    meanWaitBeforeChain: (totalRate === 0 ? 0 : sum(runs.map((run) => run.rate * run.wait)) / totalRate) + interval / 2,
  };
}

/** Clusters the chain carries under a policy: where the offered gas per second (linear in the clusters) reaches the capacity. */
export const saturationClusters = (load: PolicyLoad, clusters: number, chain: ChainModel): number => (load.gasPerSecond === 0 ? Infinity : (clusters * capacity(chain)) / load.gasPerSecond);

// ---------------------------------------------------------------------------------- the chain's queue

/** Transactions arriving during one block interval: `count` of `gas` each, spread evenly over the interval. */
export interface Arrival {
  count: number;
  gas: number;
}

export interface QueueResult {
  blocks: number;
  /** Offered gas over the horizon / what the blocks could carry. */
  utilisation: number;
  arrived: number;
  included: number;
  /** Mean and 99th percentile of (inclusion block time − arrival time) over the included transactions. */
  meanWait: number;
  p99Wait: number;
  /** Still queued after the last block: transactions and gas. */
  queued: number;
  queuedGas: number;
  /** Seconds the queue left at the end takes to drain at full blocks: what a transaction sent then waits beyond its block. */
  drainSeconds: number;
}

/**
 * A FIFO mempool before blocks that each carry at most `gasLimit` gas, one every `period` seconds.
 * Arrivals of interval b ([b·period, (b+1)·period)) are spread evenly over it; block b is mined at
 * (b+1)·period and takes whole transactions from the head of the queue while they fit (it never
 * skips ahead to a smaller one). Offered gas beyond the capacity stays queued, so the wait grows.
 */
export function simulateQueue(chain: ChainModel, blocks: number, arrivals: (block: number) => Arrival[]): QueueResult {
  interface Cohort {
    count: number;
    gas: number;
    start: number;
    taken: number;
  }
  const queue: Cohort[] = [];
  let head = 0;
  let arrived = 0;
  let offeredGas = 0;
  let included = 0;
  let waitSum = 0;
  const chunks: { longest: number; shortest: number; count: number }[] = [];
  for (let block = 0; block < blocks; block++) {
    for (const { count, gas } of arrivals(block)) {
      if (count <= 0) continue;
      queue.push({ count, gas, start: block * chain.period, taken: 0 });
      arrived += count;
      offeredGas += count * gas;
    }
    const minedAt = (block + 1) * chain.period;
    let room = chain.gasLimit;
    while (head < queue.length) {
      const cohort = queue[head];
      const fits = Math.min(cohort.count - cohort.taken, Math.floor(room / cohort.gas));
      if (fits > 0) {
        // These are the cohort's transactions taken … taken + fits, which arrived evenly over its interval.
        const arrival = (position: number) => cohort.start + (chain.period * position) / cohort.count;
        const wait = minedAt - arrival(cohort.taken + fits / 2);
        chunks.push({ longest: minedAt - arrival(cohort.taken), shortest: minedAt - arrival(cohort.taken + fits), count: fits });
        waitSum += wait * fits;
        included += fits;
        cohort.taken += fits;
        room -= fits * cohort.gas;
      }
      if (cohort.taken < cohort.count) break;
      head++;
    }
  }
  let queued = 0;
  let queuedGas = 0;
  for (let i = head; i < queue.length; i++) {
    queued += queue[i].count - queue[i].taken;
    queuedGas += (queue[i].count - queue[i].taken) * queue[i].gas;
  }
  return {
    blocks,
    utilisation: offeredGas / (blocks * chain.gasLimit),
    arrived,
    included,
    meanWait: included === 0 ? 0 : waitSum / included,
    p99Wait: weightedPercentile(chunks, 0.99),
    queued,
    queuedGas,
    drainSeconds: (queuedGas / chain.gasLimit) * chain.period,
  };
}

/**
 * The `q` quantile of the waits, each chunk's waits spread evenly between its shortest and
 * longest (as its transactions arrived): the wait w at which the transactions that waited at most w
 * reach `q` of all, interpolated within a chunk.
 */
function weightedPercentile(chunks: { longest: number; shortest: number; count: number }[], q: number): number {
  const total = sum(chunks.map((chunk) => chunk.count));
  if (total === 0) return 0;
  // Waits at or below w: the whole of every chunk that ends below w, the part below w of the others.
  const below = (w: number) => sum(chunks.map(({ shortest, longest, count }) => (w >= longest ? count : w <= shortest ? 0 : (count * (w - shortest)) / (longest - shortest))));
  let low = Math.min(...chunks.map((chunk) => chunk.shortest));
  let high = Math.max(...chunks.map((chunk) => chunk.longest));
  for (let i = 0; i < 60; i++) {
    const middle = (low + high) / 2;
    if (below(middle) >= q * total) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * A Poisson draw of mean `mean` from uniform draws in [0, 1): Knuth's product method below 30,
 * the normal approximation (Box–Muller, rounded, at least 0) above.
 */
export function poisson(mean: number, draw: () => number): number {
  if (mean <= 0) return 0;
  if (mean < 30) {
    const limit = Math.exp(-mean);
    let k = 0;
    for (let product = draw(); product > limit; product *= draw()) k++;
    return k;
  }
  const normal = Math.sqrt(-2 * Math.log(1 - draw())) * Math.cos(2 * Math.PI * draw());
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
}
