// Liveness and readiness over HTTP (Fastify's inject) against a real store on a really full disk (a
// tmpfs): while the store's last commit failed, /health/ready (and /health) answer 503 with status
// `failing` — with the store's error on the admin listener, the status alone on the device-facing
// one — /health/live stays 200, and the store_up gauge reads 0;
// readiness comes back by itself (a probe write) once space is freed. Then end to end, on any
// machine: a running gateway whose SQLite page limit is set to the file's current size refuses
// data with a sealed 503 StoreUnavailable (nothing acknowledged) and reports itself failing until
// a commit succeeds again. durability.test.ts covers the chain going away (`unready`).
import { expect } from "chai";
import Fastify, { type FastifyInstance } from "fastify";
import { join } from "node:path";
import { keccak256, stringToHex, type Hex } from "viem";
import { toId, type GatewayClient } from "@iomt-auth/sdk";
import { createReadiness, registerHealthRoutes } from "../src/health.js";
import { createMetrics } from "../src/metrics.js";
import { GatewayStore } from "../src/store.js";
import type { RunningGateway } from "../src/index.js";
import { skipBecause } from "../../sdk/test/support/skips.js";
import { mountTmpfs, type Tmpfs } from "./support/faults.js";
import { metricValue } from "./support/admin.js";
import { expectGatewayError } from "./support/expect.js";
import { createHarness, type Device, type Harness } from "./support/harness.js";

describe("gateway health: liveness apart from readiness, readiness on a failing store", () => {
  let disk: Tmpfs | undefined;
  let store: GatewayStore;
  /** The admin listener's routes (details) and the device-facing ones (status only), on one readiness. */
  let app: FastifyInstance;
  let deviceFacing: FastifyInstance;
  let nonce = 0;

  const insert = () =>
    store.commit(() =>
      store.insertMessage({
        digest: keccak256(stringToHex(`health ${++nonce}`)),
        gid: toId("ward-1").toLowerCase() as Hex,
        oid: toId("bed-1").toLowerCase() as Hex,
        device: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        nonce,
        payload_hash: keccak256(stringToHex(`reading ${nonce}`)),
        timestamp: "1700000000",
        deadline: "18446744073709551615",
        signature: `0x${"11".repeat(65)}`,
        payload: Buffer.alloc(4096, nonce % 251),
        salt: Buffer.alloc(32, nonce % 251),
        accepted_at: Date.now(),
        route: "anchor",
      }),
    );

  before(async function () {
    disk = mountTmpfs(2048);
    if (disk === undefined) skipBecause(this, "no-tmpfs-mount", "mounting a tmpfs needs root or CAP_SYS_ADMIN");
    const path = join(disk.dir, "gateway.db");
    GatewayStore.create(path);
    store = GatewayStore.open(path, { lock: true, check: "quick" });
    const readiness = createReadiness({ store, health: () => ({ ready: true, status: "degraded", chain: { up: true } }) });
    app = Fastify();
    registerHealthRoutes(app, readiness, { details: true });
    await app.ready();
    deviceFacing = Fastify();
    registerHealthRoutes(deviceFacing, readiness, { details: false });
    await deviceFacing.ready();
  });

  after(async () => {
    await app?.close();
    await deviceFacing?.close();
    store?.close();
    disk?.unmount();
  });

  it("answers ready (with the gateway's own status) and live while the store commits", async () => {
    await insert();
    const ready = await app.inject({ method: "GET", url: "/health/ready" });
    expect(ready.statusCode).to.equal(200);
    expect(ready.json()).to.deep.include({ status: "degraded", chain: { up: true }, store: { ok: true, lastError: null, failedAt: null } });
    expect((await app.inject({ method: "GET", url: "/health/live" })).statusCode).to.equal(200);
  });

  it("answers 503 `failing` on /health/ready and /health of both listeners once a commit failed on the full disk, while /health/live stays 200", async () => {
    const fs = disk as Tmpfs;
    fs.fill(0);
    let refused = 0;
    while (refused === 0) await insert().catch(() => refused++);
    for (const url of ["/health/ready", "/health"]) {
      const ready = await app.inject({ method: "GET", url });
      expect(ready.statusCode, url).to.equal(503);
      const body = ready.json() as { status: string; store: { ok: boolean; lastError: string } };
      expect(body.status).to.equal("failing");
      expect(body.store.ok).to.equal(false);
      expect(body.store.lastError).to.match(/^SQLITE_FULL/);
    }
    const live = await app.inject({ method: "GET", url: "/health/live" });
    expect(live.statusCode).to.equal(200);
    expect(live.json()).to.deep.equal({ status: "live" });
    for (const url of ["/health/ready", "/health"]) {
      const ready = await deviceFacing.inject({ method: "GET", url });
      expect(ready.statusCode, url).to.equal(503);
      expect(ready.json(), url).to.deep.equal({ status: "failing" });
    }
    expect((await deviceFacing.inject({ method: "GET", url: "/health/live" })).statusCode).to.equal(200);

    const metrics = createMetrics(() => ({ pendingMessages: 0, openBatches: 0, chainUp: true, storeUp: store.health.ok, indexedBlock: 0n, sessions: 0 }));
    metrics.refreshGauges();
    expect(await metrics.registry.metrics()).to.match(/^iomt_gateway_store_up 0$/m);
  });

  it("comes back ready by itself (a probe write) once space is freed, before any device writes again", async () => {
    (disk as Tmpfs).free();
    // The probe runs at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const ready = await app.inject({ method: "GET", url: "/health/ready" });
    expect(ready.statusCode).to.equal(200);
    expect(ready.json()).to.deep.include({ store: { ok: true, lastError: null, failedAt: null } });
  });
});

