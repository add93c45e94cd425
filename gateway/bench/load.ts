// Load benchmark of the gateway (figures, not a test): anvil + a registry + a group, the gateway
// started as its own process by its CLI, many simulated devices that each run keySession →
// getTicket → assoc over HTTP, then a bounded closed-loop load of sealed, device-signed data
// messages on loopback. Prints accepted messages/s, request latency percentiles, the errors by
// code, and a final check that every receipt was anchored on chain (nothing lost). With
// `--profile` the gateway runs under the V8 CPU profiler and the hottest functions are listed.
//
//   ./iomt bench:gateway [--devices 256] [--duration 60] [--concurrency 32] [--per-request 10] [--profile]
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
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
  type GatewayClient,
  type WireSignedDataMessage,
} from "@iomt-auth/sdk";
import { createDataMessageHasher, enrolDevice, GatewayStore } from "../src/index.js";
import { createHarness, eventually, type Device } from "../test/support/harness.js";

const { values: flags } = parseArgs({
  options: {
    devices: { type: "string", default: "256" },
    duration: { type: "string", default: "60" },
    concurrency: { type: "string", default: "32" },
    "per-request": { type: "string", default: "10" },
    "max-rate": { type: "string", default: "6000" },
    profile: { type: "boolean", default: false },
  },
});
const deviceCount = Number(flags.devices);
const durationSeconds = Number(flags.duration);
const concurrency = Number(flags.concurrency);
const perRequest = Number(flags["per-request"]);
/** Messages pre-signed per second of run: a ceiling, not a target (the load is closed-loop). */
const maxRate = Number(flags["max-rate"]);

