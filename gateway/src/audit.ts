// The audit trail of refusals (HIPAA §164.312(b): record and examine activity in systems that hold
// ePHI) and the HTTP latency metric, for the device-facing listener. The places that refuse — the
// shared error handler, the not-found handler and the sealed routes' one wrapper — only mark the
// request with its code (and the device, once a sealed record opened, so it is authenticated); one
// onResponse hook then counts the refusal and logs it at info with its code, status, method, route,
// client address and device. No request body is logged, so no secret, token or record can be.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { gatewayRoutes } from "@iomt-auth/sdk";
import type { GatewayMetrics } from "./metrics.js";

export type Refusal = { code: string; device: string | null };

declare module "fastify" {
  interface FastifyRequest {
    /** Set when the answer is a refusal (see `refuse`). */
    refusal: Refusal | null;
  }
}

/** The `route` label of requests no route serves: a scanner's random URLs cannot grow the label set. */
export const UNMATCHED_ROUTE = "unmatched";

/** Marks the request refused with `code`; `device` only when authenticated (a sealed record opened). */
export function refuse(request: FastifyRequest, code: string, device?: string): void {
  request.refusal = { code, device: device ?? null };
}

export function installRequestAudit(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.decorateRequest("refusal", null);
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics.requestSeconds.observe({ method: request.method, route, status_code: reply.statusCode }, reply.elapsedTime / 1000);
    const { refusal } = request;
    if (refusal !== null) {
      metrics.rejections.inc({ code: refusal.code });
      request.log.info(
        { audit: "refusal", code: refusal.code, status: reply.statusCode, method: request.method, route, url: request.url, ip: request.ip, device: refusal.device, claimedDevice: claimedDevice(request, route) },
        "request refused",
      );
    }
    done();
  });
}

/** The device a refused hello names: not authenticated (its signature comes at the finish), but who tried matters to an audit. */
function claimedDevice(request: FastifyRequest, route: string): string | null {
  if (route !== gatewayRoutes.hello) return null;
  const device = (request.body as { clientHello?: { device?: unknown } } | undefined)?.clientHello?.device;
  return typeof device === "string" ? device : null;
}
