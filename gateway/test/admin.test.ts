// The admin listener (admin.ts) of a running gateway, over real HTTP: on localhost and its own
// port (a warning at start when configured beyond it: it has no authentication), it answers readiness with the operator's details (the device-facing listener answers the
// status alone: leaks.test.ts) and serves the Prometheus metrics — Node's default process metrics,
// and http_request_duration_seconds{method,route,status_code} over the device-facing requests,
// whose route label is the route's pattern, or `unmatched` for every URL no route serves.
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gatewayRoutes, type GatewayClient } from "@iomt-auth/sdk";
import type { RunningGateway } from "../src/index.js";
import type { CheckpointerStatus } from "../src/checkpointer.js";
import { createMetrics, type GaugeValues } from "../src/metrics.js";
import { GatewayStore } from "../src/store.js";
import { exited, spawnGateway } from "./support/cli.js";
import { expectErrorAnswer, get, post } from "./support/expect.js";
import { createHarness, eventually, type Device, type Harness } from "./support/harness.js";
import { metricsOf, metricValue, readinessOf, samples } from "./support/admin.js";
import { randomPort } from "./support/process.js";

type Details = {
  status: string;
  master: string;
  groups: string[];
  policy: string;
  chain: { up: boolean; indexedBlock: string; lastError: string | null };
  standing: { gid: string; status: string }[];
  backlog: { pendingMessages: number; openBatches: number; messagesInOpenBatches: number };
  sessions: number;
  nativeSecp256k1: boolean;
  store: { ok: boolean; lastError: string | null; failedAt: number | null; checkpoints?: CheckpointerStatus };
};

const details = (gateway: RunningGateway) => readinessOf<Details>(gateway);

/** What /metrics reads from an idle gateway, for metrics made without one. */
const idleGauges = (): GaugeValues => ({ pendingMessages: 0, openBatches: 0, chainUp: true, storeUp: true, indexedBlock: 0n, sessions: 0 });


