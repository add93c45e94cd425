/**
 * The device side of the gateway protocol (Elhachmi & Kobbane's API Edge: keySession, getTicket,
 * assoc, data), version 2, over JSON/HTTP with `fetch`. The normative specification is
 * `docs/protocol.md`; in short:
 *
 * - `POST /v2/session/hello` `{ clientHello, cookie? }` → `{ cookie }` (a stateless retry token:
 *   send the same hello again with it) or `{ handshakeId, serverHello }`;
 *   `POST /v2/session/finish` `{ handshakeId, clientFinish }` → `{ sessionId, record }`, the record
 *   sealed by the Master over `{ expiresAt }` and bound to the ClientFinish.
 * - Every other route takes `{ sessionId, record }`: the request sealed with the route as additional
 *   data. The answer is `{ record }` whatever the HTTP status, sealed over `{ ok: true, result }` or
 *   `{ ok: false, error }` and bound to the request (route, sequence number, hash of its record),
 *   so an answer can only be opened as the answer to the request it was made for.
 * - Errors the gateway produces before it opened a request (handshake, unknown session, rate limits,
 *   HTTP layer) are plain `{ error: { code, message, details? } }` and unauthenticated: the client
 *   throws them as a {@link GatewayError} with `authenticated: false`; never act on one beyond
 *   retrying. Sealed errors are thrown with `authenticated: true`.
 * - Sessions live in the gateway's memory only: after its restart the client gets `SessionUnknown`,
 *   runs a new handshake and sends the request again, once.
 * - `MirrorSyncing` (503, sealed on the sealed routes, plain on the hello): the device is a member
 *   on chain but the gateway's view is catching up. The client waits and tries again with back-off
 *   (`retry`), then throws it.
 */
import { getAddress, type Address, type Hex } from "viem";
import { decodeAuthPath, encodeAuthPath, type AuthPath } from "./authtable.js";
import { IomtError } from "./errors.js";
import { finishBinding, openAnswer, sealRequest, type RequestBinding, type SealedAnswerBody } from "./gateway-protocol.js";
import {
  gatewayRoutes,
  toWireDataMessage,
  toWireAssociation,
  type SealedRoute,
  type HelloRequest,
  type HelloResponse,
  type FinishRequest,
  type FinishResponse,
  type FinishAnswer,
  type SealedEnvelope,
  type SealedAnswer,
  type GatewayErrorBody,
  type TicketRequest,
  type TicketResponse,
  type DataRequest,
  type Receipt,
  type DataResponse,
  type NonceResponse,
  type AssocRequest,
  type AssocResponse,
  type ProofResponse,
  type VerifyRequest,
  type VerifyResponse,
  type HandoverEntry,
  type HandoverRequest,
  type HandoverResponse,
  type HandoverState,
  type HandoverStatusRequest,
  type HandoverStatusResponse,
  type InclusionRequest,
  type InclusionResponse,
} from "./gateway-wire.js";
import { parseProvisioningBundle, ProvisioningError, type ProvisioningBundle } from "./provisioning.js";
import { parseToken, type Token } from "./tokens.js";
import {
  createClientHello,
  completeHandshake,
  SessionError,
  type Session,
  type SessionAccount,
  type SessionContext,
  type SessionRecord,
} from "./session.js";
import {
  hashDataMessage,
  registryDomain,
  signAssociation,
  type RegistryDomain,
  type SignedDataMessage,
  type TypedDataSigner,
} from "./typed-data.js";

// ------------------------------------------------------------------------------ client

/**
 * An error answer from the gateway (`code` as the gateway sent it), or a client-side failure
 * (`GatewayUnreachable`, `GatewayBadResponse`, `GatewayNoSession`, `GatewayWrongTicket`,
 * `GatewayBadReceipt`, `GatewayTimeout`). `authenticated` is true only for an error sealed by the
 * Master under the session and bound to the request: only such an error may make a device change
 * course (stop, re-enrol); an unauthenticated one may be forged by anyone on the path.
 */
export class GatewayError extends IomtError {
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly authenticated: boolean;

  constructor(code: string, message: string, status: number, details?: Record<string, unknown>, options?: { cause?: unknown; authenticated?: boolean }) {
    super(code, message, options);
    this.status = status;
    this.details = details;
    this.authenticated = options?.authenticated ?? false;
  }
}

