// The HTTP side (docs/protocol.md §5–6), as Fastify plugins: the handshake routes (plain JSON),
// the sealed routes (every answer sealed and bound to its request, errors included, once the
// request record opened) and liveness and readiness (their status only: the details and the
// metrics are on the admin listener, admin.ts). One error shape
// everywhere, `{ error: { code, message, details? } }`, also for the refusals the HTTP layer makes
// itself (unparsable requests, header overflow, slow clients). Budgets are separate: per client
// address on the routes without a session, per device (counted once a record opened) on the sealed
// ones, so junk from one address cannot lock the devices behind it out of their sessions. Every
// refusal is marked on its request and logged once by the audit hook (audit.ts).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import rateLimit from "@fastify/rate-limit";
import type { Socket } from "node:net";
import { STATUS_CODES } from "node:http";
import { gatewayRoutes, IomtError, type FinishRequest, type HelloRequest, type SealedAnswerBody, type SealedEnvelope, type SealedRoute, type Session } from "@iomt-auth/sdk";
import fastJson from "fast-json-stringify";
import fp from "fastify-plugin";
import type { Unit } from "./api.js";
import { installRequestAudit, refuse } from "./audit.js";
import { ApiError, apiError } from "./errors.js";
import { gatewayDependencies, type GatewayDependencies } from "./decorators.js";
import { registerHealthRoutes } from "./health.js";
import type { GatewayMetrics } from "./metrics.js";
import { asJson, finishRouteSchema, helloRouteSchema, sealedContents, sealedRouteSchema, type SealedContent } from "./schemas.js";
import { registerOpenApi } from "./openapi.js";
import { OpenedError, type OpenedRequest } from "./sessions.js";

export type ServerParameters = GatewayDependencies & {
  /** The root logger (logging.ts). */
  log: FastifyBaseLogger;
};

type ErrorBody = { code: string; message: string; details?: Record<string, unknown> };

/** The device-facing listener: a Fastify instance with the server options, the dependencies as decorators, and {@link deviceApp}. */
export async function createServer(parameters: ServerParameters): Promise<FastifyInstance> {
  const { log, ...dependencies } = parameters;
  const { config, metrics } = dependencies;
  const app = Fastify({
    bodyLimit: config.bodyLimitBytes,
    loggerInstance: log.child({ listener: "device" }),
    // Per-request log lines only when debugging: at thousands of requests per second they cost more than the work.
    logController: new LogController({ disableRequestLogging: config.logLevel !== "debug" && config.logLevel !== "trace" }),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    trustProxy: config.trustProxy,
    // Slow clients are closed: headers and the whole request within requestTimeoutMs, checked every
    // second (Node's defaults are 60 s, 300 s and a 30 s check, which keep a slow socket for minutes).
    requestTimeout: config.requestTimeoutMs,
    http: { headersTimeout: config.requestTimeoutMs, requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: Math.min(1_000, config.requestTimeoutMs) },
    clientErrorHandler: clientErrorHandler(metrics),
  });
  await app.register(gatewayDependencies, dependencies);
  await registerOpenApi(app, "device");
  await app.register(deviceApp);
  return app;
}

/**
 * The device-facing application as a plugin (registered without encapsulation, so its error and
 * not-found handlers are the listener's): the rate limit, the one error shape, the audit hook, the
 * handshake and sealed routes and the status-only health routes. Its dependencies are the
 * instance's decorators (decorators.ts).
 */
export const deviceApp = fp(deviceAppPlugin, { name: "iomt-gateway-device-app", dependencies: ["iomt-gateway-dependencies"] });

