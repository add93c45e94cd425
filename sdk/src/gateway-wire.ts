// The gateway protocol's routes and JSON shapes (docs/protocol.md §6), shared by the device's client
// (gateway-client.ts) and the gateway: what travels, sealed or plain, on each route, and the
// converters between the SDK's typed requests (bigints) and their JSON form (decimal strings).
import type { Static } from "typebox";
import { getAddress } from "viem";
import type { DataMessage, SignedAssociation } from "./typed-data.js";
import type * as schemas from "./wire-schemas.js";

/** The gateway's device-facing routes, shared by client and server (`/metrics` is on its admin listener). */
export const gatewayRoutes = {
  hello: "/v2/session/hello",
  finish: "/v2/session/finish",
  ticket: "/v2/ticket",
  assoc: "/v2/assoc",
  data: "/v2/data",
  nonce: "/v2/nonce",
  proof: "/v2/proof",
  inclusion: "/v2/inclusion",
  verify: "/v2/verify",
  handover: "/v2/handover",
  handoverStatus: "/v2/handover/status",
  live: "/health/live",
  ready: "/health/ready",
} as const;

/** Routes whose bodies travel sealed under a session. */
export type SealedRoute = (typeof gatewayRoutes)["ticket" | "assoc" | "data" | "nonce" | "proof" | "inclusion" | "verify" | "handover" | "handoverStatus"];

// ------------------------------------------------------------------------------ wire types
// Each type is the static type of its schema in wire-schemas.ts, the one source the gateway
// validates with and its OpenAPI document is generated from. Imported as types only: a device's
// bundle carries no schema.

export type HelloRequest = Static<typeof schemas.HelloRequestSchema>;
/** Either a cookie to send back with the same ClientHello, or the ServerHello. */
export type HelloResponse = Static<typeof schemas.HelloResponseSchema>;
export type FinishRequest = Static<typeof schemas.FinishRequestSchema>;
/** `record`: sealed by the Master (sequence 0) over {@link FinishAnswer}, bound to the ClientFinish. */
export type FinishResponse = Static<typeof schemas.FinishResponseSchema>;
export type FinishAnswer = Static<typeof schemas.FinishAnswerSchema>;
export type SealedEnvelope = Static<typeof schemas.SealedEnvelopeSchema>;
export type SealedAnswer = Static<typeof schemas.SealedAnswerSchema>;
export type GatewayErrorBody = Static<typeof schemas.GatewayErrorBodySchema>;

export type TicketRequest = Static<typeof schemas.TicketRequestSchema>;
export type TicketResponse = Static<typeof schemas.TicketResponseSchema>;

/** A data message on the wire: bigints as decimal strings. */
export type WireDataMessage = Static<typeof schemas.WireDataMessageSchema>;
/**
 * A signed data message; `payload` (the raw reading as hex, when the gateway should keep it) comes
 * with `salt` (the commitment's 32-byte salt): `keccak256(salt ‖ payload)` must be `payloadHash`.
 */
export type WireSignedDataMessage = DataRequest["messages"][number];
export type DataRequest = Static<schemas.DataRequestSchema>;

/** `pending` until the message's batch is anchored (or the message is relayed) on chain. */
export type MessageStatus = Static<typeof schemas.MessageStatusSchema>;

/** `digest`: the message's EIP-712 digest (`hashDataMessage`), its id and its leaf in a batch; `acceptedAt`: Unix milliseconds when the gateway stored it. */
export type Receipt = Static<typeof schemas.ReceiptSchema>;
export type DataResponse = Static<typeof schemas.DataResponseSchema>;

/** The next data nonce the gateway accepts from this device: resynchronises a device that lost its counter. */
export type NonceResponse = Static<typeof schemas.NonceResponseSchema>;

/** `token`: the Master's token signature (the token's gid, oid and device are the request's). */
export type WireAssociation = Static<typeof schemas.WireAssociationSchema>;
/** An empty body asks for the status of the association already sent. */
export type AssocRequest = Static<typeof schemas.AssocRequestSchema>;
/**
 * `associated` once the device is a member on chain — also when someone else relayed the same
 * signed request first (the batch reports it as already applied); `rejected` when the registry
 * refused it (then `error` names the rule).
 */