export type GatewayClientAccount = SessionAccount & TypedDataSigner;

/** Where the gateway is and whom it must prove to be: given one by one, or as a provisioning bundle. */
export type GatewayClientTarget =
  | {
      /** The gateway's base URL (not the chain's RPC URL), e.g. `https://ward-3.gateway.hospital.example:8443`. */
      url: string;
      /**
       * The key the gateway must prove it holds: the group's Master; for a group whose Master is a
       * contract wallet, the operator key the wallet authorised (docs/hardware-keys.md).
       */
      master: Address;
      /** Chain, registry and group of the session. */
      context: SessionContext;
      provisioning?: undefined;
    }
  | {
      /**
       * The bundle `iomt-gateway enrol` printed, as JSON text or as the parsed object: it gives the
       * URL, the Master, the context and the enrolment secret `getTicket` sends (see
       * {@link parseProvisioningBundle}). The account must be the bundle's `device`.
       */
      provisioning: ProvisioningBundle | string | Record<string, unknown>;
      url?: undefined;
      master?: undefined;
      context?: undefined;
    };

export type CreateGatewayClientParameters = GatewayClientTarget & {
  /**
   * The device's identity key: a viem account (secp256k1), a `Secp256k1Signer`, or a
   * `P256Account` (a secure element's, TPM's or WebCrypto's P-256 key), used alike.
   */
  account: GatewayClientAccount;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
  /**
   * Back-off for retryable refusals (`MirrorSyncing`: the gateway's view of the chain is catching
   * up): `attempts` in all (default 8), the first delay `baseDelayMs` (default 100) doubling up to
   * `maxDelayMs` (default 2,000), each with up to 50% random jitter.
   */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
};

export type SendDataParameters = {
  /** Signed messages; with `payload`, the reading travels (sealed) with its `salt` for the gateway to keep. */
  messages: readonly (SignedDataMessage & { payload?: Hex; salt?: Hex })[];
};

export type AssociateThroughGatewayParameters = {
  token: Token;
  /** Unix seconds until which the relayed request is valid; default now + 600. */
  deadline?: bigint;
};

/**
 * Names one of the device's messages for `getInclusion`, as its receipt does: its EIP-712 digest
 * and its nonce (a `Receipt` fits). The gateway finds the message by the session's device and the
 * nonce, and answers `MessageUnknown` unless it has this digest.
 */
export type GetInclusionParameters = { digest: Hex; nonce: string | bigint };

export type WaitForAssociationParameters = {
  /** Milliseconds between polls (default 250). */
  pollIntervalMs?: number;
  /** Give up after this many milliseconds (default 60,000). */
  timeoutMs?: number;
};

export type GatewayClient = {
  /** The established session, after {@link GatewayClient.keySession}. */
  readonly session: Session | undefined;
  /** Chain, registry and group of the sessions. */
  readonly context: SessionContext;
  /** The registry's EIP-712 domain, for signing data messages (`signDataMessage(account, { domain, message })`). */
  readonly domain: RegistryDomain;
  /** keySession: runs the handshake (with the cookie round); the gateway proves it holds the Master's key. */
  keySession(): Promise<FinishAnswer & { sessionId: Hex }>;
  /** getTicket: the device's token, issued by the Master (checked against `master` here); sends the provisioning bundle's secret unless given one. */
  getTicket(parameters?: TicketRequest): Promise<Token>;
  /** assoc: signs the relayed association and hands it to the gateway. */
  associate(parameters: AssociateThroughGatewayParameters): Promise<AssocResponse>;
  /** The status of the association already sent. */
  associationStatus(): Promise<AssocResponse>;
  /** Polls until the association is mined (or rejected). */
  waitForAssociation(parameters?: WaitForAssociationParameters): Promise<AssocResponse>;
  /** data: sends signed messages; one receipt per message, in order, each checked against what was sent. */
  sendData(parameters: SendDataParameters): Promise<Receipt[]>;
  /** The next data nonce the gateway will accept from this device (after a lost counter). */
  getNextNonce(): Promise<bigint>;
  /** proof: the device's AuthTable path, to present to peers. */
  getAuthPath(): Promise<AuthPath>;
  /** verify: asks the gateway to check a path a peer presented. */
  verifyPath(parameters: { path: AuthPath; trustedRootGid?: Hex }): Promise<VerifyResponse>;
  /** One of this device's messages, named by its receipt (digest and nonce): its status and, once anchored, its inclusion proof. */
  getInclusion(receipt: GetInclusionParameters): Promise<InclusionResponse>;
  /** Hierarchical anchoring (a child gateway's Master key as the client): hands batch roots up; one state per entry, in order. */
  handOver(entries: readonly HandoverEntry[]): Promise<HandoverState[]>;
  /** Hierarchical anchoring: the state of roots handed up before, in order. */
  handoverStatus(roots: readonly { gid: Hex; batchRoot: Hex }[]): Promise<HandoverState[]>;
};

