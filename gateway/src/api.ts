// What each route does, apart from HTTP: admission of a handshake, the standing check every
// sealed route runs (a revoked device or an inactive group is refused everywhere), ticket issuance,
// association intake, data verification and storage, nonces, proofs, inclusion and path checks.
// Handlers of sealed routes return a `unit` that the server runs inside the group commit, so an
// answer is sent only once everything it acknowledges is durable.
import { Ajv, type ValidateFunction } from "ajv";
import { getAddress, hexToBytes, type Address, type Hex } from "viem";
import {
  authPathSize,
  buildBatchTree,
  decodeAuthPath,
  encodeAuthPath,
  fromWireAssociation,
  fromWireDataMessage,
  getNonce,
  hashAssociation,
  InvalidAuthPathError,
  InvalidSignatureError,
  issueToken,
  parseToken,
  registryDomain,
  serializeToken,
  verifyAuthPath,
  verifyToken,
  type AssocRequest,
  type AssocResponse,
  type BatchTree,
  type DataMessage,
  type DataRequest,
  type DataResponse,
  type InclusionRequest,
  type InclusionResponse,
  type NonceResponse,
  type ProofResponse,
  type ReadClient,
  type Receipt,
  type Session,
  type TicketRequest,
  type TicketResponse,
  type VerifyRequest,
  type VerifyResponse,
} from "@iomt-auth/sdk";
import type { PrivateKeyAccount } from "viem/accounts";
import type { ChainWorker } from "./chain.js";
import type { GatewayConfig } from "./config.js";
import type { EnrolmentSecrets } from "./enrolment.js";
import { apiError } from "./errors.js";
import type { GatewayMetrics } from "./metrics.js";
import type { AuthTableMirror, MemberView } from "./mirror.js";
import type { SignerRecovery } from "./signatures.js";
import type { AssociationRow, GatewayStore, MessageRow } from "./store.js";
import type { DataVerifier } from "./verifier.js";
import { dataRequestSchema, assocRequestSchema, ticketRequestSchema, emptySchema, verifyRequestSchema, inclusionRequestSchema, type Static, type TSchema } from "./schemas.js";

/** A message may claim a timestamp at most this far ahead of the gateway's clock. */
const MAX_CLOCK_SKEW_SECONDS = 300;
const U64_MAX = (1n << 64n) - 1n;
/** The registry's per-device nonce is a uint32. */
const NONCE_LIMIT = 2 ** 32;
/** How long `assoc` waits for the worker to send the transaction before answering `queued`. */
const ASSOC_ANSWER_WAIT_MS = 3_000;
const CACHED_BATCH_TREES = 64;

export type Unit<T> = () => T;

export type GatewayApiParameters = {
  config: GatewayConfig;
  account: PrivateKeyAccount;
  publicClient: ReadClient;
  store: GatewayStore;
  mirror: AuthTableMirror;
  worker: ChainWorker;
  recovery: SignerRecovery;
  /** The data route's hashing and signer recovery: a pool of worker threads, or the main thread (verifier.ts). */
  verifier: DataVerifier;
  metrics: GatewayMetrics;
  log?: { info(object: object, message: string): void; warn(object: object, message: string): void };
  /** Checks enrolment secrets (counted attempts, back-off, single use). */
  secrets: EnrolmentSecrets;
  /** Hierarchical anchoring, when on: where a batch anchored through an aggregate is. */
  aggregation?: { anchorOfBatch(batchId: number): InclusionResponse["aggregate"] };
};

export class GatewayApi {
  private readonly p: GatewayApiParameters;
  private readonly domain;
  private readonly validate: {
    ticket: ValidateFunction<TicketRequest>;
    assoc: ValidateFunction<AssocRequest>;
    data: ValidateFunction<DataRequest>;
    empty: ValidateFunction<object>;
    verify: ValidateFunction<VerifyRequest>;
    inclusion: ValidateFunction<InclusionRequest>;
  };
  private readonly trees = new Map<number, BatchTree>();

