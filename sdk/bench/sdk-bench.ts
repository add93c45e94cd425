// Micro-benchmarks of the SDK's off-chain work, with tinybench: median µs/op and ops/s over many
// timed runs after a warm-up, for the device-side operations (sign an association request, sign a
// data message, verify a peer's AuthTable path) and the Master / gateway / verifier side (tokens,
// message checks, path building, clustering, rebuilding an AuthTable from logs). Prints a table,
// the proof and message sizes in bytes, and the papers' own figures beside ours. Writes nothing.
//
//   ./iomt bench:sdk        (= npx hardhat run sdk/bench/sdk-bench.ts)
//
// Inputs are deterministic (seeded, inputs.ts); only the timings vary between runs. No chain is involved:
// the AuthTable rebuild reads 10,000 synthetic DeviceAssociated logs through a custom viem
// transport, so it times the indexer (JSON decoding, log decoding, auth-chain checks, tree) and
// not a node.
//
// Before and after in one run: the hot paths (AuthTable rebuild, path verification and building,
// appending a block, signing a data message) are also timed on the SDK as it was at a baseline
// commit — its sdk/src extracted with `git archive` into sdk/bench/.baseline/ (git-ignored; baseline.ts) and
// imported beside the current one — and the table of ratios compares the two, measured back to
// back. IOMT_BENCH_BASELINE=<commit> picks the baseline (default 668f328, the SDK before the
// byte-level hashing and the native signer); IOMT_BENCH_BASELINE=none skips it.
// Data-message signing is timed on every path the SDK has: a viem account (pure JS, through
// viem's typed-data encoder), privateKeyToSecp256k1Signer with the pure-JS backend, and with
// libsecp256k1 where the optional `secp256k1` binding loads (the bench says whether it did).
// Everything above runs on the SDK's default keccak-256, noble's pure JS (what a browser or a
// device gets); the hot paths that hash most (rebuild, verify, append) are then timed again on
// every keccak backend that loads, interleaved: noble's, hash-wasm's WebAssembly as
// `useWasmKeccak256()` (@iomt-auth/sdk/wasm-keccak) installs it, and the `keccak` package's native
// addon as `useNativeKeccak256()` (@iomt-auth/sdk/native-keccak) installs it.
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeFunctionData, hexToBytes, toHex, zeroHash, type Hex } from "viem";
import { formClusters } from "../src/clustering.js";
import {
  authEntryHash,
  authLeaf,
  authPathSize,
  createAuthTableIndexer,
  createDataMessage,
  randomSalt,
  encodeAuthPath,
  groupId,
  iomtRegistryAbi,
  issueToken,
  registryDomain,
  serializeToken,
  SERIALIZED_TOKEN_BYTES,
  signAssociation,
  signDataMessage,
  toId,
  verifyAuthPath,
  verifyDataMessage,
  verifyToken,
  privateKeyToSecp256k1Signer,
  acceptClientHello,
  completeHandshake,
  createClientHello,
  gatewayRoutes,
  sealRequest,
  toWireDataMessage,
  type AuthPath,
  type Session,
  type SignedAssociation,
  type SignedDataMessage,
} from "../src/index.js";
import type { ByteHash } from "../src/hash.js";
import { keccak256Bytes, setKeccak256Backend } from "../src/keccak.js";
import { loadNativeKeccak256 } from "../src/native-keccak.js";
import { loadWasmKeccak256 } from "../src/wasm-keccak.js";
import { loadNativeSecp256k1 } from "../src/native-secp256k1.js";
import { buildGroup } from "../test/support/synthetic-group.js";
import { loadBaseline } from "./baseline.js";
import { account, address, buildHierarchy, label, LOGS_PER_BLOCK, nthAddress, randomField, randomIndex, REGISTRY, syntheticRegistryLogs } from "./inputs.js";
import { batched, fmt, fmtInt, interleaved, medianMs, runBench, table, type Row } from "./timing.js";

const DEVICE_BUDGET_MS = 0.5;

// ------------------------------------------------------------------ setup (not timed)

/** A dependency's version, from the package.json above its entry point (some packages do not export it). */
const versionOf = (name: string): string => {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(name)));
    for (; dir !== dirname(dir); dir = dirname(dir)) {
      const manifest = join(dir, "package.json");
      if (existsSync(manifest)) {
        const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
        if (parsed.name === name && parsed.version !== undefined) return parsed.version;
      }
    }
  } catch {
    // fall through
  }
  return "?";
};