type Ready = { status: string; store: { ok: boolean; lastError: string | null; failedAt: number | null }; chain: { up: boolean } };

describe("gateway health: a running gateway whose store cannot grow", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let device: Device;
  let client: GatewayClient;
  const ready = async () => {
    const response = await fetch(`${gateway.adminUrl}/health/ready`);
    return { status: response.status, body: (await response.json()) as Ready };
  };

  before(async () => {
    harness = await createHarness();
    gateway = await harness.start();
    device = harness.device("monitor");
    client = await harness.onboard(gateway, device);
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("answers /health/ready 200 with status ok while chain and store work", async () => {
    const answer = await ready();
    expect(answer.status).to.equal(200);
    expect(answer.body.status).to.equal("ok");
    expect(answer.body.store).to.deep.include({ ok: true, lastError: null, failedAt: null });
  });

  it("refuses data with a sealed 503 StoreUnavailable, reports the store failing (store_up 0, /health/live 200), and is ready again once a write fits: here the readiness probe's", async () => {
    const db = gateway.store.db;
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    try {
      const big = "x".repeat(16_000);
      // Refused, sealed, and not acknowledged.
      await expectGatewayError(client.sendData({ messages: [await device.sign(1n, { payload: big }), await device.sign(2n, { payload: big })] }), 503, "StoreUnavailable", { authenticated: true });
      expect(gateway.store.health).to.deep.include({ ok: false });
      expect(gateway.store.health.lastError).to.match(/^SQLITE_FULL/);
      expect(await metricValue(gateway, "iomt_gateway_store_up")).to.equal(0);
      const live = await fetch(`${gateway.url}/health/live`);
      expect(live.status).to.equal(200);
      expect(await live.json()).to.deep.equal({ status: "live" });
      // The probe's small write fits in the pages the failed commit left (a page limit, unlike a
      // tmpfs filled by another file, leaves that room), so readiness comes back by itself.
      const probed = await ready();
      expect(probed.status).to.equal(200);
      expect(probed.body.store).to.deep.include({ ok: true, lastError: null, failedAt: null });
    } finally {
      db.pragma("max_page_count = 1073741823");
    }
    const [receipt] = await client.sendData({ messages: [await device.sign(1n)] });
    expect(receipt.nonce).to.equal("1");
  });
});
