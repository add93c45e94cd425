// The gateway's durable state in one SQLite file (WAL). Requests that store something go through
// `commit`, a group commit: every unit queued in the same event-loop turn runs in one
// transaction, each in its own savepoint (a failing unit rolls back alone), and the callers are
// answered only after the transaction committed. With `durability: "full"` that commit is
// fsynced, so an answered request survives a crash of the process or of the machine, at the cost
// of one fsync per turn rather than one per request.
import { chmodSync, closeSync, openSync } from "node:fs";
import Database from "better-sqlite3";
import type { Address, Hex } from "viem";

// Version 2 (contracts v2): enrolments are keyed by (gid, oid), as oids are scoped to their group
// on chain, and every request relayed in a batch transaction records its item index there.
const SCHEMA_VERSION = 2;

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS enrolments (
  gid TEXT NOT NULL,
  oid TEXT NOT NULL,
  address TEXT NOT NULL UNIQUE,
  secret_hash TEXT,
  enrolled_at INTEGER NOT NULL,
  ticket_issued_at INTEGER,
  PRIMARY KEY (gid, oid)
) STRICT;
CREATE TABLE IF NOT EXISTS associations (
  device TEXT PRIMARY KEY,
  gid TEXT NOT NULL,
  oid TEXT NOT NULL,
  request TEXT NOT NULL,
  status TEXT NOT NULL,
  tx_hash TEXT,
  tx_index INTEGER,
  error_code TEXT,
  error_message TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS associations_open ON associations (status) WHERE status IN ('queued', 'submitted');
CREATE TABLE IF NOT EXISTS device_nonces (device TEXT PRIMARY KEY, next_nonce INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY,
  digest TEXT NOT NULL UNIQUE,
  gid TEXT NOT NULL,
  oid TEXT NOT NULL,
  device TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  payload_hash TEXT NOT NULL,
  timestamp TEXT NOT NULL,
  deadline TEXT NOT NULL,
  signature TEXT NOT NULL,
  payload BLOB,
  salt BLOB,
  accepted_at INTEGER NOT NULL,
  route TEXT NOT NULL,
  status TEXT NOT NULL,
  batch_id INTEGER,
  leaf_index INTEGER,
  relay_tx TEXT,
  relay_index INTEGER,
  relay_block TEXT,
  relay_error TEXT,
  UNIQUE (device, nonce)
) STRICT;
CREATE INDEX IF NOT EXISTS messages_pending ON messages (gid, route, id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS messages_relaying ON messages (id) WHERE status = 'relaying';
CREATE INDEX IF NOT EXISTS messages_batch ON messages (batch_id, leaf_index) WHERE batch_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS batches (
  id INTEGER PRIMARY KEY,
  gid TEXT NOT NULL,
  root TEXT NOT NULL,
  size INTEGER NOT NULL,
  status TEXT NOT NULL,
  tx_hash TEXT,
  block_number TEXT,
  error_code TEXT,
  created_at INTEGER NOT NULL,
  anchored_at INTEGER,
  UNIQUE (gid, root)
) STRICT;
CREATE INDEX IF NOT EXISTS batches_open ON batches (id) WHERE status IN ('created', 'sent');
`;

export type EnrolmentRow = { gid: Hex; oid: Hex; address: Address; secret_hash: string | null; enrolled_at: number; ticket_issued_at: number | null };
export type AssociationRowStatus = "queued" | "submitted" | "associated" | "rejected";
export type AssociationRow = {
  device: Address;
  gid: Hex;
  oid: Hex;
  request: string;
  status: AssociationRowStatus;
  tx_hash: Hex | null;
  /** The request's item index in the batch transaction `tx_hash`. */
  tx_index: number | null;
  error_code: string | null;
  error_message: string | null;
  created_at: number;
  updated_at: number;
};
export type MessageRoute = "anchor" | "relay";
export type MessageRowStatus = "pending" | "relaying" | "batched" | "relayed";
export type MessageRow = {
  id: number;
  digest: Hex;
  gid: Hex;
  oid: Hex;
  device: Address;
  nonce: number;
  payload_hash: Hex;
  timestamp: string;
  deadline: string;
  signature: Hex;
  payload: Buffer | null;
  /** The payload commitment's salt (`payloadHash = keccak256(salt ‖ payload)`), kept with the payload. */
  salt: Buffer | null;
  accepted_at: number;
  route: MessageRoute;
  status: MessageRowStatus;
  batch_id: number | null;
  leaf_index: number | null;
  relay_tx: Hex | null;
  /** The message's item index in the batch transaction `relay_tx`. */
  relay_index: number | null;
  relay_block: string | null;
  relay_error: string | null;
};
export type NewMessage = Pick<MessageRow, "digest" | "gid" | "oid" | "device" | "nonce" | "payload_hash" | "timestamp" | "deadline" | "signature" | "payload" | "salt" | "accepted_at" | "route">;
export type BatchStatus = "created" | "sent" | "anchored" | "failed";
export type BatchRow = {
  id: number;
  gid: Hex;
  root: Hex;
  size: number;
  status: BatchStatus;
  tx_hash: Hex | null;
  block_number: string | null;
  error_code: string | null;
  created_at: number;
  anchored_at: number | null;
};

type QueuedUnit = { unit: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void };

export class GatewayStore {
  readonly db: Database.Database;
  private queue: QueuedUnit[] = [];
  private flushScheduled = false;
  private readonly inSavepoint: (unit: () => unknown) => unknown;
  private readonly statements;

  constructor(path: string, { durability = "full" }: { durability?: "full" | "normal" } = {}) {
    // The file holds readings and their salts: owner-only, like the key file. SQLite
    // gives its -wal and -shm files the database file's permissions.
    if (path !== ":memory:") {
      closeSync(openSync(path, "a", 0o600));
      chmodSync(path, 0o600);
    }
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("foreign_keys = ON");
    this.db.exec(schema);
    // Protocol v2: sessions live in the gateway's memory only (no stored keys or counters, which a
    // second process or a power loss could reuse), and a reading is kept with its commitment's salt.
    this.db.exec("DROP TABLE IF EXISTS sessions");
    if (!(this.db.prepare("SELECT name FROM pragma_table_info('messages')").pluck().all() as string[]).includes("salt")) this.db.exec("ALTER TABLE messages ADD COLUMN salt BLOB");
    const version = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as string | undefined;
    if (version === undefined) this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    else if (Number(version) !== SCHEMA_VERSION) {
      this.db.close();
      // Version 1 belongs to a gateway of the v1 registry: its messages were signed for that
      // registry's domain and can only be anchored there, so it is refused, never converted.
      const hint = Number(version) === 1 ? " (a database of the v1 registry: drain it with the v1 gateway, then start with a new file)" : "";
      throw new Error(`${path} has schema version ${version}; this gateway reads version ${SCHEMA_VERSION}${hint}`);
    }
    this.inSavepoint = this.db.transaction((unit: () => unknown) => unit());
    const db = this.db;
    this.statements = {
      getMeta: db.prepare("SELECT value FROM meta WHERE key = ?").pluck(),
      setMeta: db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      enrol: db.prepare("INSERT INTO enrolments (gid, oid, address, secret_hash, enrolled_at) VALUES (@gid, @oid, @address, @secret_hash, @enrolled_at)"),
      enrolmentByAddress: db.prepare("SELECT * FROM enrolments WHERE address = ?"),
      enrolment: db.prepare("SELECT * FROM enrolments WHERE gid = ? AND oid = ?"),
      enrolments: db.prepare("SELECT * FROM enrolments ORDER BY enrolled_at, gid, oid"),
      ticketIssued: db.prepare("UPDATE enrolments SET ticket_issued_at = ? WHERE gid = ? AND oid = ? AND ticket_issued_at IS NULL"),
      dropEnrolment: db.prepare("DELETE FROM enrolments WHERE address = ?"),
      association: db.prepare("SELECT * FROM associations WHERE device = ?"),
      insertAssociation: db.prepare(
        "INSERT INTO associations (device, gid, oid, request, status, created_at, updated_at) VALUES (@device, @gid, @oid, @request, 'queued', @now, @now)",
      ),
      requeueAssociation: db.prepare(
        "UPDATE associations SET gid = @gid, oid = @oid, request = @request, status = 'queued', tx_hash = NULL, tx_index = NULL, error_code = NULL, error_message = NULL, updated_at = @now WHERE device = @device",
      ),
      associationsWithStatus: db.prepare("SELECT * FROM associations WHERE status = ? ORDER BY created_at, device LIMIT ?"),
      setAssociation: db.prepare(
        "UPDATE associations SET status = @status, tx_hash = @tx_hash, tx_index = @tx_index, error_code = @error_code, error_message = @error_message, updated_at = @now WHERE device = @device",
      ),
      nextNonce: db.prepare("SELECT next_nonce FROM device_nonces WHERE device = ?").pluck(),
      setNextNonce: db.prepare("INSERT INTO device_nonces (device, next_nonce) VALUES (?, ?) ON CONFLICT (device) DO UPDATE SET next_nonce = excluded.next_nonce"),
      messageByDeviceNonce: db.prepare("SELECT * FROM messages WHERE device = ? AND nonce = ?"),
      messageByDigest: db.prepare("SELECT * FROM messages WHERE digest = ?"),
      insertMessage: db.prepare(
        `INSERT INTO messages (digest, gid, oid, device, nonce, payload_hash, timestamp, deadline, signature, payload, salt, accepted_at, route, status)
         VALUES (@digest, @gid, @oid, @device, @nonce, @payload_hash, @timestamp, @deadline, @signature, @payload, @salt, @accepted_at, @route, 'pending')`,
      ),
      pendingStats: db.prepare("SELECT count(*) AS count, min(accepted_at) AS oldest FROM messages WHERE status = 'pending' AND gid = ? AND route = ?"),
      pendingMessages: db.prepare("SELECT * FROM messages WHERE status = 'pending' AND gid = ? AND route = ? ORDER BY id LIMIT ?"),
      pendingCount: db.prepare("SELECT (SELECT count(*) FROM messages WHERE status = 'pending') + (SELECT count(*) FROM messages WHERE status = 'relaying')").pluck(),
      relayingMessages: db.prepare("SELECT * FROM messages WHERE status = 'relaying' ORDER BY relay_tx, relay_index"),
      insertBatch: db.prepare("INSERT INTO batches (gid, root, size, status, created_at) VALUES (?, ?, ?, 'created', ?)"),
      assignToBatch: db.prepare("UPDATE messages SET status = 'batched', batch_id = ?, leaf_index = ? WHERE id = ?"),
      openBatches: db.prepare("SELECT * FROM batches WHERE status IN ('created', 'sent') ORDER BY id"),
      openBatchStats: db.prepare("SELECT count(*) AS batches, coalesce(sum(size), 0) AS messages FROM batches WHERE status IN ('created', 'sent')"),
      batch: db.prepare("SELECT * FROM batches WHERE id = ?"),
      batchLeaves: db.prepare("SELECT digest FROM messages WHERE batch_id = ? ORDER BY leaf_index").pluck(),
      setBatch: db.prepare("UPDATE batches SET status = @status, tx_hash = @tx_hash, block_number = @block_number, error_code = @error_code, anchored_at = @anchored_at WHERE id = @id"),
      batchCounts: db.prepare("SELECT status, count(*) AS batches, sum(size) AS messages FROM batches GROUP BY status"),
      setRelay: db.prepare(
        "UPDATE messages SET status = @status, route = @route, relay_tx = @relay_tx, relay_index = @relay_index, relay_block = @relay_block, relay_error = @relay_error WHERE id = @id",
      ),
      messageCounts: db.prepare("SELECT status, count(*) AS count FROM messages GROUP BY status"),
    };
  }

  /** Runs `unit` in the next group commit; resolves with its result once the transaction is durable. */
  commit<T>(unit: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ unit, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const units = this.queue;
    this.queue = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.db.transaction(() => {
        for (const { unit } of units) {
          try {
            outcomes.push({ ok: true, value: this.inSavepoint(unit) });
          } catch (error) {
            outcomes.push({ ok: false, value: error });
          }
        }
      })();
    } catch (error) {
      for (const { reject } of units) reject(error);
      return;
    }
    units.forEach(({ resolve, reject }, i) => (outcomes[i].ok ? resolve(outcomes[i].value) : reject(outcomes[i].value)));
  }

  /** Runs `work` in one immediate transaction (for the chain worker and the CLI). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  getMeta(key: string): string | undefined {
    return this.statements.getMeta.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run(key, value);
  }

  enrol(row: Omit<EnrolmentRow, "ticket_issued_at">): void {
    this.statements.enrol.run(row);
  }

  enrolmentByAddress(address: Address): EnrolmentRow | undefined {
    return this.statements.enrolmentByAddress.get(address) as EnrolmentRow | undefined;
  }

  /** The enrolment of `oid` in group `gid` (oids are scoped to their group, as on chain). */
  enrolment(gid: Hex, oid: Hex): EnrolmentRow | undefined {
    return this.statements.enrolment.get(gid, oid) as EnrolmentRow | undefined;
  }

  enrolments(): EnrolmentRow[] {
    return this.statements.enrolments.all() as EnrolmentRow[];
  }

  markTicketIssued(gid: Hex, oid: Hex, at: number): void {
    this.statements.ticketIssued.run(at, gid, oid);
  }

  /** Removes the device's enrolment (its revocation was seen on chain); true when there was one. */
  dropEnrolment(address: Address): boolean {
    return this.statements.dropEnrolment.run(address).changes > 0;
  }

  association(device: Address): AssociationRow | undefined {
    return this.statements.association.get(device) as AssociationRow | undefined;
  }

  insertAssociation(row: Pick<AssociationRow, "device" | "gid" | "oid" | "request"> & { now: number }): void {
    this.statements.insertAssociation.run(row);
  }

  /** Replaces a rejected request with a new one, queued. */
  requeueAssociation(row: Pick<AssociationRow, "device" | "gid" | "oid" | "request"> & { now: number }): void {
    this.statements.requeueAssociation.run(row);
  }

  associationsWithStatus(status: AssociationRowStatus, limit: number): AssociationRow[] {
    return this.statements.associationsWithStatus.all(status, limit) as AssociationRow[];
  }

  setAssociation(row: Pick<AssociationRow, "device" | "status"> & Partial<Pick<AssociationRow, "tx_hash" | "tx_index" | "error_code" | "error_message">>): void {
    this.statements.setAssociation.run({ tx_hash: null, tx_index: null, error_code: null, error_message: null, ...row, now: Date.now() });
  }

  nextNonce(device: Address): number | undefined {
    return this.statements.nextNonce.get(device) as number | undefined;
  }

  setNextNonce(device: Address, next: number): void {
    this.statements.setNextNonce.run(device, next);
  }

  messageByDeviceNonce(device: Address, nonce: number): MessageRow | undefined {
    return this.statements.messageByDeviceNonce.get(device, nonce) as MessageRow | undefined;
  }

  messageByDigest(digest: Hex): MessageRow | undefined {
    return this.statements.messageByDigest.get(digest) as MessageRow | undefined;
  }

  insertMessage(message: NewMessage): number {
    return Number(this.statements.insertMessage.run(message).lastInsertRowid);
  }

  pendingStats(gid: Hex, route: MessageRoute): { count: number; oldest: number | null } {
    return this.statements.pendingStats.get(gid, route) as { count: number; oldest: number | null };
  }

  pendingMessages(gid: Hex, route: MessageRoute, limit: number): MessageRow[] {
    return this.statements.pendingMessages.all(gid, route, limit) as MessageRow[];
  }

  /** Messages acknowledged but not yet on chain (pending or being relayed; batched ones are counted by their batches). */
  pendingCount(): number {
    return this.statements.pendingCount.get() as number;
  }

  relayingMessages(): MessageRow[] {
    return this.statements.relayingMessages.all() as MessageRow[];
  }

  /** Creates a batch over `messages` (leaf i = messages[i]) in one transaction. */
  createBatch(gid: Hex, root: Hex, messages: readonly MessageRow[]): number {
    return this.transaction(() => {
      const id = Number(this.statements.insertBatch.run(gid, root, messages.length, Date.now()).lastInsertRowid);
      messages.forEach((message, index) => this.statements.assignToBatch.run(id, index, message.id));
      return id;
    });
  }

  openBatches(): BatchRow[] {
    return this.statements.openBatches.all() as BatchRow[];
  }

  /** Batches cut but not yet anchored, and the messages in them. */
  openBatchStats(): { batches: number; messages: number } {
    return this.statements.openBatchStats.get() as { batches: number; messages: number };
  }

  batch(id: number): BatchRow | undefined {
    return this.statements.batch.get(id) as BatchRow | undefined;
  }

  batchLeaves(id: number): Hex[] {
    return this.statements.batchLeaves.all(id) as Hex[];
  }

  setBatch(row: Pick<BatchRow, "id" | "status"> & Partial<Pick<BatchRow, "tx_hash" | "block_number" | "error_code" | "anchored_at">>): void {
    this.statements.setBatch.run({ tx_hash: null, block_number: null, error_code: null, anchored_at: null, ...row });
  }

  setRelay(row: Pick<MessageRow, "id" | "status" | "route"> & Partial<Pick<MessageRow, "relay_tx" | "relay_index" | "relay_block" | "relay_error">>): void {
    this.statements.setRelay.run({ relay_tx: null, relay_index: null, relay_block: null, relay_error: null, ...row });
  }

  /** Counts by status for the CLI's status output (scans the tables: not for hot paths). */
  counts(): { messages: Record<string, number>; batches: Record<string, { batches: number; messages: number }> } {
    const messages: Record<string, number> = {};
    for (const row of this.statements.messageCounts.all() as { status: string; count: number }[]) messages[row.status] = row.count;
    const batches: Record<string, { batches: number; messages: number }> = {};
    for (const row of this.statements.batchCounts.all() as { status: string; batches: number; messages: number }[]) {
      batches[row.status] = { batches: row.batches, messages: row.messages };
    }
    return { messages, batches };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
