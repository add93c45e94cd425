// Hierarchical anchoring (`aggregation: on`; docs: the README's "Hierarchical anchoring"). A
// gateway keeps, in the `handovers` table, every batch root it is responsible for: its own
// batches' (adopted from the chain worker as they are cut) and those its child groups' gateways
// handed it over `/v2/handover`. With a parent it hands them up, as a client of the parent's
// gateway under its Master key (which is a member of the parent group: the cluster-head rule), and
// polls until the parent reports them anchored; it believes the parent only after checking the
// aggregate proof itself and the anchor on chain. Without a parent (a root group's gateway), or for
// a root the parent has not anchored `handoverDeadlineMs` after it reached this gateway, it anchors
// one aggregate over the roots it holds per `aggregateIntervalMs`, with `anchorBatch` under its own
// group (the AggregateVerifier accepts an aggregate anchored by the message's group or an ancestor).
// A root leaves the table's open states only once it is anchored: nothing handed over or cut is
// lost across a crash of either side or an outage of the chain.
import { Ajv, type ValidateFunction } from "ajv";
import { getAddress, type Address, type Hash, type Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { getTransactionReceipt, waitForTransactionReceipt } from "viem/actions";
import {
  aggregateLeaf,
  anchorBatch,
  buildAggregateTree,
  ContractRuleError,
  createGatewayClient,
  getAnchor,
  verifyBatchProof,
  type AggregateAnchor,
  type GatewayClient,
  type HandoverEntry,
  type HandoverResponse,
  type HandoverState,
  type HandoverStatusRequest,
  type HandoverStatusResponse,
  type ReadClient,
  type Session,
  type WriteClient,
} from "@iomt-auth/sdk";
import type { Unit } from "./api.js";
import type { Logger } from "./chain.js";
import type { GatewayConfig } from "./config.js";
import { apiError } from "./errors.js";
import type { AuthTableMirror } from "./mirror.js";
import { handoverRequestSchema, handoverStatusRequestSchema } from "./schemas.js";
import type { GatewayStore } from "./store.js";

/** Roots in one aggregate: its anchor stays one transaction, its proofs 12 nodes. */
const MAX_AGGREGATE_ROOTS = 4_096;
const UINT32_MAX = 0xffffffff;
/** How long one tick waits for the aggregate's receipt before leaving it for the next tick. */
const RECEIPT_TIMEOUT_MS = 30_000;

/** `waiting`: held, not yet with the parent; `handed`: the parent has it; `aggregated`: in an aggregate of ours on its way; `anchored`. */
type HandoverStatus = "waiting" | "handed" | "aggregated" | "anchored";

type HandoverRow = {
  gid: Hex;
  batch_root: Hex;
  message_count: number;
  /** Our own batch, or null for a root a child handed us. */
  batch_id: number | null;
  /** The child gateway's key that handed it (null for our own). */
  from_device: string | null;
  status: HandoverStatus;
  handed_at: number | null;
  created_at: number;
  aggregate_id: number | null;
  leaf_index: number | null;
  aggregate_gid: Hex | null;
  aggregate_root: Hex | null;
  /** JSON array of the leaf's proof in the aggregate. */
  aggregate_proof: string | null;
  tx_hash: Hex | null;
  block_number: string | null;
};

/** What readiness (`aggregation`) and /metrics show of hierarchical anchoring. */
export type AggregationHealth = {
  /** The parent gateway's URL, or null for a gateway that anchors the aggregates itself. */
  parent: string | null;
  /** Whether the last exchange with the parent succeeded; null without a parent. */
  parentUp: boolean | null;
  /** Roots held here and not anchored yet, by state (their sum is what `maxHandoverBacklog` bounds). */
  roots: { waiting: number; handed: number; aggregated: number };
  /** How long the oldest of them has been held (ms), or null when none is. Past `handoverDeadlineMs`, a child anchors it itself. */
  oldestOpenMs: number | null;
};

type AggregateRow = { id: number; gid: Hex; root: Hex; batch_count: number; message_count: number; status: "created" | "sent" | "anchored"; tx_hash: Hex | null };

export type AggregationParameters = {
  config: GatewayConfig;
  account: PrivateKeyAccount;
  publicClient: ReadClient;
  walletClient: WriteClient;
  store: GatewayStore;
  mirror: AuthTableMirror;
  log: Logger;
  /** The parent gateway's client (tests point it elsewhere); default: `createGatewayClient` on `parentUrl`. */
  parentClient?: (parameters: { url: string; master: Address; parentGid: Hex }) => GatewayClient;
};

export class Aggregation {
  private readonly p: AggregationParameters;
  private readonly gid: Hex;
  private readonly validate: { handover: ValidateFunction<{ entries: HandoverEntry[] }>; status: ValidateFunction<HandoverStatusRequest> };
  private readonly sql;
  private parent: GatewayClient | undefined;
  /** The first aggregate comes one interval after start, so roots handed over right after a restart gather in it. */
  private lastAggregateAt = Date.now();
  /** False after a failed exchange with the parent gateway, until one succeeds. */
  parentUp = true;

  constructor(parameters: AggregationParameters) {
    this.p = parameters;
    const { config, store } = parameters;
    this.gid = config.groups[0].toLowerCase() as Hex;
    // The one source of the wire (the SDK's wire-schemas.ts), as the sealed routes document them.
    const ajv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false });
    this.validate = { handover: ajv.compile(handoverRequestSchema(config.maxRootsPerHandover)), status: ajv.compile(handoverStatusRequestSchema(config.maxRootsPerHandover)) };
    const db = store.db;
    this.sql = {
      row: db.prepare("SELECT * FROM handovers WHERE gid = ? AND batch_root = ?"),
      insert: db.prepare(
        "INSERT INTO handovers (gid, batch_root, message_count, batch_id, from_device, status, created_at) VALUES (@gid, @batch_root, @message_count, @batch_id, @from_device, 'waiting', @created_at)",
      ),
      open: db.prepare("SELECT count(*) FROM handovers WHERE status IN ('waiting', 'handed', 'aggregated')").pluck(),
      // On the partial index handovers_open: the anchored history is never read.
      openByStatus: db.prepare("SELECT status, count(*) AS roots, min(created_at) AS oldest FROM handovers WHERE status IN ('waiting', 'handed', 'aggregated') GROUP BY status"),
      // The first IN term is handovers_open's own condition: SQLite uses a partial index only for a query that states it.
      withStatus: db.prepare("SELECT * FROM handovers WHERE status IN ('waiting', 'handed', 'aggregated') AND status = ? AND created_at > ? ORDER BY created_at, gid, batch_root LIMIT ?"),
      eligible: db.prepare(
        "SELECT * FROM handovers WHERE status IN ('waiting', 'handed', 'aggregated') AND status IN ('waiting', 'handed') AND created_at <= ? ORDER BY created_at, gid, batch_root LIMIT ?",
      ),
      setHanded: db.prepare("UPDATE handovers SET status = 'handed', handed_at = ? WHERE gid = ? AND batch_root = ? AND status = 'waiting'"),
      setWaiting: db.prepare("UPDATE handovers SET status = 'waiting', handed_at = NULL WHERE gid = ? AND batch_root = ?"),
      assign: db.prepare("UPDATE handovers SET status = 'aggregated', aggregate_id = ?, leaf_index = ? WHERE gid = ? AND batch_root = ?"),
      setAnchored: db.prepare(
        "UPDATE handovers SET status = 'anchored', aggregate_gid = @aggregate_gid, aggregate_root = @aggregate_root, aggregate_proof = @aggregate_proof, tx_hash = @tx_hash, block_number = @block_number WHERE gid = @gid AND batch_root = @batch_root",
      ),
      byBatch: db.prepare("SELECT * FROM handovers WHERE batch_id = ? AND status = 'anchored'"),
      insertAggregate: db.prepare("INSERT INTO aggregates (gid, root, batch_count, message_count, status, created_at) VALUES (?, ?, ?, ?, 'created', ?)"),
      openAggregates: db.prepare("SELECT * FROM aggregates WHERE status IN ('created', 'sent') ORDER BY id"),
      setAggregate: db.prepare("UPDATE aggregates SET status = ?, tx_hash = ?, block_number = ?, anchored_at = ? WHERE id = ?"),
      members: db.prepare("SELECT * FROM handovers WHERE aggregate_id = ? ORDER BY leaf_index"),
      createdBatches: db.prepare("SELECT * FROM batches WHERE status = 'created' AND gid = ? ORDER BY id"),
      setBatchHanded: db.prepare("UPDATE batches SET status = 'handed' WHERE id = ? AND status = 'created'"),
    };
  }

  /** Roots held and not anchored yet (the backlog `maxHandoverBacklog` bounds). */
  backlog(): number {
    return this.sql.open.get() as number;
  }

  /** The roots held by state, the oldest one's age and the parent's reachability, for readiness and /metrics. */
  health(now = Date.now()): AggregationHealth {
    const roots = { waiting: 0, handed: 0, aggregated: 0 };
    let oldest: number | undefined;
    for (const row of this.sql.openByStatus.all() as { status: keyof AggregationHealth["roots"]; roots: number; oldest: number }[]) {
      roots[row.status] = row.roots;
      oldest = Math.min(oldest ?? row.oldest, row.oldest);
    }
    const parent = this.p.config.parentUrl ?? null;
    return { parent, parentUp: parent === null ? null : this.parentUp, roots, oldestOpenMs: oldest === undefined ? null : Math.max(0, now - oldest) };
  }

  // ----------------------------------------------------------------------------- the parent's routes

  /**
   * `/v2/handover`: a child group's gateway hands batch roots up. Refused unless the session's key
   * is the Master (with its powers) of a group directly below the served one and every entry's
   * group is that group or below it (`HandoverNotChild`); a root handed before with another count
   * is `HandoverConflict`, the same root again is answered with its state (a retry after a lost
   * answer); past `maxHandoverBacklog` held roots, `HandoverBacklogFull`.
   */
  async handover(session: Session, body: unknown): Promise<Unit<HandoverResponse>> {
    const { entries } = this.check(this.validate.handover, body);
    const device = getAddress(session.device);
    for (const [index, entry] of entries.entries()) this.checkChild(device, entry.gid.toLowerCase() as Hex, index);
    return () => {
      const now = Date.now();
      let added = 0;
      const states = entries.map((entry, index) => {
        const gid = entry.gid.toLowerCase() as Hex;
        const batchRoot = entry.batchRoot.toLowerCase() as Hex;
        const existing = this.sql.row.get(gid, batchRoot) as HandoverRow | undefined;
        if (existing !== undefined) {
          if (existing.message_count !== entry.messageCount) throw apiError("HandoverConflict", `entry ${index}: this root was handed over with ${existing.message_count} messages`, { index });
          return this.state(existing);
        }
        if (this.backlog() + 1 > this.p.config.maxHandoverBacklog) {
          throw apiError("HandoverBacklogFull", `this gateway holds ${this.p.config.maxHandoverBacklog} roots not yet anchored; retry later`, { index, retryAfterMs: this.p.config.aggregateIntervalMs });
        }
        this.sql.insert.run({ gid, batch_root: batchRoot, message_count: entry.messageCount, batch_id: null, from_device: device, created_at: now });
        added++;
        return { gid, batchRoot, status: "waiting" as const };
      });
      if (added > 0) this.p.log.info({ from: device, roots: added }, "batch roots handed over by a child gateway");
      return { entries: states };
    };
  }

  /** `/v2/handover/status`: the state of roots this child handed here; any other root is `unknown`, so the route tells nobody what another child sent. */
  async status(session: Session, body: unknown): Promise<Unit<HandoverStatusResponse>> {
    const { roots } = this.check(this.validate.status, body);
    const device = getAddress(session.device);
    return () => ({
      entries: roots.map(({ gid, batchRoot }) => {
        const row = this.sql.row.get(gid.toLowerCase(), batchRoot.toLowerCase()) as HandoverRow | undefined;
        if (row === undefined || row.from_device === null || getAddress(row.from_device) !== device) return { gid, batchRoot, status: "unknown" as const };
        return this.state(row);
      }),
    });
  }

  /** The entry's group is `device`'s group directly below the served one, or a group below that. */
  private checkChild(device: Address, gid: Hex, index: number): void {
    const { mirror } = this.p;
    let group = mirror.group(gid);
    for (let depth = 0; group !== undefined && depth < 256; depth++) {
      if (group.parentGid.toLowerCase() === this.gid) {
        if (getAddress(group.master) !== device) break;
        if (!group.active || group.masterRevoked) throw apiError("HandoverNotChild", `entry ${index}: the child group ${group.gid} is inactive or its Master lost its powers`, { index });
        return;
      }
      group = BigInt(group.parentGid) === 0n ? undefined : mirror.group(group.parentGid);
    }
    throw apiError("HandoverNotChild", `entry ${index}: group ${gid} is not below a child group of ${this.gid} whose Master is this session's key`, { index });
  }

  private state(row: HandoverRow): HandoverState {
    const anchor = anchorOf(row);
    return { gid: row.gid, batchRoot: row.batch_root, status: anchor === undefined ? "waiting" : "anchored", ...(anchor === undefined ? {} : { aggregate: anchor }) };
  }

  /** The aggregate that anchored our batch `batchId`, for the device's inclusion answer. */
  anchorOfBatch(batchId: number): AggregateAnchor | undefined {
    const row = this.sql.byBatch.get(batchId) as HandoverRow | undefined;
    return row === undefined ? undefined : anchorOf(row);
  }

  // ----------------------------------------------------------------------------- the chain worker's steps

  /** Takes over the batches the chain worker just cut (before it would anchor them): each becomes a root to hand up. */
  async adoptBatches(): Promise<void> {
    const { store } = this.p;
    // Only the chain worker, which awaits this, cuts and sends batches: none changes before the commit.
    const batches = this.sql.createdBatches.all(this.gid) as { id: number; gid: Hex; root: Hex; size: number; created_at: number }[];
    if (batches.length === 0) return;
    await store.commit(() => {
      for (const batch of batches) {
        this.sql.insert.run({ gid: batch.gid, batch_root: batch.root, message_count: batch.size, batch_id: batch.id, from_device: null, created_at: batch.created_at });
        this.sql.setBatchHanded.run(batch.id);
      }
    });
  }

  /** One pass: hand roots up (a parent that fails is logged, not a chain error), then anchor what is ours to anchor. */
  async tick(): Promise<void> {
    if (this.p.config.parentUrl !== undefined) {
      try {
        await this.handUp();
        if (!this.parentUp) this.p.log.info({ parent: this.p.config.parentUrl }, "parent gateway reachable again");
        this.parentUp = true;
      } catch (error) {
        if (this.parentUp) this.p.log.warn({ parent: this.p.config.parentUrl, error: (error as Error).message.split("\n")[0] }, "parent gateway unavailable; roots stay held and are anchored here after handoverDeadlineMs");
        this.parentUp = false;
        this.parent = undefined;
      }
    }
    await this.anchorAggregates();
  }

  private async handUp(): Promise<void> {
    const { config } = this.p;
    const limit = config.maxRootsPerHandover;
    // Roots past the deadline are ours to anchor: they are not handed (or asked about) any more.
    const fresh = Date.now() - config.handoverDeadlineMs;
    const parent = await this.parentClient();
    for (;;) {
      const rows = this.sql.withStatus.all("waiting", fresh, limit) as HandoverRow[];
      if (rows.length === 0) break;
      const states = await parent.handOver(rows.map(entryOf));
      await this.accept(rows, states);
      if (rows.length < limit) break;
    }
    const handed = this.sql.withStatus.all("handed", fresh, 100_000) as HandoverRow[];
    for (let i = 0; i < handed.length; i += limit) {
      const rows = handed.slice(i, i + limit);
      await this.accept(rows, await parent.handoverStatus(rows.map(entryOf)));
    }
  }

  /**
   * Records the parent's answer: handed, or anchored once the aggregate proof and the anchor on
   * chain check out. The checks come first; then one unit of the group commit records every root of
   * the answer (one WAL sync, off the event loop, for up to `maxRootsPerHandover` roots). A crash
   * before it loses nothing: the roots keep their state and are asked about again.
   */
  private async accept(rows: readonly HandoverRow[], states: readonly HandoverState[]): Promise<void> {
    const now = Date.now();
    const updates: (() => void)[] = [];
    const markHanded = (row: HandoverRow): void => {
      if (row.status === "waiting") updates.push(() => this.sql.setHanded.run(now, row.gid, row.batch_root));
    };
    for (const [i, row] of rows.entries()) {
      const state = states[i];
      if (state.status === "unknown") {
        // The parent lost it (a restored backup): hand it again.
        updates.push(() => this.sql.setWaiting.run(row.gid, row.batch_root));
      } else if (state.status === "waiting" || state.aggregate === undefined) {
        markHanded(row);
      } else if (await this.checkAnchor(row, state.aggregate)) {
        const anchor = state.aggregate;
        updates.push(() => this.markAnchored(row, anchor));
      } else {
        this.p.log.error({ gid: row.gid, root: row.batch_root, aggregate: state.aggregate }, "the parent gateway reports an anchor that does not check out; the root stays held and is anchored here after handoverDeadlineMs");
        markHanded(row);
      }
    }
    if (updates.length > 0) await this.p.store.commit(() => updates.forEach((update) => update()));
  }

  /** The parent's word is not enough: the leaf's proof must lead to the aggregate root, anchored on chain by the root's group or an ancestor. */
  private async checkAnchor(row: HandoverRow, anchor: AggregateAnchor): Promise<boolean> {
    if (!this.isSelfOrAncestor(anchor.gid.toLowerCase() as Hex, row.gid)) return false;
    const leaf = aggregateLeaf({ gid: row.gid, batchRoot: row.batch_root, messageCount: row.message_count });
    if (!verifyBatchProof({ root: anchor.root, leaf, proof: anchor.proof })) return false;
    const onChain = await getAnchor(this.p.publicClient, { registry: this.p.config.registry, gid: anchor.gid, root: anchor.root });
    return onChain.anchored;
  }

  private isSelfOrAncestor(ancestor: Hex, gid: Hex): boolean {
    let group = this.p.mirror.group(gid);
    for (let depth = 0; group !== undefined && depth < 256; depth++) {
      if (group.gid.toLowerCase() === ancestor) return true;
      group = BigInt(group.parentGid) === 0n ? undefined : this.p.mirror.group(group.parentGid);
    }
    return false;
  }

  private async parentClient(): Promise<GatewayClient> {
    if (this.parent !== undefined) return this.parent;
    const { config, mirror, account } = this.p;
    const parentGid = mirror.group(this.gid)?.parentGid;
    if (parentGid === undefined || BigInt(parentGid) === 0n) throw new Error(`the served group ${this.gid} has no parent group (yet, in the mirror): parentUrl has nobody to hand roots to`);
    const master = config.parentMaster ?? mirror.group(parentGid)?.master;
    if (master === undefined) throw new Error(`the parent group ${parentGid} is not in the mirror yet`);
    const url = config.parentUrl as string;
    const client =
      this.p.parentClient?.({ url, master, parentGid }) ??
      createGatewayClient({ url, master, account, context: { chainId: config.chainId, registry: config.registry, gid: parentGid }, retry: { attempts: 1 } });
    await client.keySession();
    this.parent = client;
    return client;
  }

  /** Sends (again) the open aggregates, then, once per interval, a new one over the roots that are ours to anchor. */
  private async anchorAggregates(): Promise<void> {
    for (const aggregate of this.sql.openAggregates.all() as AggregateRow[]) await this.send(aggregate);
    const { config } = this.p;
    if (Date.now() - this.lastAggregateAt < config.aggregateIntervalMs) return;
    const cutoff = config.parentUrl === undefined ? Number.MAX_SAFE_INTEGER : Date.now() - config.handoverDeadlineMs;
    const rows = this.sql.eligible.all(cutoff, MAX_AGGREGATE_ROOTS) as HandoverRow[];
    let total = 0;
    const chosen = rows.filter((row) => (total + row.message_count <= UINT32_MAX ? ((total += row.message_count), true) : false));
    if (chosen.length === 0) return;
    this.lastAggregateAt = Date.now();
    if (config.parentUrl !== undefined) this.p.log.warn({ roots: chosen.length }, "the parent gateway did not anchor these roots within handoverDeadlineMs: anchoring them here");
    const tree = buildAggregateTree(chosen.map(entryOf));
    const id = await this.p.store.commit(() => {
      const inserted = Number(this.sql.insertAggregate.run(this.gid, tree.root, chosen.length, tree.messageCount, Date.now()).lastInsertRowid);
      chosen.forEach((row, index) => this.sql.assign.run(inserted, index, row.gid, row.batch_root));
      return inserted;
    });
    await this.send({ id, gid: this.gid, root: tree.root, batch_count: chosen.length, message_count: tree.messageCount, status: "created", tx_hash: null });
  }

  private async send(aggregate: AggregateRow): Promise<void> {
    const { walletClient, publicClient, config, log } = this.p;
    if (aggregate.status === "sent" && aggregate.tx_hash !== null) {
      const receipt = await this.receipt(aggregate.tx_hash, false);
      if (receipt === undefined) return;
      if (receipt !== "unknown" && receipt.status === "success") return this.finish(aggregate, aggregate.tx_hash, receipt.blockNumber);
    }
    let hash: Hash;
    try {
      hash = await anchorBatch(walletClient, { registry: config.registry, gid: aggregate.gid, root: aggregate.root, messageCount: aggregate.message_count });
    } catch (error) {
      if (!(error instanceof ContractRuleError)) throw error;
      if (error.code === "DataLedgerRootAlreadyAnchored") {
        const anchor = await getAnchor(publicClient, { registry: config.registry, gid: aggregate.gid, root: aggregate.root });
        return this.finish(aggregate, aggregate.tx_hash, undefined, anchor.anchored);
      }
      // The registry refuses this gateway's key for its group (powers lost, hand-over): the roots stay held.
      log.error({ aggregate: aggregate.id, code: error.code }, "the registry refuses the aggregate's anchor; its roots stay held");
      return;
    }
    await this.p.store.commit(() => this.sql.setAggregate.run("sent", hash, null, null, aggregate.id));
    const receipt = await this.receipt(hash, true);
    if (receipt !== undefined && receipt !== "unknown" && receipt.status === "success") await this.finish(aggregate, hash, receipt.blockNumber);
  }

  private async finish(aggregate: AggregateRow, hash: Hex | null, blockNumber: bigint | undefined, anchored = true): Promise<void> {
    if (!anchored) return;
    const rows = this.sql.members.all(aggregate.id) as HandoverRow[];
    const tree = buildAggregateTree(rows.map(entryOf));
    await this.p.store.commit(() => {
      this.sql.setAggregate.run("anchored", hash, blockNumber?.toString() ?? null, Date.now(), aggregate.id);
      rows.forEach((row, index) => {
        this.markAnchored(row, { gid: aggregate.gid, root: aggregate.root, proof: tree.proof(index), ...(hash === null ? {} : { txHash: hash }), ...(blockNumber === undefined ? {} : { blockNumber: blockNumber.toString() }) });
      });
    });
    this.p.log.info({ aggregate: aggregate.id, roots: rows.length, messages: aggregate.message_count, root: aggregate.root, tx: hash }, "aggregate anchored");
  }

  /** Marks a root anchored through `anchor`; our own batch with it (its messages then answer with the aggregate). */
  private markAnchored(row: HandoverRow, anchor: AggregateAnchor): void {
    this.sql.setAnchored.run({
      gid: row.gid,
      batch_root: row.batch_root,
      aggregate_gid: anchor.gid.toLowerCase(),
      aggregate_root: anchor.root.toLowerCase(),
      aggregate_proof: JSON.stringify(anchor.proof),
      tx_hash: anchor.txHash ?? null,
      block_number: anchor.blockNumber ?? null,
    });
    // The batch's own root is not on chain: no transaction of its own (the aggregate's is in the answer).
    if (row.batch_id !== null) this.p.store.setBatch({ id: row.batch_id, status: "anchored", anchored_at: Date.now() });
  }

  private async receipt(hash: Hash, wait: boolean): Promise<Awaited<ReturnType<typeof getTransactionReceipt>> | "unknown" | undefined> {
    const { publicClient } = this.p;
    try {
      return wait
        ? await waitForTransactionReceipt(publicClient, { hash, timeout: RECEIPT_TIMEOUT_MS, pollingInterval: 100, retryCount: 0 })
        : await getTransactionReceipt(publicClient, { hash });
    } catch (error) {
      const name = (error as Error).name;
      if (name === "WaitForTransactionReceiptTimeoutError") return undefined;
      if (name !== "TransactionReceiptNotFoundError") throw error;
      const known = await publicClient.request({ method: "eth_getTransactionByHash", params: [hash] });
      return known === null ? "unknown" : undefined;
    }
  }

  private check<T>(validate: ValidateFunction<T>, body: unknown): T {
    if (validate(body)) return body;
    const [first] = validate.errors ?? [];
    throw apiError("RequestInvalid", `request ${first?.instancePath || "body"} ${first?.message ?? "is invalid"}`.trim(), { path: first?.instancePath ?? "" });
  }
}

const entryOf = (row: HandoverRow): HandoverEntry => ({ gid: row.gid, batchRoot: row.batch_root, messageCount: row.message_count });

function anchorOf(row: HandoverRow): AggregateAnchor | undefined {
  if (row.status !== "anchored" || row.aggregate_gid === null || row.aggregate_root === null) return undefined;
  return {
    gid: row.aggregate_gid,
    root: row.aggregate_root,
    proof: JSON.parse(row.aggregate_proof ?? "[]") as Hex[],
    ...(row.tx_hash === null ? {} : { txHash: row.tx_hash }),
    ...(row.block_number === null ? {} : { blockNumber: row.block_number }),
  };
}
