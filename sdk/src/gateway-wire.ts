// The gateway protocol's routes and JSON shapes (docs/protocol.md §6), shared by the device's client
// (gateway-client.ts) and the gateway: what travels, sealed or plain, on each route, and the
// converters between the SDK's typed requests (bigints) and their JSON form (decimal strings).
import { getAddress, type Address, type Hex } from "viem";
import type { AuthPathStatus } from "./authtable.js";
import type { ClientFinish, ClientHello, ServerHello, SessionRecord } from "./session.js";
import type { DataMessage, SignedAssociation } from "./typed-data.js";

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

export type HelloRequest = { clientHello: ClientHello; cookie?: Hex };
/** Either a cookie to send back with the same ClientHello, or the ServerHello. */
export type HelloResponse = { cookie: Hex } | { handshakeId: string; serverHello: ServerHello };
export type FinishRequest = { handshakeId: string; clientFinish: ClientFinish };
/** `record`: sealed by the Master (sequence 0) over {@link FinishAnswer}, bound to the ClientFinish. */
export type FinishResponse = { sessionId: Hex; record: SessionRecord };
export type FinishAnswer = { expiresAt: number };
export type SealedEnvelope = { sessionId: Hex; record: SessionRecord };
export type SealedAnswer = { record: SessionRecord };
export type GatewayErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

export type TicketRequest = { secret?: string };
export type TicketResponse = { token: Hex };

/** A data message on the wire: bigints as decimal strings. */
export type WireDataMessage = {
  gid: Hex;
  oid: Hex;
  nonce: string;
  payloadHash: Hex;
  timestamp: string;
  deadline: string;
};
export type WireSignedDataMessage = {
  message: WireDataMessage;
  signature: Hex;
  /** The raw reading as hex, when the gateway should keep it; `keccak256(salt ‖ payload)` must be `payloadHash`. */
  payload?: Hex;
  /** The commitment's 32-byte salt; required with `payload`. */
  salt?: Hex;
};
export type DataRequest = { messages: WireSignedDataMessage[] };

/** `pending` until the message's batch is anchored (or the message is relayed) on chain. */
export type MessageStatus = "pending" | "anchored" | "relayed";

export type Receipt = {
  /** The message's EIP-712 digest (`hashDataMessage`): its id and its leaf in a batch. */
  digest: Hex;
  device: Address;
  nonce: string;
  /** Unix milliseconds when the gateway stored the message. */
  acceptedAt: number;
};
export type DataResponse = { receipts: Receipt[] };

/** The next data nonce the gateway accepts from this device: resynchronises a device that lost its counter. */
export type NonceResponse = { next: string };

export type WireAssociation = {
  request: { gid: Hex; oid: Hex; device: Address; nonce: string; deadline: string };
  signature: Hex;
  /** The Master's token signature (the token's gid, oid and device are the request's). */
  token: Hex;
};
/** An empty body asks for the status of the association already sent. */
export type AssocRequest = { association?: WireAssociation };
/**
 * `associated` once the device is a member on chain — also when someone else relayed the same
 * signed request first (the batch reports it as already applied); `rejected` when the registry
 * refused it (then `error` names the rule).
 */
export type AssociationStatus = "queued" | "submitted" | "associated" | "rejected";
export type AssocResponse = {
  status: AssociationStatus;
  /** The transaction that carried the request (a batch of several devices' requests). */
  txHash?: Hex;
  /** Once mined: the device's AuthTable entry; `entryHash` is its auth-chain entry (the chain head right after it joined). */
  entry?: { gid: Hex; oid: Hex; device: Address; master: Address; index: number; entryHash: Hex };
  /** When rejected: the registry rule it broke (a custom error's name). */
  error?: { code: string; message: string };
};

/**
 * `path`: the device's AuthTable path in `encodeAuthPath`'s form (version 2), built from the
 * gateway's mirror: each step carries the tree size its proof was built for (`leafCount`) and no
 * consistency proof (it is built for the mirror's current size). `size`: its length in bytes.
 */
export type ProofResponse = { path: Hex; size: number };

/**
 * `path` in `encodeAuthPath`'s form. A step built when its group was smaller verifies too: with
 * its consistency proof, or without one, since the gateway's mirror knows every earlier root of
 * the groups it indexed. `status` is `Stale` only for a step it cannot place.
 */
export type VerifyRequest = { path: Hex; trustedRootGid?: Hex };
export type VerifyResponse = { valid: boolean; status: AuthPathStatus; failedStep: number; device: Address };

/** One of the device's own messages, by digest. */
export type InclusionRequest = { digest: Hex };
export type InclusionResponse = {
  digest: Hex;
  status: MessageStatus;
  gid: Hex;
  device: Address;
  nonce: string;
  acceptedAt: number;
  batch?: { root: Hex; index: number; size: number; proof: Hex[]; txHash?: Hex; blockNumber?: string };
  /**
   * With hierarchical anchoring: the aggregate that holds the batch (its root anchored under `gid`,
   * the message's group or an ancestor, in `txHash`); `proof` is the batch's leaf's proof in it.
   * Then `batch.txHash` is absent: the batch root itself is not on chain.
   */
  aggregate?: AggregateAnchor;
  relay?: { txHash: Hex; blockNumber?: string };
};

/** Where a batch root was anchored through an aggregate: the anchoring group, the aggregate root, the batch's leaf proof. */
export type AggregateAnchor = { gid: Hex; root: Hex; proof: Hex[]; txHash?: Hex; blockNumber?: string };

/**
 * Hierarchical anchoring, between gateways: a child group's gateway (its Master key, a member of
 * this gateway's group) hands up batch roots, its own and those its own children handed it.
 */
export type HandoverEntry = { gid: Hex; batchRoot: Hex; messageCount: number };
export type HandoverRequest = { entries: HandoverEntry[] };
/** `waiting`: kept, not anchored yet; `anchored`: in an aggregate on chain (`aggregate`); `unknown`: never handed here. */
export type HandoverState = { gid: Hex; batchRoot: Hex; status: "waiting" | "anchored" | "unknown"; aggregate?: AggregateAnchor };
export type HandoverResponse = { entries: HandoverState[] };
export type HandoverStatusRequest = { roots: { gid: Hex; batchRoot: Hex }[] };
export type HandoverStatusResponse = { entries: HandoverState[] };

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
