// The schemas of every route, from the one source of the wire (the SDK's wire-schemas.ts, TypeBox):
// requests, outer (validated by Fastify before a handler runs) and inner (the opened body of a
// sealed route, validated by the handler), and the answers each route declares, from which
// Fastify serializes them and @fastify/swagger writes the OpenAPI document (openapi.ts).
//
// A sealed route's HTTP body is only the envelope; what it carries is described, for the document,
// by the `x-iomt-sealed` extension on the route's operation: the opened request's schema and the
// answer's `{ ok: true, result } | { ok: false, error }` (docs/protocol.md §5). Fastify never sees
// those: they travel encrypted, and serialization cannot touch them.
import { Type, type Static, type TSchema } from "typebox";
import {
  AssocRequestSchema,
  AssocResponseSchema,
  DataResponseSchema,
  DeviceReadinessSchema,
  EmptyRequestSchema,
  FinishRequestSchema,
  FinishResponseSchema,
  GatewayErrorBodySchema,
  HandoverResponseSchema,
  HandoverStatusResponseSchema,
  handoverRequestSchema,
  handoverStatusRequestSchema,
  HelloRequestSchema,
  HelloResponseSchema,
  InclusionRequestSchema,
  InclusionResponseSchema,
  LivenessSchema,
  NonceResponseSchema,
  ProofResponseSchema,
  ReadinessStatusSchema,
  SealedAnswerSchema,
  SealedEnvelopeSchema,
  sealedAnswerBodySchema,
  TicketRequestSchema,
  TicketResponseSchema,
  VerifyRequestSchema,
  VerifyResponseSchema,
  dataRequestSchema,
} from "@iomt-auth/sdk/wire-schemas";

export { dataRequestSchema, handoverRequestSchema, handoverStatusRequestSchema } from "@iomt-auth/sdk/wire-schemas";

// The opened bodies of sealed routes, as api.ts validates them.
export const ticketRequestSchema = TicketRequestSchema;
export const assocRequestSchema = AssocRequestSchema;
export const emptySchema = EmptyRequestSchema;
export const verifyRequestSchema = VerifyRequestSchema;
export const inclusionRequestSchema = InclusionRequestSchema;

export type { Static, TSchema };

/**
 * Answers are serialized exactly as JSON.stringify does, byte for byte: the response schemas
 * document them and tests validate them, but nothing a device receives is reordered or dropped.
 */
export const asJson = () => (data: unknown) => JSON.stringify(data);

/** Every refusal, whatever its status: `{ error: { code, message, details? } }`. */
const refusals = { "4xx": GatewayErrorBodySchema, "5xx": GatewayErrorBodySchema } as const;

/** `POST /v2/session/hello`: a cookie to send back, or the ServerHello. */
export const helloRouteSchema = { body: HelloRequestSchema, response: { 200: HelloResponseSchema, ...refusals } };
/** `POST /v2/session/finish`: the session id and the Master's sealed FinishAnswer. */
export const finishRouteSchema = { body: FinishRequestSchema, response: { 200: FinishResponseSchema, ...refusals } };

/** What a sealed route carries once opened: its request and the result of its answer. */
export type SealedContent = { request: TSchema; result: TSchema };

/** The opened requests and results of the sealed routes, by name in `gatewayRoutes`; `data` with the configured bounds. */
export function sealedContents(limits: { maxMessagesPerRequest: number; maxPayloadBytes: number; maxRootsPerHandover: number }) {
  return {
    ticket: { request: TicketRequestSchema, result: TicketResponseSchema },
    assoc: { request: AssocRequestSchema, result: AssocResponseSchema },
    data: { request: dataRequestSchema(limits.maxMessagesPerRequest, limits.maxPayloadBytes), result: DataResponseSchema },
    nonce: { request: EmptyRequestSchema, result: NonceResponseSchema },
    proof: { request: EmptyRequestSchema, result: ProofResponseSchema },
    inclusion: { request: InclusionRequestSchema, result: InclusionResponseSchema },
    verify: { request: VerifyRequestSchema, result: VerifyResponseSchema },
    handover: { request: handoverRequestSchema(limits.maxRootsPerHandover), result: HandoverResponseSchema },
    handoverStatus: { request: handoverStatusRequestSchema(limits.maxRootsPerHandover), result: HandoverStatusResponseSchema },
  } satisfies Record<string, SealedContent>;
}

