// Liveness and readiness. `/health/live` answers 200 while the process serves HTTP at all (a
// supervisor restarts it otherwise). `/health/ready` (and `/health`, its older name) answers
// whether the gateway can acknowledge data: 503 while the store's last commit failed (disk full,
// I/O error), since then every request that stores something is refused; 200 otherwise, with
// `status` `ok`, or `degraded` while the chain is away or a group's anchoring is held (data is
// still acknowledged and kept). While the store is failing, a readiness request tries one small
// write (at most once a second), so readiness comes back once space is freed, even before any
// device writes again.
import type { FastifyInstance } from "fastify";
import { gatewayRoutes } from "@iomt-auth/sdk";
import type { GatewayStore, StoreHealth } from "./store.js";

const PROBE_INTERVAL_MS = 1_000;

/** `/health` predates the split and answers as `/health/ready` does. */
const LEGACY_HEALTH_ROUTE = "/health";

export type HealthParameters = {
  store: GatewayStore;
  /** The gateway's state: chain, standing, backlog…; its `status` is `ok` or `degraded`. */
  health: () => Record<string, unknown>;
};

/** The readiness answer: HTTP status and body (also for tests without HTTP). */
export function createReadiness({ store, health }: HealthParameters): () => Promise<{ statusCode: 200 | 503; body: Record<string, unknown> }> {
  let lastProbe = 0;
  return async () => {
    let state: StoreHealth = store.health;
    if (!state.ok && Date.now() - lastProbe >= PROBE_INTERVAL_MS) {
      lastProbe = Date.now();
      state = await store.probe();
    }
    const body = health();
    return {
      statusCode: state.ok ? 200 : 503,
      body: { ...body, status: state.ok ? body.status : "failing", store: { ok: state.ok, lastError: state.lastError, failedAt: state.failedAt } },
    };
  };
}

export function registerHealthRoutes(app: FastifyInstance, parameters: HealthParameters): void {
  const readiness = createReadiness(parameters);
  const ready = async (_request: unknown, reply: { status(code: number): unknown }) => {
    const { statusCode, body } = await readiness();
    reply.status(statusCode);
    return body;
  };
  app.get(gatewayRoutes.live, { config: { rateLimit: false } }, async () => ({ status: "live" }));
  app.get(gatewayRoutes.ready, { config: { rateLimit: false } }, ready);
  app.get(LEGACY_HEALTH_ROUTE, { config: { rateLimit: false } }, ready);
}
