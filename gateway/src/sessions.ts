// Sessions between devices and this Master: the SDK's handshake, with half-open handshakes in
// memory (bounded, expiring) and established sessions in the store. A session's keys are stored
// encrypted under a key derived from the Master's key, its counters in clear; the live session
// is cached in memory, one copy per id, so a sealed record can never reuse a sequence number.
import { randomBytes } from "node:crypto";
import { gcm } from "@noble/ciphers/aes";
import { hkdf } from "@noble/hashes/hkdf";
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex, getAddress, hexToBytes, isAddressEqual, type Address, type Hex } from "viem";
import {
  acceptClientHello,
  exportSession,
  finishHandshake,
  importSession,
  openRecord,
  sealRecord,
  SessionError,
  type ClientFinish,
  type ClientHello,
  type ExportedSession,
  type FinishResponse,
  type HelloResponse,
  type MasterHandshakeState,
  type SealedEnvelope,
  type SealedRoute,
  type Session,
  type SessionAccount,
  type SessionRecord,
} from "@iomt-auth/sdk";
import { ApiError } from "./errors.js";
import type { GatewayStore } from "./store.js";

export type SessionManagerParameters = {
  store: GatewayStore;
  account: SessionAccount;
  /** Derived from the Master key: encrypts session keys at rest. */
  storageKey: Uint8Array;
  chainId: number;
  registry: Address;
  groups: readonly Hex[];
  ttlSeconds: number;
  /** Most half-open handshakes held at once; beyond it new hellos get 503 `HandshakesBusy` until old ones finish or expire. */
  maxPendingHandshakes: number;
  /** Refuses a device this gateway does not serve (throws an ApiError). */
  admit(device: Address, gid: Hex): void;
  now?: () => number;
};

/** A record opened on a sealed route: the live session and the request's JSON. */
export type OpenedRequest = { session: Session; body: unknown };

export class SessionManager {
  private readonly handshakes = new Map<string, MasterHandshakeState>();
  /** Live sessions with their expiry (fixed at establishment), so a request needs no read of the store. */
  private readonly live = new Map<Hex, { session: Session; expiresAt: number }>();
  private readonly parameters: SessionManagerParameters;
  private readonly now: () => number;

  constructor(parameters: SessionManagerParameters) {
    this.parameters = parameters;
    this.now = parameters.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Step 1 of keySession: checks the context and answers the ServerHello. */
  async hello(clientHello: ClientHello): Promise<HelloResponse> {
    const { chainId, registry, groups, account } = this.parameters;
    const context = clientHello.context;
    if (context.chainId !== chainId || !isAddressEqual(context.registry, registry)) {
      throw new ApiError(403, "SessionWrongContext", `this gateway serves chain ${chainId}, registry ${registry}`);
    }
    const gid = context.gid.toLowerCase() as Hex;
    if (!groups.includes(gid)) throw new ApiError(403, "GroupNotServed", `this gateway does not serve group ${context.gid}`, { gid: context.gid });
    this.sweepHandshakes();
    if (this.handshakes.size >= this.parameters.maxPendingHandshakes) throw new ApiError(503, "HandshakesBusy", "too many half-open handshakes; retry shortly");
    const { serverHello, state } = await acceptClientHello({ account, clientHello, context: { chainId, registry, gid }, now: this.now() }).catch(rethrowSession);
    const handshakeId = bytesToHex(randomBytes(16));
    this.handshakes.set(handshakeId, state);
    return { handshakeId, serverHello };
  }

  /** Step 3 of keySession: verifies the device's signature, admits the device, stores the session. */
  async finish(handshakeId: string, clientFinish: ClientFinish): Promise<FinishResponse> {
    const state = this.handshakes.get(handshakeId);
    if (state === undefined) throw new ApiError(404, "HandshakeUnknown", "no half-open handshake with this id (expired, used, or the gateway restarted): start again");
    this.handshakes.delete(handshakeId);
    const session = await finishHandshake({ state, clientFinish, now: this.now() }).catch(rethrowSession);
    this.parameters.admit(session.device, session.context.gid);
    const expiresAt = session.establishedAt + this.parameters.ttlSeconds;
    const exported = exportSession(session);
    await this.parameters.store.commit(() =>
      this.parameters.store.insertSession({
        id: session.id,
        device: session.device,
        gid: session.context.gid,
        established_at: session.establishedAt,
        expires_at: expiresAt,
        sealed_keys: this.sealKeys(session.id, exported),
        send_seq: session.send.nextSeq,
        receive_seq: session.receive.nextSeq,
      }),
    );
    this.live.set(session.id, { session, expiresAt });
    return { sessionId: session.id, expiresAt };
  }

  /** Opens a sealed request: finds the session, checks its expiry, decrypts and parses the record. */
  open(envelope: SealedEnvelope, route: SealedRoute): OpenedRequest {
    const session = this.find(envelope.sessionId);
    let plaintext: Uint8Array;
    try {
      plaintext = openRecord(session, { record: envelope.record, aad: new TextEncoder().encode(route) });
    } catch (error) {
      rethrowSession(error);
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(plaintext));
    } catch {
      throw new ApiError(400, "RecordNotJson", "the decrypted record is not JSON");
    }
    return { session, body };
  }