  constructor(parameters: GatewayApiParameters) {
    this.p = parameters;
    const { config } = parameters;
    this.domain = registryDomain({ chainId: config.chainId, registry: config.registry });
    const ajv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false });
    // The wire types are the schemas' static types (one source: the SDK's wire-schemas.ts).
    const compile = <T extends TSchema>(schema: T) => ajv.compile<Static<T>>(schema);
    this.validate = {
      ticket: compile(ticketRequestSchema),
      assoc: compile(assocRequestSchema),
      data: compile(dataRequestSchema(config.maxMessagesPerRequest, config.maxPayloadBytes)),
      empty: compile(emptySchema),
      verify: compile(verifyRequestSchema),
      inclusion: compile(inclusionRequestSchema),
    };
  }

  /**
   * Admission of a hello (before any asymmetric work) and of a finish: the device must be a member
   * of group `gid` on chain or enrolled here for it, not revoked, and the group active. A device
   * the mirror does not know yet waits (bounded) for a fresh sync of the mirror, so a member is
   * never refused because the mirror lags: `MirrorSyncing` (retry) when the sync takes too long.
   */
  async admit(device: Address, gid: Hex): Promise<void> {
    if (this.admitted(device, gid)) return;
    await this.catchUp();
    if (this.admitted(device, gid)) return;
    throw apiError("DeviceNotAdmitted", `${device} is neither enrolled with this gateway nor a member of group ${gid}`);
  }

  /** True when admitted, false when unknown (so far); throws for a revoked device or an inactive group. */
  private admitted(device: Address, gid: Hex): boolean {
    const member = this.p.mirror.memberByDevice(device);
    if (member !== undefined) {
      if (member.gid.toLowerCase() !== gid) return false;
      this.checkStanding(member);
      return true;
    }
    const enrolment = this.p.store.enrolmentByAddress(device);
    if (enrolment === undefined || enrolment.gid !== gid) return false;
    if (this.p.mirror.group(gid)?.active === false) throw apiError("GroupInactive", "the group was deactivated");
    return true;
  }

  /**
   * Run before every sealed route: a revoked device, or a device of a deactivated group, is
   * refused (sealed, so the device can trust the refusal), whatever the route.
   */
  authorise(session: Session): void {
    const member = this.p.mirror.memberByDevice(session.device);
    if (member !== undefined && member.gid.toLowerCase() === session.context.gid.toLowerCase()) return this.checkStanding(member);
    if (this.p.mirror.group(session.context.gid)?.active === false) throw apiError("GroupInactive", "the group was deactivated");
  }

  private checkStanding(member: MemberView): void {
    if (!member.groupActive) throw apiError("GroupInactive", "the group was deactivated");
    if (member.revoked) throw apiError("DeviceRevoked", "this device was revoked by its Master");
  }

  /**
   * Drops the enrolment of a member whose revocation the mirror saw, in the group commit. Should
   * that commit fail (a full disk), the enrolment stays until the next start reports the revocation
   * again; the device is refused meanwhile all the same (`authorise`: DeviceRevoked).
   */
  dropRevoked(member: MemberView): void {
    const where = { device: member.device, gid: member.gid };
    this.p.store.commit(() => this.p.store.dropEnrolment(member.device)).then(
      (dropped) => dropped && this.p.log?.info(where, "device revoked on chain: enrolment dropped"),
      (error: unknown) => this.p.log?.warn({ ...where, err: error }, "device revoked on chain: its enrolment could not be dropped now (dropped at the next start; the device is refused meanwhile)"),
    );
  }

  // ----------------------------------------------------------------------------- getTicket

  async ticket(session: Session, body: unknown): Promise<Unit<TicketResponse>> {
    const request = this.check(this.validate.ticket, body);
    const enrolment = this.p.store.enrolmentByAddress(session.device);
    if (enrolment === undefined || enrolment.gid !== session.context.gid.toLowerCase()) {
      throw apiError("DeviceNotEnrolled", `${session.device} is not enrolled in group ${session.context.gid}`);
    }
    // Refused before the secret is checked, so that no attempt is counted and nothing is used up.
    const master = this.p.mirror.group(enrolment.gid)?.master;
    if (enrolment.token === null && master !== undefined && getAddress(master) !== this.p.account.address) {
      throw apiError(
        "TicketUnavailable",
        `this gateway's key is not the group's Master (${master}, e.g. a contract wallet) and holds no token it approved for this device: the operator enrols the device with one (enrol --token-file)`,
      );
    }
    const claim = await this.p.secrets.check(enrolment, request.secret);
    // A stored token was approved by the group's Master (a wallet) and checked on chain at enrolment.
    const token = enrolment.token ?? serializeToken(await issueToken(this.p.account, { gid: enrolment.gid, oid: enrolment.oid, device: enrolment.address }));
    return () => {
      claim.consume();
      this.p.store.markTicketIssued(enrolment.gid, enrolment.oid, Date.now());
      this.p.store.afterCommit(() => this.p.metrics.ticketsIssued.inc());
      return { token };
    };
  }

  // ----------------------------------------------------------------------------- assoc

  async assoc(session: Session, body: unknown): Promise<Unit<AssocResponse>> {
    const request = this.check(this.validate.assoc, body);
    const device = session.device;
    if (request.association === undefined) {
      const row = this.p.store.association(device);
      if (row === undefined) {
        const member = await this.memberOf(device);
        if (member !== undefined) return () => ({ status: "associated", entry: entryOf(member) });
        throw apiError("AssociationUnknown", "this device has not sent an association request");
      }
      return () => this.associationStatus(row);
    }
    const signed = fromWireAssociation(request.association);
    const { gid, oid, nonce, deadline } = signed.request;
    if (getAddress(signed.request.device) !== device) throw apiError("AssociationForAnotherDevice", "the request names another device than the session's");
    if (gid.toLowerCase() !== session.context.gid) throw apiError("GroupMismatch", `the session is for group ${session.context.gid}`);
    if (!verifyToken({ token: { gid, oid, device, signature: signed.token }, master: this.p.account.address }) && !this.isStoredToken(device, { gid, oid, signature: signed.token })) {
      throw apiError("TokenInvalid", "the token was not issued by this group's Master for this device and oid");
    }
    if (nonce !== 0n) throw apiError("AssociationNonceInvalid", "an association request uses the device's first nonce, 0");
    if (deadline <= BigInt(nowSeconds())) throw apiError("AssociationExpired", `the request's deadline ${deadline} has passed`);
    this.checkSignature(hashAssociation(this.domain, signed.request), signed.signature, device);

    const member = await this.memberOf(device);
    if (member !== undefined) return () => ({ status: "associated", entry: entryOf(member) });
    await this.p.store.commit(() => {
      const existing = this.p.store.association(device);
      const row = { device, gid: gid.toLowerCase() as Hex, oid: oid.toLowerCase() as Hex, request: JSON.stringify(request.association), now: Date.now() };
      if (existing === undefined) this.p.store.insertAssociation(row);
      // A rejected request may be sent again, signed anew (a later deadline, another oid): relay the new one.
      else if (existing.status === "rejected") this.p.store.requeueAssociation(row);
    });
    this.p.worker.wake();
    const row = await this.waitForSubmission(device);
    return () => this.associationStatus(row);
  }

  /** True when `token` is the one stored with the device's enrolment (approved by the group's Master, a wallet, and checked on chain at enrolment). */
  private isStoredToken(device: Address, token: { gid: Hex; oid: Hex; signature: Hex }): boolean {
    const stored = this.p.store.enrolmentByAddress(device)?.token;
    if (stored == null) return false;
    const parsed = parseToken(stored);
    return parsed.gid === token.gid.toLowerCase() && parsed.oid === token.oid.toLowerCase() && parsed.signature === token.signature.toLowerCase();
  }

  private async waitForSubmission(device: Address): Promise<AssociationRow> {
    const giveUpAt = Date.now() + ASSOC_ANSWER_WAIT_MS;
    for (;;) {
      const row = this.p.store.association(device) as AssociationRow;
      if (row.status !== "queued" || Date.now() > giveUpAt) return row;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private associationStatus(row: AssociationRow): AssocResponse {
    const answer: AssocResponse = { status: row.status };
    if (row.tx_hash !== null) answer.txHash = row.tx_hash;
    if (row.status === "associated") {
      const member = this.p.mirror.memberByDevice(row.device);
      if (member !== undefined) answer.entry = entryOf(member);
    }
    if (row.status === "rejected") answer.error = { code: row.error_code ?? "AssociationRejected", message: row.error_message ?? "" };
    return answer;
  }

  // ----------------------------------------------------------------------------- data

  async data(session: Session, body: unknown): Promise<Unit<DataResponse>> {
    const request = this.check(this.validate.data, body);
    const device = session.device;
    const now = nowSeconds();
    const verified: { digest: Hex; message: DataMessage; signature: Hex; payload: Buffer | null; salt: Buffer | null; member: MemberView }[] = [];
    // Hashes and signers off the main thread (verifier.ts); each is read below where it was computed before.
    const verifying = this.p.metrics.verifySeconds.startTimer();
    const verdicts = await this.p.verifier.verify(request.messages).finally(verifying);
    for (const [i, wire] of request.messages.entries()) {
      const at = { index: i };
      const message = fromWireDataMessage(wire.message);
      if (message.gid.toLowerCase() !== session.context.gid) throw apiError("GroupMismatch", `message ${i} is for another group than the session's`, at);
      if (message.timestamp > U64_MAX || message.deadline > U64_MAX) throw apiError("RequestInvalid", `message ${i}: timestamp and deadline are uint64`, at);
      const member = await this.memberAt(message.gid, message.oid);
      if (member === undefined) throw apiError("DeviceNotMember", `message ${i}: no member is registered under this (gid, oid)`, at);
      if (member.device !== device) throw apiError("OidNotOwned", `message ${i}: the oid belongs to another device`, at);
      if (!member.groupActive) throw apiError("GroupInactive", "the group was deactivated", at);
      if (member.revoked) throw apiError("DeviceRevoked", "this device was revoked by its Master", at);
      if (message.deadline < BigInt(now)) throw apiError("MessageExpired", `message ${i}: its deadline ${message.deadline} has passed`, at);
      if (message.timestamp > BigInt(now + MAX_CLOCK_SKEW_SECONDS)) throw apiError("MessageFromFuture", `message ${i}: its timestamp is ahead of the gateway's clock`, at);
      if (message.nonce >= BigInt(NONCE_LIMIT)) throw apiError("NonceOutOfOrder", `message ${i}: nonce ${message.nonce} is beyond the registry's range`, at);
      const verdict = verdicts[i];
      if ("failed" in verdict) throw new Error(verdict.failed);
      let payload: Buffer | null = null;
      let salt: Buffer | null = null;
      if (wire.payload !== undefined && wire.salt !== undefined) {
        if (!verdict.payloadMatches) throw apiError("PayloadMismatch", `message ${i}: keccak256(salt ‖ payload) is not payloadHash`, at);
        payload = Buffer.from(hexToBytes(wire.payload));
        salt = Buffer.from(hexToBytes(wire.salt));
      }
      const { digest } = verdict;
      this.checkRecovered("signer" in verdict ? verdict.signer : verdict.invalid, device, at);
      verified.push({ digest, message, signature: wire.signature.toLowerCase() as Hex, payload, salt, member });
    }
    const chainNonce = this.p.store.nextNonce(device) === undefined ? await this.chainNonce(verified[0].member) : undefined;
    const route = this.p.config.policy;
    return () => {
      const { store } = this.p;
      let next = store.nextNonce(device) ?? (chainNonce as number);
      const receipts: Receipt[] = [];
      let stored = 0;
      for (const [i, { digest, message, signature, payload, salt, member }] of verified.entries()) {
        const nonce = Number(message.nonce);
        // Only a nonce below the next one can have been stored (each is stored as the next, then next moves on): a retry.
        const existing = nonce < next ? store.messageByDeviceNonce(device, nonce) : undefined;
        if (existing !== undefined) {
          if (existing.digest !== digest) throw apiError("NonceReplayed", `message ${i}: nonce ${nonce} was already used for another message`, { index: i, expected: next });
          receipts.push(receiptOf(existing));
          continue;
        }
        if (nonce !== next) throw apiError("NonceOutOfOrder", `message ${i}: nonce ${nonce} is not the device's next nonce ${next}`, { index: i, expected: next });
        const row = {
          digest,
          gid: member.gid.toLowerCase() as Hex,
          oid: member.oid.toLowerCase() as Hex,
          device,
          nonce,
          payload_hash: message.payloadHash.toLowerCase() as Hex,
          timestamp: message.timestamp.toString(),
          deadline: message.deadline.toString(),
          signature,
          payload,
          salt,
          accepted_at: Date.now(),
          route,
        };
        store.insertMessage(row);
        receipts.push(receiptOf(row));
        next++;
        stored++;
      }
      store.setNextNonce(device, next);
      // No wake-up of the chain worker: batches are cut on its poll, well within batchMaxAgeMs, and
      // waking it per request would run a chain round trip per request under load.
      store.afterCommit(() => this.p.metrics.messagesAccepted.inc(stored));
      return { receipts };
    };
  }

  /** The member's next nonce on chain (nonces belong to a (gid, oid) member). */
  private async chainNonce({ gid, oid }: MemberView): Promise<number> {
    try {
      return Number(await getNonce(this.p.publicClient, { registry: this.p.config.registry, gid, oid }));
    } catch {
      throw apiError("ChainUnavailable", "the chain is unreachable and this device's first nonce must be read from it; retry later");
    }
  }

  // ----------------------------------------------------------------------------- nonce, proof, verify, inclusion

  /** The next data nonce the gateway accepts from this device (after the device lost its counter). */
  async nonce(session: Session, body: unknown): Promise<Unit<NonceResponse>> {
    this.check(this.validate.empty, body);
    const member = await this.memberOf(session.device);
    if (member === undefined) throw apiError("DeviceNotMember", "this device has no AuthTable entry in the session's group");
    const stored = this.p.store.nextNonce(session.device);
    const next = stored ?? (await this.chainNonce(member));
    return () => ({ next: String(this.p.store.nextNonce(session.device) ?? next) });
  }

  async proof(session: Session, body: unknown): Promise<Unit<ProofResponse>> {
    this.check(this.validate.empty, body);
    if ((await this.memberOf(session.device)) === undefined) throw apiError("DeviceNotAssociated", "this device has no AuthTable entry yet");
    const path = this.p.mirror.authPath(session.device);
    return () => ({ path: encodeAuthPath(path), size: authPathSize(path) });
  }

  async verify(_session: Session, body: unknown): Promise<Unit<VerifyResponse>> {
    const request = this.check(this.validate.verify, body);
    let path;
    try {
      path = decodeAuthPath(request.path);
    } catch (error) {
      if (error instanceof InvalidAuthPathError) throw apiError("PathMalformed", error.message);
      throw error;
    }
    if (path.length === 0) throw apiError("PathMalformed", "the path has no steps");
    const roots = request.trustedRootGid === undefined ? this.trustedRoots() : [request.trustedRootGid.toLowerCase() as Hex];
    // The mirror holds every leaf, so its state knows each group's earlier roots (`rootAt`): a path
    // built when a group was smaller verifies without a consistency proof.
    const { status, failedStep } = verifyAuthPath(path, this.p.mirror.trustedState(roots));
    const answer: VerifyResponse = { valid: status === "Valid", status, failedStep, device: path[0].entry.device };
    return () => answer;
  }

  /**
   * One of the session device's own messages, named by its receipt's digest and nonce: it is looked
   * up by the session's device and the nonce, and must have that digest. Another device's message,
   * or a nonce with another digest, is answered exactly as one nobody sent (`MessageUnknown`), so
   * the route is no oracle for who sent what.
   */
  async inclusion(session: Session, body: unknown): Promise<Unit<InclusionResponse>> {
    const { digest, nonce } = this.check(this.validate.inclusion, body);
    const stored = BigInt(nonce) <= BigInt(Number.MAX_SAFE_INTEGER) ? this.p.store.messageByDeviceNonce(session.device, Number(nonce)) : undefined;
    const row = stored?.digest === digest.toLowerCase() ? stored : undefined;
    if (row === undefined) throw apiError("MessageUnknown", "this device sent no message with this digest and nonce here");
    const answer: InclusionResponse = { digest: row.digest, status: "pending", gid: row.gid, device: row.device, nonce: String(row.nonce), acceptedAt: row.accepted_at };
    if (row.status === "relayed") {
      answer.status = "relayed";
      answer.relay = { txHash: row.relay_tx as Hex, ...(row.relay_block === null ? {} : { blockNumber: row.relay_block }) };
    } else if (row.status === "batched") {
      const batch = this.p.store.batch(row.batch_id as number);
      if (batch?.status === "anchored") {
        answer.status = "anchored";
        const tree = this.batchTree(batch.id);
        answer.batch = {
          root: batch.root,
          index: row.leaf_index as number,
          size: batch.size,
          proof: tree.proof(row.leaf_index as number),
          ...(batch.tx_hash === null ? {} : { txHash: batch.tx_hash }),
          ...(batch.block_number === null ? {} : { blockNumber: batch.block_number }),
        };
        const aggregate = this.p.aggregation?.anchorOfBatch(batch.id);
        if (aggregate !== undefined) answer.aggregate = aggregate;
      }
    }
    return () => answer;
  }

  /** The roots of the served groups' hierarchies: what `verify` trusts unless told otherwise. */
  private trustedRoots(): Hex[] {
    const roots = new Set<Hex>();
    for (const gid of this.p.config.groups) {
      let group = this.p.mirror.group(gid);
      for (let depth = 0; group !== undefined && BigInt(group.parentGid) !== 0n && depth < 256; depth++) group = this.p.mirror.group(group.parentGid);
      if (group !== undefined) roots.add(group.gid.toLowerCase() as Hex);
    }
    return [...roots];
  }

  private batchTree(id: number): BatchTree {
    let tree = this.trees.get(id);
    if (tree === undefined) {
      tree = buildBatchTree(this.p.store.batchLeaves(id));
      if (this.trees.size >= CACHED_BATCH_TREES) this.trees.delete(this.trees.keys().next().value as number);
      this.trees.set(id, tree);
    }
    return tree;
  }

  // ----------------------------------------------------------------------------- helpers

  private check<T>(validate: ValidateFunction<T>, body: unknown): T {
    if (validate(body)) return body;
    const [first] = validate.errors ?? [];
    throw apiError("RequestInvalid", `request ${first?.instancePath || "body"} ${first?.message ?? "is invalid"}`.trim(), { path: first?.instancePath ?? "" });
  }

  private checkSignature(hash: Hex, signature: Hex, device: Address, details?: Record<string, unknown>): void {
    let signer: Address | InvalidSignatureError;
    try {
      signer = this.p.recovery.recover(hash, signature);
    } catch (error) {
      if (!(error instanceof InvalidSignatureError)) throw error;
      signer = error;
    }
    this.checkRecovered(signer, device, details);
  }

  /** `signer`: the recovered address (lower case), or why the signature is unusable (an `InvalidSignatureError`'s code and message). */
  private checkRecovered(signer: Address | { code: string; message: string }, device: Address, details?: Record<string, unknown>): void {
    if (typeof signer !== "string") throw apiError("SignatureInvalid", `the signature is unusable: ${signer.message}`, { ...details, reason: signer.code });
    if (signer !== device.toLowerCase()) throw apiError("SignatureMismatch", "the signature was not made by this device's key", details);
  }

  /** The member under (gid, oid); waits for the mirror to catch up when it is not there yet. */
  private async memberAt(gid: Hex, oid: Hex): Promise<MemberView | undefined> {
    const member = this.p.mirror.member(gid, oid);
    if (member !== undefined) return member;
    await this.catchUp();
    return this.p.mirror.member(gid, oid);
  }

  private async memberOf(device: Address): Promise<MemberView | undefined> {
    const member = this.p.mirror.memberByDevice(device);
    if (member !== undefined) return member;
    await this.catchUp();
    return this.p.mirror.memberByDevice(device);
  }

  /**
   * Waits (at most `mirrorWaitMs`) for a mirror sync that started after this call, so that anything
   * on chain before the request is seen. A sync that takes longer is `MirrorSyncing`, a retryable
   * 503; a chain that cannot be read is `ChainUnavailable`: neither refuses a member for good.
   */
  private async catchUp(): Promise<void> {
    const outcome = await this.p.mirror.syncFresh(this.p.config.mirrorWaitMs);
    if (outcome === "timeout") throw apiError("MirrorSyncing", "the gateway's view of the chain is catching up; retry shortly", { retryAfterMs: 250 });
    if (outcome === "failed") throw apiError("ChainUnavailable", "the chain is unreachable and this device is not in the gateway's view of it yet; retry later");
  }
}

function receiptOf(row: Pick<MessageRow, "digest" | "device" | "nonce" | "accepted_at">): Receipt {
  return { digest: row.digest, device: row.device, nonce: String(row.nonce), acceptedAt: row.accepted_at };
}

function entryOf(member: MemberView): NonNullable<AssocResponse["entry"]> {
  return { gid: member.gid, oid: member.oid, device: member.device, master: member.master, index: member.index, entryHash: member.entryHash };
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