export type AssociationStatus = Static<typeof schemas.AssociationStatusSchema>;
/**
 * `txHash`: the transaction that carried the request (a batch of several devices' requests);
 * `entry`, once mined: the device's AuthTable entry (`entryHash` is its auth-chain entry, the chain
 * head right after it joined); `error`, when rejected: the registry rule it broke (a custom error's name).
 */
export type AssocResponse = Static<typeof schemas.AssocResponseSchema>;

/**
 * `path`: the device's AuthTable path in `encodeAuthPath`'s form (version 2), built from the
 * gateway's mirror: each step carries the tree size its proof was built for (`leafCount`) and no
 * consistency proof (it is built for the mirror's current size). `size`: its length in bytes.
 */
export type ProofResponse = Static<typeof schemas.ProofResponseSchema>;

/**
 * `path` in `encodeAuthPath`'s form. A step built when its group was smaller verifies too: with
 * its consistency proof, or without one, since the gateway's mirror knows every earlier root of
 * the groups it indexed. `status` is `Stale` only for a step it cannot place.
 */
export type VerifyRequest = Static<typeof schemas.VerifyRequestSchema>;
export type VerifyResponse = Static<typeof schemas.VerifyResponseSchema>;

/** One of the device's own messages, by digest. */
export type InclusionRequest = Static<typeof schemas.InclusionRequestSchema>;
export type InclusionResponse = Static<typeof schemas.InclusionResponseSchema>;

/** Where a batch root was anchored through an aggregate: the anchoring group, the aggregate root, the batch's leaf proof. */
export type AggregateAnchor = Static<typeof schemas.AggregateAnchorSchema>;

/**
 * Hierarchical anchoring, between gateways: a child group's gateway (its Master key, a member of
 * this gateway's group) hands up batch roots, its own and those its own children handed it.
 */
export type HandoverEntry = Static<typeof schemas.HandoverEntrySchema>;
export type HandoverRequest = Static<schemas.HandoverRequestSchema>;
/** `waiting`: kept, not anchored yet; `anchored`: in an aggregate on chain (`aggregate`); `unknown`: never handed here. */
export type HandoverState = Static<typeof schemas.HandoverStateSchema>;
export type HandoverResponse = Static<typeof schemas.HandoverResponseSchema>;
export type HandoverStatusRequest = Static<schemas.HandoverStatusRequestSchema>;
export type HandoverStatusResponse = Static<typeof schemas.HandoverStatusResponseSchema>;

/** A data message as JSON. */
export function toWireDataMessage(message: DataMessage): WireDataMessage {
  return {
    gid: message.gid,
    oid: message.oid,
    nonce: message.nonce.toString(),
    payloadHash: message.payloadHash,
    timestamp: message.timestamp.toString(),
    deadline: message.deadline.toString(),
  };
}

/** A data message from JSON (the shape already validated: decimal strings). */
export function fromWireDataMessage(wire: WireDataMessage): DataMessage {
  return {
    gid: wire.gid,
    oid: wire.oid,
    nonce: BigInt(wire.nonce),
    payloadHash: wire.payloadHash,
    timestamp: BigInt(wire.timestamp),
    deadline: BigInt(wire.deadline),
  };
}

export function toWireAssociation(association: SignedAssociation): WireAssociation {
  const { request } = association;
  return {
    request: { gid: request.gid, oid: request.oid, device: request.device, nonce: request.nonce.toString(), deadline: request.deadline.toString() },
    signature: association.signature,
    token: association.token,
  };
}

export function fromWireAssociation(wire: WireAssociation): SignedAssociation {
  const { request } = wire;
  return {
    request: { gid: request.gid, oid: request.oid, device: getAddress(request.device), nonce: BigInt(request.nonce), deadline: BigInt(request.deadline) },
    signature: wire.signature,
    token: wire.token,
  };
}
