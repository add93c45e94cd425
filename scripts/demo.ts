// The main job: the papers' scenario end to end. Plans clusters with the SDK's clustering (paper
// 003: one level-2 head, three level-1 heads, nine nodes; or N random devices in 150 m × 150 m),
// builds the hierarchy on chain, starts a gateway per cluster head on loopback, and has every
// device run keySession → getTicket → assoc → data over HTTP. Then it waits for the anchors,
// verifies AuthTable paths between devices offline, revokes one cluster head and shows that its
// members' paths now fail and that its gateway, cut off by the registry, stops anchoring. Prints
// progress and a summary, and writes the summary as Markdown plus SVG charts into a folder. Group
// ids are derived on chain from each cluster head's key (or wallet) and a label (`groupId`).
// `--p256-share F` gives that fraction of the devices a P-256 key (as a secure element holds it)
// instead of a secp256k1 one; `--multisig-root` makes each root group's Master the test 2-of-3
// multisig (contracts/mocks/MultisigMaster.sol): it creates the group, approves the tokens of the
// cluster heads below it (ERC-1271) and revokes one of them. `--hierarchical` runs hierarchical
// anchoring across the paper's three levels: a gateway for every cluster head, the level-1 heads'
// gateways handing their batch roots to their level-2 head's, which alone anchors, one aggregate
// per interval; every message is then checked through its two-part proof.
//
//   ./iomt demo [--rpc URL] [--devices N] [--seed S] [--messages M] [--evm cancun|london] [--out DIR]
//               [--p256-share F] [--multisig-root] [--hierarchical]
//
// Without --rpc it runs on Hardhat's in-process network (no server needed).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { network } from "hardhat";
import { createPublicClient, createWalletClient, custom, defineChain, http, keccak256, parseEther, stringToHex, zeroHash, type Address, type Hash, type Hex, type Transport } from "viem";
import { privateKeyToAccount, type LocalAccount, type PrivateKeyAccount } from "viem/accounts";
import {
  associateBySig,
  authPathSize,
  createDataMessage,
  createGatewayClient,
  createGroup,
  fetchTrustedState,
  formClusters,
  groupId,
  issueToken,
  p256Account,
  planHierarchy,
  privateKeyToP256Signer,
  randomSalt,
  registryDomain,
  revoke,
  signAssociation,
  signDataMessage,
  toId,
  verifyAggregatePath,
  verifyAuthPath,
  type AuthPath,
  type ClusterNode,
  type GatewayClient,
  type GatewayClientAccount,
  type InclusionResponse,
  type ReadClient,
  type Receipt,
  type WriteClient,
} from "@iomt-auth/sdk";
import { deployRegistry } from "@iomt-auth/sdk/deploy";
import { enrolDevice, type RunningGateway } from "../gateway/src/index.js";
import { seededRandom } from "../sdk/test/support/random.js";
import { setBalance, startLoopbackGateway } from "./lib/nodes.js";
import { barChart, distributionChart, median, renderSvg } from "./lib/charts.js";
import { deployMultisig, type Multisig } from "./lib/multisig.js";

const { values: flags } = parseArgs({
  options: {
    rpc: { type: "string" },
    devices: { type: "string" },
    seed: { type: "string", default: "3" },
    messages: { type: "string", default: "5" },
    evm: { type: "string", default: "cancun" },
    out: { type: "string", default: "scenario-report" },
    "p256-share": { type: "string", default: "0" },
    "multisig-root": { type: "boolean", default: false },
    hierarchical: { type: "boolean", default: false },
  },
});
const FIELD = 150;
const RANGE = 30;
const seed = Number(flags.seed);
const messagesPerDevice = Number(flags.messages);
const evmTarget = flags.evm === "london" ? "london" : "cancun";
const outDir = resolve(flags.out);
const p256Share = Number(flags["p256-share"]);
if (!(p256Share >= 0 && p256Share <= 1)) {
  console.error(`demo: --p256-share takes a fraction from 0 to 1, got ${flags["p256-share"]}`);
  process.exit(2);
}
const multisigRoot = flags["multisig-root"];
const hierarchical = flags.hierarchical;
if (hierarchical && multisigRoot) {
  // A wallet's root group would need an operator key it authorised as anchorer for its gateway.
  console.error("demo: --hierarchical and --multisig-root do not go together (a root group's gateway must hold its Master key)");
  process.exit(2);
}
const started = performance.now();
const seconds = (from: number) => (performance.now() - from) / 1000;

