// CPU cost of a legitimate handshake on the gateway (figures, not a test): the gateway runs as its
// own process (its CLI), enrolled devices run `keySession()` one after another through the SDK's
// client, and the gateway process's CPU time (every thread, from /proc/<pid>/task/*/schedstat, in
// nanoseconds) is read around each batch of handshakes. Prints the median, quartiles and mean CPU
// milliseconds per handshake over the batches; then the same for a junk hello (a fresh ClientHello
// from a device that is neither enrolled nor a member, as a flood would send it, without a
// cookie). Written against APIs that protocol v1 and v2 share (`createHarness`, `enrolDevice`,
// `createClientHello`, `keySession`), so the same file measures either gateway.
//
//   npx tsx gateway/bench/handshake.ts [--batches 40] [--per-batch 10] [--devices 100]
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClientHello, gatewayRoutes } from "@iomt-auth/sdk";
import { enrolDevice, GatewayStore } from "../src/index.js";
import { createHarness, eventually } from "../test/support/harness.js";

const { values: flags } = parseArgs({ options: { batches: { type: "string", default: "40" }, "per-batch": { type: "string", default: "10" }, devices: { type: "string", default: "100" } } });
const batches = Number(flags.batches);
const perBatch = Number(flags["per-batch"]);
const deviceCount = Number(flags.devices);

/** CPU time of every thread of `pid`, in nanoseconds. */
function cpuNanoseconds(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return total;
}

const harness = await createHarness();
let child: ChildProcess | undefined;
try {
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  const adminUrl = `http://127.0.0.1:${port + 1}`;
  // The chain worker polls rarely, so its ticks do not count as handshake work.
  const settings = harness.settings({ port: String(port), adminPort: String(port + 1), rateLimitPerMinute: "100000000", logLevel: "warn", pollIntervalMs: "60000" });
  const configFile = join(harness.dir, "gateway.json");
  writeFileSync(configFile, JSON.stringify(settings));
  const devices = Array.from({ length: deviceCount }, (_, i) => harness.device(`handshake-${i}`));
  GatewayStore.create(settings.databasePath as string); // as `init` does
  const store = GatewayStore.open(settings.databasePath as string);
  await Promise.all(devices.map((device) => enrolDevice(store, { gid: harness.gid, oid: device.oid, address: device.account.address })));
  store.close();
  child = spawn(process.execPath, [join(import.meta.dirname, "..", "dist", "cli.js"), "start", "--config", configFile], { stdio: ["ignore", "ignore", "inherit"] });
  const pid = child.pid!;
  await eventually("the gateway to answer", async () => {
    for (const path of ["/health/live", "/health"]) if ((await fetch(`${url}${path}`).catch(() => undefined))?.ok) return true;
    return undefined;
  });
  // Warm-up: JIT, the native binding, SQLite's caches.
  for (let i = 0; i < 20; i++) await devices[i % deviceCount].client(url).keySession();
  const perHandshake: number[] = [];
  let next = 0;
  for (let batch = 0; batch < batches; batch++) {
    const before = cpuNanoseconds(pid);
    for (let i = 0; i < perBatch; i++) await devices[next++ % deviceCount].client(url).keySession();
    perHandshake.push((cpuNanoseconds(pid) - before) / perBatch / 1e6);
  }
  // Junk: hellos of unknown devices, without a cookie.
  const perJunkHello: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    const hellos = Array.from({ length: perBatch }, (_, i) =>
      JSON.stringify({ clientHello: createClientHello({ account: harness.device(`junk-${batch}-${i}`).account, master: harness.master.address, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid } }).clientHello }),
    );
    const before = cpuNanoseconds(pid);
    for (const body of hellos) await fetch(`${url}${gatewayRoutes.hello}`, { method: "POST", headers: { "content-type": "application/json" }, body }).then((response) => response.arrayBuffer());
    perJunkHello.push((cpuNanoseconds(pid) - before) / perBatch / 1e6);
  }
  const stats = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2));
    return { median: at(0.5), p25: at(0.25), p75: at(0.75), mean: Number((values.reduce((a, b) => a + b, 0) / values.length).toFixed(2)) };
  };
  const health = (await (await fetch(`${adminUrl}/health/ready`).catch(() => fetch(`${url}/health`))).json()) as { nativeSecp256k1?: boolean };
  console.log(
    JSON.stringify({
      handshakes: batches * perBatch,
      cpuMsPerHandshake: stats(perHandshake),
      cpuMsPerJunkHello: stats(perJunkHello),
      nativeSecp256k1: health.nativeSecp256k1 ?? null,
    }),
  );
} finally {
  child?.kill("SIGKILL");
  await harness.close();
}
