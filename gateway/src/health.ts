// Liveness and readiness. `/health/live` answers 200 while the process serves HTTP at all (a
// supervisor restarts it otherwise). `/health/ready` (and `/health`, its older name) answers 503
// while the gateway cannot do its work: the store's last commit failed (disk full, I/O error:
// every request that stores something is refused; `status` `failing`) or the chain is unreachable
// (`status` `unready`: data is still acknowledged and kept, but nothing reaches the chain); 200
// otherwise, with `status` `ok`, or `degraded` while a group's anchoring is held. While the store
// is failing, a readiness request tries one small write (at most once a second), so readiness
// comes back once space is freed, even before any device writes again.
//
// Both listeners serve these routes from one readiness. The device-facing one answers the status
// alone: the details (the Master, the groups, the chain's last error, the backlog) are the
// operator's, on the admin listener only.
import type { FastifyInstance } from "fastify";
import { gatewayRoutes } from "@iomt-auth/sdk";
import { adminReadinessRouteSchema, asJson, deviceReadinessRouteSchema, livenessRouteSchema } from "./schemas.js";
import type { GatewayStore, StoreHealth } from "./store.js";

const PROBE_INTERVAL_MS = 1_000;

/** `/health` predates the split and answers as `/health/ready` does. */
export const LEGACY_HEALTH_ROUTE = "/health";

export type HealthParameters = {
  store: GatewayStore;
  /** The gateway's state: chain, standing, backlog…; `ready` is false while the chain is unreachable. */
  health: () => { ready: boolean; status: string } & Record<string, unknown>;
};

export type Readiness = () => Promise<{ statusCode: 200 | 503; body: { status: string } & Record<string, unknown> }>;

/** The readiness answer: HTTP status and the operator's body (also for tests without HTTP). */
export function createReadiness({ store, health }: HealthParameters): Readiness {
  let lastProbe = 0;
  return async () => {
    let state: StoreHealth = store.health;
    if (!state.ok && Date.now() - lastProbe >= PROBE_INTERVAL_MS) {
      lastProbe = Date.now();
      state = await store.probe();
    }
    const { ready, ...body } = health();
    return {
      statusCode: state.ok && ready ? 200 : 503,
      body: {
        ...body,
        status: !state.ok ? "failing" : !ready ? "unready" : body.status,
        // The checkpoint thread's counts: a failing checkpoint loses nothing (the log keeps every page), so it does not change the status.
        store: { ok: state.ok, lastError: state.lastError, failedAt: state.failedAt, ...(store.checkpoints === undefined ? {} : { checkpoints: store.checkpoints }) },
      },
    };
  };
}

/** `details`: the whole body (admin listener), or `{ status }` alone (device-facing). */
export function registerHealthRoutes(app: FastifyInstance, readiness: Readiness, { details }: { details: boolean }): void {
  const ready = async (_request: unknown, reply: { status(code: number): unknown }) => {
    const { statusCode, body } = await readiness();
    reply.status(statusCode);
    return details ? body : { status: body.status };
  };
  const schema = details ? adminReadinessRouteSchema : deviceReadinessRouteSchema;
  // Serialized as JSON.stringify does: the details are the gateway's own, whatever fields they grow.
  const serializerCompiler = asJson;
  app.get(gatewayRoutes.live, { schema: livenessRouteSchema, serializerCompiler, config: { rateLimit: false } }, async () => ({ status: "live" }));
  app.get(gatewayRoutes.ready, { schema, serializerCompiler, config: { rateLimit: false } }, ready);
  app.get(LEGACY_HEALTH_ROUTE, { schema, serializerCompiler, config: { rateLimit: false } }, ready);
}