// ------------------------------------------------------------------------------------ progress

const progress = { enrolled: 0, associated: 0, sent: 0, acknowledged: 0, anchored: 0, batches: 0, devices: 0 };
const tty = process.stdout.isTTY === true;
function showProgress(final = false): void {
  const line = `  devices enrolled ${progress.enrolled}/${progress.devices} · associated ${progress.associated}/${progress.devices} · messages sent ${progress.sent} (acknowledged ${progress.acknowledged}) · anchored ${progress.anchored} in ${progress.batches} batches`;
  if (tty) process.stdout.write(`\r${line}${final ? "\n" : ""}`);
  else if (final) console.log(line);
}

// ------------------------------------------------------------------------------------ the field

/** Al Ahmed et al.'s evaluation scenario: one level-2 head in the middle, three level-1 heads 25 m out, three nodes around each. */
function paperField(): ClusterNode[] {
  const nodes: ClusterNode[] = [{ id: "chl2", x: 75, y: 75, processingIndex: 3, energy: 100 }];
  for (let k = 0; k < 3; k++) {
    const angle = (2 * Math.PI * k) / 3 - Math.PI / 2;
    const hx = 75 + 25 * Math.cos(angle);
    const hy = 75 + 25 * Math.sin(angle);
    nodes.push({ id: `chl1-${k + 1}`, x: hx, y: hy, processingIndex: 2, energy: 80 });
    for (let j = 0; j < 3; j++) {
      const a = angle + ((j - 1) * Math.PI) / 5;
      nodes.push({ id: `node-${k + 1}.${j + 1}`, x: hx + 10 * Math.cos(a), y: hy + 10 * Math.sin(a), processingIndex: 1, energy: 40 + 5 * j });
    }
  }
  return nodes;
}

/** N random devices in 150 m × 150 m: one hospital-grade node (index 3) in the middle, ~15 % index 2. */
function randomField(count: number): ClusterNode[] {
  const random = seededRandom(seed);
  const nodes: ClusterNode[] = [{ id: "chl2", x: FIELD / 2, y: FIELD / 2, processingIndex: 3, energy: 100 }];
  for (let i = 1; i < count; i++) {
    nodes.push({ id: `dev-${i}`, x: random() * FIELD, y: random() * FIELD, processingIndex: random() < 0.15 ? 2 : 1, energy: 20 + 80 * random() });
  }
  return nodes;
}

// ------------------------------------------------------------------------------------ main

console.log("iomt-auth — the papers' scenario, end to end\n");
const field = flags.devices === undefined ? paperField() : randomField(Number(flags.devices));
const planStarted = performance.now();
const clustering = formClusters({ nodes: field, range: RANGE });
const calls = planHierarchy(clustering);
const planMs = performance.now() - planStarted;
console.log(
  `Plan (Al Ahmed et al., Algorithm 1; ${field.length} devices, ${FIELD} m × ${FIELD} m, range ${RANGE} m): ` +
    `${clustering.levelTwoHeads.length} level-2 head, ${clustering.levelOneHeads.length} level-1 heads, ${clustering.nodes.length} nodes, ${clustering.roots.length} root group(s) — ${planMs.toFixed(1)} ms`,
);

