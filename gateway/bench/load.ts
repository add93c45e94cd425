// Load benchmark of the gateway (figures, not a test): the servers measured in one run on the same
// machine, with the same devices and pre-signed messages — (a) the landed gateway, this repository
// at the revision before the first change made for throughput (baseline.ts builds it once; another
// with --baseline REV); (a′) this gateway with `verifierThreads: 0` and noble's keccak, its data
// path on the main thread as before the verifier pool; (b) this gateway as configured by default
// (the pool, WebAssembly keccak); (c) a bare reference server (reference-server.ts) that only parses,
// hashes and recovers each message, one process per core, nothing stored. The gateways run side by
// side (each started by its own CLI on its own database; idle while the others are measured) and
// the load alternates between the servers in short slices, round after round, so that a change in
// what else the shared machine runs falls on all alike. anvil, a registry and a group; every device
// is onboarded with each gateway (keySession → getTicket → assoc over HTTP). The load is
// closed-loop, sealed, device-signed `data` requests on loopback (plain JSON for the reference); the
// load generator seals with OpenSSL's AES-GCM, as cheap as it can be, since it shares the cores with
// the servers. Prints accepted messages/s, request latency percentiles and the errors by code for
// each server, the ratios b/a, b/a′ and b/reference over the whole run and round by round, and a
// check that every receipt of every gateway was anchored on chain (nothing lost); for each gateway
// that exports them, the mean wait per request for the signature verdicts and for the commit
// (waits.ts, from its metrics). With `--profile`
// gateway (b) runs under the V8 CPU profiler and the hottest functions are listed.
//
//   ./iomt bench:gateway [--devices 256] [--rounds 3] [--slice 20] [--concurrency 32] [--per-request 10] [--baseline REV] [--profile]
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bytesToHex, hexToBytes, parseAbiItem, type Hex } from "viem";
import {
  createDataMessage,
  fromWireDataMessage,
  gatewayRoutes,
  openAnswer,
  randomSalt,
  sealRequest,
  toWireDataMessage,
  verifyBatchProof,
  verifyDataMessage,
  type DataResponse,
  type InclusionResponse,
  type GatewayClient,
  type WireSignedDataMessage,
} from "@iomt-auth/sdk";
import { opensslRecordCipher, opensslSha256 } from "../src/crypto.js";
import { createDataMessageHasher, enrolDevice, GatewayStore } from "../src/index.js";
import { buildBaseline, enrolAll, LANDED_GATEWAY } from "./baseline.js";
import { measureCpu, type CpuShare } from "./cpu.js";
import { measureWaits, waitsLine, type Waits } from "./waits.js";
import { createHarness, eventually, type Device, type Harness } from "../test/support/harness.js";

const { values: flags } = parseArgs({
  options: {
    devices: { type: "string", default: "256" },
    rounds: { type: "string", default: "3" },
    slice: { type: "string", default: "20" },
    concurrency: { type: "string", default: "32" },
    "per-request": { type: "string", default: "10" },
    "max-rate": { type: "string", default: "6000" },
    baseline: { type: "string", default: LANDED_GATEWAY },
    profile: { type: "boolean", default: false },
  },
});
const deviceCount = Number(flags.devices);
const rounds = Number(flags.rounds);
/** Seconds of load on one server before the next one's turn. */
const sliceSeconds = Number(flags.slice);
const concurrency = Number(flags.concurrency);
const perRequest = Number(flags["per-request"]);
/** Messages pre-signed per second of load on a gateway: a ceiling, not a target (the load is closed-loop). */
const maxRate = Number(flags["max-rate"]);

type NativeSigner = { ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number } };
const native = createRequire(import.meta.url)("secp256k1/bindings") as NativeSigner;

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * `slowest`: the slice's slowest request, and when it started (seconds into the slice), to tell a
 * cold start from a stall; `pauses`: the load generator's own garbage-collection pauses in the
 * slice (its longest, in ms, and when it began), which delay every request in flight alike.
 */
