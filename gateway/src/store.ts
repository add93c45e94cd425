// The gateway's durable state in one SQLite file (WAL). Requests that store something go through
// `commit`, a group commit: every unit queued in the same event-loop turn runs in one
// transaction, each in its own savepoint (a failing unit rolls back alone), and the callers are
// answered only after the transaction committed. With `durability: "full"` they are answered only
// once the write-ahead log holding the commit is synced, so an answered request survives a crash of
// the process or of the machine. SQLite runs with `synchronous = NORMAL` and the store syncs the WAL
// itself, on libuv's thread pool: the main thread goes on serving while the disk works, and the
// turns committed during one sync share the next — one fsync per sync, not per turn or request.
//
// The file is created only by `GatewayStore.create` (the CLI's `init`); `open` refuses a missing
// or empty file, and for the gateway itself also takes the database's lock (one gateway process
// per database) and runs SQLite's integrity check. A commit that fails (disk full, I/O error) is
// refused with `StoreUnavailable` and marks the store failing until a later commit succeeds, so
// readiness can report it; effects that must follow only committed work (metrics) are queued with
// `afterCommit`.
import { chmodSync, closeSync, existsSync, fsync, fsyncSync, openSync, realpathSync, statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Address, Hex } from "viem";
import { IomtError } from "@iomt-auth/sdk";
import { BACKSTOP_PAGES, Checkpointer, type CheckpointerStatus } from "./checkpointer.js";
import { ApiError } from "./errors.js";

// Version 7 (throughput): no index on a message's digest. Its keys are random, so each message
// inserted wrote about one more page of the write-ahead log; a message is found by its device and
// nonce (`UNIQUE (device, nonce)`), and the inclusion route is asked with both. Version 6 (hierarchical anchoring): the batch roots this gateway hands up or anchors in an
// aggregate (its own batches' and those its children handed it), and its aggregates. Version 5 (contract-wallet Masters): an enrolment may keep a token the group's Master approved
// offline (a wallet's ERC-1271 token), served as the device's ticket. Version 4 (operators): an enrolment keeps the oid's name as the operator gave it, and the
// store keeps the labels of the groups configured by label, so that the read-only commands show
// and take names without the Master key. Version 3 (protocol v2): sessions live in memory only (no sessions table); enrolment secrets
// are peppered, counted (failures, lock-out) and single use. Version 2 (contracts v2): enrolments
// are keyed by (gid, oid), and every request relayed in a batch records its item index.
const SCHEMA_VERSION = 8;

/** Hierarchical anchoring (aggregation.ts): the roots handed up or anchored here, and the aggregates. */
const aggregationTables = `
CREATE TABLE handovers (
  gid TEXT NOT NULL,
  batch_root TEXT NOT NULL,
  message_count INTEGER NOT NULL,
  batch_id INTEGER,
  from_device TEXT,
  status TEXT NOT NULL,
  handed_at INTEGER,
  created_at INTEGER NOT NULL,
  aggregate_id INTEGER,
  leaf_index INTEGER,
  aggregate_gid TEXT,
  aggregate_root TEXT,
  aggregate_proof TEXT,
  tx_hash TEXT,
  block_number TEXT,
  PRIMARY KEY (gid, batch_root)
) STRICT;
CREATE INDEX handovers_open ON handovers (status, created_at) WHERE status IN ('waiting', 'handed', 'aggregated');
CREATE INDEX handovers_batch ON handovers (batch_id) WHERE batch_id IS NOT NULL;
CREATE TABLE aggregates (
  id INTEGER PRIMARY KEY,
  gid TEXT NOT NULL,
  root TEXT NOT NULL,
  batch_count INTEGER NOT NULL,
  message_count INTEGER NOT NULL,
  status TEXT NOT NULL,
  tx_hash TEXT,
  block_number TEXT,
  created_at INTEGER NOT NULL,
  anchored_at INTEGER,
  UNIQUE (gid, root)
) STRICT;
`;

/**
 * Indexes over tables that keep their history (version 8): the open aggregates, which a parent's
 * every tick reads; an aggregate's members, read when it is anchored; the failed batches, which
 * the backlog (`pending`, the console every 2 s) lists. Without them these reads scanned every
 * aggregate, every root ever handed over and every batch.
 */
const historyIndexes = `
CREATE INDEX aggregates_open ON aggregates (id) WHERE status IN ('created', 'sent');
CREATE INDEX handovers_aggregate ON handovers (aggregate_id, leaf_index) WHERE aggregate_id IS NOT NULL;
CREATE INDEX batches_failed ON batches (id) WHERE status = 'failed';
`;

/**
 * The messages table under `name` (a migration builds it under another name, then renames it). No
 * index on the digest: its keys are random, so each insert wrote about one more page of log. A
 * message is found by its device and nonce; its digest hashes its member's nonce with the rest.
 */
const messagesTable = (name: string) => `
CREATE TABLE ${name} (
  id INTEGER PRIMARY KEY,
  digest TEXT NOT NULL,
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
`;

