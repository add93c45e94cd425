// The HTTP side: Fastify routes with strict schemas, rate limiting, one error shape
// (`{ error: { code, message, details? } }`), Prometheus metrics and health.
import Fastify, { LogController, type FastifyError, type FastifyInstance } from "fastify";
import rateLimit from "@fastify/rate-limit";
import { gatewayRoutes, IomtError, type FinishRequest, type HelloRequest, type SealedEnvelope, type SealedRoute, type VerifyRequest } from "@iomt-auth/sdk";
import type { Hex } from "viem";
import type { GatewayApi, Unit } from "./api.js";
import type { GatewayConfig } from "./config.js";
import { ApiError } from "./errors.js";
import { registerHealthRoutes } from "./health.js";
import type { GatewayMetrics } from "./metrics.js";
import { digestParamsSchema, finishBodySchema, helloBodySchema, sealedBodySchema, verifyBodySchema } from "./schemas.js";
import type { SessionManager } from "./sessions.js";
import type { GatewayStore } from "./store.js";

export type ServerParameters = {
  config: GatewayConfig;
  api: GatewayApi;
  sessions: SessionManager;
  store: GatewayStore;
  metrics: GatewayMetrics;
  health: () => Record<string, unknown>;
};

export async function createServer({ config, api, sessions, store, metrics, health }: ServerParameters): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: config.bodyLimitBytes,
    logger: { level: config.logLevel, redact: ["req.headers.authorization"] },
    // Per-request log lines only when debugging: at thousands of requests per second they cost more than the work.
    logController: new LogController({ disableRequestLogging: config.logLevel !== "debug" && config.logLevel !== "trace" }),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  });

  // JSON only: Fastify's default text/plain parser would hand strings to the schemas.
  app.removeContentTypeParser("text/plain");
  await app.register(rateLimit, {
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) =>
      new ApiError(429, "RateLimited", `more than ${context.max} requests per minute from this address; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const { status, code, message, details } = toApiError(error);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    metrics.rejections.inc({ code });
    void reply.status(status).send({ error: { code, message, ...(details === undefined ? {} : { details }) } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: "NotFound", message: `no route ${request.method} ${request.url}` } });
  });
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unknown";
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.requestSeconds.observe({ route }, reply.elapsedTime / 1000);
    done();
  });

  app.post<{ Body: HelloRequest }>(gatewayRoutes.hello, { schema: { body: helloBodySchema } }, (request) => sessions.hello(request.body.clientHello));
  app.post<{ Body: FinishRequest }>(gatewayRoutes.finish, { schema: { body: finishBodySchema } }, (request) =>
    sessions.finish(request.body.handshakeId, request.body.clientFinish),
  );

  /** A sealed route: open the record, run the handler, seal its answer in the same commit as its writes. */
  const sealed = (route: SealedRoute, handler: (session: Parameters<GatewayApi["data"]>[0], body: unknown) => Promise<Unit<unknown>>) =>
    app.post<{ Body: SealedEnvelope }>(route, { schema: { body: sealedBodySchema } }, async (request) => {
      const { session, body } = sessions.open(request.body, route);
      try {
        const unit = await handler(session, body);
        const record = await store.commit(() => {
          const answer = unit();
          const sealedAnswer = sessions.seal(session, route, answer);
          sessions.saveCounters(session);
          return sealedAnswer;
        });
        return { record };
      } catch (error) {
        // The record was opened: its sequence number is spent even though the request failed.
        await store.commit(() => sessions.saveCounters(session));
        throw error;
      }
    });
  sealed(gatewayRoutes.ticket, (session, body) => api.ticket(session, body));
  sealed(gatewayRoutes.assoc, (session, body) => api.assoc(session, body));
  sealed(gatewayRoutes.data, (session, body) => api.data(session, body));
  sealed(gatewayRoutes.proof, (session, body) => api.proof(session, body));

  app.post<{ Body: VerifyRequest }>(gatewayRoutes.verify, { schema: { body: verifyBodySchema } }, async (request) => api.verify(request.body));
  app.get<{ Params: { digest: Hex } }>(`${gatewayRoutes.message}/:digest`, { schema: { params: digestParamsSchema } }, async (request) =>
    api.inclusion(request.params.digest),
  );
  registerHealthRoutes(app, { store, health });
  app.get(gatewayRoutes.metrics, { config: { rateLimit: false } }, async (_request, reply) => {
    metrics.refreshGauges();
    void reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  return app;
}

/** Maps whatever was thrown to the one error shape; Fastify's own errors get stable codes. */
function toApiError(error: FastifyError | ApiError): { status: number; code: string; message: string; details?: Record<string, unknown> } {
  if (error instanceof ApiError) return { status: error.status, code: error.code, message: error.message, details: error.details };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation !== undefined) return { status: 400, code: "RequestInvalid", message: fastifyError.message };
  switch (fastifyError.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, code: "BodyTooLarge", message: fastifyError.message };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 415, code: "UnsupportedMediaType", message: "send JSON (content-type: application/json)" };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { status: 400, code: "MalformedJson", message: "the body is not valid JSON" };
  }
  if (fastifyError instanceof SyntaxError || (fastifyError.statusCode === 400 && fastifyError.code?.startsWith("FST_ERR_CTP"))) {
    return { status: 400, code: "MalformedJson", message: "the body is not valid JSON" };
  }
  // An SDK check that rejected a value the schemas let through (e.g. a zero id) is the caller's fault.
  if (error instanceof IomtError) return { status: 400, code: error.code, message: error.message };
  return { status: 500, code: "InternalError", message: "the gateway failed to handle this request" };
}