// The chain: in-process by default, any JSON-RPC node with --rpc.
let transport: Transport;
let closeChain: () => Promise<void> = async () => {};
if (flags.rpc === undefined) {
  const connection = await network.create();
  transport = custom(connection.provider, { retryCount: 0 });
  closeChain = () => connection.close();
} else {
  transport = http(flags.rpc, { retryCount: 0 });
}
const probe = createPublicClient({ transport });
const chainId = await probe.getChainId();
const chain = defineChain({ id: chainId, name: `chain ${chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [flags.rpc ?? "http://in-process.hardhat"] } } });
const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 });
console.log(`Chain: ${flags.rpc === undefined ? "Hardhat in-process network" : flags.rpc} (chain id ${chainId}), registry build: ${evmTarget}\n`);

const keyOf = (id: string): Hex => keccak256(stringToHex(`iomt-auth scenario ${seed}: ${id}`));
const accountOf = (id: string): PrivateKeyAccount => privateKeyToAccount(keyOf(id));
const walletOf = (id: string): WriteClient => createWalletClient({ chain, transport, account: accountOf(id), pollingInterval: 50 }) as WriteClient;
const oidOf = (id: string): Hex => toId(`oid:${id}`);
/** The label a cluster head creates its group with; the gid is derived from its Master's address and this label. */
const labelOf = (head: string): string => `cluster:${head}`;
let registry: Address;
/** With --multisig-root, each root group's Master: the test multisig, owned by three keys of the hospital. */
const multisigs = new Map<string, Multisig>();
/** The address that masters a cluster head's group: its key, or the multisig for a root with --multisig-root. */
const masterOf = (head: string): Address => multisigs.get(head)?.address ?? accountOf(head).address;
const gidOf = (head: string): Hex => groupId({ chainId, registry, creator: masterOf(head), label: labelOf(head) });

/** Gives an account ether where the node allows it; on a zero-gas-price PoA chain none is needed. */
async function fund(address: Address): Promise<void> {
  if (await setBalance(publicClient, address, parseEther("100"))) return;
  if ((await publicClient.getGasPrice()) !== 0n) throw new Error(`cannot fund ${address}: the node has no setBalance and gas is not free; fund the scenario's keys first`);
}

const gas: { operation: string; gas: bigint; count: number }[] = [];
function recordGas(operation: string, used: bigint, count = 1): void {
  const row = gas.find((entry) => entry.operation === operation);
  if (row === undefined) gas.push({ operation, gas: used, count });
  else {
    row.gas += used;
    row.count += count;
  }
}
async function mined(operation: string, hash: Promise<Hash> | Hash): Promise<void> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash });
  if (receipt.status !== "success") throw new Error(`${operation}: transaction reverted`);
  recordGas(operation, receipt.gasUsed);
}