/** The messages table's other indexes, all partial or in insertion order. */
const messagesIndexes = `
CREATE INDEX messages_pending ON messages (gid, route, id) WHERE status = 'pending';
CREATE INDEX messages_relaying ON messages (id) WHERE status = 'relaying';
CREATE INDEX messages_batch ON messages (batch_id, leaf_index) WHERE batch_id IS NOT NULL;
`;

const schema = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE enrolments (
  gid TEXT NOT NULL,
  oid TEXT NOT NULL,
  address TEXT NOT NULL UNIQUE,
  secret_hash TEXT,
  enrolled_at INTEGER NOT NULL,
  ticket_issued_at INTEGER,
  secret_failures INTEGER NOT NULL DEFAULT 0,
  secret_locked_until INTEGER,
  secret_used_at INTEGER,
  oid_name TEXT,
  token TEXT,
  PRIMARY KEY (gid, oid)
) STRICT;
CREATE TABLE group_labels (gid TEXT PRIMARY KEY, label TEXT NOT NULL) STRICT;
CREATE TABLE associations (
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
CREATE INDEX associations_open ON associations (status) WHERE status IN ('queued', 'submitted');
CREATE TABLE device_nonces (device TEXT PRIMARY KEY, next_nonce INTEGER NOT NULL) STRICT;
${messagesTable("messages")}${messagesIndexes}CREATE TABLE batches (
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
CREATE INDEX batches_open ON batches (id) WHERE status IN ('created', 'sent');
${aggregationTables}${historyIndexes}`;

/** From version 2: sessions are no longer stored; enrolment secrets gain their counters. */
const migrateFrom2 = `
DROP TABLE IF EXISTS sessions;
ALTER TABLE enrolments ADD COLUMN secret_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrolments ADD COLUMN secret_locked_until INTEGER;
ALTER TABLE enrolments ADD COLUMN secret_used_at INTEGER;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
`;

/** From version 3: the oid's name with each enrolment (unknown for the older ones), and the group labels. */
const migrateFrom3 = `
ALTER TABLE enrolments ADD COLUMN oid_name TEXT;
CREATE TABLE group_labels (gid TEXT PRIMARY KEY, label TEXT NOT NULL) STRICT;
UPDATE meta SET value = '4' WHERE key = 'schema_version';
`;

/** From version 4: the token an enrolment may hold (none for the older ones). */
const migrateFrom4 = `
ALTER TABLE enrolments ADD COLUMN token TEXT;
UPDATE meta SET value = '5' WHERE key = 'schema_version';
`;

/** From version 5: the tables of hierarchical anchoring (empty until it is turned on). */
const migrateFrom5 = `
${aggregationTables}UPDATE meta SET value = '6' WHERE key = 'schema_version';
`;

/** The messages' columns, named: a file migrated from version 2 has `salt` last. */
const messageColumns =
  "id, digest, gid, oid, device, nonce, payload_hash, timestamp, deadline, signature, payload, salt, accepted_at, route, status, batch_id, leaf_index, relay_tx, relay_index, relay_block, relay_error";

/**
 * From version 6: the messages table without the digest's index. SQLite cannot drop the index of a
 * UNIQUE column, so the table is copied into a new one (every row, ids kept) and renamed; a large
 * file takes a few seconds, once.
 */
const migrateFrom6 = `
${messagesTable("messages_v7")}INSERT INTO messages_v7 (${messageColumns}) SELECT ${messageColumns} FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v7 RENAME TO messages;
${messagesIndexes}UPDATE meta SET value = '7' WHERE key = 'schema_version';
`;

/** From version 7: the indexes over the history (`historyIndexes`). */
const migrateFrom7 = `
${historyIndexes}UPDATE meta SET value = '8' WHERE key = 'schema_version';
`;

/** Free space a full disk must have again before the store reports itself able to commit: about a data request's log (64 pages). */
const FULL_DISK_CLEAR_BYTES = 256 * 1024;

/** Why the store refuses to be created or opened; the CLI prints the code and the message. */
export type StoreErrorCode = "StoreExists" | "StoreMissing" | "StoreEmpty" | "StoreCorrupt" | "StoreLocked" | "StoreSchemaMismatch" | "StoreUnwritable";

export class StoreError extends IomtError {
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** SQLite result codes that mean the store itself failed (not the unit's own logic, e.g. a constraint). */
const STORE_FAULTS = ["SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PROTOCOL", "SQLITE_NOMEM", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_MISUSE"];

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

/** True when `error` is a fault of the store (disk full, I/O, corruption…) rather than of the work itself. */
export function isStoreFault(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && STORE_FAULTS.some((fault) => code === fault || code.startsWith(`${fault}_`));
}

/** The refusal a caller gets when its work could not be committed: nothing it asked for was stored. */
export function storeUnavailable(error: unknown): ApiError {
  const reason = sqliteCode(error) ?? "error";
  if (reason === "SQLITE_IOERR_FSYNC") {
    // Committed to the file but not known to be on disk: not "nothing was kept".
    return new ApiError(503, "StoreUnavailable", "the gateway could not sync this request to disk (an I/O error): it is not acknowledged; retry later (a retry of the same message gets its receipt)", { reason });
  }
  const why = reason.startsWith("SQLITE_FULL") ? "the disk is full" : reason.startsWith("SQLITE_IOERR") ? "an I/O error" : reason;
  return new ApiError(503, "StoreUnavailable", `the gateway could not store this request (${why}); nothing was kept: retry later`, { reason });
}

/** Makes a file's written bytes durable: `later` on libuv's thread pool (`fs.fsync`), `now` on the calling thread (`fs.fsyncSync`, throws). */
export type WalSync = {
  later(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  now(fd: number): void;
};

const fileSync: WalSync = { later: fsync, now: fsyncSync };

/**
 * Told of each WAL sync (failed ones too) and the seconds it took, with the thread that waited for
 * it: `pool` for libuv's thread pool (the group commit's), `main` for the calling thread, blocked
 * meanwhile (`transaction`: the CLI's own writes, a gateway's start; `close`).
 */
export type WalSyncObserver = (thread: "pool" | "main", seconds: number) => void;

/** A failed fsync of the WAL, as SQLite itself reports one with `synchronous = FULL`: a store fault (I/O error). */
function walSyncFault(cause: unknown): Error {
  return Object.assign(new Error(`fsync of the write-ahead log failed: ${(cause as Error).message}`, { cause }), { code: "SQLITE_IOERR_FSYNC" });
}

/** Options of `GatewayStore.open`. */
export type OpenStoreOptions = {
  /**
   * `full` (default): nothing is acknowledged before the write-ahead log holding it is on stable
   * storage — the group commit syncs the WAL on libuv's thread pool, so the main thread never waits
   * on the disk, and the commits made while one sync runs share the next; `normal`: no sync at
   * commit (a commit survives a process crash, not a power loss).
   */
  durability?: "full" | "normal";
  /** How the WAL is synced (default `fs.fsync` / `fs.fsyncSync`); tests pass one that fails or waits. */
  walSync?: WalSync;
  /** Told of each WAL sync (the gateway's metrics). */
  observeWalSync?: WalSyncObserver;
  /**
   * Take the database's lock (the gateway process does; the CLI's other commands do not): a
   * second process asking for it is refused with `StoreLocked` until the first one exits,
   * however it exits (the operating system drops the lock of a killed process).
   */
  lock?: boolean;
  /** SQLite's integrity check before anything is read: `quick` (default for the gateway), `full`, or `none`. */
  check?: "quick" | "full" | "none";
  /**
   * Open the file read-only (the CLI's `status`, `devices`, `pending`): nothing is written, not
   * even a migration, so a file of an older schema is refused until the gateway has opened it.
   */
  readonly?: boolean;
  /**
   * Checkpoint the write-ahead log on a thread of its own (checkpointer.ts) rather than inside the
   * commit that crosses SQLite's threshold, on the main thread (the gateway does; the CLI's
   * commands, which write little, do not). Ignored with `readonly`.
   */
  checkpointThread?: boolean | { log: { warn(object: object, message: string): void } };
};

/** The store's last write outcome: readiness answers 503 while `ok` is false. */
export type StoreHealth = { ok: boolean; lastError: string | null; failedAt: number | null };

export type EnrolmentRow = {
  gid: Hex;
  oid: Hex;
  address: Address;
  /** The secret's peppered scrypt hash (see enrolment.ts); null when the device has none, or once it was used. */
  secret_hash: string | null;
  enrolled_at: number;
  ticket_issued_at: number | null;
  /** Wrong (or unfinished) secret attempts since the secret was set. */
  secret_failures: number;
  /** No attempt is taken before this time (ms). */
  secret_locked_until: number | null;
  /** When the secret was used for a ticket and cleared (single use). */
  secret_used_at: number | null;
  /** The oid as the operator gave it at enrolment (`bed-12/spo2`), whose `toId` is `oid`; null when enrolled before schema version 4. */
  oid_name: string | null;
  /** A serialized token the group's Master approved, checked on chain at enrolment (`enrol --token-file`); served as the ticket. Null: the gateway signs one. */
  token: Hex | null;
};
export type NewEnrolment = Pick<EnrolmentRow, "gid" | "oid" | "address" | "secret_hash" | "enrolled_at" | "oid_name"> & Partial<Pick<EnrolmentRow, "token">>;
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
/** `handed`: hierarchical anchoring owns it (aggregation.ts) until it is anchored, through an aggregate or by itself. */
export type BatchStatus = "created" | "sent" | "handed" | "anchored" | "failed";
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
  readonly path: string;
  private queue: QueuedUnit[] = [];
  private flushScheduled = false;
  private readonly inSavepoint: (unit: () => unknown) => unknown;
  private readonly statements;
  /** Effects queued by `afterCommit` in the unit running now. */
  private effects: (() => void)[] | undefined;
  private readonly lock: Database.Database | undefined;
  private state: StoreHealth = { ok: true, lastError: null, failedAt: null };
  /** Durability `full` on a writable file: every commit is acknowledged only after the WAL is synced. */
  private readonly syncsWal: boolean;
  private readonly walSync: WalSync;
  private readonly checkpointer: Checkpointer | undefined;
  /** The WAL's descriptor, opened at the first sync (SQLite creates the file) and closed by `close`. */
  private walFd: number | undefined;
  /** Groups committed and waiting for the next sync; the groups the running sync will settle (undefined: none runs). */
  private awaitingSync: ((failure: Error | undefined) => void)[] = [];
  private syncing: ((failure: Error | undefined) => void)[] | undefined;
  private readonly observeWalSync: WalSyncObserver | undefined;

  /**
   * Creates a new database file (the CLI's `init`): refuses a path where any file exists, even an
   * empty one, so that a lost or truncated database is never silently replaced by a new one.
   */
  static create(path: string): void {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o600);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "EEXIST") {
        throw new StoreError("StoreExists", `${path} already exists (${statSync(path).size} bytes): init creates a new database and never overwrites one; to start afresh, move the file away yourself`);
      }
      throw new StoreError("StoreUnwritable", `cannot create ${path}: ${(cause as Error).message}`, { cause });
    }
    closeSync(fd);
    chmodSync(path, 0o600);
    const db = new Database(path, { fileMustExist: true });
    try {
      db.pragma("journal_mode = WAL");
      db.transaction(() => {
        db.exec(schema);
        const setMeta = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
        setMeta.run("schema_version", String(SCHEMA_VERSION));
        setMeta.run("created_at", String(Date.now()));
      })();
    } catch (cause) {
      throw new StoreError("StoreUnwritable", `cannot initialise ${path}: ${(cause as Error).message}`, { cause });
    } finally {
      db.close();
    }
  }

  /**
   * Opens an existing database made by `create`. Refuses a missing file (`StoreMissing`), an empty
   * one (`StoreEmpty`), a file another gateway process holds (`StoreLocked`, with `lock`), a file
   * that fails SQLite's integrity check (`StoreCorrupt`) and a file of another schema version
   * (`StoreSchemaMismatch`); a version-2, -3, -4 or -5 file is brought to version 6 in one transaction
   * (with `readonly`, refused with `StoreSchemaMismatch` instead).
   */
  static open(path: string, options: OpenStoreOptions = {}): GatewayStore {
    if (!existsSync(path)) throw new StoreError("StoreMissing", `no database at ${path}: create it once with \`iomt-gateway init --config …\` (the gateway never creates one by itself)`);
    const size = statSync(path).size;
    if (size === 0) {
      const wal = existsSync(`${path}-wal`) ? `; a ${statSync(`${path}-wal`).size}-byte ${path}-wal lies next to it` : "";
      throw new StoreError(
        "StoreEmpty",
        `${path} is empty (0 bytes)${wal}: a database that held data may have been truncated, so the gateway refuses it rather than starting afresh. Restore it from a backup; only for a new gateway, remove it and run \`iomt-gateway init\``,
      );
    }
    return new GatewayStore(path, options);
  }

  private constructor(path: string, { durability = "full", lock = false, check = "none", readonly = false, walSync = fileSync, observeWalSync, checkpointThread = false }: OpenStoreOptions) {
    this.path = path;
    this.syncsWal = durability === "full" && !readonly;
    this.walSync = walSync;
    this.observeWalSync = observeWalSync;
    // The lock first, so that a second gateway is refused before it reads anything.
    this.lock = lock ? takeLock(path) : undefined;
    try {
      // The file holds readings: owner-only, like the key file. SQLite gives its -wal and -shm
      // files the database file's permissions.
      if (!readonly) chmodSync(path, 0o600);
      this.db = new Database(path, { fileMustExist: true, readonly });
    } catch (cause) {
      this.lock?.close();
      throw new StoreError("StoreUnwritable", `cannot open ${path}: ${(cause as Error).message}`, { cause });
    }
    try {
      if (check !== "none") integrityCheck(this.db, path, check);
      this.checkSchema(readonly);
      this.db.pragma("busy_timeout = 5000");
      if (!readonly) {
        this.db.pragma("journal_mode = WAL");
        // NORMAL: SQLite does not sync the WAL at commit (it still does around checkpoints); with
        // durability `full` the store syncs it itself before acknowledging (whenDurable).
        this.db.pragma("synchronous = NORMAL");
      }
      this.db.pragma("foreign_keys = ON");
      if (checkpointThread !== false && !readonly) {
        this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
        this.checkpointer = new Checkpointer(path, checkpointThread === true ? undefined : checkpointThread.log);
      }
    } catch (error) {
      this.db.close();
      this.lock?.close();
      if (error instanceof IomtError) throw error;
      if (sqliteCode(error)?.startsWith("SQLITE_NOTADB") || sqliteCode(error)?.startsWith("SQLITE_CORRUPT")) {
        throw new StoreError("StoreCorrupt", `${path} is corrupt (${(error as Error).message}): restore it from a backup`, { cause: error });
      }
      throw new StoreError("StoreUnwritable", `cannot open ${path}: ${(error as Error).message}`, { cause: error });
    }
    this.inSavepoint = this.db.transaction((unit: () => unknown) => unit());
    const db = this.db;
    this.statements = {
      getMeta: db.prepare("SELECT value FROM meta WHERE key = ?").pluck(),
      setMeta: db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      enrol: db.prepare("INSERT INTO enrolments (gid, oid, address, secret_hash, enrolled_at, oid_name, token) VALUES (@gid, @oid, @address, @secret_hash, @enrolled_at, @oid_name, @token)"),
      setGroupLabel: db.prepare("INSERT INTO group_labels (gid, label) VALUES (?, ?) ON CONFLICT (gid) DO UPDATE SET label = excluded.label"),
      groupsLabelled: db.prepare("SELECT gid FROM group_labels WHERE label = ? ORDER BY gid").pluck(),
      enrolmentByAddress: db.prepare("SELECT * FROM enrolments WHERE address = ?"),
      enrolment: db.prepare("SELECT * FROM enrolments WHERE gid = ? AND oid = ?"),
      enrolments: db.prepare("SELECT * FROM enrolments ORDER BY enrolled_at, gid, oid"),
      dropEnrolment: db.prepare("DELETE FROM enrolments WHERE address = ?"),
      ticketIssued: db.prepare("UPDATE enrolments SET ticket_issued_at = ? WHERE gid = ? AND oid = ? AND ticket_issued_at IS NULL"),
      secretAttempt: db.prepare("UPDATE enrolments SET secret_failures = ?, secret_locked_until = ? WHERE gid = ? AND oid = ?"),
      useSecret: db.prepare(
        "UPDATE enrolments SET secret_hash = NULL, secret_used_at = ?, secret_failures = 0, secret_locked_until = NULL WHERE gid = ? AND oid = ? AND secret_hash = ?",
      ),
      setSecret: db.prepare("UPDATE enrolments SET secret_hash = ?, secret_used_at = NULL, secret_failures = 0, secret_locked_until = NULL WHERE gid = ? AND oid = ?"),
      association: db.prepare("SELECT * FROM associations WHERE device = ?"),
      insertAssociation: db.prepare(
        "INSERT INTO associations (device, gid, oid, request, status, created_at, updated_at) VALUES (@device, @gid, @oid, @request, 'queued', @now, @now)",
      ),
      requeueAssociation: db.prepare(
        "UPDATE associations SET gid = @gid, oid = @oid, request = @request, status = 'queued', tx_hash = NULL, tx_index = NULL, error_code = NULL, error_message = NULL, updated_at = @now WHERE device = @device",
      ),
      // The IN term, the partial index's own condition, lets SQLite use that index (it cannot tell that `status = ?` implies it).
      associationsWithStatus: db.prepare("SELECT * FROM associations WHERE status IN ('queued', 'submitted') AND status = ? ORDER BY created_at, device LIMIT ?"),
      openAssociationsOf: db.prepare("SELECT count(*) AS count FROM associations WHERE status IN ('queued', 'submitted') AND gid = ?"),
      dropTokens: db.prepare("UPDATE enrolments SET token = NULL WHERE gid = ? AND token IS NOT NULL"),
      setAssociation: db.prepare(
        "UPDATE associations SET status = @status, tx_hash = @tx_hash, tx_index = @tx_index, error_code = @error_code, error_message = @error_message, updated_at = @now WHERE device = @device",
      ),
      nextNonce: db.prepare("SELECT next_nonce FROM device_nonces WHERE device = ?").pluck(),
      setNextNonce: db.prepare("INSERT INTO device_nonces (device, next_nonce) VALUES (?, ?) ON CONFLICT (device) DO UPDATE SET next_nonce = excluded.next_nonce"),
      messageByDeviceNonce: db.prepare("SELECT * FROM messages WHERE device = ? AND nonce = ?"),
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
    if (lock) {
      // Proves the file writable before the gateway listens: a full disk or a read-only mount is
      // refused at start, not discovered by the first device.
      try {
        this.transaction(() => this.setMeta("opened_at", String(Date.now())));
      } catch (error) {
        this.close();
        throw new StoreError("StoreUnwritable", `cannot write to ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  /** Refuses another schema version; brings a version-2 to -7 file to version 8 (not when `readonly`). */
  private checkSchema(readonly: boolean): void {
    const path = this.path;
    const hasMeta = this.db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'").pluck().get() === 1;
    const version = hasMeta ? (this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as string | undefined) : undefined;
    if (version === undefined) throw new StoreError("StoreCorrupt", `${path} is an SQLite file but not a gateway database (no schema version): restore the right file, or init a new one elsewhere`);
    const older = [2, 3, 4, 5, 6, 7].includes(Number(version));
    if (readonly && older) {
      throw new StoreError("StoreSchemaMismatch", `${path} has schema version ${version}; this gateway reads version ${SCHEMA_VERSION} and brings the file to it when it starts (or enrols): run \`iomt-gateway start\` once, then read it`);
    }
    if (older) {
      this.db.transaction(() => {
        if (Number(version) === 2) {
          this.db.exec(migrateFrom2);
          // Protocol v2 keeps a reading with its commitment's salt.
          const columns = this.db.prepare("SELECT name FROM pragma_table_info('messages')").pluck().all() as string[];
          if (!columns.includes("salt")) this.db.exec("ALTER TABLE messages ADD COLUMN salt BLOB");
        }
        if (Number(version) <= 3) this.db.exec(migrateFrom3);
        if (Number(version) <= 4) this.db.exec(migrateFrom4);
        if (Number(version) <= 5) this.db.exec(migrateFrom5);
        if (Number(version) <= 6) this.db.exec(migrateFrom6);
        this.db.exec(migrateFrom7);
      })();
      return;
    }
    if (Number(version) !== SCHEMA_VERSION) {
      // Version 1 belongs to a gateway of the v1 registry: its messages were signed for that
      // registry's domain and can only be anchored there, so it is refused, never converted.
      const hint = Number(version) === 1 ? " (a database of the v1 registry: drain it with the v1 gateway, then start with a new file)" : "";
      throw new StoreError("StoreSchemaMismatch", `${path} has schema version ${version}; this gateway reads version ${SCHEMA_VERSION}${hint}`);
    }
  }

  /** The last write's outcome; `ok` is false from a failed commit until the next one succeeds. */
  get health(): StoreHealth {
    return { ...this.state };
  }

  /**
   * Runs `effect` once the work running now is committed, and never if it rolls back: counters
   * and gauges that must count only what is durable. Outside any transaction it runs at once.
   */
  afterCommit(effect: () => void): void {
    if (this.effects !== undefined) this.effects.push(effect);
    else if (!this.db.inTransaction) effect();
    else throw new Error("afterCommit: called inside a transaction not started by commit() or transaction()");
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
    const outcomes: { ok: boolean; value: unknown; effects: (() => void)[] }[] = [];
    let fault: unknown;
    try {
      this.db.transaction(() => {
        for (const { unit } of units) {
          const effects: (() => void)[] = [];
          this.effects = effects;
          try {
            outcomes.push({ ok: true, value: this.inSavepoint(unit), effects });
          } catch (error) {
            if (isStoreFault(error)) {
              // SQLite may have rolled the whole transaction back (a full disk, an I/O error): no
              // unit of this turn is committed, so every caller is refused.
              fault = error;
              throw error;
            }
            outcomes.push({ ok: false, value: error, effects: [] });
          } finally {
            this.effects = undefined;
          }
        }
      })();
    } catch (error) {
      this.noteFailure(fault ?? error);
      const refusal = isStoreFault(fault ?? error) ? storeUnavailable(fault ?? error) : error;
      for (const { reject } of units) reject(refusal);
      return;
    }
    const settle = (failure: Error | undefined) => {
      if (failure === undefined) this.noteSuccess();
      units.forEach(({ resolve, reject }, i) => {
        const outcome = outcomes[i];
        if (!outcome.ok) return reject(outcome.value);
        // Committed but not known durable: refused like a failed commit (a retry finds it stored).
        if (failure !== undefined) return reject(storeUnavailable(failure));
        runEffects(outcome.effects);
        resolve(outcome.value);
      });
    };
    if (this.syncsWal) this.whenDurable(settle);
    else settle(undefined);
  }

  /** Settles `done` once a WAL sync that started after this call has finished (with the failure, if it failed). */
  private whenDurable(done: (failure: Error | undefined) => void): void {
    this.awaitingSync.push(done);
    if (this.syncing === undefined) this.startSync();
  }

  private startSync(): void {
    const group = this.awaitingSync;
    this.awaitingSync = [];
    this.syncing = group;
    const started = performance.now();
    const finished = (error: unknown) => {
      this.noteSync("pool", started);
      if (this.syncing !== group) return; // close() settled the group already
      this.syncing = undefined;
      const failure = error ? walSyncFault(error) : undefined;
      if (failure !== undefined) this.noteFailure(failure);
      for (const done of group) done(failure);
      if (this.awaitingSync.length > 0) this.startSync();
    };
    let fd: number;
    try {
      fd = this.walDescriptor();
    } catch (error) {
      return process.nextTick(finished, error);
    }
    this.walSync.later(fd, finished);
  }

  private walDescriptor(): number {
    this.walFd ??= openSync(`${this.path}-wal`, "r");
    return this.walFd;
  }

  /**
   * Runs `work` in one immediate transaction, syncing on this thread: for the CLI's commands and a gateway's start (a serving gateway writes through `commit`). A store fault
   * (disk full, I/O error) is thrown as `StoreUnavailable` and marks the store failing.
   */
  transaction<T>(work: () => T): T {
    if (this.db.inTransaction) return this.db.transaction(work)();
    const effects: (() => void)[] = [];
    let result: T;
    try {
      result = this.db.transaction(() => {
        this.effects = effects;
        try {
          return work();
        } finally {
          this.effects = undefined;
        }
      }).immediate();
      // Synchronous callers (the CLI) wait for their own commit to be durable, on this thread.
      if (this.syncsWal) this.syncWalNow();
    } catch (error) {
      if (!isStoreFault(error)) throw error;
      this.noteFailure(error);
      throw storeUnavailable(error);
    }
    this.noteSuccess();
    runEffects(effects);
    return result;
  }

  /** Syncs the WAL on this thread; a failure is thrown as a store fault. */
  private syncWalNow(): void {
    const started = performance.now();
    try {
      this.walSync.now(this.walDescriptor());
    } catch (error) {
      throw walSyncFault(error);
    } finally {
      this.noteSync("main", started);
    }
  }

  private noteSync(thread: "pool" | "main", started: number): void {
    this.observeWalSync?.(thread, (performance.now() - started) / 1_000);
  }

  /** A single write outside any transaction is its own commit: tracked like one. */
  private write<T>(work: () => T): T {
    return this.db.inTransaction ? work() : this.transaction(work);
  }

  /**
   * Tries a small write now (readiness calls it while the store is failing, so that it recovers
   * once space is freed, without waiting for a device). Resolves with the health after it.
   */
  async probe(): Promise<StoreHealth> {
    try {
      await this.commit(() => this.setMeta("probed_at", String(Date.now())));
    } catch {
      // noted by the commit
    }
    return this.health;
  }

  private noteSuccess(): void {
    if (!this.state.ok && !this.stillFull()) this.state = { ok: true, lastError: null, failedAt: null };
    this.checkpointer?.request();
  }

  /**
   * After a full disk (SQLITE_FULL), whether its file system still has less than
   * `FULL_DISK_CLEAR_BYTES` free: a small commit (a probe, a batch's update) can succeed in the
   * space the log already holds while a data request's commit would not, so the store stays
   * failing (readiness 503) until space is back. An unanswerable statfs counts as space.
   */
  private stillFull(): boolean {
    if (!this.state.lastError?.startsWith("SQLITE_FULL")) return false;
    try {
      const { bavail, bsize } = statfsSync(dirname(this.path));
      return bavail * bsize < FULL_DISK_CLEAR_BYTES;
    } catch {
      return false;
    }
  }

  /** The checkpoint thread's counts (`checkpointThread`), or undefined when SQLite checkpoints in the commits. */
  get checkpoints(): CheckpointerStatus | undefined {
    return this.checkpointer?.status();
  }

  private noteFailure(error: unknown): void {
    if (!isStoreFault(error)) return;
    this.state = { ok: false, lastError: `${sqliteCode(error)}: ${(error as Error).message}`, failedAt: Date.now() };
  }

  getMeta(key: string): string | undefined {
    return this.statements.getMeta.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.write(() => this.statements.setMeta.run(key, value));
  }

  enrol(row: NewEnrolment): void {
    this.write(() => this.statements.enrol.run({ token: null, ...row }));
  }

  /** Remembers the label a served group is configured by (the read-only commands resolve labels with it). */
  setGroupLabel(gid: Hex, label: string): void {
    this.write(() => this.statements.setGroupLabel.run(gid, label));
  }

  /** The gids recorded under `label` (more than one only after the Master key changed). */
  groupsLabelled(label: string): Hex[] {
    return this.statements.groupsLabelled.all(label) as Hex[];
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
    this.write(() => this.statements.ticketIssued.run(at, gid, oid));
  }
  /** Removes the device's enrolment (its revocation was seen on chain); true when there was one. */
  dropEnrolment(address: Address): boolean {
    return this.write(() => this.statements.dropEnrolment.run(address).changes > 0);
  }


  /** Records a secret attempt's counters (taken before the secret is checked; see enrolment.ts). */
  setSecretAttempt(gid: Hex, oid: Hex, failures: number, lockedUntil: number | null): void {
    this.write(() => this.statements.secretAttempt.run(failures, lockedUntil, gid, oid));
  }

  /** Clears the secret `hash` once used (single use); false when it was already used or replaced. */
  useSecret(gid: Hex, oid: Hex, hash: string, at: number): boolean {
    return this.write(() => this.statements.useSecret.run(at, gid, oid, hash).changes === 1);
  }

  /** Sets a new secret (or none), with fresh counters; false when no such enrolment exists. */
  setSecret(gid: Hex, oid: Hex, hash: string | null): boolean {
    return this.write(() => this.statements.setSecret.run(hash, gid, oid).changes === 1);
  }

  association(device: Address): AssociationRow | undefined {
    return this.statements.association.get(device) as AssociationRow | undefined;
  }

  insertAssociation(row: Pick<AssociationRow, "device" | "gid" | "oid" | "request"> & { now: number }): void {
    this.write(() => this.statements.insertAssociation.run(row));
  }

  /** Replaces a rejected request with a new one, queued. */
  requeueAssociation(row: Pick<AssociationRow, "device" | "gid" | "oid" | "request"> & { now: number }): void {
    this.write(() => this.statements.requeueAssociation.run(row));
  }

  /** Associations of `gid` acknowledged and not mined yet (queued or submitted). */
  pendingAssociations(gid: Hex): number {
    return (this.statements.openAssociationsOf.get(gid) as { count: number }).count;
  }

  /** Drops the tokens stored with the enrolments of `gid` (approved by a Master that handed over); their number. */
  dropApprovedTokens(gid: Hex): number {
    return this.write(() => this.statements.dropTokens.run(gid).changes);
  }

  /** The oldest open associations (`queued` or `submitted`) with `status`, read through the index of open ones: the chain worker asks every poll. */
  associationsWithStatus(status: Extract<AssociationRowStatus, "queued" | "submitted">, limit: number): AssociationRow[] {
    return this.statements.associationsWithStatus.all(status, limit) as AssociationRow[];
  }

  setAssociation(row: Pick<AssociationRow, "device" | "status"> & Partial<Pick<AssociationRow, "tx_hash" | "tx_index" | "error_code" | "error_message">>): void {
    this.write(() => this.statements.setAssociation.run({ tx_hash: null, tx_index: null, error_code: null, error_message: null, ...row, now: Date.now() }));
  }

  nextNonce(device: Address): number | undefined {
    return this.statements.nextNonce.get(device) as number | undefined;
  }

  setNextNonce(device: Address, next: number): void {
    this.write(() => this.statements.setNextNonce.run(device, next));
  }

  messageByDeviceNonce(device: Address, nonce: number): MessageRow | undefined {
    return this.statements.messageByDeviceNonce.get(device, nonce) as MessageRow | undefined;
  }

  insertMessage(message: NewMessage): number {
    return this.write(() => Number(this.statements.insertMessage.run(message).lastInsertRowid));
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
    this.write(() => this.statements.setBatch.run({ tx_hash: null, block_number: null, error_code: null, anchored_at: null, ...row }));
  }

  setRelay(row: Pick<MessageRow, "id" | "status" | "route"> & Partial<Pick<MessageRow, "relay_tx" | "relay_index" | "relay_block" | "relay_error">>): void {
    this.write(() => this.statements.setRelay.run({ relay_tx: null, relay_index: null, relay_block: null, relay_error: null, ...row }));
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

  /** Closes the database, then gives its lock up. */
  close(): void {
    // Groups still waiting for a sync (none once the server finished its requests) are synced here.
    const waiting = [...(this.syncing ?? []), ...this.awaitingSync];
    this.syncing = undefined;
    this.awaitingSync = [];
    if (waiting.length > 0) {
      let failure: Error | undefined;
      try {
        this.syncWalNow();
      } catch (error) {
        failure = error as Error;
      }
      for (const done of waiting) done(failure);
    }
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
    // The thread opens a connection only while it checkpoints, so the gateway's is the last to close.
    void this.checkpointer?.close();
    if (this.db?.open) this.db.close();
    if (this.lock?.open) this.lock.close();
  }
}

function runEffects(effects: readonly (() => void)[]): void {
  for (const effect of effects) {
    try {
      effect();
    } catch {
      // a metric must never turn a committed request into a failed one
    }
  }
}

/** Holds the database's lock, as a running gateway does, until `release` (`restore --replace`); `StoreLocked` while a gateway runs on it. */
export function lockDatabase(path: string): { release(): void } {
  const lock = takeLock(path);
  return { release: () => lock.close() };
}

/**
 * The database's lock: a SQLite file next to it (`<database>.lock`, by its real path, so two
 * names of one file share it) held in exclusive locking mode. SQLite takes it with POSIX
 * advisory locks, which the operating system releases when the process ends in any way (kill -9
 * included), so there is never a stale lock to clear by hand. The database itself stays in
 * normal WAL locking, so the CLI's `enrol`, `devices`, `pending` and `status` keep working next
 * to a running gateway.
 */
function takeLock(path: string): Database.Database {
  const lockPath = `${realpathSync(path)}.lock`;
  let lock: Database.Database | undefined;
  try {
    lock = new Database(lockPath, { timeout: 0 });
    chmodSync(lockPath, 0o600);
    lock.pragma("locking_mode = EXCLUSIVE");
    lock.pragma("journal_mode = MEMORY");
    lock.exec("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER, started_at INTEGER); DELETE FROM holder;");
    lock.prepare("INSERT INTO holder (pid, started_at) VALUES (?, ?)").run(process.pid, Date.now());
    lock.exec("COMMIT");
    return lock;
  } catch (cause) {
    lock?.close();
    if (sqliteCode(cause)?.startsWith("SQLITE_BUSY") || sqliteCode(cause)?.startsWith("SQLITE_LOCKED")) {
      throw new StoreError("StoreLocked", `another gateway process is running on ${path} (it holds ${lockPath}): one gateway per database; stop the other one first`, { cause });
    }
    throw new StoreError("StoreUnwritable", `cannot take the lock ${lockPath}: ${(cause as Error).message}`, { cause });
  }
}

/** SQLite's `quick_check` (structure, O(size)) or `integrity_check` (also every index against its table). */
function integrityCheck(db: Database.Database, path: string, check: "quick" | "full"): void {
  const rows = db.prepare(check === "quick" ? "PRAGMA quick_check(20)" : "PRAGMA integrity_check(20)").pluck().all() as string[];
  if (rows.length === 1 && rows[0] === "ok") return;
  throw new StoreError("StoreCorrupt", `${path} failed SQLite's ${check === "quick" ? "quick_check" : "integrity_check"}: ${rows.slice(0, 3).join("; ")}${rows.length > 3 ? "; …" : ""}. Restore it from a backup`);
}
