// The admin listener: the operator's view, apart from the device-facing listener and bound to
// localhost unless `adminHost` says otherwise. It serves liveness, readiness with its details (the
// Master, the served groups and their standing, the chain's last error, the backlog, sessions, the
// store's last error) and the Prometheus metrics. Nothing on it is for devices: nothing a device
// can reach reveals the gateway's keys, groups or faults. With `adminTokenFile` set it also serves
// the operator console (console/routes.ts), whose API asks for the admin token.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { GatewayConfig } from "./config.js";
import { consolePlugin, type ConsoleParameters } from "./console/routes.js";
import { registerHealthRoutes, type Readiness } from "./health.js";
import type { GatewayMetrics } from "./metrics.js";

export const adminRoutes = { metrics: "/metrics" } as const;

/** Whether `host` only this machine reaches: the admin listener's health and metrics have no authentication (only the console's API asks for a token). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export type AdminServerParameters = {
  config: GatewayConfig;
  /** The root logger (logging.ts). */
  log: FastifyBaseLogger;
  metrics: GatewayMetrics;
  readiness: Readiness;
  /** The operator console (console/routes.ts), when `adminTokenFile` is set. */
  console?: ConsoleParameters;
};

export async function createAdminServer({ config, log, metrics, readiness, console }: AdminServerParameters): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log.child({ listener: "admin" }),
    // A scraper every few seconds would fill the log; per-request lines only when debugging.
    logController: new LogController({ disableRequestLogging: config.logLevel !== "debug" && config.logLevel !== "trace" }),
  });
  registerHealthRoutes(app, readiness, { details: true });
  app.get(adminRoutes.metrics, async (_request, reply) => {
    metrics.refreshGauges();
    void reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  if (console !== undefined) await app.register(consolePlugin, console);
  return app;
}