const baselineRef = process.env.IOMT_BENCH_BASELINE ?? "668f328";
const baselineLoad = baselineRef === "none" ? { reason: "IOMT_BENCH_BASELINE=none" } : await loadBaseline(baselineRef);
const baseline = "sdk" in baselineLoad ? baselineLoad : undefined;
const native = loadNativeSecp256k1();
const nativeKeccak = loadNativeKeccak256();
const wasmKeccak = await loadWasmKeccak256();

console.log("iomt-auth SDK benchmark (tinybench " + versionOf("tinybench") + ", timer: process.hrtime)");
console.log(`machine: ${cpus()[0]?.model ?? "unknown CPU"} × ${cpus().length}, Node ${process.versions.node}, viem ${versionOf("viem")}`);
console.log(
  baseline !== undefined
    ? `baseline: the SDK at commit ${baseline.commit} (IOMT_BENCH_BASELINE=${baselineRef}), timed beside the current one`
    : `baseline: none (${"reason" in baselineLoad ? baselineLoad.reason : ""})`,
);
console.log(
  native !== undefined
    ? `native signing: libsecp256k1 loaded (secp256k1 ${versionOf("secp256k1")}, its binding checked against the pure-JS signer)`
    : "native signing: the secp256k1 binding does not load here; only the pure-JS paths are timed",
);
console.log(
  nativeKeccak !== undefined
    ? `native keccak: the keccak addon loaded (keccak ${versionOf("keccak")}, checked against noble); the hot paths are also timed on it`
    : "native keccak: the keccak addon does not load here",
);
console.log(
  wasmKeccak !== undefined
    ? `WebAssembly keccak: hash-wasm ${versionOf("hash-wasm")} compiled (checked against noble); the hot paths are also timed on it`
    : "WebAssembly keccak: hash-wasm's module does not compile here",
);
console.log("every row before the keccak backends' table hashes with noble's pure JS (the SDK's default)");
console.log("setting up inputs (AuthTable groups of 1k and 100k leaves, 10k synthetic logs, clustering fields)…");
const setupStart = performance.now();

const chainId = 31337;
const registry = address("bench-registry");
const domain = registryDomain({ chainId, registry });
const master = account("master");
const device = account("device");
const gid = groupId({ chainId, registry, creator: master.address, label: "ward-3" });
const oid = toId("ward-3/ecg-1");
const token = await issueToken(master, { gid, oid, device: device.address });
const tokenDevices = Array.from({ length: 64 }, (_, i) => address(`token-device-${i}`));
const deadline = 2_000_000_000n;
const message = createDataMessage({ gid, oid, nonce: 1n, payload: '{"hr":72}', salt: randomSalt(), timestamp: 1_700_000_000n, deadline });
const signedMessage = await signDataMessage(device, { domain, message });
const deviceKey = label("key:device");
const nobleDevice = privateKeyToSecp256k1Signer(deviceKey);
const nativeDevice = native === undefined ? undefined : privateKeyToSecp256k1Signer(deviceKey, { backend: native });
for (const signer of [nobleDevice, nativeDevice]) {
  if (signer === undefined) continue;
  const signed = await signDataMessage(signer, { domain, message });
  if (signed.signature !== signedMessage.signature) throw new Error(`setup: the ${signer.backend} signer's data message signature differs from the viem account's`);
}
const association = await signAssociation(device, { domain, token, deadline });

const hierarchies = { "1k": buildHierarchy(1_000), "100k": buildHierarchy(100_000) };
const samplePaths = {
  "1k": Array.from({ length: 64 }, () => hierarchies["1k"].path(randomIndex(1_000))),
  "100k": Array.from({ length: 64 }, () => hierarchies["100k"].path(randomIndex(100_000))),
};
for (const [size, paths] of Object.entries(samplePaths)) {
  const { trusted } = hierarchies[size as keyof typeof hierarchies];
  for (const path of paths) {
    const { status } = verifyAuthPath(path, trusted);
    if (status !== "Valid") throw new Error(`setup: a ${size} path does not verify (${status})`);
  }
}

const FIELD = 150;
const RANGE = 30;
const field135 = randomField(135, FIELD, 3);
const side10k = FIELD * Math.sqrt(10_000 / 135);
const field10k = randomField(10_000, side10k, 42);
const clusters135 = formClusters({ nodes: field135, range: RANGE });
const clusters10k = formClusters({ nodes: field10k, range: RANGE });