// 1. Deploy and build the hierarchy of cluster heads.
const buildStarted = performance.now();
const heads = [...clustering.levelTwoHeads, ...clustering.levelOneHeads];
for (const id of ["deployer", ...heads]) await fund(accountOf(id).address);
const deployment = await deployRegistry(walletOf("deployer"), { evmTarget });
registry = deployment.address;
const domain = registryDomain({ chainId, registry });
recordGas("deploy the registry", (await publicClient.getTransactionReceipt({ hash: deployment.hash })).gasUsed);
const deadline = () => BigInt(Math.floor(Date.now() / 1000) + 3_600);
const deviceCalls = calls.filter((call) => call.kind === "associate" && clustering.levelOf[call.member] === 0);
if (multisigRoot) {
  for (const root of clustering.roots) {
    const owners = (["a", "b", "c"] as const).map((owner) => accountOf(`${root} owner ${owner}`)) as [LocalAccount, LocalAccount, LocalAccount];
    multisigs.set(root, await deployMultisig(walletOf("deployer"), publicClient, owners, evmTarget));
  }
}
for (const call of calls) {
  const multisig = multisigs.get(call.head);
  if (call.kind === "createGroup") {
    const parentGid = call.parentHead === undefined ? zeroHash : gidOf(call.parentHead);
    if (multisig !== undefined) {
      // The wallet creates its group: two owners approve, any funded key sends (here the deployer's).
      await mined("createGroup (root cluster, by the multisig)", multisig.callRegistry(walletOf("deployer"), registry, "createGroup", [toId(labelOf(call.head)), oidOf(call.head), parentGid]));
      continue;
    }
    const created = await createGroup(walletOf(call.head), { registry, label: labelOf(call.head), masterOid: oidOf(call.head), parentGid });
    if (created.gid !== gidOf(call.head)) throw new Error(`${call.head}: the registry derived gid ${created.gid}, not ${gidOf(call.head)}`);
    await mined(call.parentHead === undefined ? "createGroup (root cluster)" : "createGroup (child cluster)", created.hash);
  } else if (clustering.levelOf[call.member] > 0) {
    // A cluster head joins its parent's group: token from the parent's Master, relayed by it (by
    // the deployer's key for a multisig, which checks the wallet's token with ERC-1271).
    const tokenFields = { gid: gidOf(call.head), oid: oidOf(call.member), device: accountOf(call.member).address };
    const token = multisig === undefined ? await issueToken(accountOf(call.head), tokenFields) : await multisig.token(tokenFields);
    const association = await signAssociation(accountOf(call.member), { domain, token, deadline: deadline() });
    const operation = multisig === undefined ? "associate a cluster head (relayed by its parent Master)" : "associate a cluster head (token approved by the multisig, ERC-1271)";
    await mined(operation, associateBySig(walletOf(multisig === undefined ? call.head : "deployer"), { registry, association }));
  }
}
const buildSeconds = seconds(buildStarted);
console.log(`Hierarchy on chain: registry ${registry}, ${heads.length} cluster heads placed — ${buildSeconds.toFixed(1)} s`);
for (const [root, multisig] of multisigs) console.log(`Root group of ${root} mastered by the 2-of-3 multisig ${multisig.address}`);

// 2. A gateway per cluster head with devices, on loopback.
const workDir = mkdtempSync(join(tmpdir(), "iomt-scenario-"));
const gateways = new Map<string, RunningGateway>();
const clustersWithDevices = clustering.clusters.filter((cluster) => cluster.level === 1 && cluster.members.length > 0);
const gatewaysStarted = performance.now();
// Hierarchical: every cluster head runs a gateway, parents first, each handing up to its parent's.
const gatewayClusters = hierarchical ? [...clustering.clusters].sort((a, b) => b.level - a.level) : clustersWithDevices;
for (const cluster of gatewayClusters) {
  const parentUrl = cluster.parent === undefined ? undefined : gateways.get(cluster.parent)?.url;
  const aggregation = hierarchical ? { aggregation: "on", aggregateIntervalMs: 500, ...(parentUrl === undefined ? {} : { parentUrl }) } : {};
  // The gateway names its group by label: it derives the gid from the cluster head's key.
  const settings = { chainId, registry, fromBlock: deployment.blockNumber, groups: labelOf(cluster.head), batchMaxAgeMs: 300, pollIntervalMs: 100, ...aggregation, ...(flags.rpc === undefined ? {} : { rpcUrl: flags.rpc }) };
  gateways.set(cluster.head, await startLoopbackGateway({ dir: workDir, name: cluster.head, privateKey: keyOf(cluster.head), transport, settings }));
}
console.log(`Gateways: ${gateways.size} on loopback (${[...gateways.values()].map((g) => g.url).join(", ")}) — ${seconds(gatewaysStarted).toFixed(1)} s\n`);