  /** Seals an answer; call inside the commit that also saves the counters. A session that sealed its last record answers 409 `SessionExhausted`. */
  seal(session: Session, route: SealedRoute, answer: unknown): SessionRecord {
    try {
      return sealRecord(session, { plaintext: new TextEncoder().encode(JSON.stringify(answer)), aad: new TextEncoder().encode(route) });
    } catch (error) {
      rethrowSession(error);
    }
  }

  saveCounters(session: Session): void {
    this.parameters.store.saveSessionCounters(session.id, session.send.nextSeq, session.receive.nextSeq);
  }

  /** Drops expired sessions from memory and the store. */
  sweep(): void {
    const now = this.now();
    this.parameters.store.deleteExpiredSessions(now);
    for (const [id, { expiresAt }] of this.live) if (expiresAt < now) this.live.delete(id);
    this.sweepHandshakes();
  }

  private sweepHandshakes(): void {
    const now = this.now();
    for (const [id, state] of this.handshakes) if (state.expiresAt < now) this.handshakes.delete(id);
  }

  private find(id: Hex): Session {
    const key = id.toLowerCase() as Hex;
    let live = this.live.get(key);
    if (live === undefined) {
      const row = this.parameters.store.session(key);
      if (row === undefined) throw new ApiError(401, "SessionUnknown", "no session with this id (never established, or expired and removed): run keySession again");
      const exported = this.openKeys(key, row.sealed_keys);
      const session = importSession({ ...exported, send: { ...exported.send, nextSeq: row.send_seq }, receive: { ...exported.receive, nextSeq: row.receive_seq } });
      live = { session, expiresAt: row.expires_at };
      this.live.set(key, live);
    }
    if (live.expiresAt < this.now()) throw new ApiError(401, "SessionExpired", `the session expired at ${live.expiresAt}: run keySession again`);
    return live.session;
  }

  private sealKeys(id: Hex, exported: ExportedSession): string {
    const nonce = randomBytes(12);
    const ciphertext = gcm(this.parameters.storageKey, nonce, hexToBytes(id)).encrypt(new TextEncoder().encode(JSON.stringify(exported)));
    return bytesToHex(new Uint8Array([...nonce, ...ciphertext]));
  }

  private openKeys(id: Hex, sealed: string): ExportedSession {
    const bytes = hexToBytes(sealed as Hex);
    try {
      const plaintext = gcm(this.parameters.storageKey, bytes.subarray(0, 12), hexToBytes(id)).decrypt(bytes.subarray(12));
      return JSON.parse(new TextDecoder().decode(plaintext)) as ExportedSession;
    } catch {
      throw new ApiError(401, "SessionUnknown", "this session was stored under another Master key: run keySession again");
    }
  }
}

/** The key that encrypts stored sessions: HKDF-SHA256 of the Master's private key, bound to the deployment. */
export function deriveStorageKey(privateKey: Hex, registry: Address, chainId: number): Uint8Array {
  return hkdf(sha256, hexToBytes(privateKey), new TextEncoder().encode(`${getAddress(registry)}:${chainId}`), "iomt-auth/gateway/v1 session store", 32);
}

const sessionStatus: Record<SessionError["code"], number> = {
  SessionWrongPeer: 403,
  SessionBadSignature: 401,
  SessionStale: 401,
  SessionMalformed: 400,
  SessionTampered: 400,
  SessionReplay: 409,
  SessionExhausted: 409,
};

/** SDK session errors become 4xx with the SDK's code. */
function rethrowSession(error: unknown): never {
  if (error instanceof SessionError) throw new ApiError(sessionStatus[error.code], error.code, error.message);
  throw error;
}
