// The admin listener: the operator's view, apart from the device-facing listener and bound to
// localhost unless `adminHost` says otherwise. It serves liveness, readiness with its details (the
// Master, the served groups and their standing, the chain's last error, the backlog, sessions, the
// store's last error) and the Prometheus metrics. Nothing on it is for devices: nothing a device
// can reach reveals the gateway's keys, groups or faults. With `adminTokenFile` set it also serves
// the operator console (console/routes.ts), whose API asks for the admin token.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { GatewayConfig } from "./config.js";
import { consolePlugin, type ConsoleParameters } from "./console/routes.js";
import { gatewayDependencies } from "./decorators.js";
import { registerHealthRoutes, type Readiness } from "./health.js";
import type { GatewayMetrics } from "./metrics.js";
import { openapiRoutes, registerOpenApi } from "./openapi.js";
import { asJson, metricsRouteSchema, openapiRouteSchema } from "./schemas.js";

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
  /** The device-facing listener's OpenAPI document (openapi.ts). */
  deviceOpenApi: () => unknown;
  /** The operator console (console/routes.ts), when `adminTokenFile` is set. */
  console?: ConsoleParameters;
};

/** The admin listener: a Fastify instance with its dependencies as decorators and {@link adminApp}. */
export async function createAdminServer({ log, ...dependencies }: AdminServerParameters): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log.child({ listener: "admin" }),
    // A scraper every few seconds would fill the log; per-request lines only when debugging.
    logController: new LogController({ disableRequestLogging: dependencies.config.logLevel !== "debug" && dependencies.config.logLevel !== "trace" }),
  });
  const { deviceOpenApi, console, ...decorated } = dependencies;
  await app.register(gatewayDependencies, decorated);
  await registerOpenApi(app, "admin");
  await app.register(adminApp, { deviceOpenApi, console });
  return app;
}

/**
 * The admin application as a plugin: health with details, the Prometheus metrics and the OpenAPI
 * documents, from the instance's decorators; `deviceOpenApi` gives the device listener's document.
 */
export const adminApp = fp(adminAppPlugin, { name: "iomt-gateway-admin-app", dependencies: ["iomt-gateway-dependencies"] });

async function adminAppPlugin(app: FastifyInstance, { deviceOpenApi, console }: Pick<AdminServerParameters, "deviceOpenApi" | "console">): Promise<void> {
  const { metrics } = app;
  app.setSerializerCompiler(asJson);
  registerHealthRoutes(app, app.readiness, { details: true });
  app.get(adminRoutes.metrics, { schema: metricsRouteSchema }, async (_request, reply) => {
    metrics.refreshGauges();
    void reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  // The documents of both listeners (openapi.ts): here, not on the device-facing listener.
  app.get(openapiRoutes.device, { schema: openapiRouteSchema }, async () => deviceOpenApi());
  app.get(openapiRoutes.admin, { schema: openapiRouteSchema }, async () => app.swagger());
  if (console !== undefined) await app.register(consolePlugin, console);
}