// 3. Every device: keySession → getTicket → assoc → data, over HTTP.
type DeviceRun = { id: string; head: string; client: GatewayClient; account: GatewayClientAccount; authMs: number; receipts: Receipt[]; path?: AuthPath };
// --p256-share: every device whose running share crosses a whole number holds a P-256 key, so the
// P-256 devices are spread evenly over the fleet (and the clusters) and are exactly ⌊N × F⌋.
const p256Devices = new Set(deviceCalls.map((call) => (call as { member: string }).member).filter((_, k) => Math.floor((k + 1) * p256Share) > Math.floor(k * p256Share)));
/** A device's key: secp256k1, or P-256 (here from raw bytes; a secure element's in a hospital). */
const deviceAccountOf = (id: string): GatewayClientAccount => (p256Devices.has(id) ? p256Account(privateKeyToP256Signer(keyOf(id))) : accountOf(id));
progress.devices = deviceCalls.length;
console.log(`Devices (keySession → getTicket → assoc → data over HTTP; ${p256Devices.size} of ${deviceCalls.length} with a P-256 key):`);
const devicesStarted = performance.now();
const runs: DeviceRun[] = [];
async function runDevice(id: string, head: string): Promise<DeviceRun> {
  const gateway = gateways.get(head)!;
  const account = deviceAccountOf(id);
  await enrolDevice(gateway.store, { gid: gidOf(head), oid: oidOf(id), address: account.address });
  progress.enrolled++;
  const client = createGatewayClient({ url: gateway.url, account, master: accountOf(head).address, context: { chainId, registry, gid: gidOf(head) } });
  const authStarted = performance.now();
  await client.keySession();
  const token = await client.getTicket();
  await client.associate({ token });
  const status = await client.waitForAssociation({ pollIntervalMs: 50 });
  if (status.status !== "associated") throw new Error(`${id}: association ${status.status} ${status.error?.code ?? ""}`);
  const authMs = performance.now() - authStarted;
  progress.associated++;
  showProgress();
  const receipts: Receipt[] = [];
  for (let nonce = 1; nonce <= messagesPerDevice; nonce += 3) {
    const batch = [];
    for (let n = nonce; n < Math.min(nonce + 3, messagesPerDevice + 1); n++) {
      // A salted commitment: the reading travels sealed to the gateway, which keeps it with its salt; only the commitment is signed.
      const reading = `{"device":"${id}","reading":${n}}`;
      const salt = randomSalt();
      const message = createDataMessage({ gid: gidOf(head), oid: oidOf(id), nonce: BigInt(n), payload: reading, salt });
      batch.push({ ...(await signDataMessage(account, { domain, message })), payload: stringToHex(reading), salt });
    }
    progress.sent += batch.length;
    const acknowledged = await client.sendData({ messages: batch });
    receipts.push(...acknowledged);
    progress.acknowledged += acknowledged.length;
    showProgress();
  }
  return { id, head, client, account, authMs, receipts };
}
const concurrency = 8;
for (let i = 0; i < deviceCalls.length; i += concurrency) {
  const wave = deviceCalls.slice(i, i + concurrency);
  runs.push(...(await Promise.all(wave.map((call) => runDevice((call as { member: string }).member, (call as { head: string }).head)))));
}
const onboardSeconds = seconds(devicesStarted);

