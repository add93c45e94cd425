// Sessions between devices and this Master (docs/protocol.md §3–5), in this process's memory only:
// a restart forgets them all and devices run a new handshake, so no (key, nonce) pair can ever be
// used by two processes, after a crash or after a power loss. Before any asymmetric work a hello
// passes, in this order: its context and freshness (stateless), a stateless cookie round (HMAC
// under a per-process key, bound to the hello and the client's address), the replay cache of
// answered ClientHello nonces, and admission (enrolled or a member, not revoked, group active). Only
// then does the gateway generate a key, run ECDH and sign. Half-open handshakes and live sessions
// are bounded; a device holds at most `maxSessionsPerDevice` sessions (the oldest is evicted).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex, encodeAbiParameters, hexToBytes, isAddressEqual, type Address, type Hex } from "viem";
import {
  acceptClientHello,
  DEFAULT_FRESHNESS_WINDOW,
  finishBinding,
  finishHandshake,
  gatewayRoutes,
  openRequestRecord,
  sealAnswer,
  SESSION_PROTOCOL,
  SESSION_VERSION,
  SessionError,
  type ClientFinish,
  type ClientHello,
  type FinishAnswer,
  type FinishResponse,
  type HelloResponse,
  type MasterHandshakeState,
  type OpenRequestRecordReturnType,
  type RequestBinding,
  type SealedAnswerBody,
  type SealedEnvelope,
  type SealedRoute,
  type Session,
  type SessionRecord,
} from "@iomt-auth/sdk";
import { opensslSha256, type HandshakeCrypto } from "./crypto.js";
import { apiError, ApiError, type ApiErrorCode } from "./errors.js";

/** Seconds a cookie stays valid (docs/protocol.md §3.6). */
export const COOKIE_LIFETIME_SECONDS = 30;
const COOKIE_LABEL = "iomt-auth/gateway/v2 cookie";

export type SessionManagerParameters = {
  crypto: HandshakeCrypto;
  chainId: number;
  registry: Address;
  groups: readonly Hex[];
  ttlSeconds: number;
  maxSessions: number;
  maxSessionsPerDevice: number;
  /** Most half-open handshakes held at once; beyond it new hellos get 503 `HandshakesBusy` until old ones finish or expire. */
  maxPendingHandshakes: number;
  /**
   * Refuses a device this gateway does not serve, before any asymmetric work: throws an ApiError
   * (`DeviceNotAdmitted`, `DeviceRevoked`, `GroupInactive`, `MirrorSyncing`).
   */
  admit(device: Address, gid: Hex): Promise<void>;
  /** Counts each handshake that reaches the key exchange. */
  onKeyExchange?: () => void;
  freshnessWindow?: number;
  now?: () => number;
};

/** A sealed request whose record opened: the live session, the answer's binding and the request's JSON. */
export type OpenedRequest = { session: Session; binding: RequestBinding; body: unknown };

type LiveSession = { session: Session; expiresAt: number };

export class SessionManager {
  private readonly handshakes = new Map<string, MasterHandshakeState>();
  /** Live sessions by id, in establishment order (the first is the oldest). */
  private readonly live = new Map<Hex, LiveSession>();
  /** Each device's session ids, oldest first. */
  private readonly byDevice = new Map<string, Hex[]>();
  /** ClientHello nonces answered with a ServerHello, until the hello could no longer be fresh. */
  private readonly answeredHellos = new Map<string, number>();
  private readonly cookieKey = randomBytes(32);
  private readonly parameters: SessionManagerParameters;
  private readonly now: () => number;
  private readonly window: number;

  constructor(parameters: SessionManagerParameters) {
    this.parameters = parameters;
    this.now = parameters.now ?? (() => Math.floor(Date.now() / 1000));
    this.window = parameters.freshnessWindow ?? DEFAULT_FRESHNESS_WINDOW;
  }

  /** Established, unexpired sessions held now. */
  get size(): number {
    return this.live.size;
  }

  /** The live session with this id, if any (for operators' tools and tests; it never leaves the process). */
  session(id: Hex): Session | undefined {
    return this.live.get(id.toLowerCase() as Hex)?.session;
  }

  /** The live sessions, oldest first, at most `limit` (for the operator console: no key leaves). */
  list(limit: number): { device: Address; gid: Hex; establishedAt: number; expiresAt: number }[] {
    return [...this.live.values()].slice(0, limit).map(({ session, expiresAt }) => ({ device: session.device, gid: session.context.gid, establishedAt: session.establishedAt, expiresAt }));
  }