const LOG_COUNT = 10_000;
const logs = syntheticRegistryLogs(LOG_COUNT);
{
  const indexer = createAuthTableIndexer(logs.client, { registry: REGISTRY });
  const synced = await indexer.sync();
  const group = indexer.group(logs.gid);
  if (synced.logs !== LOG_COUNT + 1 || group?.chainHead !== logs.finalHead || group.tree.size !== LOG_COUNT) {
    throw new Error(`setup: the synthetic logs did not rebuild the AuthTable (${synced.logs} logs)`);
  }
}

if (baseline !== undefined) {
  const indexer = baseline.sdk.createAuthTableIndexer(logs.client, { registry: REGISTRY });
  await indexer.sync();
  const group = indexer.group(logs.gid);
  const current = createAuthTableIndexer(logs.client, { registry: REGISTRY });
  await current.sync();
  if (JSON.stringify(indexer.checkpoint()) !== JSON.stringify(current.checkpoint()) || group?.tree.root !== current.group(logs.gid)?.tree.root) {
    throw new Error("setup: the baseline and the current indexer rebuild different states");
  }
  for (const [size, paths] of Object.entries(samplePaths)) {
    const { trusted } = hierarchies[size as keyof typeof hierarchies];
    for (const path of paths) {
      if (baseline.sdk.verifyAuthPath(path, trusted).status !== "Valid") throw new Error(`setup: the baseline does not verify a ${size} path`);
    }
  }
}

/** The baseline's own trees over the same leaves, for timing its path building. */
const baselineTrees =
  baseline === undefined
    ? undefined
    : Object.fromEntries(
        Object.entries(hierarchies).map(([size, { cluster, root }]) => {
          const leavesOf = (tree: typeof cluster.tree) => Array.from({ length: tree.size }, (_, i) => tree.leaf(i));
          return [size, { cluster: baseline.sdk.AuthTree.from(leavesOf(cluster.tree)), root: baseline.sdk.AuthTree.from(leavesOf(root.tree)) }];
        }),
      );
/** What the baseline's tree gives for `getAuthPath` of leaf `index` (the same steps as `hierarchies[size].path`). */
const baselinePath = (size: keyof typeof hierarchies, index: number): AuthPath => {
  const { cluster, root, headIndex } = hierarchies[size];
  const trees = baselineTrees![size];
  return [
    { gid: cluster.gid, entry: { ...cluster.entries[index] }, leafCount: trees.cluster.size, proof: trees.cluster.proof(index), consistency: [] },
    { gid: root.gid, entry: { ...root.entries[headIndex] }, leafCount: trees.root.size, proof: trees.root.proof(headIndex), consistency: [] },
  ];
};
if (baselineTrees !== undefined) {
  for (const size of ["1k", "100k"] as const) {
    for (const index of [0, 1, 499, 998]) {
      if (JSON.stringify(baselinePath(size, index)) !== JSON.stringify(hierarchies[size].path(index))) throw new Error(`setup: the baseline builds another ${size} path for leaf ${index}`);
    }
  }
}

// The growing tree of the "append one AuthTable block" task: starts at 10k leaves, like the rebuilt group.
const appendGroup = buildGroup("append", zeroHash, zeroHash, address("append-master"), Array.from({ length: 10_000 }, (_, i) => nthAddress(9, i)));
const appendDevices = Array.from({ length: 1024 }, (_, i) => address(`append-device-${i}`));
let appendHead = appendGroup.head;
let appendIndex = appendGroup.tree.size;
// The baseline's own growing tree, from the same 10k leaves.
const baselineAppend = baseline === undefined ? undefined : { tree: baseline.sdk.AuthTree.from(Array.from({ length: appendGroup.tree.size }, (_, i) => appendGroup.tree.leaf(i))), head: appendGroup.head, index: appendGroup.tree.size };
console.log(`setup done in ${fmt((performance.now() - setupStart) / 1000)} s; timing…\n`);

// ------------------------------------------------------------------ the timed operations

let rotate = 0;
const next = <T>(list: readonly T[]): T => list[rotate++ % list.length];