// 4. Anchoring: every receipt's batch on chain.
const anchorStarted = performance.now();
const anchorTxs = new Set<Hash>();
const aggregatePaths: { gid: Hex; digest: Hex; inclusion: InclusionResponse }[] = [];
for (const run of runs) {
  for (const receipt of run.receipts) {
    for (;;) {
      const inclusion = await run.client.getInclusion(receipt);
      if (inclusion.status === "anchored") {
        const txHash = inclusion.aggregate?.txHash ?? inclusion.batch?.txHash;
        if (txHash !== undefined) anchorTxs.add(txHash);
        if (hierarchical) aggregatePaths.push({ gid: gidOf(run.head), digest: receipt.digest, inclusion });
        progress.anchored++;
        progress.batches = anchorTxs.size;
        break;
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
  }
  showProgress();
}
showProgress(true);
const anchorSeconds = seconds(anchorStarted);
for (const hash of anchorTxs) {
  const receipt = await publicClient.getTransactionReceipt({ hash });
  recordGas(hierarchical ? "anchorBatch (a root group's gateway anchors an aggregate)" : "anchorBatch (a gateway anchors a batch)", receipt.gasUsed);
}
// Hierarchical: every message's two-part proof, offline, and that only root groups anchored.
const aggregateValid = aggregatePaths.filter(({ gid, digest, inclusion }) => {
  const { batch, aggregate } = inclusion;
  if (batch === undefined || aggregate === undefined) return false;
  const path = { batchRoot: batch.root, batchMessageCount: batch.size, batchProof: batch.proof, aggregateGid: aggregate.gid, aggregateRoot: aggregate.root, aggregateProof: aggregate.proof };
  return verifyAggregatePath({ gid, digest, path }) && clustering.roots.some((root) => gidOf(root).toLowerCase() === aggregate.gid.toLowerCase());
}).length;
const assocTxs = new Map<Hash, number>();
for (const run of runs) {
  const status = await run.client.associationStatus();
  if (status.txHash !== undefined) assocTxs.set(status.txHash, (assocTxs.get(status.txHash) ?? 0) + 1);
}
for (const [hash, devicesInTx] of assocTxs) {
  const receipt = await publicClient.getTransactionReceipt({ hash });
  recordGas("device association relayed by its gateway (per device)", receipt.gasUsed, devicesInTx);
}

// 5. Peers check each other's AuthTable paths offline, against state fetched from chain.
const allGids = clustering.clusters.map((cluster) => gidOf(cluster.head));
const trustedRoots = clustering.roots.map(gidOf);
for (const run of runs) run.path = await run.client.getAuthPath();
const verifyPeers = async () => {
  const trusted = await fetchTrustedState(publicClient as ReadClient, { registry, gids: allGids, trustedRoots });
  const verifyStarted = performance.now();
  const verdicts = runs.map((run) => ({ run, ...verifyAuthPath(run.path!, trusted) }));
  return { verdicts, msPerPath: (performance.now() - verifyStarted) / runs.length };
};
const before = await verifyPeers();
const validBefore = before.verdicts.filter((verdict) => verdict.status === "Valid").length;
console.log(`\nAuthTable paths checked offline by peers: ${validBefore}/${runs.length} Valid (${before.msPerPath.toFixed(2)} ms per path)`);

// 6. Revoke one cluster head: its members' paths break, the others' do not.
const victim = clustersWithDevices[0];
const victimParent = clustering.headOf[victim.head];
if (victimParent !== undefined) {
  const multisig = multisigs.get(victimParent);
  if (multisig === undefined) await mined("revoke a cluster head (by its parent Master)", revoke(walletOf(victimParent), { registry, gid: gidOf(victimParent), oid: oidOf(victim.head) }));
  else await mined("revoke a cluster head (by the multisig)", multisig.callRegistry(walletOf("deployer"), registry, "revoke", [gidOf(victimParent), oidOf(victim.head)]));
}
const after = await verifyPeers();
const broken = after.verdicts.filter((verdict) => verdict.run.head === victim.head);
const untouched = after.verdicts.filter((verdict) => verdict.run.head !== victim.head);
console.log(
  `Revoked cluster head ${victim.head}: its ${broken.length} members' paths now ${[...new Set(broken.map((verdict) => `${verdict.status} at step ${verdict.failedStep}`))].join(", ")}; ` +
    `the other ${untouched.length} still ${[...new Set(untouched.map((verdict) => verdict.status))].join(", ")}`,
);
// The registry cut the revoked head off as a Master: its gateway sees it and stops anchoring.
type Health = { status: string; standing: { gid: Hex; status: string }[] };
let victimStanding = "not revoked (root group)";
if (victimParent !== undefined) {
  const giveUpAt = Date.now() + 20_000;
  for (;;) {
    const health = (await (await fetch(`${gateways.get(victim.head)!.adminUrl}/health/ready`)).json()) as Health;
    victimStanding = health.standing.find((group) => group.gid === gidOf(victim.head))?.status ?? "unknown";
    if (victimStanding !== "ok" || Date.now() > giveUpAt) break;
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  console.log(`Its gateway's /health/ready: ${victimStanding} — anchoring held, acknowledged messages kept`);
}

for (const gateway of gateways.values()) await gateway.close();
await closeChain();
rmSync(workDir, { recursive: true, force: true });

// ------------------------------------------------------------------------------------ summary

const sizes = runs.map((run) => authPathSize(run.path!)).sort((a, b) => a - b);
const authTimes = runs.map((run) => run.authMs).sort((a, b) => a - b);
const messages = runs.reduce((sum, run) => sum + run.receipts.length, 0);
const ok =
  validBefore === runs.length &&
  broken.every((verdict) => verdict.status !== "Valid") &&
  untouched.every((verdict) => verdict.status === "Valid") &&
  progress.anchored === messages &&
  (!hierarchical || aggregateValid === messages) &&
  (victimParent === undefined || victimStanding === "GroupRegistryMasterRevoked");
const totalSeconds = seconds(started);

const gasRows = gas.map((row) => ({ ...row, perOperation: Number(row.gas / BigInt(row.count)) }));
const summary = [
  `# iomt-auth scenario summary`,
  ``,
  `${ok ? "Everything checked out." : "**Something did not check out; see below.**"} Chain: ${flags.rpc === undefined ? "Hardhat in-process network" : flags.rpc} (chain id ${chainId}), registry build ${evmTarget}, seed ${seed}.`,
  ``,
  `## What happened`,
  ``,
  `- Planned ${field.length} devices in ${FIELD} m × ${FIELD} m (range ${RANGE} m) with Al Ahmed et al.'s Algorithm 1: ${clustering.levelTwoHeads.length} level-2 head, ${clustering.levelOneHeads.length} level-1 heads, ${clustering.nodes.length} nodes (${planMs.toFixed(1)} ms).`,
  `- Deployed the registry and built the hierarchy: ${clustering.clusters.length} groups, ${heads.length - clustering.roots.length} cluster heads associated with their parents (${buildSeconds.toFixed(1)} s).`,
  `- Started ${gateways.size} gateways on loopback, one per cluster head ${hierarchical ? "(hierarchical anchoring: the level-1 heads' gateways hand their batch roots to their level-2 head's)" : "with devices"}.`,
  ...(multisigs.size === 0 ? [] : [`- Root groups mastered by the 2-of-3 test multisig (${[...multisigs.values()].map((multisig) => multisig.address).join(", ")}): it created them, approved the tokens of the cluster heads below (ERC-1271) and revoked one.`]),
  `- ${runs.length} devices (${p256Devices.size} with a P-256 key, ${runs.length - p256Devices.size} with a secp256k1 key) ran keySession → getTicket → assoc → data over HTTP: ${messages} messages acknowledged (${onboardSeconds.toFixed(1)} s).`,
  hierarchical
    ? `- Hierarchical anchoring: all ${progress.anchored} messages anchored on chain in ${anchorTxs.size} transactions of the root groups' gateways (aggregates over ${gateways.size - clustering.roots.length} cluster gateways' batch roots; ${anchorSeconds.toFixed(1)} s after the last message); ${aggregateValid} of ${messages} two-part proofs (batch + aggregate, anchored by a root group) check out offline.`
    : `- All ${progress.anchored} messages anchored on chain in ${anchorTxs.size} batches (${anchorSeconds.toFixed(1)} s after the last message).`,
  `- Peers verified ${runs.length} AuthTable paths offline: ${validBefore} Valid.`,
  `- Revoked cluster head ${victim.head}: its ${broken.length} members' paths now fail (${[...new Set(broken.map((verdict) => verdict.status))].join(", ")}); the other ${untouched.length} stay ${[...new Set(untouched.map((verdict) => verdict.status))].join(", ")}. Its gateway reports ${victimStanding} and holds anchoring.`,
  ``,
  `## Gas per operation`,
  ``,
  `| operation | count | gas each (mean) |`,
  `| --- | ---: | ---: |`,
  ...gasRows.map((row) => `| ${row.operation} | ${row.count} | ${row.perOperation.toLocaleString("en-US")} |`),
  ``,
  `## Times`,
  ``,
  `| step | time |`,
  `| --- | ---: |`,
  `| plan clusters | ${planMs.toFixed(1)} ms |`,
  `| deploy + build the hierarchy | ${buildSeconds.toFixed(1)} s |`,
  `| authenticate a device (keySession → associated), median / max | ${median(authTimes).toFixed(0)} ms / ${authTimes[authTimes.length - 1].toFixed(0)} ms |`,
  `| verify a peer's path offline | ${before.msPerPath.toFixed(2)} ms |`,
  `| whole scenario | ${totalSeconds.toFixed(1)} s |`,
  ``,
  `## Sizes`,
  ``,
  `- AuthTable path a device presents: ${sizes[0]}–${sizes[sizes.length - 1]} bytes (median ${median(sizes)}).`,
  `- Token: 149 bytes.`,
  ``,
  `![gas](gas.svg) ![authentication time](auth-time.svg) ![path sizes](path-size.svg)`,
  ``,
].join("\n");

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "summary.md"), summary);
// Linear axes. An operation over 5× the next largest (the one-off deployment) would flatten every
// other bar: it is named in the subtitle instead of drawn.
const byGas = [...gasRows].sort((a, b) => b.perOperation - a.perOperation);
const outliers = byGas.length > 1 && byGas[0].perOperation > 5 * byGas[1].perOperation ? [byGas[0]] : [];
const drawn = gasRows.filter((row) => !outliers.includes(row));
const gasSubtitle = `Mean per operation${outliers.map((row) => `; not drawn: ${row.operation}, ${row.perOperation.toLocaleString("en-US")} gas ×${row.count}`).join("")}`;
writeFileSync(join(outDir, "gas.svg"), await renderSvg(barChart({ title: "Gas per operation", subtitle: gasSubtitle, bars: drawn.map((row) => ({ label: `${row.operation} ×${row.count}`, value: row.perOperation })), valueTitle: "gas" })));
writeFileSync(join(outDir, "auth-time.svg"), await renderSvg(distributionChart({ title: "Time to authenticate a device (keySession → associated)", subtitle: `${runs.length} devices`, values: authTimes, valueTitle: "milliseconds", unit: "ms" })));
writeFileSync(join(outDir, "path-size.svg"), await renderSvg(distributionChart({ title: "AuthTable path size per device", subtitle: `${runs.length} devices; compact encoding`, values: sizes, valueTitle: "bytes", unit: "B", discrete: true })));

console.log(`\nGas per operation (mean):`);
for (const row of gasRows) console.log(`  ${row.operation.padEnd(68)} ${row.perOperation.toLocaleString("en-US").padStart(10)} gas  ×${row.count}`);
console.log(`\nDevice authentication ${median(authTimes).toFixed(0)} ms median; paths ${sizes[0]}–${sizes[sizes.length - 1]} B; ${messages} messages in ${anchorTxs.size} batches; ${totalSeconds.toFixed(1)} s in all.`);
console.log(`Summary written to ${outDir}/ (summary.md, gas.svg, auth-time.svg, path-size.svg)`);
if (!ok) {
  console.error("scenario: a check failed (see the summary)");
  process.exitCode = 1;
}
