// The gateway's dependencies as Fastify decorators (typed here by declaration merging): the
// device-facing listener and the admin listener reach the store, the sessions, the API, the
// metrics, readiness and the configuration as `app.store`, `app.sessions`… rather than through
// closures. startGateway (gateway.ts) builds them in order and registers their shutdown as onClose
// hooks, which Fastify runs last-registered first: the reverse order of start.
import fp from "fastify-plugin";
import type { Aggregation } from "./aggregation.js";
import type { GatewayApi } from "./api.js";
import type { GatewayConfig } from "./config.js";
import type { Readiness } from "./health.js";
import type { GatewayMetrics } from "./metrics.js";
import type { SessionManager } from "./sessions.js";
import type { GatewayStore } from "./store.js";

export type GatewayDependencies = {
  config: GatewayConfig;
  store: GatewayStore;
  sessions: SessionManager;
  api: GatewayApi;
  metrics: GatewayMetrics;
  /** The gateway's readiness (health.ts), one for both listeners. */
  readiness: Readiness;
  /** Hierarchical anchoring (aggregation.ts), when `aggregation` is on: the routes for child groups' gateways. */
  aggregation?: Aggregation;
};

declare module "fastify" {
  // Declaration merging: every dependency typed on the instance.
  interface FastifyInstance extends GatewayDependencies {}
}

/** Decorates the instance with the dependencies given (the admin listener gets config, metrics and readiness only). */
export const gatewayDependencies = fp<Partial<GatewayDependencies>>(
  async (app, dependencies) => {
    for (const [name, value] of Object.entries(dependencies)) app.decorate(name as keyof GatewayDependencies, value as never);
  },
  { name: "iomt-gateway-dependencies", fastify: "5.x" },
);