/** Every operation of the main table, in the order timed. */
const rows: Row[] = [];
rows.push(...await runBench({ time: 1_000, iterations: 200, warmupTime: 250, warmupIterations: 20 }, [
  { name: "issue token (Master signs EIP-191)", who: "Master", deviceSide: false, fn: () => issueToken(master, { gid, oid, device: next(tokenDevices) }) },
  { name: "verify token (recover Master)", who: "Master / verifier", deviceSide: false, fn: () => verifyToken({ token, master: master.address }) },
  { name: "sign association (EIP-712)", who: "device", deviceSide: true, fn: () => signAssociation(device, { domain, token, deadline }) },
  {
    name: "sign data message (create + EIP-712 sign)",
    who: "device",
    deviceSide: true,
    fn: () => signDataMessage(device, { domain, message: createDataMessage({ gid, oid, nonce: BigInt(rotate++), payload: '{"hr":72}', salt: randomSalt() }) }),
  },
  {
    name: "sign data message: secp256k1 signer, pure JS (noble)",
    who: "device",
    deviceSide: true,
    fn: () => signDataMessage(nobleDevice, { domain, message: createDataMessage({ gid, oid, nonce: BigInt(rotate++), payload: '{"hr":72}', salt: randomSalt() }) }),
  },
  ...(nativeDevice === undefined
    ? []
    : [
        {
          name: "sign data message: secp256k1 signer, native (libsecp256k1)",
          who: "device",
          deviceSide: true,
          fn: () => signDataMessage(nativeDevice, { domain, message: createDataMessage({ gid, oid, nonce: BigInt(rotate++), payload: '{"hr":72}', salt: randomSalt() }) }),
        },
      ]),
  { name: "verify data message (recover device)", who: "Master / relayer", deviceSide: false, fn: () => verifyDataMessage({ domain, signed: signedMessage, device: device.address }) },
]));

rows.push(...await runBench({ time: 1_000, iterations: 200, warmupTime: 250, warmupIterations: 20 }, [
  { name: "build path, 1k-leaf group (2 steps)", who: "indexer / gateway", deviceSide: false, fn: batched(100, () => hierarchies["1k"].path(randomIndex(1_000))) },
  { name: "build path, 100k-leaf group (2 steps)", who: "indexer / gateway", deviceSide: false, fn: batched(100, () => hierarchies["100k"].path(randomIndex(100_000))) },
  { name: "verify path, 1k-leaf group (2 steps)", who: "peer device / verifier", deviceSide: true, fn: () => verifyAuthPath(next(samplePaths["1k"]), hierarchies["1k"].trusted) },
  { name: "verify path, 100k-leaf group (2 steps)", who: "peer device / verifier", deviceSide: true, fn: () => verifyAuthPath(next(samplePaths["100k"]), hierarchies["100k"].trusted) },
  {
    name: "append one AuthTable block (chain hash + leaf + tree)",
    who: "Master / indexer",
    deviceSide: false,
    fn: () => {
      const device = next(appendDevices);
      appendHead = authEntryHash(appendHead, appendIndex, device, appendGroup.master, toId(appendIndex + 1));
      appendGroup.tree.append(authLeaf({ device, master: appendGroup.master, index: appendIndex++, entryHash: appendHead }));
    },
  },
]));

rows.push(...await runBench({ time: 2_000, iterations: 30, warmupTime: 500, warmupIterations: 5 }, [
  { name: `formClusters, 135 nodes (${FIELD} m × ${FIELD} m, range ${RANGE} m)`, who: "planner / hospital", deviceSide: false, fn: () => formClusters({ nodes: field135, range: RANGE }) },
  { name: `formClusters, 10,000 nodes (${fmtInt(side10k)} m × ${fmtInt(side10k)} m, range ${RANGE} m)`, who: "planner / hospital", deviceSide: false, fn: () => formClusters({ nodes: field10k, range: RANGE }) },
]));

rows.push(...await runBench({ time: 1, iterations: 7, warmupTime: 1, warmupIterations: 1 }, [
  {
    name: `rebuild AuthTable from ${fmtInt(LOG_COUNT)} association logs (indexer.sync)`,
    who: "verifier / gateway",
    deviceSide: false,
    fn: () => createAuthTableIndexer(logs.client, { registry: REGISTRY }).sync(),
  },
]));

// ------------------------------------------------------------------ results