type Slice = {
  latencies: number[];
  slowest: { ms: number; atSecond: number };
  pauses: { longestMs: number; atSecond: number };
  accepted: number;
  seconds: number;
  errors: Map<string, number>;
  cpu?: CpuShare;
  waits?: Waits;
};
/** A message a server accepted: its digest and nonce, as a receipt names it. */
type Accepted = { digest: Hex; nonce: string };
type Send = (device: number, batch: WireSignedDataMessage[]) => Promise<{ accepted: Accepted[] } | { error: string }>;

/** One slice of closed-loop load: `concurrency` connections, each owning a share of the devices (a device's requests are sequential, as on a real device). */
async function runSlice(send: Send, queues: WireSignedDataMessage[][], cursor: number[], onAccepted: (device: number, accepted: Accepted[]) => void = () => undefined): Promise<Slice> {
  const slice: Slice = { latencies: [], slowest: { ms: 0, atSecond: 0 }, pauses: { longestMs: 0, atSecond: 0 }, accepted: 0, seconds: 0, errors: new Map() };
  const deadline = performance.now() + sliceSeconds * 1000;
  const started = performance.now();
  const collections = new PerformanceObserver((list) => {
    for (const { duration, startTime } of list.getEntries()) if (duration > slice.pauses.longestMs) slice.pauses = { longestMs: duration, atSecond: (startTime - started) / 1000 };
  });
  collections.observe({ entryTypes: ["gc"] });
  async function connection(slot: number): Promise<void> {
    const mine = queues.map((_, i) => i).filter((i) => i % concurrency === slot);
    for (let turn = 0; mine.length > 0 && performance.now() < deadline; turn++) {
      const d = mine[turn % mine.length];
      const batch = queues[d].slice(cursor[d], cursor[d] + perRequest);
      if (batch.length === 0) break;
      const requestStarted = performance.now();
      const outcome = await send(d, batch);
      const latency = performance.now() - requestStarted;
      slice.latencies.push(latency);
      if (latency > slice.slowest.ms) slice.slowest = { ms: latency, atSecond: (requestStarted - started) / 1000 };
      if ("accepted" in outcome) {
        slice.accepted += outcome.accepted.length;
        onAccepted(d, outcome.accepted);
        cursor[d] += batch.length;
      } else slice.errors.set(outcome.error, (slice.errors.get(outcome.error) ?? 0) + 1);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, slot) => connection(slot)));
  slice.seconds = (performance.now() - started) / 1000;
  collections.disconnect();
  return slice;
}

/** A server's slices together: messages/s over all its seconds, latency percentiles over all its requests. */
function summarise(server: string, slices: Slice[], loadAverages: number[]) {
  const seconds = slices.reduce((sum, slice) => sum + slice.seconds, 0);
  const accepted = slices.reduce((sum, slice) => sum + slice.accepted, 0);
  const sorted = slices.flatMap((slice) => slice.latencies).sort((a, b) => a - b);
  const errors: Record<string, number> = {};
  for (const slice of slices) for (const [code, count] of slice.errors) errors[code] = (errors[code] ?? 0) + count;
  return {
    server,
    acceptedMessages: accepted,
    acceptedPerSecond: Math.round(accepted / seconds),
    requestsPerSecond: Math.round(sorted.length / seconds),
    perRound: slices.map((slice) => Math.round(slice.accepted / slice.seconds)),
    latencyMs: { p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1]) },
    slowestAtEachSlice: slices.map(({ slowest }) => ({ ms: round(slowest.ms), atSecond: round(slowest.atSecond) })),
    loadGeneratorPauseAtEachSlice: slices.map(({ pauses }) => ({ ms: round(pauses.longestMs), atSecond: round(pauses.atSecond) })),
    errors,
    loadAverageAtEachSlice: loadAverages,
    cpuAtEachSlice: slices.map((slice) => slice.cpu),
    waitsAtEachSlice: slices.map((slice) => slice.waits ?? null),
  };
}