async function deviceAppPlugin(app: FastifyInstance): Promise<void> {
  const { config, metrics } = app;
  // JSON only: Fastify's default text/plain parser would hand strings to the schemas.
  app.removeContentTypeParser("text/plain");
  app.setSerializerCompiler(asJson);
  await app.register(rateLimit, {
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) =>
      apiError("RateLimited", `more than ${context.max} requests per minute from this address; retry in ${Math.ceil(context.ttl / 1000)} s`, { retryAfterMs: context.ttl }),
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const { status, body } = toErrorBody(error);
    // Expected refusals (503 busy, syncing, chain down) are not faults; anything else 5xx is.
    if (body.code === "InternalError") request.log.error({ err: error }, "request failed");
    refuse(request, body.code);
    void reply.status(status).send({ error: body });
  });
  app.setNotFoundHandler({ preHandler: app.rateLimit() }, (request, reply) => {
    refuse(request, "NotFound");
    void reply.status(404).send({ error: { code: "NotFound", message: `no route ${request.method} ${request.url}` } });
  });
  installRequestAudit(app, metrics);

  await app.register(handshakeRoutes);
  await app.register(sealedRoutes);
  registerHealthRoutes(app, app.readiness, { details: false });
}

/** `POST /v2/session/hello` and `/v2/session/finish`: plain JSON, under the per-address budget. */
async function handshakeRoutes(app: FastifyInstance): Promise<void> {
  const { sessions } = app;
  app.post<{ Body: HelloRequest }>(gatewayRoutes.hello, { schema: helloRouteSchema }, (request) =>
    sessions.hello(request.body.clientHello, request.body.cookie, request.ip),
  );
  app.post<{ Body: FinishRequest }>(gatewayRoutes.finish, { schema: finishRouteSchema }, (request) =>
    sessions.finish(request.body.handshakeId, request.body.clientFinish),
  );
}

/**
 * The sealed routes. A request whose record does not open (unknown or expired session, failed
 * authentication, replay) gets a plain error; from the moment it opened, every answer — result or
 * refusal, whatever its status — is `{ record }` sealed over `{ ok, result | error }` and bound to
 * the request (docs/protocol.md §5). The per-device budget is counted only for opened records, so
 * nobody can spend a device's budget with junk under its session id.
 */
async function sealedRoutes(app: FastifyInstance): Promise<void> {
  const { config, api, sessions, store, aggregation } = app;
  const budget = new DeviceBudget(config.deviceRateLimitPerMinute);

  const contents = sealedContents(config);

  const sealed = (route: SealedRoute, content: SealedContent, handler: (session: Session, body: unknown) => Promise<Unit<unknown>>) =>
    app.post<{ Body: SealedEnvelope }>(route, { schema: sealedRouteSchema(content), serializerCompiler: sealedAnswerSerializer, config: { rateLimit: false } }, async (request, reply) => {
      let opened: OpenedRequest | undefined;
      let answer: SealedAnswerBody<unknown>;
      let status = 200;
      try {
        opened = sessions.open(request.body, route);
        budget.take(opened.session.device);
        api.authorise(opened.session);
        const unit = await handler(opened.session, opened.body);
        answer = { ok: true, result: await commit(unit) };
      } catch (error) {
        if (error instanceof OpenedError) opened = error.opened;
        // Not opened: a plain refusal, through the error handler.
        if (opened === undefined) throw error;
        const refusal = toErrorBody(error instanceof OpenedError ? error.error : (error as Error));
        if (refusal.body.code === "InternalError") request.log.error({ err: error }, "request failed");
        refuse(request, refusal.body.code, opened.session.device);
        status = refusal.status;
        answer = { ok: false, error: refusal.body };
      }
      return reply.status(status).send({ record: sessions.seal(opened, answer) });
    });

  /** Runs the unit in the group commit; a failing store refuses it with StoreUnavailable and reports itself failing to readiness. */
  const commit = (unit: Unit<unknown>): Promise<unknown> => {
    const committing = app.metrics.commitSeconds.startTimer();
    return store.commit(unit).finally(committing);
  };

  sealed(gatewayRoutes.ticket, contents.ticket, (session, body) => api.ticket(session, body));
  sealed(gatewayRoutes.assoc, contents.assoc, (session, body) => api.assoc(session, body));
  sealed(gatewayRoutes.data, contents.data, (session, body) => api.data(session, body));
  sealed(gatewayRoutes.nonce, contents.nonce, (session, body) => api.nonce(session, body));
  sealed(gatewayRoutes.proof, contents.proof, (session, body) => api.proof(session, body));
  sealed(gatewayRoutes.inclusion, contents.inclusion, (session, body) => api.inclusion(session, body));
  sealed(gatewayRoutes.verify, contents.verify, (session, body) => api.verify(session, body));
  // Hierarchical anchoring: the routes a child group's gateway uses, sealed like a device's (aggregation.ts).
  if (aggregation !== undefined) {
    sealed(gatewayRoutes.handover, contents.handover, (session, body) => aggregation.handover(session, body));
    sealed(gatewayRoutes.handoverStatus, contents.handoverStatus, (session, body) => aggregation.status(session, body));
  }
}