const body = rows.map(({ task, deviceSide, who }) => {
  const ms = medianMs(task);
  const under = ms < DEVICE_BUDGET_MS;
  const opsPerSecond = 1000 / ms;
  return [task.name, fmt(ms * 1000, ms < 0.01 ? 2 : 1), opsPerSecond < 100 ? fmt(opsPerSecond, 2) : fmtInt(opsPerSecond), deviceSide ? "yes" : `no (${who})`, deviceSide ? (under ? "yes" : "NO") : under ? "(yes)" : "(no)", String(task.result.state === "completed" ? task.result.latency.samplesCount : 0)];
});
console.log(table(["operation", "median µs/op", "ops/s", "device-side?", "under 0.5 ms?", "samples"], body, [false, true, true, false, false, true]));
const deviceOver = rows.filter((row) => row.deviceSide && !row.task.name.includes("[baseline") && medianMs(row.task) >= DEVICE_BUDGET_MS);
console.log(
  `\nops/s = 1 / median. Device-side aim: every device-side operation under ${DEVICE_BUDGET_MS} ms here — ` +
    (deviceOver.length === 0 ? "met." : `missed by: ${deviceOver.map((row) => row.task.name).join(", ")}.`) +
    " Parenthesised yes/no: not device-side, shown for reference.",
);
console.log(
  `Fields: 135 nodes on the paper's ${FIELD} m × ${FIELD} m field, and 10,000 nodes at the same density; range (Dpreset) ${RANGE} m. ` +
    `Clusters: 135 nodes → ${clusters135.levelTwoHeads.length} level-2 + ${clusters135.levelOneHeads.length} level-1 heads; ` +
    `10,000 nodes → ${clusters10k.levelTwoHeads.length} level-2 + ${clusters10k.levelOneHeads.length} level-1 heads.`,
);
console.log(
  `AuthTable rebuild: ${fmtInt(LOG_COUNT)} synthetic DeviceAssociated logs (+1 GroupCreated), ${LOGS_PER_BLOCK} per block, correct auth chain, ` +
    "served by a custom viem transport (JSON-decoded per request); times createAuthTableIndexer(…).sync() end to end: log decoding, auth-chain checks, leaves and tree. No node or network.",
);

// ------------------------------------------------------------------ before and after, in this run


const signingPaths = [
  { name: "sign data message: viem account (pure JS, viem's typed-data encoder)", signer: device },
  { name: "sign data message: secp256k1 signer, pure JS (noble)", signer: nobleDevice },
  ...(nativeDevice === undefined ? [] : [{ name: "sign data message: secp256k1 signer, native (libsecp256k1)", signer: nativeDevice }]),
];
const newMessage = () => createDataMessage({ gid, oid, nonce: BigInt(rotate++), payload: '{"hr":72}', salt: randomSalt() });

/** The device's side of a session established by a real handshake with the Master, for sealing requests. */
async function deviceSession(): Promise<Session> {
  const context = { chainId, registry, gid };
  const { clientHello, state } = createClientHello({ account: device, master: master.address, context });
  const { serverHello } = await acceptClientHello({ account: master, clientHello, context });
  return (await completeHandshake({ account: device, state, serverHello })).session;
}