/** Session codes after which the client runs a new handshake and sends the request again, once. */
const RENEW_SESSION = new Set(["SessionUnknown", "SessionExpired"]);
/** Codes after which the client waits (back-off) and sends the request again: the gateway asked for a retry. */
const RETRY_LATER = new Set(["MirrorSyncing"]);

/** The URL, Master, context and default ticket secret, from the bundle or from the parameters given one by one. */
function resolveTarget(parameters: CreateGatewayClientParameters): { url: string; master: Address; context: SessionContext; secret: string | undefined } {
  if (parameters.provisioning === undefined) return { url: parameters.url, master: parameters.master, context: parameters.context, secret: undefined };
  const given = (["url", "master", "context"] as const).filter((name) => (parameters as Record<string, unknown>)[name] !== undefined);
  if (given.length > 0) throw new ProvisioningError("ProvisioningConflict", `give either a provisioning bundle or ${given.join(", ")}, not both`);
  const bundle = parseProvisioningBundle(parameters.provisioning);
  if (getAddress(parameters.account.address) !== bundle.device) {
    throw new ProvisioningError("ProvisioningWrongDevice", `the bundle is for device ${bundle.device}, not for ${getAddress(parameters.account.address)}`, { field: "device" });
  }
  return { url: bundle.gatewayUrl, master: bundle.master, context: { chainId: bundle.chainId, registry: bundle.registry, gid: bundle.gid }, secret: bundle.secret };
}

/**
 * Creates a client for one device talking to its Master's gateway.
 *
 * @example
 * // With the bundle `iomt-gateway enrol --bundle-file ecg-1.json` wrote:
 * const gateway = createGatewayClient({ provisioning: readFileSync("ecg-1.json", "utf8"), account: device });
 * // Or field by field; `url` is the gateway's, not the chain's RPC URL:
 * const same = createGatewayClient({
 *   url: "https://ward-3.gateway.hospital.example:8443",
 *   account: device,
 *   master: "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4",
 *   context: { chainId: 2026, registry, gid },
 * });
 * @throws {ProvisioningError} `ProvisioningMalformed`, `ProvisioningUnsupported`, `ProvisioningInvalidField`, `ProvisioningWrongDevice`, `ProvisioningConflict`
 */