  /** The hello: a cookie, or (with a valid cookie, for an admitted device) the ServerHello. */
  async hello(clientHello: ClientHello, cookie: Hex | undefined, clientAddress: string): Promise<HelloResponse> {
    const { chainId, registry, groups, crypto } = this.parameters;
    const now = this.now();
    if (clientHello.version !== SESSION_VERSION) throw apiError("SessionMalformed", `ClientHello version ${clientHello.version} is not supported; expected ${SESSION_VERSION}`);
    const context = clientHello.context;
    if (context.chainId !== chainId || !isAddressEqual(context.registry, registry)) {
      throw apiError("SessionWrongContext", `this gateway serves chain ${chainId}, registry ${registry}`);
    }
    const gid = context.gid.toLowerCase() as Hex;
    if (!groups.includes(gid)) throw apiError("GroupNotServed", `this gateway does not serve group ${context.gid}`, { gid: context.gid });
    if (Math.abs(now - clientHello.timestamp) > this.window) {
      throw apiError("SessionStale", `ClientHello timestamp ${clientHello.timestamp} is more than ${this.window} s from the gateway's clock (${now})`);
    }

    // The cookie round: stateless, no asymmetric work; proves the client receives at its address.
    const digest = helloDigest(clientHello);
    if (cookie === undefined) return { cookie: this.cookie(digest, clientAddress, now) };
    const verdict = this.checkCookie(cookie, digest, clientAddress, now);
    if (verdict === "invalid") throw apiError("HandshakeCookieInvalid", "the cookie was not issued for this ClientHello and address; send the hello without it to get one");
    if (verdict === "expired") return { cookie: this.cookie(digest, clientAddress, now) };

    const nonce = clientHello.nonce.toLowerCase();
    if (this.answeredHellos.has(nonce)) throw apiError("HelloReplayed", "this ClientHello was already answered; start a new handshake");
    await this.parameters.admit(clientHello.device, gid);
    if (this.handshakes.size >= this.parameters.maxPendingHandshakes || this.answeredHellos.size >= 4 * this.parameters.maxPendingHandshakes) this.sweepHandshakes(now);
    if (this.handshakes.size >= this.parameters.maxPendingHandshakes || this.answeredHellos.size >= 4 * this.parameters.maxPendingHandshakes) {
      throw apiError("HandshakesBusy", "too many half-open handshakes; retry shortly");
    }
    // Checked again and remembered before the key exchange, so concurrent copies of one hello cost one exchange.
    if (this.answeredHellos.has(nonce)) throw apiError("HelloReplayed", "this ClientHello was already answered; start a new handshake");
    this.answeredHellos.set(nonce, clientHello.timestamp + this.window);
    this.parameters.onKeyExchange?.();
    const { serverHello, state } = await acceptClientHello({
      account: crypto.account,
      keyAgreement: crypto.keyAgreement,
      clientHello,
      context: { chainId, registry, gid },
      now,
      freshnessWindow: this.window,
    }).catch(rethrowSession);
    const handshakeId = bytesToHex(randomBytes(16));
    this.handshakes.set(handshakeId, state);
    return { handshakeId, serverHello };
  }

  /** The finish: verifies the device's signature, admits it again, establishes the session and seals the FinishAnswer. */
  async finish(handshakeId: string, clientFinish: ClientFinish): Promise<FinishResponse> {
    const state = this.handshakes.get(handshakeId);
    if (state === undefined) throw apiError("HandshakeUnknown", "no half-open handshake with this id (expired, used, or the gateway restarted): start again");
    this.handshakes.delete(handshakeId);
    const session = await finishHandshake({ state, clientFinish, now: this.now(), recover: this.parameters.crypto.recover }).catch(rethrowSession);
    // The device may have been revoked since its hello.
    await this.parameters.admit(session.device, session.context.gid.toLowerCase() as Hex);
    const expiresAt = session.establishedAt + this.parameters.ttlSeconds;
    this.add({ session, expiresAt });
    const answer: SealedAnswerBody<FinishAnswer> = { ok: true, result: { expiresAt } };
    return { sessionId: session.id, record: sealAnswer(session, finishBinding(gatewayRoutes.finish, clientFinish.signature), answer, this.parameters.crypto.recordCipher) };
  }