if (baseline !== undefined && baselineAppend !== undefined) {
  const b = baseline.sdk;
  // What a device seals for each data request: ten signed messages with their readings and salts
  // (noble's AES-GCM and SHA-256, the SDK's defaults). One session each, so each counter is its own.
  const readingSalt = randomSalt();
  const reading = createDataMessage({ gid, oid, nonce: 1n, payload: '{"hr":72}', salt: readingSalt, timestamp: 1_700_000_000n, deadline });
  const wireMessage = { message: toWireDataMessage(reading), signature: (await signDataMessage(device, { domain, message: reading })).signature, payload: toHex('{"hr":72}'), salt: readingSalt };
  const dataRequest = { messages: Array.from({ length: 10 }, () => wireMessage) };
  const [sealingBefore, sealingAfter] = [await deviceSession(), await deviceSession()];
  console.log(`\nBefore and after, interleaved in this run (the SDK at ${baseline.commit}, then this tree; slices of each in turn, median of the slices' medians)…`);
  const comparisons: { after: string; before: string; afterFn: () => unknown; beforeFn: () => unknown; inner?: number; rounds?: number }[] = [
    {
      after: `rebuild AuthTable from ${fmtInt(LOG_COUNT)} association logs (indexer.sync)`,
      before: "rebuild (before)",
      afterFn: () => createAuthTableIndexer(logs.client, { registry: REGISTRY }).sync(),
      beforeFn: () => b.createAuthTableIndexer(logs.client, { registry: REGISTRY }).sync(),
      rounds: 5,
    },
    { after: "verify path, 1k-leaf group (2 steps)", before: "verify 1k (before)", afterFn: () => verifyAuthPath(next(samplePaths["1k"]), hierarchies["1k"].trusted), beforeFn: () => b.verifyAuthPath(next(samplePaths["1k"]), hierarchies["1k"].trusted), inner: 20 },
    { after: "verify path, 100k-leaf group (2 steps)", before: "verify 100k (before)", afterFn: () => verifyAuthPath(next(samplePaths["100k"]), hierarchies["100k"].trusted), beforeFn: () => b.verifyAuthPath(next(samplePaths["100k"]), hierarchies["100k"].trusted), inner: 20 },
    { after: "build path, 1k-leaf group (2 steps)", before: "build 1k (before)", afterFn: () => hierarchies["1k"].path(randomIndex(1_000)), beforeFn: () => baselinePath("1k", randomIndex(1_000)), inner: 200 },
    { after: "build path, 100k-leaf group (2 steps)", before: "build 100k (before)", afterFn: () => hierarchies["100k"].path(randomIndex(100_000)), beforeFn: () => baselinePath("100k", randomIndex(100_000)), inner: 200 },
    {
      after: "append one AuthTable block (chain hash + leaf + tree)",
      before: "append (before)",
      afterFn: () => {
        const device = next(appendDevices);
        appendHead = authEntryHash(appendHead, appendIndex, device, appendGroup.master, toId(appendIndex + 1));
        appendGroup.tree.append(authLeaf({ device, master: appendGroup.master, index: appendIndex++, entryHash: appendHead }));
      },
      beforeFn: () => {
        const device = next(appendDevices);
        baselineAppend.head = b.authEntryHash(baselineAppend.head, baselineAppend.index, device, appendGroup.master, toId(baselineAppend.index + 1));
        baselineAppend.tree.append(b.authLeaf({ device, master: appendGroup.master, index: baselineAppend.index++, entryHash: baselineAppend.head }));
      },
      inner: 20,
    },
    {
      after: "seal a data request of 10 messages (sealRequest: record and binding)",
      before: "seal (before)",
      afterFn: () => sealRequest(sealingAfter, gatewayRoutes.data, dataRequest),
      beforeFn: () => b.sealRequest(sealingBefore, gatewayRoutes.data, dataRequest),
      inner: 10,
    },
  ];
  const body: string[][] = [];
  for (const { after, before, afterFn, beforeFn, inner, rounds } of comparisons) {
    const timed = await interleaved([{ name: before, fn: beforeFn, inner }, { name: after, fn: afterFn, inner }], rounds ?? 9, 150);
    const [beforeUs, afterUs] = [timed.get(before)!, timed.get(after)!];
    const perSecond = after.startsWith("rebuild") ? ` (${fmtInt((LOG_COUNT / beforeUs) * 1e6)} → ${fmtInt((LOG_COUNT / afterUs) * 1e6)} logs/s)` : "";
    body.push([after, fmt(beforeUs, beforeUs < 10 ? 2 : 1), fmt(afterUs, afterUs < 10 ? 2 : 1), `${fmt(beforeUs / afterUs, 2)}×${perSecond}`]);
  }
  const beforeSigning = "sign data message: viem account, SDK before";
  const signing = await interleaved(
    [
      { name: beforeSigning, fn: () => b.signDataMessage(device, { domain, message: b.createDataMessage({ gid, oid, nonce: BigInt(rotate++), payload: '{"hr":72}', salt: b.randomSalt() }) }) },
      ...signingPaths.map(({ name, signer }) => ({ name, fn: () => signDataMessage(signer, { domain, message: newMessage() }) })),
    ],
    9,
    200,
  );
  for (const { name } of signingPaths) {
    const [beforeUs, afterUs] = [signing.get(beforeSigning)!, signing.get(name)!];
    body.push([`${name} (create + sign)`, fmt(beforeUs), fmt(afterUs), `${fmt(beforeUs / afterUs, 2)}×`]);
  }
  console.log(`\nBefore (the SDK at ${baseline.commit}) and after (this tree), interleaved in this run; ratio = before / after (higher is faster)\n`);
  console.log(table(["operation (after)", "before µs/op", "after µs/op", "ratio"], body, [false, true, true, false]));
  const nativeUs = signing.get(signingPaths[2]?.name ?? "");
  if (nativeUs !== undefined) {
    const [viemUs, nobleUs] = [signing.get(signingPaths[0].name)!, signing.get(signingPaths[1].name)!];
    console.log(
      `\nData-message signing, create + sign, interleaved: viem account ${fmt(viemUs)} µs, pure-JS signer ${fmt(nobleUs)} µs, native signer ${fmt(nativeUs)} µs ` +
        `(native: ${fmt(viemUs / nativeUs, 2)}× the viem account, ${fmt(nobleUs / nativeUs, 2)}× the pure-JS signer; goal ≤ 100 µs: ${nativeUs <= 100 ? "met" : "missed"} here).`,
    );
  }
}

// ------------------------------------------------------------------ the keccak backends, in this run