type NativeSigner = { ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number } };
const native = createRequire(import.meta.url)("secp256k1/bindings") as NativeSigner;

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  const harness = await createHarness();
  const profileDir = mkdtempSync(join(tmpdir(), "iomt-gateway-profile-"));
  let gatewayProcess: ChildProcess | undefined;
  try {
    const port = 30_000 + Math.floor(Math.random() * 20_000);
    const url = `http://127.0.0.1:${port}`;
    // Readiness details (native secp256k1, backlog) are on the admin listener.
    const adminUrl = `http://127.0.0.1:${port + 1}`;
    const settings = harness.settings({ port: String(port), adminPort: String(port + 1), rateLimitPerMinute: "100000000", deviceRateLimitPerMinute: "100000000", batchMaxMessages: "1024", batchMaxAgeMs: "1000", pollIntervalMs: "100", logLevel: "warn", maxMessagesPerRequest: "256" });
    const configFile = join(harness.dir, "gateway.json");
    writeFileSync(configFile, JSON.stringify(settings));
    const cli = join(import.meta.dirname, "..", "dist", "cli.js");
    const nodeFlags = flags.profile ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
    execFileSync(process.execPath, [cli, "init", "--config", configFile], { stdio: ["ignore", "ignore", "inherit"] });
    gatewayProcess = spawn(process.execPath, [...nodeFlags, cli, "start", "--config", configFile], { stdio: ["ignore", "ignore", "inherit"] });
    await eventually("the gateway to be ready", async () => ((await fetch(`${url}/health/ready`).catch(() => undefined))?.ok ? true : undefined));
    const health = (await (await fetch(`${adminUrl}/health/ready`)).json()) as { nativeSecp256k1: boolean };
    log(`gateway pid ${gatewayProcess.pid} on ${url}, native secp256k1: ${health.nativeSecp256k1}`);

    // Onboarding over HTTP: enrol (in the gateway's database), keySession, getTicket, assoc.
    const store = GatewayStore.open(settings.databasePath as string);
    const devices: Device[] = Array.from({ length: deviceCount }, (_, i) => harness.device(`bench-${i}`));
    for (const device of devices) enrolDevice(store, { gid: harness.gid, oid: device.oid, address: device.account.address });
    store.close();
    const onboardStarted = performance.now();
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
    log(`onboarded ${devices.length} devices (keySession, getTicket, assoc) in ${((performance.now() - onboardStarted) / 1000).toFixed(1)} s`);

    // Pre-sign every message the run could send, so the load generator spends its core on HTTP.
    const perDevice = Math.ceil((maxRate * durationSeconds) / deviceCount);
    const hash = createDataMessageHasher(harness.domain);
    const signStarted = performance.now();
    const queues: WireSignedDataMessage[][] = devices.map((device) => {
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
    log(`pre-signed ${perDevice * deviceCount} messages in ${((performance.now() - signStarted) / 1000).toFixed(1)} s`);

    // The load: `concurrency` workers, each owning a slice of the devices (a device's requests are sequential, as on a real device).
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const latencies: number[] = [];
    const errors = new Map<string, number>();
    const receipts: { digest: Hex; device: number }[] = [];
    let accepted = 0;
    const cursor = devices.map(() => 0);
    const deadline = performance.now() + durationSeconds * 1000;
    const runStarted = performance.now();

    async function worker(slot: number): Promise<void> {
      const mine = devices.map((_, i) => i).filter((i) => i % concurrency === slot);
      for (let turn = 0; performance.now() < deadline; turn++) {
        const d = mine[turn % mine.length];
        const batch = queues[d].slice(cursor[d], cursor[d] + perRequest);
        if (batch.length === 0) break;
        const session = clients[d].session!;
        const { record, binding } = sealRequest(session, gatewayRoutes.data, { messages: batch });
        const started = performance.now();
        const { status, body } = await postJson(agent, url, gatewayRoutes.data, { sessionId: session.id, record });
        latencies.push(performance.now() - started);
        const sealed = (body as { record?: never }).record;
        // Every answer is sealed and bound to this request, refusals included (plain only before the record opened).
        const answer = sealed === undefined ? undefined : openAnswer<DataResponse>(session, binding, sealed);
        if (answer?.ok === true) {
          accepted += answer.result.receipts.length;
          for (const receipt of answer.result.receipts) receipts.push({ digest: receipt.digest, device: d });
          cursor[d] += batch.length;
        } else {
          const code = answer?.ok === false ? answer.error.code : ((body as { error?: { code: string } }).error?.code ?? `HTTP ${status}`);
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      }
    }
    const progress = setInterval(() => log(`  ${((performance.now() - runStarted) / 1000).toFixed(0)} s: ${accepted} accepted`), 10_000);
    await Promise.all(Array.from({ length: concurrency }, (_, slot) => worker(slot)));
    clearInterval(progress);
    const elapsed = (performance.now() - runStarted) / 1000;
    agent.destroy();

    // Nothing lost: every receipt anchored on chain.
    const drainStarted = performance.now();
    await eventually(
      "every acknowledged message to be anchored",
      async () => {
        const { backlog } = (await (await fetch(`${adminUrl}/health/ready`)).json()) as { backlog: { pendingMessages: number; messagesInOpenBatches: number } };
        return backlog.pendingMessages + backlog.messagesInOpenBatches === 0 ? true : undefined;
      },
      300_000,
    );
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    const anchors = await harness.publicClient.getLogs({
      address: harness.registry,
      event: parseAbiItem("event BatchAnchored(bytes32 indexed gid, bytes32 indexed root, address indexed anchorer, uint32 messageCount)"),
      fromBlock: harness.deployBlock,
    });
    const anchoredOnChain = anchors.reduce((sum, log) => sum + Number(log.args.messageCount), 0);
    const checked = [];
    for (let i = 0; i < Math.min(500, receipts.length); i++) {
      const { digest, device } = receipts[Math.floor((i * receipts.length) / Math.min(500, receipts.length))];
      // Sealed, and only the sending device's own messages (docs/protocol.md §6).
      const inclusion = await clients[device].getInclusion(digest);
      const onChain = anchors.some((log) => log.args.root === inclusion.batch?.root);
      checked.push(inclusion.status === "anchored" && onChain && verifyBatchProof({ root: inclusion.batch!.root, leaf: digest, proof: inclusion.batch!.proof }));
    }

    const sorted = [...latencies].sort((a, b) => a - b);
    const result = {
      devices: deviceCount,
      concurrency,
      messagesPerRequest: perRequest,
      durationSeconds: Number(elapsed.toFixed(1)),
      acceptedMessages: accepted,
      acceptedPerSecond: Math.round(accepted / elapsed),
      requestsPerSecond: Math.round(latencies.length / elapsed),
      latencyMs: { p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1]) },
      errors: Object.fromEntries(errors),
      anchoredOnChain,
      receipts: receipts.length,
      nothingLost: anchoredOnChain === receipts.length && checked.every(Boolean),
      inclusionProofsChecked: checked.length,
      drainSeconds: Number(drainSeconds.toFixed(1)),
      nativeSecp256k1: health.nativeSecp256k1,
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `accepted ${result.acceptedPerSecond} messages/s (${result.requestsPerSecond} requests/s of ${perRequest}), latency p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms; ` +
        `${result.receipts} receipts, ${anchoredOnChain} anchored on chain: ${result.nothingLost ? "nothing lost" : "MISMATCH"}`,
    );

    gatewayProcess.kill("SIGTERM");
    await new Promise((resolve) => gatewayProcess!.once("exit", resolve));
    gatewayProcess = undefined;
    if (flags.profile) printProfile(profileDir);
    if (!result.nothingLost) process.exitCode = 1;
  } finally {
    gatewayProcess?.kill("SIGKILL");
    await harness.close();
  }
}

function round(value: number): number {
  return Number(value.toFixed(1));
}

function postJson(agent: Agent, base: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${base}${path}`, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      response.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.end(payload);
  });
}

/** Self time per function from the gateway's V8 CPU profile, hottest first. */
function printProfile(dir: string): void {
  const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile"));
  if (file === undefined) return log("no CPU profile was written");
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as { nodes: { id: number; hitCount: number; callFrame: { functionName: string; url: string; lineNumber: number } }[] };
  const total = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0);
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const where = node.callFrame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/gateway\//, "gateway/");
    const name = `${node.callFrame.functionName || "(anonymous)"} ${where}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + node.hitCount);
  }
  console.log(`\nwhere the gateway's time goes (self time, ${total} samples):`);
  for (const [name, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${((100 * hits) / total).toFixed(1).padStart(5)} %  ${name}`);
}

await main();