  /**
   * Opens a sealed request. Refusals before the record opened are plain ApiErrors (unknown or
   * expired session, failed authentication, replay); a record that opened but is not JSON throws
   * an {@link OpenedError}, which the caller answers sealed.
   */
  open(envelope: SealedEnvelope, route: SealedRoute): OpenedRequest {
    const session = this.find(envelope.sessionId);
    let opened: OpenRequestRecordReturnType;
    try {
      opened = openRequestRecord(session, route, envelope.record, { cipher: this.parameters.crypto.recordCipher, hash: opensslSha256 });
    } catch (error) {
      rethrowSession(error);
    }
    const { plaintext, binding } = opened;
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext));
    } catch {
      throw new OpenedError({ session, binding, body: undefined }, apiError("RecordNotJson", "the decrypted record is not UTF-8 JSON"));
    }
    return { session, binding, body };
  }

  /** Seals the answer to an opened request, bound to it (route, sequence number, record hash). */
  seal({ session, binding }: OpenedRequest, answer: SealedAnswerBody<unknown>): SessionRecord {
    try {
      return sealAnswer(session, binding, answer, this.parameters.crypto.recordCipher);
    } catch (error) {
      rethrowSession(error); // a session that sealed its last record: 409 SessionExhausted, plain
    }
  }

  /** Drops expired sessions, expired half-open handshakes and hellos that can no longer be fresh. */
  sweep(): void {
    const now = this.now();
    for (const [id, { expiresAt }] of this.live) if (expiresAt < now) this.remove(id);
    this.sweepHandshakes(now);
  }

  private sweepHandshakes(now: number): void {
    for (const [id, state] of this.handshakes) if (state.expiresAt < now) this.handshakes.delete(id);
    for (const [nonce, until] of this.answeredHellos) if (until < now) this.answeredHellos.delete(nonce);
  }

  private find(id: Hex): Session {
    const key = id.toLowerCase() as Hex;
    const live = this.live.get(key);
    if (live === undefined) throw apiError("SessionUnknown", "no session with this id (never established, expired, evicted, or the gateway restarted): run keySession again");
    if (live.expiresAt < this.now()) {
      this.remove(key);
      throw apiError("SessionExpired", `the session expired at ${live.expiresAt}: run keySession again`);
    }
    return live.session;
  }

  private add(live: LiveSession): void {
    const id = live.session.id.toLowerCase() as Hex;
    const device = live.session.device.toLowerCase();
    for (let mine = this.byDevice.get(device); mine !== undefined && mine.length >= this.parameters.maxSessionsPerDevice; mine = this.byDevice.get(device)) this.remove(mine[0]);
    while (this.live.size >= this.parameters.maxSessions) this.remove(this.live.keys().next().value as Hex);
    this.live.set(id, live);
    this.byDevice.set(device, [...(this.byDevice.get(device) ?? []), id]);
  }

  private remove(id: Hex): void {
    const live = this.live.get(id);
    if (live === undefined) return;
    this.live.delete(id);
    const device = live.session.device.toLowerCase();
    const rest = (this.byDevice.get(device) ?? []).filter((other) => other !== id);
    if (rest.length === 0) this.byDevice.delete(device);
    else this.byDevice.set(device, rest);
  }

  /** `uint64be(expiry) ‖ HMAC(cookieKey, label ‖ uint64be(expiry) ‖ helloDigest ‖ utf8(clientAddress))`. */
  private cookie(digest: Uint8Array, clientAddress: string, now: number): Hex {
    const expiry = uint64be(now + COOKIE_LIFETIME_SECONDS);
    return bytesToHex(new Uint8Array([...expiry, ...this.cookieMac(expiry, digest, clientAddress)]));
  }

  private checkCookie(cookie: Hex, digest: Uint8Array, clientAddress: string, now: number): "valid" | "expired" | "invalid" {
    const bytes = hexToBytes(cookie);
    if (bytes.length !== 40) return "invalid";
    const expiry = bytes.subarray(0, 8);
    if (!timingSafeEqual(bytes.subarray(8), this.cookieMac(expiry, digest, clientAddress))) return "invalid";
    const expiresAt = Number(new DataView(expiry.buffer, expiry.byteOffset, 8).getBigUint64(0));
    return expiresAt < now ? "expired" : "valid";
  }

  private cookieMac(expiry: Uint8Array, digest: Uint8Array, clientAddress: string): Uint8Array {
    return createHmac("sha256", this.cookieKey).update(COOKIE_LABEL).update(expiry).update(digest).update(clientAddress, "utf8").digest();
  }
}

/** A refusal made after the request record opened: answered sealed, bound to the request. */
export class OpenedError extends Error {
  readonly opened: OpenedRequest;
  readonly error: ApiError;

  constructor(opened: OpenedRequest, error: ApiError) {
    super(error.message);
    this.opened = opened;
    this.error = error;
  }
}

const helloParameters = [
  { type: "string" },
  { type: "uint16" },
  { type: "address" },
  { type: "bytes" },
  { type: "bytes32" },
  { type: "uint64" },
  { type: "uint256" },
  { type: "address" },
  { type: "bytes32" },
] as const;

/**
 * The SDK's `hashClientHello` (docs/protocol.md §3.6) over a hello the schema already checked,
 * without validating the ephemeral key as a curve point: that is asymmetric work, left for after
 * the cookie round. The tests check it equals `hashClientHello`.
 */
export function helloDigest(hello: ClientHello): Uint8Array {
  const encoded = encodeAbiParameters(helloParameters, [
    SESSION_PROTOCOL,
    hello.version,
    hello.device.toLowerCase() as Address,
    hello.ephemeralPublicKey,
    hello.nonce,
    BigInt(hello.timestamp),
    BigInt(hello.context.chainId),
    hello.context.registry.toLowerCase() as Address,
    hello.context.gid,
  ]);
  return sha256(hexToBytes(encoded));
}

function uint64be(value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value));
  return bytes;
}

const sessionCodes: Record<SessionError["code"], ApiErrorCode> = {
  SessionWrongPeer: "SessionWrongPeer",
  SessionBadSignature: "SessionBadSignature",
  SessionStale: "SessionStale",
  SessionMalformed: "SessionMalformed",
  SessionTampered: "SessionTampered",
  SessionReplay: "SessionReplay",
  SessionExhausted: "SessionExhausted",
};

/** SDK session errors become ApiErrors with the SDK's code. */
function rethrowSession(error: unknown): never {
  if (error instanceof SessionError) throw apiError(sessionCodes[error.code], error.message);
  throw error;
}