const ISSUE_GOALS = { rebuildLogsPerSecond: 20_000, verifyUs: 100 };
/** The faster keccak backends that load here, each timed against noble's (the default) on the hot paths. */
const fasterKeccaks = [
  { name: "WebAssembly", hash: wasmKeccak },
  { name: "native", hash: nativeKeccak },
].filter((backend): backend is { name: string; hash: ByteHash } => backend.hash !== undefined);
if (fasterKeccaks.length > 0) {
  console.log(`\nKeccak backends, interleaved in this run (noble's pure JS, the default, and ${fasterKeccaks.map(({ name }) => name).join(" and ")}; slices of each in turn, median of the slices' medians)…`);
  /** `fn` on one keccak backend: set before every call, since the tasks take turns (undefined = noble's). */
  const on = (hash: ByteHash | undefined, fn: () => unknown) => () => {
    setKeccak256Backend(hash);
    return fn();
  };
  const pairInput = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff);
  const append = () => {
    const device = next(appendDevices);
    appendHead = authEntryHash(appendHead, appendIndex, device, appendGroup.master, toId(appendIndex + 1));
    appendGroup.tree.append(authLeaf({ device, master: appendGroup.master, index: appendIndex++, entryHash: appendHead }));
  };
  const hotPaths: { name: string; fn: () => unknown; inner?: number; rounds?: number }[] = [
    { name: `rebuild AuthTable from ${fmtInt(LOG_COUNT)} association logs (indexer.sync)`, fn: () => createAuthTableIndexer(logs.client, { registry: REGISTRY }).sync(), rounds: 5 },
    { name: "verify path, 1k-leaf group (2 steps)", fn: () => verifyAuthPath(next(samplePaths["1k"]), hierarchies["1k"].trusted), inner: 20 },
    { name: "verify path, 100k-leaf group (2 steps)", fn: () => verifyAuthPath(next(samplePaths["100k"]), hierarchies["100k"].trusted), inner: 20 },
    { name: "append one AuthTable block (chain hash + leaf + tree)", fn: append, inner: 20 },
    { name: "one keccak-256 of 64 bytes (a tree node's pair)", fn: () => keccak256Bytes(pairInput), inner: 200 },
  ];
  const backends = [{ name: "noble", hash: undefined }, ...fasterKeccaks];
  const body: string[][] = [];
  const goals: string[] = [];
  for (const { name, fn, inner, rounds } of hotPaths) {
    const timed = await interleaved(backends.map((backend) => ({ name: backend.name, fn: on(backend.hash, fn), inner })), rounds ?? 9, 150);
    const usOf = backends.map((backend) => timed.get(backend.name)!);
    const rebuild = name.startsWith("rebuild");
    const logsPerSecond = (us: number) => (LOG_COUNT / us) * 1e6;
    const cell = (us: number) => `${fmt(us, us < 10 ? 2 : 1)}${rebuild ? ` (${fmtInt(logsPerSecond(us))} logs/s)` : ""}`;
    body.push([name, ...usOf.map(cell), ...usOf.slice(1).map((us) => `${fmt(usOf[0] / us, 2)}×`)]);
    const met = (us: number) => (rebuild ? logsPerSecond(us) >= ISSUE_GOALS.rebuildLogsPerSecond : us < ISSUE_GOALS.verifyUs);
    const verdicts = backends.map((backend, i) => `${backend.name} ${met(usOf[i]) ? "met" : "missed"}`).join(", ");
    if (rebuild) goals.push(`rebuild ≥ ${fmtInt(ISSUE_GOALS.rebuildLogsPerSecond)} logs/s: ${verdicts}`);
    else if (name.startsWith("verify")) goals.push(`${name.slice("verify path, ".length, name.indexOf(" group"))} path verification < ${ISSUE_GOALS.verifyUs} µs: ${verdicts}`);
  }
  setKeccak256Backend(undefined);
  console.log("\nKeccak backends, interleaved in this run; ratio = noble / backend (higher: the backend is faster)\n");
  const headers = ["operation", ...backends.map(({ name }) => `${name} µs/op`), ...fasterKeccaks.map(({ name }) => `ratio, ${name}`)];
  console.log(table(headers, body, headers.map((_, i) => i > 0 && i <= backends.length)));
  console.log(`\nIssue goals here: ${goals.join("; ")}.`);
}

// ------------------------------------------------------------------ sizes