export function createGatewayClient(parameters: CreateGatewayClientParameters): GatewayClient {
  const target = resolveTarget(parameters);
  const doFetch = parameters.fetch ?? fetch;
  const base = target.url.replace(/\/+$/, "");
  const master = getAddress(target.master);
  const context: SessionContext = { ...target.context };
  const domain = registryDomain({ chainId: context.chainId, registry: context.registry });
  let session: Session | undefined;
  // One sealed request in flight per session: answers then arrive in sequence order.
  let queue: Promise<unknown> = Promise.resolve();
  const retry = { attempts: parameters.retry?.attempts ?? 8, baseDelayMs: parameters.retry?.baseDelayMs ?? 100, maxDelayMs: parameters.retry?.maxDelayMs ?? 2_000 };

  /** Runs `attempt` again after a back-off while it fails with a code of {@link RETRY_LATER}. */
  async function withRetry<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof GatewayError) || !RETRY_LATER.has(error.code) || tries >= retry.attempts) throw error;
        const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (tries - 1));
        await new Promise((resolve) => setTimeout(resolve, delay * (1 + Math.random() / 2)));
      }
    }
  }

  /** One HTTP exchange; returns the status and the JSON body, or throws GatewayUnreachable/GatewayBadResponse. */
  async function exchange(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
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
    try {
      return { status: response.status, json: JSON.parse(text) };
    } catch (cause) {
      throw new GatewayError("GatewayBadResponse", `the gateway answered ${response.status} with a body that is not JSON`, response.status, undefined, { cause });
    }
  }

  /** A plain (unauthenticated) error body, thrown as such. */
  function plainError(status: number, json: unknown): GatewayError {
    const error = (json as Partial<GatewayErrorBody> | null)?.error;
    if (error === undefined || typeof error.code !== "string") {
      return new GatewayError("GatewayBadResponse", `the gateway answered ${status} without an error code`, status);
    }
    return new GatewayError(error.code, error.message ?? `HTTP ${status}`, status, error.details);
  }

  /** A plain-JSON route (the handshake): the body on 2xx, an unauthenticated GatewayError otherwise. */
  async function call<T>(path: string, body: unknown): Promise<T> {
    const { status, json } = await exchange("POST", path, body);
    if (status < 200 || status >= 300) throw plainError(status, json);
    return json as T;
  }

  function keySession(): Promise<FinishAnswer & { sessionId: Hex }> {
    return withRetry(handshake);
  }

  async function handshake(): Promise<FinishAnswer & { sessionId: Hex }> {
    const { clientHello, state } = createClientHello({ account: parameters.account, master, context });
    let hello = await call<HelloResponse>(gatewayRoutes.hello, { clientHello } satisfies HelloRequest);
    if ("cookie" in hello) hello = await call<HelloResponse>(gatewayRoutes.hello, { clientHello, cookie: hello.cookie } satisfies HelloRequest);
    if (!("serverHello" in hello)) throw new GatewayError("GatewayBadResponse", "the gateway answered a hello that carried its cookie with another cookie", 200);
    const { clientFinish, session: established } = await completeHandshake({ account: parameters.account, state, serverHello: hello.serverHello });
    const finished = await call<FinishResponse>(gatewayRoutes.finish, { handshakeId: hello.handshakeId, clientFinish } satisfies FinishRequest);
    if (typeof finished.sessionId !== "string" || finished.sessionId.toLowerCase() !== established.id.toLowerCase()) {
      throw new GatewayError("GatewayBadResponse", "the gateway's session id is not the one the handshake derived", 200);
    }
    const answer = openSealed<FinishAnswer>(established, finishBinding(gatewayRoutes.finish, clientFinish.signature), finished.record, 200);
    session = established;
    return { sessionId: established.id, expiresAt: answer.expiresAt };
  }

  /** Opens a sealed answer: the result, or the sealed error thrown as an authenticated GatewayError. */
  function openSealed<T>(current: Session, binding: RequestBinding, record: SessionRecord, status: number): T {
    let answer: SealedAnswerBody<T>;
    try {
      answer = openAnswer<T>(current, binding, record);
    } catch (cause) {
      if (cause instanceof SessionError) {
        throw new GatewayError(cause.code, `the answer to ${binding.route} did not open: ${cause.message}`, status, undefined, { cause });
      }
      throw cause;
    }
    if (!answer.ok) throw new GatewayError(answer.error.code, answer.error.message, status, answer.error.details, { authenticated: true });
    return answer.result;
  }

  async function sealedOnce<T>(route: SealedRoute, request: unknown): Promise<T> {
    const current = session!;
    const { record, binding } = sealRequest(current, route, request);
    const { status, json } = await exchange("POST", route, { sessionId: current.id, record } satisfies SealedEnvelope);
    const answer = (json as Partial<SealedAnswer> | null)?.record;
    if (answer === undefined) throw plainError(status, json);
    return openSealed<T>(current, binding, answer, status);
  }

  function sealed<T>(route: SealedRoute, request: unknown): Promise<T> {
    const run = async (): Promise<T> => {
      if (session === undefined) throw new GatewayError("GatewayNoSession", "call keySession() first", 0);
      let renewed = false;
      return withRetry(async () => {
        try {
          return await sealedOnce<T>(route, request);
        } catch (error) {
          // The gateway forgot the session (restart, expiry, eviction): a new handshake, then the request once more.
          if (error instanceof GatewayError && !error.authenticated && RENEW_SESSION.has(error.code) && !renewed) {
            renewed = true;
            await keySession();
            return sealedOnce<T>(route, request);
          }
          throw error;
        }
      });
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  }

  /** One state per root asked about, in order, each naming its root. */
  function checkStates(asked: readonly { gid: Hex; batchRoot: Hex }[], states: unknown): HandoverState[] {
    const named = (state: Partial<HandoverState>, i: number) =>
      typeof state.gid === "string" && typeof state.batchRoot === "string" && state.gid.toLowerCase() === asked[i]!.gid.toLowerCase() && state.batchRoot.toLowerCase() === asked[i]!.batchRoot.toLowerCase();
    if (!Array.isArray(states) || states.length !== asked.length || !states.every(named)) {
      throw new GatewayError("GatewayBadResponse", `the gateway's answer does not name the ${asked.length} roots asked about, in order`, 200);
    }
    return states as HandoverState[];
  }

  /** Each receipt must name the message sent at its position: digest, device and nonce. */
  function checkReceipts(messages: SendDataParameters["messages"], receipts: unknown): Receipt[] {
    if (!Array.isArray(receipts) || receipts.length !== messages.length) {
      throw new GatewayError("GatewayBadReceipt", `${messages.length} messages sent, but the gateway answered ${Array.isArray(receipts) ? receipts.length : "no"} receipts`, 200);
    }
    const device = getAddress(parameters.account.address);
    receipts.forEach((receipt: Partial<Receipt>, i) => {
      const { message } = messages[i]!;
      const digest = hashDataMessage(domain, message);
      const matches =
        typeof receipt.digest === "string" &&
        receipt.digest.toLowerCase() === digest.toLowerCase() &&
        typeof receipt.device === "string" &&
        getAddress(receipt.device) === device &&
        receipt.nonce === message.nonce.toString();
      if (!matches) throw new GatewayError("GatewayBadReceipt", `receipt ${i} does not name message ${i} (digest ${digest}, nonce ${message.nonce})`, 200);
    });
    return receipts as Receipt[];
  }

  const client: GatewayClient = {
    get session() {
      return session;
    },
    context,
    domain,
    keySession,
    async getTicket(request = target.secret === undefined ? {} : { secret: target.secret }) {
      const { token } = await sealed<TicketResponse>(gatewayRoutes.ticket, request);
      const parsed = parseToken(token);
      if (getAddress(parsed.device) !== getAddress(parameters.account.address)) {
        throw new GatewayError("GatewayWrongTicket", "the gateway issued a token for another device", 200);
      }
      return parsed;
    },
    async associate({ token, deadline }) {
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
      const wire = messages.map(({ message, signature, payload, salt }) => ({
        message: toWireDataMessage(message),
        signature,
        ...(payload === undefined ? {} : { payload }),
        ...(salt === undefined ? {} : { salt }),
      }));
      const { receipts } = await sealed<DataResponse>(gatewayRoutes.data, { messages: wire } satisfies DataRequest);
      return checkReceipts(messages, receipts);
    },
    async getNextNonce() {
      const { next } = await sealed<NonceResponse>(gatewayRoutes.nonce, {});
      if (typeof next !== "string" || !/^(0|[1-9][0-9]*)$/.test(next)) throw new GatewayError("GatewayBadResponse", "the nonce answer is not a decimal string", 200);
      return BigInt(next);
    },
    async getAuthPath() {
      const { path } = await sealed<ProofResponse>(gatewayRoutes.proof, {});
      return decodeAuthPath(path);
    },
    verifyPath({ path, trustedRootGid }) {
      return sealed<VerifyResponse>(gatewayRoutes.verify, { path: encodeAuthPath(path), ...(trustedRootGid === undefined ? {} : { trustedRootGid }) } satisfies VerifyRequest);
    },
    getInclusion({ digest, nonce }) {
      return sealed<InclusionResponse>(gatewayRoutes.inclusion, { digest, nonce: nonce.toString() } satisfies InclusionRequest);
    },
    async handOver(entries) {
      const answer = await sealed<HandoverResponse>(gatewayRoutes.handover, { entries: [...entries] } satisfies HandoverRequest);
      return checkStates(entries, answer.entries);
    },
    async handoverStatus(roots) {
      const answer = await sealed<HandoverStatusResponse>(gatewayRoutes.handoverStatus, { roots: roots.map(({ gid, batchRoot }) => ({ gid, batchRoot })) } satisfies HandoverStatusRequest);
      return checkStates(roots, answer.entries);
    },
  };
  return client;
}