/**
 * A sealed route: the envelope in, `{ record }` out — whatever the status once the record opened
 * (the answer inside says ok or not), a plain refusal before. `x-iomt-sealed` documents the content.
 */
export function sealedRouteSchema({ request, result }: SealedContent) {
  return {
    body: SealedEnvelopeSchema,
    description:
      "A sealed route (docs/protocol.md §5): the body is an envelope whose record opens, under the session, to `x-iomt-sealed.request`; every answer once it opened, whatever its HTTP status, is `{ record }` sealed over `x-iomt-sealed.answer` and bound to the request. A request whose record does not open gets a plain error body.",
    "x-iomt-sealed": { request, answer: sealedAnswerBodySchema(result) },
    response: { 200: SealedAnswerSchema, "4xx": Type.Union([SealedAnswerSchema, GatewayErrorBodySchema]), "5xx": Type.Union([SealedAnswerSchema, GatewayErrorBodySchema]) },
  };
}

/** `/health/live`. */
export const livenessRouteSchema = { response: { 200: LivenessSchema } };
/** `/health/ready` and `/health` on the device-facing listener: the status alone. */
export const deviceReadinessRouteSchema = { response: { 200: DeviceReadinessSchema, 503: DeviceReadinessSchema } };

/** The admin listener's readiness: the status and the operator's details (health.ts, gateway.ts). */
export const AdminReadinessSchema = Type.Object(
  {
    status: ReadinessStatusSchema,
    master: Type.String(),
    groups: Type.Array(Type.String()),
    policy: Type.String(),
    chain: Type.Object({ up: Type.Boolean(), indexedBlock: Type.String(), lastError: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: true }),
    standing: Type.Array(Type.Object({ status: Type.String() }, { additionalProperties: true })),
    backlog: Type.Object({ pendingMessages: Type.Integer(), openBatches: Type.Integer(), messagesInOpenBatches: Type.Integer() }),
    sessions: Type.Integer(),
    nativeSecp256k1: Type.Boolean(),
    store: Type.Object({ ok: Type.Boolean(), lastError: Type.Union([Type.String(), Type.Null()]), failedAt: Type.Union([Type.Integer(), Type.Null()]) }, { additionalProperties: true }),
    aggregation: Type.Optional(
      Type.Object(
        {
          parent: Type.Union([Type.String(), Type.Null()], { description: "the parent gateway's URL; null for a gateway that anchors the aggregates itself" }),
          parentUp: Type.Union([Type.Boolean(), Type.Null()], { description: "whether the last exchange with the parent succeeded; null without a parent" }),
          roots: Type.Object({ waiting: Type.Integer(), handed: Type.Integer(), aggregated: Type.Integer() }, { description: "roots held and not anchored yet, by state" }),
          oldestOpenMs: Type.Union([Type.Integer(), Type.Null()], { description: "how long the oldest of them has been held; null when none is" }),
        },
        { description: "hierarchical anchoring, with aggregation: on only" },
      ),
    ),
  },
  { additionalProperties: true },
);
export const adminReadinessRouteSchema = { response: { 200: AdminReadinessSchema, 503: AdminReadinessSchema } };
/** `/metrics`: Prometheus' text exposition format. */
export const metricsRouteSchema = { response: { 200: { description: "Prometheus text exposition format 0.0.4", content: { "text/plain": { schema: Type.String() } } } } };
/** `/openapi/*.json` on the admin listener: an OpenAPI 3.1 document. */
export const openapiRouteSchema = { response: { 200: Type.Object({ openapi: Type.Literal("3.1.0") }, { additionalProperties: true, description: "an OpenAPI 3.1 document" }) } };