/**
 * A sealed route's 200 answer is `{ record: { seq, ciphertext } }`, a fixed shape on the hot path:
 * fast-json-stringify writes it in the order sealRecord builds it, and the sealed JSON is inside
 * the ciphertext, out of its reach. Its other answers (a sealed refusal or a plain one) as JSON.
 */
function sealedAnswerSerializer({ schema, httpStatus }: { schema: object; httpStatus?: string }) {
  return httpStatus === "200" ? fastJson(schema) : JSON.stringify;
}

/** Sealed requests per device and minute (a fixed window per device), counted after the record opened. */
class DeviceBudget {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly limit: number;
  private sweptAt = Date.now();

  constructor(limit: number) {
    this.limit = limit;
  }

  take(device: string): void {
    const now = Date.now();
    if (now - this.sweptAt > 60_000) {
      for (const [key, window] of this.windows) if (now - window.start >= 60_000) this.windows.delete(key);
      this.sweptAt = now;
    }
    let window = this.windows.get(device);
    if (window === undefined || now - window.start >= 60_000) this.windows.set(device, (window = { start: now, count: 0 }));
    if (++window.count > this.limit) {
      const retryAfterMs = 60_000 - (now - window.start);
      throw apiError("RateLimited", `more than ${this.limit} sealed requests per minute from this device; retry in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
    }
  }
}

/** Maps whatever was thrown to a status and the one error body; Fastify's own errors get stable codes. */
export function toErrorBody(error: FastifyError | Error): { status: number; body: ErrorBody } {
  const { status, code, message, details } = classify(error);
  return { status, body: { code, message, ...(details === undefined ? {} : { details }) } };
}

function classify(error: FastifyError | Error): { status: number; code: string; message: string; details?: Record<string, unknown> } {
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
  // Any other refusal Fastify makes itself (a bad content length, an aborted body, …).
  if (typeof fastifyError.statusCode === "number" && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, code: "MalformedRequest", message: fastifyError.message };
  }
  // An SDK check that rejected a value the schemas let through (e.g. a zero id) is the caller's fault.
  if (error instanceof IomtError) return { status: 400, code: error.code, message: error.message };
  return { status: 500, code: "InternalError", message: "the gateway failed to handle this request" };
}

/**
 * Refusals Node's HTTP parser makes before Fastify sees a request (an unparsable request line or
 * header, headers over the size limit, a client too slow to send its request): answered in the one
 * error shape, then the socket is closed.
 */
function clientErrorHandler(metrics: GatewayMetrics) {
  return function (this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    const [status, code, message] =
      error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "RequestTimeout", "the request was not received in time"]
        : error.code === "HPE_HEADER_OVERFLOW"
          ? [431, "HeaderTooLarge", "the request's headers exceed the size limit"]
          : [400, "MalformedRequest", "the request is not valid HTTP/1.1"];
    metrics.rejections.inc({ code });
    // No request exists yet, so the audit hook never sees it: logged here, in the same shape.
    this.log.info({ audit: "refusal", code, status, ip: socket.remoteAddress ?? null, device: null }, "request refused");
    if (socket.writable) {
      const body = JSON.stringify({ error: { code, message } });
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy(error);
  };
}
