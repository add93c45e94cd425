// Rule: liveness and readiness are apart (issue 12, item 9's monitoring half). `/health/live` says
// the process answers; `/health/ready` answers 503 while the gateway cannot do its work — the chain
// unreachable (durability.test.ts stops anvil) or the store failing its commits, here a full disk
// (SQLite's page limit set to the file's current size). Until the store has a fault signal of its
// own, readiness follows the outcome of the sealed routes' commits.
import { expect } from "chai";
import { GatewayError, type GatewayClient } from "@iomt-auth/sdk";
import type { RunningGateway } from "../src/index.js";
import { createHarness, type Device, type Harness } from "./support/harness.js";

type Ready = { status: string; store: { ok: boolean; lastError: string | null }; chain: { up: boolean } };

describe("rule: liveness and readiness are apart", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let device: Device;
  let client: GatewayClient;
  const ready = async () => {
    const response = await fetch(`${gateway.url}/health/ready`);
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
    expect(answer.body).to.deep.include({ status: "ok", store: { ok: true, lastError: null } });
  });

  it("answers /health/ready 503 while the store fails its commits (a full disk), /health/live 200, and ready again once commits succeed", async () => {
    const db = gateway.store.db;
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    try {
      const big = "x".repeat(16_000);
      const error = await client.sendData({ messages: [await device.sign(1n, { payload: big }), await device.sign(2n, { payload: big })] }).catch((caught: unknown) => caught);
      // Refused, sealed, and not acknowledged.
      expect(error).to.be.instanceOf(GatewayError);
      expect(error).to.deep.include({ code: "InternalError", status: 500, authenticated: true });
      const failing = await ready();
      expect(failing.status).to.equal(503);
      expect(failing.body.status).to.equal("unready");
      expect(failing.body.store.ok).to.equal(false);
      expect(failing.body.store.lastError).to.be.a("string").and.not.equal("");
      expect(failing.body.chain.up).to.equal(true);
      const live = await fetch(`${gateway.url}/health/live`);
      expect(live.status).to.equal(200);
      expect(await live.json()).to.deep.equal({ status: "live" });
    } finally {
      db.pragma("max_page_count = 1073741823");
    }
    const [receipt] = await client.sendData({ messages: [await device.sign(1n)] });
    expect(receipt.nonce).to.equal("1");
    const recovered = await ready();
    expect(recovered.status).to.equal(200);
    expect(recovered.body.store).to.deep.equal({ ok: true, lastError: null });
  });
});