const hexBytes = (hex: Hex): number => hexToBytes(hex).length;
const largestPath = (paths: AuthPath[]) => paths.reduce((a, b) => (authPathSize(b) > authPathSize(a) ? b : a));
const path1k = largestPath(samplePaths["1k"]);
const path100k = largestPath(samplePaths["100k"]);
for (const path of [path1k, path100k]) {
  if (authPathSize(path) !== hexBytes(encodeAuthPath(path))) throw new Error("authPathSize disagrees with encodeAuthPath");
}
const serializedToken = serializeToken(token);
const signedAssociations: SignedAssociation[] = Array.from({ length: 100 }, () => association);
const signedMessages: SignedDataMessage[] = Array.from({ length: 100 }, () => signedMessage);
const calldata = {
  associateBySig: encodeFunctionData({ abi: iomtRegistryAbi, functionName: "associateBySig", args: [association.request, association.signature, association.token] }),
  recordDataBySig: encodeFunctionData({ abi: iomtRegistryAbi, functionName: "recordDataBySig", args: [signedMessage.message, signedMessage.signature] }),
  associateBatchBySig: encodeFunctionData({ abi: iomtRegistryAbi, functionName: "associateBatchBySig", args: [signedAssociations.map(({ request, signature, token }) => ({ request, signature, token }))] }),
  recordDataBatchBySig: encodeFunctionData({ abi: iomtRegistryAbi, functionName: "recordDataBatchBySig", args: [signedMessages.map(({ message, signature }) => ({ message, signature }))] }),
};
const steps = (path: AuthPath) => path.map((step) => step.proof.length).join(" + ");

console.log("\nSizes in bytes (proofs and the messages that carry them)\n");
console.log(
  table(
    ["item", "bytes"],
    [
      ["serialized token (gid ‖ oid ‖ device ‖ signature)", `${hexBytes(serializedToken)} (SERIALIZED_TOKEN_BYTES = ${SERIALIZED_TOKEN_BYTES})`],
      [`AuthTable path, 1k-leaf group under a root of 10 heads (siblings ${steps(path1k)}), encodeAuthPath`, String(authPathSize(path1k))],
      [`AuthTable path, 100k-leaf group under a root of 10 heads (siblings ${steps(path100k)}), encodeAuthPath`, String(authPathSize(path100k))],
      ["association request as relayed: associateBySig calldata", String(hexBytes(calldata.associateBySig))],
      ["data message as relayed: recordDataBySig calldata", String(hexBytes(calldata.recordDataBySig))],
      ["batch of 100 associations: associateBatchBySig calldata", `${fmtInt(hexBytes(calldata.associateBatchBySig))} (${fmt(hexBytes(calldata.associateBatchBySig) / 100)} per item)`],
      ["batch of 100 data messages: recordDataBatchBySig calldata", `${fmtInt(hexBytes(calldata.recordDataBatchBySig))} (${fmt(hexBytes(calldata.recordDataBatchBySig) / 100)} per item)`],
    ],
    [false, true],
  ),
);

// ------------------------------------------------------------------ the papers' figures beside ours

const ours = (name: string): number => medianMs(rows.find((row) => row.task.name.startsWith(name))!.task);
const rebuildMs = ours("rebuild AuthTable");
console.log("\nThe papers' figures beside ours (different machines and stacks: orders of magnitude, not a contest)\n");
console.log(
  table(
    ["figure", "paper", "here"],
    [
      ["association request prepared (Elhachmi & Kobbane, Table 2, i7-3770 laptop)", "1.03 ms", `${fmt(ours("sign association"), 3)} ms (sign association)`],
      ["data message prepared (Elhachmi & Kobbane, Table 2, i7-3770 laptop)", "0.13 ms", `${fmt(ours("sign data message"), 3)} ms (create + sign data message)`],
      [
        "block creation (Al Ahmed et al.: 0.031 s in Docker, 0.267 s on an i7 PC)",
        "31 ms / 267 ms",
        `${fmt(ours("append one AuthTable block"), 3)} ms to append one AuthTable block off chain; ${fmt(rebuildMs / LOG_COUNT, 3)} ms per association in a full rebuild (no consensus, no mining)`,
      ],
      [
        "largest consensus message (Al Ahmed et al.)",
        "3.9 KB",
        `${fmtInt(authPathSize(path100k))} B: a device's 2-step path over a 100k-leaf group; ${fmtInt(hexBytes(calldata.associateBySig))} B one relayed association; ` +
          `${fmt(hexBytes(calldata.associateBatchBySig) / 1024)} KB a 100-association batch transaction`,
      ],
    ],
    [false, true, false],
  ),
);
console.log("\nThe paper figures include what is not measured here (Al Ahmed et al.'s block creation includes its blockchain's consensus); ours are the SDK's off-chain work only.");