/** The CPU shares of a server's slices, averaged: "main thread 97 %, other threads 41 %, …". */
function cpuLine(slices: Slice[]): string {
  const shares = slices.map((slice) => slice.cpu).filter((cpu) => cpu !== undefined);
  const mean = (pick: (cpu: CpuShare) => number | null) => {
    const values = shares.map(pick).filter((value) => value !== null);
    return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
  };
  const main = mean((cpu) => cpu.gatewayMainThread);
  const parts = main === null ? [] : [`gateway main thread ${Math.round(main)} %`, `its other threads ${Math.round(mean((cpu) => cpu.gatewayOtherThreads)!)} %`, `${Math.round(mean((cpu) => cpu.gatewayMicrosecondsPerMessage)!)} µs of gateway CPU per message`];
  parts.push(`load generator ${Math.round(mean((cpu) => cpu.loadGenerator)!)} %`, `machine ${mean((cpu) => cpu.machineCores)!.toFixed(2)} of ${shares[0]?.cores} cores busy`);
  return `  CPU during its slices (100 % = one core): ${parts.join(", ")}`;
}

type Gateway = { child: ChildProcess; url: string; adminUrl: string };

async function startGateway(cli: string, configFile: string, port: number, nodeFlags: string[] = []): Promise<Gateway> {
  const child = spawn(process.execPath, [...nodeFlags, cli, "start", "--config", configFile], { stdio: ["ignore", "ignore", "inherit"] });
  const url = `http://127.0.0.1:${port}`;
  // A gateway that exits (a port another process took meanwhile) fails the run at once, not after the wait.
  const exited = once(child, "exit").then(([code]) => Promise.reject(new Error(`the gateway on port ${port} exited (code ${code}) before it was ready`)));
  await Promise.race([exited, eventually("the gateway to be ready", async () => ((await fetch(`${url}/health/ready`).catch(() => undefined))?.ok ? true : undefined), 120_000)]);
  exited.catch(() => undefined); // it may still exit later, when the run stops it
  return { child, url, adminUrl: `http://127.0.0.1:${port + 1}` };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  await once(child, "exit");
}

/** Waits until the gateway anchored every message it acknowledged. */
async function drain(adminUrl: string): Promise<void> {
  await eventually(
    "every acknowledged message to be anchored",
    async () => {
      const { backlog } = (await (await fetch(`${adminUrl}/health/ready`)).json()) as { backlog: { pendingMessages: number; messagesInOpenBatches: number } };
      return backlog.pendingMessages + backlog.messagesInOpenBatches === 0 ? true : undefined;
    },
    300_000,
  );
}

