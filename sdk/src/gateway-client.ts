/**
 * The device side of the gateway protocol (paper 000's API Edge: keySession, getTicket, assoc,
 * data), over JSON/HTTP with `fetch`.
 *
 * ## Wire format (version 1)
 *
 * - `POST /v1/session/hello` `{ clientHello }` → `{ handshakeId, serverHello }`;
 *   `POST /v1/session/finish` `{ handshakeId, clientFinish }` → `{ sessionId, expiresAt }`.
 * - Sealed routes (`/v1/ticket`, `/v1/assoc`, `/v1/data`, `/v1/proof`): the request body is
 *   `{ sessionId, record }`, the record sealed under the session with the route path as
 *   additional data (so a record can't be replayed on another route); a 200 answer is `{ record }`
 *   sealed the same way. Inside, both ways, is the JSON this module's types describe, bigints as
 *   decimal strings.
 * - Public routes: `POST /v1/verify` (check a peer's AuthTable path), `GET /v1/messages/:digest`
 *   (a message's receipt and inclusion proof once anchored).
 * - Every error is a 4xx/5xx with `{ error: { code, message, details? } }`; the client throws it as
 *   a {@link GatewayError} with the same code.
 */
import { getAddress, type Address, type Hex } from "viem";
import { decodeAuthPath, encodeAuthPath, type AuthPath, type AuthPathStatus } from "./authtable.js";
import { IomtError } from "./errors.js";
import { parseToken, type Token } from "./tokens.js";
import {
  createClientHello,
  completeHandshake,
  openRecord,
  sealRecord,
  type ClientFinish,
  type ClientHello,
  type ServerHello,
  type Session,
  type SessionAccount,
  type SessionContext,
  type SessionRecord,
} from "./session.js";
import { registryDomain, signAssociation, type DataMessage, type SignedAssociation, type SignedDataMessage, type TypedDataSigner } from "./typed-data.js";

/** The gateway's routes, shared by client and server. */
export const gatewayRoutes = {
  hello: "/v1/session/hello",
  finish: "/v1/session/finish",
  ticket: "/v1/ticket",
  assoc: "/v1/assoc",
  data: "/v1/data",
  proof: "/v1/proof",
  verify: "/v1/verify",
  message: "/v1/messages",
  health: "/health",
  metrics: "/metrics",
} as const;

/** Routes whose bodies travel sealed under a session. */
export type SealedRoute = (typeof gatewayRoutes)["ticket" | "assoc" | "data" | "proof"];

// ------------------------------------------------------------------------------ wire types

export type HelloRequest = { clientHello: ClientHello };
export type HelloResponse = { handshakeId: string; serverHello: ServerHello };
export type FinishRequest = { handshakeId: string; clientFinish: ClientFinish };
export type FinishResponse = { sessionId: Hex; expiresAt: number };
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
  /** The raw reading as hex, when the gateway should keep it; its keccak256 must be `payloadHash`. */
  payload?: Hex;
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

export type InclusionResponse = {
  digest: Hex;
  status: MessageStatus;
  gid: Hex;
  device: Address;
  nonce: string;
  acceptedAt: number;
  batch?: { root: Hex; index: number; size: number; proof: Hex[]; txHash?: Hex; blockNumber?: string };
  relay?: { txHash: Hex; blockNumber?: string };
};

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

// ------------------------------------------------------------------------------ client

/** An error answer from the gateway (`code` as the gateway sent it), or a transport failure (`GatewayUnreachable`). */
export class GatewayError extends IomtError {
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, status: number, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
    this.details = details;
  }
}

export type GatewayClientAccount = SessionAccount & TypedDataSigner;