describe("gateway admin listener", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let alice: Device;
  let aliceClient: GatewayClient;

  before(async () => {
    harness = await createHarness();
    gateway = await harness.start();
    alice = harness.device("alice");
    aliceClient = await harness.onboard(gateway, alice);
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  describe("where it listens", () => {
    it("listens on localhost, on a port of its own, and serves none of the devices' routes", async () => {
      const admin = new URL(gateway.adminUrl);
      expect(admin.hostname).to.equal("127.0.0.1");
      expect(admin.port).to.not.equal(new URL(gateway.url).port);
      const hello = await fetch(`${gateway.adminUrl}${gatewayRoutes.hello}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(hello.status).to.equal(404);
      expect((await fetch(`${gateway.adminUrl}/health/live`)).status).to.equal(200);
    });

    it("warns at start when adminHost reaches beyond this machine, and not on localhost", async () => {
      const start = async (adminHost: string) => {
        const port = await randomPort();
        const settings = harness.settings({ port: String(port), adminHost, logLevel: "info" });
        const configFile = join(harness.dir, `admin-${adminHost}.json`);
        writeFileSync(configFile, JSON.stringify(settings));
        GatewayStore.create(settings.databasePath as string); // as `init` does
        const spawned = await spawnGateway(configFile, `http://127.0.0.1:${port}`);
        spawned.child.kill("SIGTERM");
        await exited(spawned.child);
        return spawned.logs().filter((line) => line.level === 40 && line.adminHost === adminHost);
      };
      const [warning] = await start("0.0.0.0");
      expect(warning.msg).to.match(/admin listener is reachable from other hosts and has no authentication/);
      expect(await start("127.0.0.1")).to.deep.equal([]);
    });
  });

  describe("readiness with the operator's details", () => {
    it("names the Master, the served groups and their standing, the chain, the backlog, the sessions and the store", async () => {
      const { status, body } = await details(gateway);
      expect(status).to.equal(200);
      expect(body).to.deep.include({ status: "ok", master: harness.master.address, groups: [harness.gid], policy: "anchor", standing: [{ gid: harness.gid, status: "ok" }], sessions: 1 });
      expect(body.chain).to.deep.include({ up: true, lastError: null });
      expect(body.backlog).to.have.keys("pendingMessages", "openBatches", "messagesInOpenBatches");
      expect(body.store).to.deep.include({ ok: true, lastError: null, failedAt: null });
      // The checkpoint thread's counts, beside the store's health.
      expect(body.store.checkpoints).to.deep.include({ failures: 0, lastError: null, running: true });
      expect(body, "no hierarchical anchoring without aggregation: on").not.to.have.property("aggregation");
    });

    it("answers 503 `unready` with the chain's last error while the chain cannot be reached, where devices see the status alone", async () => {
      const cut = await harness.start({ rpcUrl: "http://127.0.0.1:1" });
      try {
        const lastError = await eventually("the chain worker's first failure", () => cut.worker.lastError);
        const { status, body } = await details(cut);
        expect(status).to.equal(503);
        expect(body.status).to.equal("unready");
        expect(body.chain).to.deep.include({ up: false, lastError });
        const device = await fetch(`${cut.url}/health/ready`);
        expect(device.status).to.equal(503);
        expect(await device.json()).to.deep.equal({ status: "unready" });
      } finally {
        await cut.close();
      }
    });
  });

  describe("metrics", () => {
    it("counts the checkpoint thread's checkpoints in iomt_gateway_store_checkpoints_total, as the readiness page does, each once", async () => {
      const checkpointed = async () => (await details(gateway)).body.store.checkpoints?.checkpoints ?? 0;
      const before = await checkpointed();
      // A device of its own: the other tests count on alice's nonces.
      const carol = harness.device("carol");
      const carolClient = await harness.onboard(gateway, carol);
      let nonce = await carolClient.getNextNonce();
      await eventually("a checkpoint after a commit", async () => {
        await carolClient.sendData({ messages: [await carol.sign(nonce++)] });
        return (await checkpointed()) > before ? true : undefined;
      });
      for (let scrape = 0; scrape < 2; scrape++) {
        const low = await checkpointed();
        const [counted] = samples(await metricsOf(gateway), "iomt_gateway_store_checkpoints_total");
        const high = await checkpointed();
        // Carried at each scrape: between the thread's counts before and after it, never added twice.
        expect(counted.value).to.be.within(low, high);
      }
      expect(samples(await metricsOf(gateway), "iomt_gateway_store_checkpoint_failures_total")).to.deep.equal([{ labels: {}, value: 0 }]);
    });

    it("carries the thread's checkpoints and failures into their counters at each scrape, each counted once", async () => {
      const counts = { checkpoints: 0, failures: 0 };
      const metrics = createMetrics(() => ({ ...idleGauges(), checkpoints: counts }));
      const scrape = async () => {
        metrics.refreshGauges();
        const text = await metrics.registry.metrics();
        return ["iomt_gateway_store_checkpoints_total", "iomt_gateway_store_checkpoint_failures_total"].map((name) => samples(text, name)[0]?.value);
      };
      expect(await scrape()).to.deep.equal([0, 0]);
      Object.assign(counts, { checkpoints: 3, failures: 1 });
      expect(await scrape()).to.deep.equal([3, 1]);
      expect(await scrape()).to.deep.equal([3, 1]);
      Object.assign(counts, { checkpoints: 5, failures: 2 });
      expect(await scrape()).to.deep.equal([5, 2]);
    });

    it("exports a histogram of the WAL's fsyncs by the thread that waited, both threads from the start", async () => {
      const fresh = await createMetrics(idleGauges).registry.metrics();
      const counts = (text: string) => Object.fromEntries(samples(text, "iomt_gateway_store_wal_fsync_seconds_count").map((sample) => [sample.labels.thread, sample.value]));
      expect(counts(fresh)).to.deep.equal({ pool: 0, main: 0 });
      expect(samples(fresh, "iomt_gateway_store_wal_fsync_seconds_bucket").filter((sample) => sample.labels.thread === "main").map((sample) => sample.labels.le)).to.include.members(["0.001", "8.192", "+Inf"]);
      // A running gateway's commits so far (durability full) were synced on the thread pool; that
      // serving adds none on `main` is event-loop-syncs.test.ts's to show.
      expect(counts(await metricsOf(gateway)).pool).to.be.greaterThan(0);
    });

    it("serves Node's default process metrics beside the gateway's own", async () => {
      const text = await metricsOf(gateway);
      for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes", "nodejs_gc_duration_seconds_count", "iomt_gateway_store_up", "iomt_gateway_sessions"]) {
        expect(samples(text, name), name).to.not.be.empty;
      }
      // Hierarchical anchoring's series exist only with aggregation: on (aggregation.test.ts).
      for (const name of ["iomt_gateway_handover_roots", "iomt_gateway_handover_oldest_seconds", "iomt_gateway_parent_up"]) expect(text, name).not.to.include(name);
    });

    it("observes device-facing requests as http_request_duration_seconds by method, route pattern and status code, every unserved URL as `unmatched`", async () => {
      const count = async (labels: Record<string, string>) => metricValue(gateway, "http_request_duration_seconds_count", labels, 0);
      const data = { method: "POST", route: gatewayRoutes.data, status_code: "200" };
      const invalid = { method: "POST", route: gatewayRoutes.data, status_code: "400" };
      const unmatched = { method: "GET", route: "unmatched", status_code: "404" };
      const before = { data: await count(data), invalid: await count(invalid), unmatched: await count(unmatched) };

      await aliceClient.sendData({ messages: [await alice.sign(1n)] });
      expectErrorAnswer(await post(gateway.url, gatewayRoutes.data, {}), 400, "RequestInvalid");
      for (const path of ["/wp-login.php", "/scan/1", "/scan/2?probe=x"]) expectErrorAnswer(await get(gateway.url, path), 404, "NotFound");

      expect(await count(data)).to.equal(before.data + 1);
      expect(await count(invalid)).to.equal(before.invalid + 1);
      expect(await count(unmatched)).to.equal(before.unmatched + 3);
      const routes = new Set(samples(await metricsOf(gateway), "http_request_duration_seconds_count").map((sample) => sample.labels.route));
      for (const route of routes) expect([...Object.values(gatewayRoutes), "/health", "unmatched"], route).to.include(route);
      // A histogram, with the conventional buckets' label.
      expect(samples(await metricsOf(gateway), "http_request_duration_seconds_bucket").some((sample) => sample.labels.route === gatewayRoutes.data && sample.labels.le === "+Inf")).to.equal(true);
    });

    it("counts refusals by code", async () => {
      const refused = async () => metricValue(gateway, "iomt_gateway_rejections_total", { code: "NotFound" }, 0);
      const before = await refused();
      expectErrorAnswer(await get(gateway.url, "/metrics"), 404, "NotFound");
      expect(await refused()).to.equal(before + 1);
    });
  });
});