async function main(): Promise<void> {
  const harness = await createHarness();
  const profileDir = mkdtempSync(join(tmpdir(), "iomt-gateway-profile-"));
  const running: ChildProcess[] = [];
  try {
    // Below Linux's ephemeral range (32768–60999 by default): the onboarding's outgoing connections
    // took a gateway's port from that range in two runs out of a few.
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const common = { rateLimitPerMinute: "100000000", deviceRateLimitPerMinute: "100000000", batchMaxMessages: "1024", batchMaxAgeMs: "1000", pollIntervalMs: "100", logLevel: "warn", maxMessagesPerRequest: "256" };
    const cli = join(import.meta.dirname, "..", "dist", "cli.js");
    const baseline = buildBaseline(flags.baseline, log);
    const devices: Device[] = Array.from({ length: deviceCount }, (_, i) => harness.device(`bench-${i}`));
    const enrolments = devices.map((device) => ({ gid: harness.gid, oid: device.oid, address: device.account.address }));
    const enrolHere = async (databasePath: string) => enrolAll({ GatewayStore, enrolDevice }, databasePath, enrolments);
    // Each its own CLI, database and ports: (a) the landed build; (a′) this one, its data path on the main thread; (b) this one's defaults.
    const variants = [
      { name: `(a) landed gateway (${baseline.revision.slice(0, 7)})`, port, cli: baseline.cli, overrides: {}, enrol: (path: string) => baseline.enrol(path, enrolments), profiled: false },
      { name: "(a′) this gateway, verification on the main thread (verifierThreads 0, noble keccak)", port: port + 2, cli, overrides: { verifierThreads: "0", keccak: "noble" }, enrol: enrolHere, profiled: false },
      { name: `(b) this gateway, verifier pool (verifierThreads ${Math.max(1, availableParallelism() - 1)}, WebAssembly keccak)`, port: port + 4, cli, overrides: {}, enrol: enrolHere, profiled: flags.profile },
    ];
    const gateways: (Gateway & { name: string; clients: GatewayClient[]; cursor: number[]; slices: Slice[]; loads: number[] })[] = [];
    for (const { name, port: own, cli: variantCli, overrides, enrol, profiled } of variants) {
      const settings = harness.settings({ ...common, ...overrides, port: String(own), adminPort: String(own + 1) });
      const configFile = join(harness.dir, `gateway-${own}.json`);
      writeFileSync(configFile, JSON.stringify(settings));
      execFileSync(process.execPath, [variantCli, "init", "--config", configFile], { stdio: ["ignore", "ignore", "inherit"] });
      await enrol(settings.databasePath as string);
      const gateway = await startGateway(variantCli, configFile, own, profiled ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : []);
      running.push(gateway.child);
      const health = (await (await fetch(`${gateway.adminUrl}/health/ready`)).json()) as { nativeSecp256k1?: boolean; verifier?: object };
      log(`${name}: pid ${gateway.child.pid}, native secp256k1 ${health.nativeSecp256k1}, verifier ${JSON.stringify(health.verifier ?? "none")}`);
      // Onboarding over HTTP: keySession, getTicket, assoc (relayed by the first gateway; already a member for the second).
      const onboardStarted = performance.now();
      const clients = await onboard(devices, gateway.url);
      log(`  onboarded ${devices.length} devices in ${((performance.now() - onboardStarted) / 1000).toFixed(1)} s`);
      gateways.push({ ...gateway, name, clients, cursor: devices.map(() => 0), slices: [], loads: [] });
    }

    const queues = presign(harness, devices);
    const referencePort = port + 6;
    const reference = spawn(process.execPath, ["--import", import.meta.resolve("tsx/esm"), join(import.meta.dirname, "reference-server.ts"), String(referencePort), String(harness.domain.chainId), harness.registry], { stdio: ["ignore", "pipe", "inherit"] });
    running.push(reference);
    await once(reference.stdout!, "data");
    const referenceUrl = `http://127.0.0.1:${referencePort}`;
    const referenceSlices: Slice[] = [];
    const referenceLoads: number[] = [];

    const receipts: { digest: Hex; nonce: string; device: number; gateway: number }[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    for (let round = 1; round <= rounds; round++) {
      for (const [g, gateway] of gateways.entries()) {
        const waits = await measureWaits(gateway.adminUrl);
        const cpu = measureCpu(gateway.child.pid);
        const slice = await runSlice((d, batch) => sendSealed(agent, gateway.url, gateway.clients[d], batch), queues, gateway.cursor, (device, accepted) => {
          for (const { digest, nonce } of accepted) receipts.push({ digest, nonce, device, gateway: g });
        });
        slice.cpu = cpu.end(slice.accepted);
        slice.waits = await waits.end();
        gateway.slices.push(slice);
        gateway.loads.push(Number(loadavg()[0].toFixed(1)));
        log(`  round ${round}, ${gateway.name}: ${Math.round(slice.accepted / slice.seconds)} messages/s`);
        await drain(gateway.adminUrl); // its batches anchored before the next server's turn
      }
      // The reference keeps no nonces: it gets the same messages from the start each round.
      const cpu = measureCpu();
      const slice = await runSlice((_, batch) => sendPlain(agent, referenceUrl, batch), queues, devices.map(() => 0));
      slice.cpu = cpu.end(slice.accepted);
      referenceSlices.push(slice);
      referenceLoads.push(Number(loadavg()[0].toFixed(1)));
      log(`  round ${round}, reference: ${Math.round(slice.accepted / slice.seconds)} messages/s`);
    }
    await stop(reference);
    agent.destroy();

    // Nothing lost: every receipt of every gateway anchored on chain, checked through the gateway that gave it.
    const anchors = await harness.publicClient.getLogs({
      address: harness.registry,
      event: parseAbiItem("event BatchAnchored(bytes32 indexed gid, bytes32 indexed root, address indexed anchorer, uint32 messageCount)"),
      fromBlock: harness.deployBlock,
    });
    const anchoredOnChain = anchors.reduce((sum, entry) => sum + Number(entry.args.messageCount), 0);
    const checked = [];
    for (let i = 0; i < Math.min(500, receipts.length); i++) {
      const { digest, nonce, device, gateway } = receipts[Math.floor((i * receipts.length) / Math.min(500, receipts.length))];
      // Sealed, and only the sending device's own messages (docs/protocol.md §6).
      const inclusion = await inclusionOf(agent, gateways[gateway].url, gateways[gateway].clients[device], { digest, nonce });
      const onChain = anchors.some((entry) => entry.args.root === inclusion.batch?.root);
      checked.push(inclusion.status === "anchored" && onChain && verifyBatchProof({ root: inclusion.batch!.root, leaf: digest, proof: inclusion.batch!.proof }));
    }
    for (const gateway of gateways) await stop(gateway.child);
    if (flags.profile) printProfile(profileDir);

    const [a, aPrime, b] = gateways.map((gateway) => summarise(gateway.name, gateway.slices, gateway.loads));
    const ref = summarise(`(c) reference: parse, hash, recover; ${availableParallelism()} processes, no storage`, referenceSlices, referenceLoads);
    const ratio = (x: number, y: number) => Number((x / y).toFixed(2));
    const nothingLost = anchoredOnChain === receipts.length && checked.every(Boolean);
    const summary = {
      devices: deviceCount,
      concurrency,
      messagesPerRequest: perRequest,
      rounds,
      sliceSeconds,
      cores: availableParallelism(),
      baseline: baseline.revision,
      results: [a, aPrime, b, ref],
      ratios: {
        gatewayOverLanded: ratio(b.acceptedPerSecond, a.acceptedPerSecond),
        gatewayOverMainThread: ratio(b.acceptedPerSecond, aPrime.acceptedPerSecond),
        gatewayOverReference: ratio(b.acceptedPerSecond, ref.acceptedPerSecond),
        gatewayOverLandedPerRound: b.perRound.map((value, i) => ratio(value, a.perRound[i])),
        gatewayOverMainThreadPerRound: b.perRound.map((value, i) => ratio(value, aPrime.perRound[i])),
        gatewayOverReferencePerRound: b.perRound.map((value, i) => ratio(value, ref.perRound[i])),
      },
      receipts: receipts.length,
      anchoredOnChain,
      inclusionProofsChecked: checked.length,
      nothingLost,
    };
    console.log(JSON.stringify(summary, null, 2));
    for (const [result, slices] of [[a, gateways[0].slices], [aPrime, gateways[1].slices], [b, gateways[2].slices], [ref, referenceSlices]] as const) {
      console.log(`${result.server}: ${result.acceptedPerSecond} messages/s (${result.requestsPerSecond} requests/s of ${perRequest}; rounds ${result.perRound.join(", ")}), p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms`);
      console.log(`  slowest request of each round: ${result.slowestAtEachSlice.map(({ ms, atSecond }) => `${ms} ms, sent ${atSecond} s into the slice`).join("; ")}`);
      console.log(`  the load generator's longest GC pause of each round: ${result.loadGeneratorPauseAtEachSlice.map(({ ms, atSecond }) => `${ms} ms at ${atSecond} s`).join("; ")}`);
      console.log(cpuLine(slices));
      const waits = waitsLine(slices.flatMap((slice) => (slice.waits === undefined ? [] : [slice.waits])));
      if (waits !== "") console.log(waits);
    }
    console.log(
      `b/a ${summary.ratios.gatewayOverLanded} (goal ≥ 1.8; rounds ${summary.ratios.gatewayOverLandedPerRound.join(", ")}), b/a′ ${summary.ratios.gatewayOverMainThread} (rounds ${summary.ratios.gatewayOverMainThreadPerRound.join(", ")}), b/reference ${summary.ratios.gatewayOverReference} (goal ≥ 0.7; rounds ${summary.ratios.gatewayOverReferencePerRound.join(", ")}), p99 of b ${b.latencyMs.p99} ms (goal < 250); ` +
        `${receipts.length} receipts, ${anchoredOnChain} anchored on chain: ${nothingLost ? "nothing lost" : "MISMATCH"}`,
    );
    if (!nothingLost) process.exitCode = 1;
  } finally {
    for (const child of running) if (child.exitCode === null) child.kill("SIGKILL");
    await harness.close();
  }
}

async function onboard(devices: Device[], url: string): Promise<GatewayClient[]> {
  const clients: GatewayClient[] = [];
  for (let i = 0; i < devices.length; i += 32) {
    const wave = devices.slice(i, i + 32);
    clients.push(
      ...(await Promise.all(
        wave.map(async (device) => {
          const client = device.client(url);
          await client.keySession();
          await client.associate({ token: await client.getTicket() });
          const status = await client.waitForAssociation({ pollIntervalMs: 100, timeoutMs: 120_000 });
          if (status.status !== "associated") throw new Error(`${device.name}: ${JSON.stringify(status)}`);
          return client;
        }),
      )),
    );
  }
  return clients;
}

/** Every message a gateway could accept over all its slices, signed before, so the load generator spends its core on HTTP. The gateways (each with its own nonces) and the reference get the same ones. */
function presign(harness: Harness, devices: Device[]): WireSignedDataMessage[][] {
  const perDevice = Math.ceil((maxRate * rounds * sliceSeconds) / devices.length);
  const hash = createDataMessageHasher(harness.domain);
  const started = performance.now();
  const queues = devices.map((device) => {
    const key = hexToBytes(device.privateKey);
    const queue: WireSignedDataMessage[] = [];
    for (let nonce = 1n; nonce <= BigInt(perDevice); nonce++) {
      // A salted commitment (the reading itself is not sent, as before).
      const message = createDataMessage({ gid: harness.gid, oid: device.oid, nonce, payload: `hr=${60 + Number(nonce % 40n)}`, salt: randomSalt(), validFor: 3_600n });
      const { signature, recid } = native.ecdsaSign(hexToBytes(hash(message)), key);
      queue.push({ message: toWireDataMessage(message), signature: bytesToHex(new Uint8Array([...signature, recid + 27])) });
    }
    return queue;
  });
  const first = queues[0][0];
  if (!verifyDataMessage({ domain: harness.domain, signed: { message: fromWireDataMessage(first.message), signature: first.signature }, device: devices[0].account.address })) {
    throw new Error("the pre-signed messages do not verify with the SDK");
  }
  log(`pre-signed ${perDevice * devices.length} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return queues;
}

/** One sealed request of `client`'s session to `route`: the answer's result, or the code it was refused with. */
async function callSealed<T>(agent: Agent, url: string, client: GatewayClient, route: string, request: unknown): Promise<{ result: T } | { error: string }> {
  const session = client.session!;
  const { record, binding } = sealRequest(session, route, request, opensslRecordCipher, opensslSha256);
  const { status, body } = await postJson(agent, url, route, { sessionId: session.id, record });
  const sealed = (body as { record?: never }).record;
  // Every answer is sealed and bound to this request, refusals included (plain only before the record opened).
  const answer = sealed === undefined ? undefined : openAnswer<T>(session, binding, sealed, opensslRecordCipher);
  if (answer?.ok === true) return { result: answer.result };
  return { error: answer?.ok === false ? answer.error.code : ((body as { error?: { code: string } }).error?.code ?? `HTTP ${status}`) };
}

async function sendSealed(agent: Agent, url: string, client: GatewayClient, messages: WireSignedDataMessage[]): Promise<{ accepted: Accepted[] } | { error: string }> {
  const outcome = await callSealed<DataResponse>(agent, url, client, gatewayRoutes.data, { messages });
  return "error" in outcome ? outcome : { accepted: outcome.result.receipts.map(({ digest, nonce }) => ({ digest, nonce })) };
}

async function sendPlain(agent: Agent, url: string, messages: WireSignedDataMessage[]): Promise<{ accepted: Accepted[] } | { error: string }> {
  const { status, body } = await postJson(agent, url, "/data", { messages });
  return status === 200 ? { accepted: (body as { digests: Hex[] }).digests.map((digest, i) => ({ digest, nonce: messages[i].message.nonce })) } : { error: `HTTP ${status}` };
}

/**
 * A message's inclusion, asked as this build asks it (digest and nonce); a landed gateway from
 * before schema version 7 refuses the nonce as an unknown field (`RequestInvalid`) and is asked
 * with the digest alone, as it was then.
 */
async function inclusionOf(agent: Agent, url: string, client: GatewayClient, accepted: Accepted): Promise<InclusionResponse> {
  let outcome = await callSealed<InclusionResponse>(agent, url, client, gatewayRoutes.inclusion, accepted);
  if ("error" in outcome && outcome.error === "RequestInvalid") outcome = await callSealed<InclusionResponse>(agent, url, client, gatewayRoutes.inclusion, { digest: accepted.digest });
  if ("error" in outcome) throw new Error(`the inclusion of ${accepted.digest} was refused: ${outcome.error}`);
  return outcome.result;
}

function round(value: number): number {
  return Number(value.toFixed(1));
}

/** Each server's host and port, parsed once: the load generator shares the servers' cores, so it does not parse a URL for every request. */
const targets = new Map<string, { hostname: string; port: string }>();
function targetOf(base: string): { hostname: string; port: string } {
  let target = targets.get(base);
  if (target === undefined) {
    const { hostname, port } = new URL(base);
    targets.set(base, (target = { hostname, port }));
  }
  return target;
}

function postJson(agent: Agent, base: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ ...targetOf(base), path, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      response.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.end(payload);
  });
}

/**
 * Self time per function from the gateway's V8 CPU profiles, hottest first: the main thread's
 * (thread id 0 in the file name, CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile), then each
 * verifier thread's busy share. The profiles cover the whole run: (b) is idle while (a) and the
 * reference are measured.
 */
function printProfile(dir: string): void {
  const files = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"));
  const main = files.find((name) => name.split(".")[4] === "0");
  if (main === undefined) return log("no CPU profile of the main thread was written");
  type Profile = { nodes: { id: number; hitCount: number; callFrame: { functionName: string; url: string; lineNumber: number } }[] };
  const read = (file: string) => JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile;
  const profile = read(main);
  const total = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0);
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const where = node.callFrame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/gateway\//, "gateway/");
    const name = `${node.callFrame.functionName || "(anonymous)"} ${where}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + node.hitCount);
  }
  console.log(`\nwhere the gateway's main thread's time goes (self time, ${total} samples):`);
  for (const [name, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${((100 * hits) / total).toFixed(1).padStart(5)} %  ${name}`);
  for (const file of files.filter((name) => name !== main)) {
    const worker = read(file);
    const samples = worker.nodes.reduce((sum, node) => sum + node.hitCount, 0);
    const idle = worker.nodes.filter((node) => node.callFrame.functionName === "(idle)").reduce((sum, node) => sum + node.hitCount, 0);
    console.log(`verifier thread ${file.split(".")[4]}: busy ${((100 * (samples - idle)) / samples).toFixed(1)} % of ${samples} samples`);
  }
}

await main();