export type CreateGatewayClientParameters = {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8545`. */
  url: string;
  /** The device's identity key. */
  account: GatewayClientAccount;
  /** The group's Master: the key the gateway must prove it holds. */
  master: Address;
  /** Chain, registry and group of the session. */
  context: SessionContext;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
};

export type SendDataParameters = {
  messages: readonly (SignedDataMessage & { payload?: Hex })[];
};

export type AssociateThroughGatewayParameters = {
  token: Token;
  /** Unix seconds until which the relayed request is valid; default now + 600. */
  deadline?: bigint;
};

export type WaitForAssociationParameters = {
  /** Milliseconds between polls (default 250). */
  pollIntervalMs?: number;
  /** Give up after this many milliseconds (default 60,000). */
  timeoutMs?: number;
};

export type GatewayClient = {
  /** The established session, after {@link GatewayClient.keySession}. */
  readonly session: Session | undefined;
  /** keySession: runs the handshake; the gateway proves it holds the Master's key. */
  keySession(): Promise<FinishResponse>;
  /** getTicket: the device's token, issued by the Master (checked against `master` here). */
  getTicket(parameters?: TicketRequest): Promise<Token>;
  /** assoc: signs the relayed association and hands it to the gateway. */
  associate(parameters: AssociateThroughGatewayParameters): Promise<AssocResponse>;
  /** The status of the association already sent. */
  associationStatus(): Promise<AssocResponse>;
  /** Polls until the association is mined (or rejected). */
  waitForAssociation(parameters?: WaitForAssociationParameters): Promise<AssocResponse>;
  /** data: sends signed messages; one receipt per message, in order. */
  sendData(parameters: SendDataParameters): Promise<Receipt[]>;
  /** proof: the device's AuthTable path, to present to peers. */
  getAuthPath(): Promise<AuthPath>;
  /** verify: asks the gateway to check a path a peer presented. */
  verifyPath(parameters: { path: AuthPath; trustedRootGid?: Hex }): Promise<VerifyResponse>;
  /** A message's status and, once anchored, its inclusion proof. */
  getInclusion(digest: Hex): Promise<InclusionResponse>;
};

/** Creates a client for one device talking to its Master's gateway. */
export function createGatewayClient(parameters: CreateGatewayClientParameters): GatewayClient {
  const doFetch = parameters.fetch ?? fetch;
  const base = parameters.url.replace(/\/+$/, "");
  const master = getAddress(parameters.master);
  let session: Session | undefined;

  async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (cause) {
      throw new GatewayError("GatewayUnreachable", `no answer from ${base}${path}`, 0, undefined, { cause });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new GatewayError("GatewayBadResponse", `the gateway answered ${response.status} with a body that is not JSON`, response.status, undefined, { cause });
    }
    if (!response.ok) {
      const error = (json as Partial<GatewayErrorBody>).error;
      throw new GatewayError(error?.code ?? "GatewayBadResponse", error?.message ?? `HTTP ${response.status}`, response.status, error?.details);
    }
    return json as T;
  }

  async function sealed<T>(route: SealedRoute, request: unknown): Promise<T> {
    if (session === undefined) throw new GatewayError("GatewayNoSession", "call keySession() first", 0);
    const aad = new TextEncoder().encode(route);
    const record = sealRecord(session, { plaintext: new TextEncoder().encode(JSON.stringify(request)), aad });
    const answer = await call<SealedAnswer>("POST", route, { sessionId: session.id, record } satisfies SealedEnvelope);
    return JSON.parse(new TextDecoder().decode(openRecord(session, { record: answer.record, aad }))) as T;
  }

  const client: GatewayClient = {
    get session() {
      return session;
    },
    async keySession() {
      const { clientHello, state } = createClientHello({ account: parameters.account, master, context: parameters.context });
      const hello = await call<HelloResponse>("POST", gatewayRoutes.hello, { clientHello } satisfies HelloRequest);
      const { clientFinish, session: established } = await completeHandshake({ account: parameters.account, state, serverHello: hello.serverHello });
      const finished = await call<FinishResponse>("POST", gatewayRoutes.finish, { handshakeId: hello.handshakeId, clientFinish } satisfies FinishRequest);
      session = established;
      return finished;
    },
    async getTicket(request = {}) {
      const { token } = await sealed<TicketResponse>(gatewayRoutes.ticket, request);
      const parsed = parseToken(token);
      if (getAddress(parsed.device) !== getAddress(parameters.account.address)) {
        throw new GatewayError("GatewayWrongTicket", "the gateway issued a token for another device", 200);
      }
      return parsed;
    },
    async associate({ token, deadline }) {
      const domain = registryDomain({ chainId: parameters.context.chainId, registry: parameters.context.registry });
      const signed = await signAssociation(parameters.account, {
        domain,
        token,
        deadline: deadline ?? BigInt(Math.floor(Date.now() / 1000) + 600),
      });
      return sealed<AssocResponse>(gatewayRoutes.assoc, { association: toWireAssociation(signed) } satisfies AssocRequest);
    },
    associationStatus() {
      return sealed<AssocResponse>(gatewayRoutes.assoc, {} satisfies AssocRequest);
    },
    async waitForAssociation({ pollIntervalMs = 250, timeoutMs = 60_000 } = {}) {
      const giveUpAt = Date.now() + timeoutMs;
      for (;;) {
        const status = await client.associationStatus();
        if (status.status === "associated" || status.status === "rejected") return status;
        if (Date.now() > giveUpAt) throw new GatewayError("GatewayTimeout", `the association is still ${status.status} after ${timeoutMs} ms`, 0);
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
      }
    },
    async sendData({ messages }) {
      const wire = messages.map(({ message, signature, payload }) => ({ message: toWireDataMessage(message), signature, ...(payload === undefined ? {} : { payload }) }));
      const { receipts } = await sealed<DataResponse>(gatewayRoutes.data, { messages: wire } satisfies DataRequest);
      return receipts;
    },
    async getAuthPath() {
      const { path } = await sealed<ProofResponse>(gatewayRoutes.proof, {});
      return decodeAuthPath(path);
    },
    verifyPath({ path, trustedRootGid }) {
      return call<VerifyResponse>("POST", gatewayRoutes.verify, { path: encodeAuthPath(path), ...(trustedRootGid === undefined ? {} : { trustedRootGid }) } satisfies VerifyRequest);
    },
    getInclusion(digest) {
      return call<InclusionResponse>("GET", `${gatewayRoutes.message}/${digest}`);
    },
  };
  return client;
}
