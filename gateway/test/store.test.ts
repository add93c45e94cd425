// The SQLite store, on a real file: the group commit runs a turn's units in one transaction and
// rolls a failing unit back alone, answering each caller only once the transaction committed;
// effects queued with afterCommit (metrics) run only for committed work; what was committed is
// there after the file is closed and opened again. The file is created only by `create` (init):
// a missing, empty, corrupt or foreign file is refused by `open`, a version-2 file is migrated
// (sessions dropped: protocol v2 keeps them in memory; the salt column added), a version-3 file
// too (the oid's name, group labels), and a version-4 file (an enrolment's stored token), never by a read-only open (which writes nothing); a file of another
// version is refused (also a version-1 file of the v1 registry's gateway); with `lock`, one
// process per database (refused while held, free again after kill -9). On a really full disk (a
// tmpfs) every commit is refused with StoreUnavailable, the store reports itself failing until
// space comes back, and every commit that was acknowledged is in the file. Enrolments are scoped
// to their group; a batch's leaves are numbered in the order given.
import { expect } from "chai";
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import { toId } from "@iomt-auth/sdk";
import { ApiError } from "../src/errors.js";
import { GatewayStore, StoreError, type NewMessage, type StoreErrorCode } from "../src/store.js";
import { STORED_GID, storedMessageRow } from "./support/database.js";
import { expectCode, expectError } from "./support/expect.js";
import { corruptPages, flipBytes, mountTmpfs, type Tmpfs } from "./support/faults.js";
import { skipBecause } from "../../sdk/test/support/skips.js";

const GID = STORED_GID;
const DEVICE: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OTHER_DEVICE: Address = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

/** A message row of `device` (by default DEVICE). */
const message = (nonce: number, device: Address = DEVICE): NewMessage => storedMessageRow(nonce, device);

/** Asserts that `fn` throws a StoreError with `code` (recorded in the assertion ledger) and a message matching `message`. */
function expectStoreError(fn: () => unknown, code: StoreErrorCode, message: RegExp): StoreError {
  const error = expectCode(fn, StoreError, code);
  expect(error.message).to.match(message);
  return error;
}

describe("gateway store", () => {
  let dir: string;
  let path: string;
  let store: GatewayStore;
  /** A second connection to the same file: it sees only committed data. */
  let reader: Database.Database;
  const committedMeta = (key: string) => reader.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(key);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "iomt-gateway-store-"));
    path = join(dir, "gateway.db");
    GatewayStore.create(path);
    store = GatewayStore.open(path);
    reader = new Database(path, { readonly: true });
  });

  afterEach(() => {
    reader.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("commit (the group commit)", () => {
    it("runs the units queued in one turn in one transaction, committed before any caller is answered", async () => {
      const seenInsideThird: unknown[] = [];
      const seenWhenFirstAnswered: unknown[] = [];
      const first = store.commit(() => {
        store.setMeta("first", "1");
        return "first done";
      });
      const second = store.commit(() => store.setMeta("second", "2"));
      const third = store.commit(() => {
        store.setMeta("third", "3");
        // Another connection does not see the earlier units' writes yet: they are in the same open transaction.
        seenInsideThird.push(committedMeta("first"), committedMeta("second"), store.db.inTransaction);
        return 3;
      });
      void first.then(() => seenWhenFirstAnswered.push(committedMeta("first"), committedMeta("third")));
      expect(committedMeta("first")).to.equal(undefined); // nothing runs before the turn ends
      expect(await Promise.all([first, second, third])).to.deep.equal(["first done", undefined, 3]);
      expect(seenInsideThird).to.deep.equal([undefined, undefined, true]);
      expect(seenWhenFirstAnswered).to.deep.equal(["1", "3"]);
    });

    it("rolls back a unit that throws alone: its writes are absent, its caller gets its error, the others commit", async () => {
      const failure = new Error("this unit fails halfway");
      const outcomes = await Promise.allSettled([
        store.commit(() => store.setMeta("before", "kept")),
        store.commit(() => {
          store.setMeta("failing-1", "written, then rolled back");
          store.insertMessage(message(1));
          throw failure;
        }),
        store.commit(() => {
          store.insertMessage(message(2));
          return store.setMeta("after", "kept");
        }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
      expect((outcomes[1] as PromiseRejectedResult).reason).to.equal(failure);
      expect([committedMeta("before"), committedMeta("failing-1"), committedMeta("after")]).to.deep.equal(["kept", undefined, "kept"]);
      expect(store.messageByDeviceNonce(DEVICE, 1)).to.equal(undefined);
      expect(store.messageByDeviceNonce(DEVICE, 2)?.digest).to.equal(message(2).digest);
    });

    it("rolls back alone a unit that breaks a constraint after writing, e.g. a replayed nonce", async () => {
      await store.commit(() => store.insertMessage(message(1)));
      const outcomes = await Promise.allSettled([
        store.commit(() => {
          store.setNextNonce(DEVICE, 99);
          store.insertMessage({ ...message(1), digest: keccak256(stringToHex("another message under nonce 1")) });
        }),
        store.commit(() => store.insertMessage(message(2))),
      ]);
      expect(outcomes[0].status).to.equal("rejected");
      expect(((outcomes[0] as PromiseRejectedResult).reason as { code: string }).code).to.equal("SQLITE_CONSTRAINT_UNIQUE");
      expect(outcomes[1].status).to.equal("fulfilled");
      expect(store.nextNonce(DEVICE)).to.equal(undefined);
      expect(reader.prepare("SELECT nonce FROM messages ORDER BY nonce").pluck().all()).to.deep.equal([1, 2]);
    });
  });

  describe("afterCommit (metrics count only committed work)", () => {
    it("runs a unit's effects once its transaction committed, and never those of a unit that rolled back", async () => {
      const ran: string[] = [];
      let committedWhenRun: unknown;
      const outcomes = await Promise.allSettled([
        store.commit(() => {
          store.insertMessage(message(1));
          store.afterCommit(() => {
            committedWhenRun = reader.prepare("SELECT count(*) FROM messages").pluck().get();
            ran.push("first");
          });
          expect(ran).to.deep.equal([]); // not inside the unit
        }),
        store.commit(() => {
          store.insertMessage(message(2));
          store.afterCommit(() => ran.push("failing"));
          throw new Error("rolled back");
        }),
        store.commit(() => store.afterCommit(() => ran.push("third"))),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
      expect(ran).to.deep.equal(["first", "third"]);
      expect(committedWhenRun).to.equal(1);
    });

    it("runs the effects of transaction() after its commit, and none when it throws", () => {
      const ran: string[] = [];
      store.transaction(() => {
        store.insertMessage(message(1));
        store.afterCommit(() => ran.push("kept"));
        expect(ran).to.deep.equal([]);
      });
      expect(() =>
        store.transaction(() => {
          store.afterCommit(() => ran.push("dropped"));
          throw new Error("rolled back");
        }),
      ).to.throw("rolled back");
      expect(ran).to.deep.equal(["kept"]);
    });
  });

  describe("create and open: the file is created only by init, and a file that cannot be trusted is refused", () => {
    it("create refuses a path where a file exists, also an empty one: init never replaces a database", () => {
      expectStoreError(() => GatewayStore.create(path), "StoreExists", /already exists .*never overwrites/);
      const empty = join(dir, "empty.db");
      writeFileSync(empty, "");
      expectStoreError(() => GatewayStore.create(empty), "StoreExists", /empty\.db already exists \(0 bytes\)/);
      expect(statSync(empty).size).to.equal(0);
    });

    it("open refuses a missing file and names init; it creates nothing", () => {
      const missing = join(dir, "missing.db");
      expectStoreError(() => GatewayStore.open(missing, { lock: true, check: "quick" }), "StoreMissing", /no database at .*missing\.db: create it once with `iomt-gateway init/);
      expect(existsSync(missing)).to.equal(false);
    });

    it("open refuses a zero-byte file (a truncated database is never taken as a new one) and leaves it as it is", () => {
      store.close();
      reader.close();
      truncateSync(path, 0);
      expectStoreError(() => GatewayStore.open(path, { lock: true, check: "quick" }), "StoreEmpty", /is empty \(0 bytes\).*restore it from a backup.*iomt-gateway init/i);
      expect(statSync(path).size).to.equal(0);
    });

    it("open refuses a file whose pages are corrupt (quick_check)", async () => {
      await store.commit(() => {
        for (let nonce = 1; nonce <= 200; nonce++) store.insertMessage(message(nonce));
      });
      store.close();
      reader.close();
      corruptPages(path);
      expectStoreError(() => GatewayStore.open(path, { lock: true, check: "quick" }), "StoreCorrupt", /corrupt|quick_check/);
      expectStoreError(() => GatewayStore.open(path, { lock: true, check: "full" }), "StoreCorrupt", /corrupt|integrity_check/);
    });

    it("open refuses a file whose header is corrupt (not a database)", () => {
      store.close();
      reader.close();
      flipBytes(path, 0, 16);
      expectStoreError(() => GatewayStore.open(path, { lock: true, check: "quick" }), "StoreCorrupt", /is corrupt \(file is not a database\)/);
    });

    it("open refuses an SQLite file that is not a gateway database", () => {
      const other = join(dir, "other.db");
      const db = new Database(other);
      db.exec("CREATE TABLE notes (text TEXT)");
      db.close();
      expectStoreError(() => GatewayStore.open(other), "StoreCorrupt", /not a gateway database/);
    });

    it("brings a version-2 file to version 8: sessions dropped, the salt column added, enrolments (and a secret stored by version 2) and messages kept, secrets with fresh counters", () => {
      const legacy = "scrypt$16384$00$00";
      store.enrol({ gid: GID, oid: toId("bed-2").toLowerCase() as Hex, address: DEVICE, secret_hash: legacy, enrolled_at: 7, oid_name: null });
      store.close();
      reader.close();
      const db = new Database(path);
      db.exec(`DROP TABLE handovers; DROP TABLE aggregates; DROP INDEX batches_failed; ALTER TABLE enrolments DROP COLUMN token; ALTER TABLE enrolments DROP COLUMN oid_name; DROP TABLE group_labels;
               ALTER TABLE enrolments DROP COLUMN secret_failures; ALTER TABLE enrolments DROP COLUMN secret_locked_until; ALTER TABLE enrolments DROP COLUMN secret_used_at;
               ALTER TABLE messages DROP COLUMN salt;
               CREATE TABLE sessions (id TEXT PRIMARY KEY, sealed_keys TEXT NOT NULL) STRICT; UPDATE meta SET value = '2' WHERE key = 'schema_version';`);
      const { salt: _salt, ...unsalted } = message(1);
      db.prepare(
        "INSERT INTO messages (digest, gid, oid, device, nonce, payload_hash, timestamp, deadline, signature, payload, accepted_at, route, status) VALUES (@digest, @gid, @oid, @device, @nonce, @payload_hash, @timestamp, @deadline, @signature, @payload, @accepted_at, @route, 'pending')",
      ).run(unsalted);
      db.close();
      store = GatewayStore.open(path, { lock: true, check: "quick" });
      reader = new Database(path, { readonly: true });
      expect(store.getMeta("schema_version")).to.equal("8");
      expect(reader.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'sessions'").pluck().get()).to.equal(0);
      expect(store.enrolmentByAddress(DEVICE)).to.deep.include({ secret_hash: legacy, secret_failures: 0, secret_locked_until: null, secret_used_at: null, enrolled_at: 7, oid_name: null });
      // A reading stored by version 2 keeps its row (no salt); new ones keep theirs.
      expect(store.messageByDeviceNonce(DEVICE, 1)).to.deep.include({ ...unsalted, salt: null });
      store.insertMessage(message(2));
      expect(store.messageByDeviceNonce(DEVICE, 2)?.salt).to.deep.equal(Buffer.alloc(32, 2));
    });

    it("brings a version-3 file to version 8: enrolments kept (their oid's name unknown), group labels recorded from then on; read-only, it refuses the file until then", () => {
      store.enrol({ gid: GID, oid: toId("bed-3").toLowerCase() as Hex, address: DEVICE, secret_hash: null, enrolled_at: 9, oid_name: "bed-3" });
      store.close();
      reader.close();
      const db = new Database(path);
      db.exec("DROP TABLE handovers; DROP TABLE aggregates; DROP INDEX batches_failed; ALTER TABLE enrolments DROP COLUMN token; ALTER TABLE enrolments DROP COLUMN oid_name; DROP TABLE group_labels; UPDATE meta SET value = '3' WHERE key = 'schema_version';");
      db.close();
      expectStoreError(() => GatewayStore.open(path, { readonly: true }), "StoreSchemaMismatch", /schema version 3; this gateway reads version 8 and brings the file to it when it starts .*run `iomt-gateway start` once/);
      store = GatewayStore.open(path);
      reader = new Database(path, { readonly: true });
      expect(store.getMeta("schema_version")).to.equal("8");
      expect(store.enrolmentByAddress(DEVICE)).to.deep.include({ enrolled_at: 9, oid_name: null, token: null });
      store.setGroupLabel(GID, "ward-1");
      expect(store.groupsLabelled("ward-1")).to.deep.equal([GID]);
    });

    it("brings a version-4 file to version 8: enrolments kept without a stored token, a token stored from then on; read-only, it refuses the file until then", () => {
      store.enrol({ gid: GID, oid: toId("bed-5").toLowerCase() as Hex, address: DEVICE, secret_hash: null, enrolled_at: 5, oid_name: "bed-5" });
      store.close();
      reader.close();
      const db = new Database(path);
      db.exec("DROP TABLE handovers; DROP TABLE aggregates; DROP INDEX batches_failed; ALTER TABLE enrolments DROP COLUMN token; UPDATE meta SET value = '4' WHERE key = 'schema_version';");
      db.close();
      expectStoreError(() => GatewayStore.open(path, { readonly: true }), "StoreSchemaMismatch", /schema version 4; this gateway reads version 8 and brings the file to it when it starts/);
      store = GatewayStore.open(path);
      reader = new Database(path, { readonly: true });
      expect(store.getMeta("schema_version")).to.equal("8");
      expect(store.enrolmentByAddress(DEVICE)).to.deep.include({ enrolled_at: 5, oid_name: "bed-5", token: null });
      const other = "0x00000000000000000000000000000000000000a5" as const;
      store.enrol({ gid: GID, oid: toId("bed-6").toLowerCase() as Hex, address: other, secret_hash: null, enrolled_at: 6, oid_name: "bed-6", token: "0xabcd" });
      expect(store.enrolmentByAddress(other)).to.deep.include({ token: "0xabcd" });
    });

    it("brings a version-5 file to version 8: everything kept, the tables of hierarchical anchoring added (empty); read-only, it refuses the file until then", () => {
      store.enrol({ gid: GID, oid: toId("bed-8").toLowerCase() as Hex, address: DEVICE, secret_hash: null, enrolled_at: 8, oid_name: "bed-8" });
      store.insertMessage(message(1));
      store.close();
      reader.close();
      const db = new Database(path);
      db.exec("DROP TABLE handovers; DROP TABLE aggregates; DROP INDEX batches_failed; UPDATE meta SET value = '5' WHERE key = 'schema_version';");
      db.close();
      expectStoreError(() => GatewayStore.open(path, { readonly: true }), "StoreSchemaMismatch", /schema version 5; this gateway reads version 8 and brings the file to it when it starts/);
      store = GatewayStore.open(path);
      reader = new Database(path, { readonly: true });
      expect(store.getMeta("schema_version")).to.equal("8");
      expect(store.enrolmentByAddress(DEVICE)).to.deep.include({ enrolled_at: 8, oid_name: "bed-8" });
      expect(store.messageByDeviceNonce(DEVICE, 1)).to.deep.include(message(1));
      expect(reader.prepare("SELECT count(*) FROM handovers").pluck().get()).to.equal(0);
      expect(reader.prepare("SELECT count(*) FROM aggregates").pluck().get()).to.equal(0);
    });

    it("brings a version-6 file to version 8: every message kept with its id, the digest's unique index gone, (device, nonce) still unique; read-only, it refuses the file until then", () => {
      for (let nonce = 1; nonce <= 3; nonce++) store.insertMessage(message(nonce));
      store.insertMessage(message(1, OTHER_DEVICE));
      const batch = store.createBatch(GID, keccak256(stringToHex("root")), store.pendingMessages(GID, "anchor", 2));
      store.close();
      reader.close();
      const digestIndexed = (file: Database.Database) =>
        (file.prepare("SELECT name FROM pragma_index_list('messages')").pluck().all() as string[]).some((index) => {
          const columns = file.prepare("SELECT name FROM pragma_index_info(?)").pluck().all(index) as string[];
          return columns.length === 1 && columns[0] === "digest";
        });
      const db = new Database(path);
      expect(digestIndexed(db), "a file created by this version").to.equal(false);
      // Version 6's messages table: the same columns, the digest UNIQUE (an index SQLite cannot drop).
      const before = db.prepare("SELECT * FROM messages ORDER BY id").all();
      const v6Table = (db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'messages'").pluck().get() as string).replace("digest TEXT NOT NULL,", "digest TEXT NOT NULL UNIQUE,");
      const indexes = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL").pluck().all() as string[];
      db.exec(`${v6Table.replace("CREATE TABLE messages", "CREATE TABLE messages_v6")}; INSERT INTO messages_v6 SELECT * FROM messages; DROP TABLE messages; ALTER TABLE messages_v6 RENAME TO messages;
               ${indexes.join(";\n")}; DROP INDEX aggregates_open; DROP INDEX handovers_aggregate; DROP INDEX batches_failed; UPDATE meta SET value = '6' WHERE key = 'schema_version';`);
      expect(digestIndexed(db)).to.equal(true);
      db.close();
      expectStoreError(() => GatewayStore.open(path, { readonly: true }), "StoreSchemaMismatch", /schema version 6; this gateway reads version 8 and brings the file to it when it starts/);

      store = GatewayStore.open(path, { lock: true, check: "full" });
      reader = new Database(path, { readonly: true });
      expect(store.getMeta("schema_version")).to.equal("8");
      expect(reader.prepare("SELECT * FROM messages ORDER BY id").all()).to.deep.equal(before);
      expect(digestIndexed(reader)).to.equal(false);
      expect(store.batchLeaves(batch)).to.deep.equal([message(1).digest, message(2).digest]);
      expect(store.pendingMessages(GID, "anchor", 10).map((row) => row.digest)).to.deep.equal([message(3).digest, message(1, OTHER_DEVICE).digest]);
      expect(() => store.insertMessage({ ...message(2), digest: keccak256(stringToHex("another message, same nonce")) })).to.throw(/UNIQUE constraint failed: messages.device, messages.nonce/);
      const next = store.insertMessage(message(4));
      expect(next).to.be.greaterThan(Math.max(...before.map((row) => (row as { id: number }).id)));
    });

    it("opens read-only without writing: a write through it fails, and the file's bytes are unchanged", () => {
      store.enrol({ gid: GID, oid: toId("bed-4").toLowerCase() as Hex, address: DEVICE, secret_hash: null, enrolled_at: 4, oid_name: "bed-4" });
      store.close();
      reader.close();
      const before = statSync(path).mtimeMs;
      const readOnly = GatewayStore.open(path, { readonly: true });
      try {
        expect(readOnly.enrolmentByAddress(DEVICE)).to.deep.include({ oid_name: "bed-4" });
        expect(() => readOnly.setMeta("touched", "1")).to.throw(/readonly/i);
      } finally {
        readOnly.close();
      }
      expect(statSync(path).mtimeMs).to.equal(before);
      store = GatewayStore.open(path);
      reader = new Database(path, { readonly: true });
    });
  });

  describe("the lock: one gateway process per database", () => {
    it("refuses a second holder in the same process until the first one closes", () => {
      const first = GatewayStore.open(path, { lock: true });
      try {
        expectStoreError(() => GatewayStore.open(path, { lock: true }), "StoreLocked", /another gateway process is running on .*gateway\.db.*one gateway per database/);
        // The CLI's commands (no lock) still open it next to the running gateway.
        const cli = GatewayStore.open(path);
        cli.close();
      } finally {
        first.close();
      }
      GatewayStore.open(path, { lock: true }).close();
    });

    it("refuses it while another process holds it, and takes it once that process was killed with kill -9", async () => {
      const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "support", "hold-store.ts"), path], { stdio: ["ignore", "pipe", "pipe"] });
      try {
        const held = await new Promise<string>((resolve, reject) => {
          let out = "";
          let err = "";
          child.stdout.on("data", (chunk) => {
            out += chunk;
            if (out.includes("held")) resolve(out);
          });
          child.stderr.on("data", (chunk) => (err += chunk));
          child.on("exit", (code) => reject(new Error(`the holder exited with ${code}: ${err}`)));
        });
        expect(held).to.match(new RegExp(`held ${child.pid}`));
        expectStoreError(() => GatewayStore.open(path, { lock: true }), "StoreLocked", /another gateway process is running/);
      } finally {
        child.kill("SIGKILL");
        await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once("exit", resolve)));
      }
      expect(child.signalCode).to.equal("SIGKILL");
      const next = GatewayStore.open(path, { lock: true, check: "quick" });
      expect(next.getMeta("schema_version")).to.equal("8");
      next.close();
    });
  });

  describe("a full disk (a real one: the database on a 2 MiB tmpfs, filled up by another file)", () => {
    let disk: Tmpfs | undefined;

    before(function () {
      disk = mountTmpfs(2048);
      if (disk === undefined) skipBecause(this, "no-tmpfs-mount", "mounting a tmpfs needs root or CAP_SYS_ADMIN");
    });

    afterEach(() => disk?.free());
    after(() => disk?.unmount());

    it("refuses every commit with StoreUnavailable (503), counts and keeps only what it acknowledged, reports itself failing, and recovers once space is back", async () => {
      const fs = disk as Tmpfs;
      const dbPath = join(fs.dir, "gateway.db");
      GatewayStore.create(dbPath);
      const full = GatewayStore.open(dbPath, { lock: true, check: "quick" });
      fs.fill(96 * 1024);
      const big = (nonce: number): NewMessage => ({ ...message(nonce), payload: Buffer.alloc(2048, nonce % 251) });
      let counted = 0;
      const acknowledged: number[] = [];
      const refused: unknown[] = [];
      // Ten requests per event-loop turn, as under load, until the disk refuses several turns.
      for (let nonce = 1; refused.length < 30 && nonce < 10_000; nonce += 10) {
        const turn = Array.from({ length: 10 }, (_, i) => nonce + i).map((n) =>
          full.commit(() => {
            full.insertMessage(big(n));
            full.afterCommit(() => counted++);
            return n;
          }),
        );
        for (const outcome of await Promise.allSettled(turn)) {
          if (outcome.status === "fulfilled") acknowledged.push(outcome.value);
          else refused.push(outcome.reason);
        }
      }
      expect(acknowledged.length, "some commits fit before the disk was full").to.be.greaterThan(0);
      expect(refused.length).to.be.greaterThan(0);
      for (const reason of refused) {
        const error = expectError(reason, ApiError, "StoreUnavailable");
        expect(error.status).to.equal(503);
        expect(error.details?.reason).to.match(/^SQLITE_FULL/);
      }
      expect(full.health).to.deep.include({ ok: false });
      expect(full.health.lastError).to.match(/^SQLITE_FULL/);
      // The counter moved for committed work only.
      expect(counted).to.equal(acknowledged.length);
      // The chain worker's transactions are refused the same way. (Larger than what the WAL kept
      // of the failed commits: SQLite rewrites a failed commit's frames in place, so a small write
      // may still fit on the full disk, and then it is committed and acknowledged.)
      const refusedWork = expectCode(() => full.transaction(() => full.insertMessage({ ...big(50_000), payload: Buffer.alloc(512 * 1024) })), ApiError, "StoreUnavailable");
      expect(refusedWork.message).to.match(/could not store this request \(the disk is full\)/);
      // A small commit may fit in the log's space on the full disk; it is then committed, but the
      // store stays failing (readiness 503) until the file system has room for a request again.
      const small = await Promise.allSettled([full.commit(() => full.setMeta("small", "1"))]);
      expect((await full.probe()).ok, `after a small commit that ${small[0].status === "fulfilled" ? "fitted" : "did not fit"}`).to.equal(false);
      expect(full.health.lastError).to.match(/^SQLITE_FULL/);

      // Every acknowledged message is in the file, and nothing else: read by another connection.
      const check = new Database(dbPath, { readonly: true });
      expect(check.prepare("SELECT nonce FROM messages ORDER BY nonce").pluck().all()).to.deep.equal(acknowledged);
      check.close();
      full.close();

      fs.free();
      const again = GatewayStore.open(dbPath, { lock: true, check: "quick" });
      try {
        expect(again.messageByDeviceNonce(DEVICE, acknowledged.at(-1) as number)).to.not.equal(undefined);
        await again.commit(() => again.insertMessage(big(60_000)));
        expect(again.health.ok).to.equal(true);
      } finally {
        again.close();
      }
    });

    it("refuses a start on a file system remounted read-only (as ext4 does after I/O errors): StoreUnwritable before anything listens", () => {
      const fs = disk as Tmpfs;
      const dbPath = join(fs.dir, "readonly.db");
      GatewayStore.create(dbPath);
      fs.remount(true);
      try {
        expectStoreError(() => GatewayStore.open(dbPath, { lock: true, check: "quick" }), "StoreUnwritable", /readonly\.db.*(readonly|read-only|unable to open)/i);
      } finally {
        fs.remount(false);
      }
      GatewayStore.open(dbPath, { lock: true, check: "quick" }).close();
    });

    it("recovers through probe() alone once space is freed, without any other write", async () => {
      const fs = disk as Tmpfs;
      const dbPath = join(fs.dir, "probe.db");
      GatewayStore.create(dbPath);
      const store = GatewayStore.open(dbPath, { lock: true });
      fs.fill(16 * 1024);
      try {
        for (let nonce = 1; store.health.ok && nonce < 10_000; nonce++) {
          await store.commit(() => store.insertMessage({ ...message(nonce), payload: Buffer.alloc(2048) })).catch(() => undefined);
        }
        expect(store.health.ok).to.equal(false);
        expect((await store.probe()).ok).to.equal(false);
        fs.free();
        expect(await store.probe()).to.deep.equal({ ok: true, lastError: null, failedAt: null });
      } finally {
        store.close();
        fs.free();
      }
    });
  });

  describe("file permissions", () => {
    it("keeps the database and its WAL readable by the owner only", async () => {
      await store.commit(() => store.setMeta("probe", "1"));
      for (const file of [path, `${path}-wal`]) expect(statSync(file).mode & 0o777, file).to.equal(0o600);
    });

    it("takes permissions away from a database file created readable by others", () => {
      store.close();
      reader.close();
      chmodSync(path, 0o644);
      store = GatewayStore.open(path);
      reader = new Database(path, { readonly: true });
      expect(statSync(path).mode & 0o777).to.equal(0o600);
    });
  });

  describe("durability across reopening", () => {
    it("keeps everything committed after the file is closed and opened again", async () => {
      const stored = await store.commit(() => {
        store.enrol({ oid: toId("bed-7").toLowerCase() as Hex, gid: GID, address: DEVICE, secret_hash: null, enrolled_at: 5, oid_name: "bed-7" });
        store.setNextNonce(DEVICE, 3);
        return [store.insertMessage(message(1)), store.insertMessage(message(2))];
      });
      store.close();
      reader.close();

      store = GatewayStore.open(path);
      reader = new Database(path, { readonly: true });
      expect(store.enrolmentByAddress(DEVICE)).to.deep.include({ oid: toId("bed-7").toLowerCase(), gid: GID, enrolled_at: 5, secret_failures: 0 });
      expect(store.nextNonce(DEVICE)).to.equal(3);
      const rows = [1, 2].map((nonce) => store.messageByDeviceNonce(DEVICE, nonce));
      expect(rows.map((row) => row?.id)).to.deep.equal(stored);
      expect(rows[1]).to.deep.include({ ...message(2), status: "pending", batch_id: null });
    });

    it("refuses a file of another schema version, and keeps reading its own", () => {
      expect(store.getMeta("schema_version")).to.equal("8");
      store.close();
      store = GatewayStore.open(path);
      expect(store.getMeta("schema_version")).to.equal("8");
      store.setMeta("schema_version", "9");
      store.close();
      expectStoreError(() => GatewayStore.open(path), "StoreSchemaMismatch", /schema version 9; this gateway reads version 8/);
    });

    it("refuses a file of the v1 registry's gateway (version 1) instead of converting it: its messages belong to that registry", () => {
      store.setMeta("schema_version", "1");
      store.close();
      expectStoreError(() => GatewayStore.open(path), "StoreSchemaMismatch", /schema version 1; this gateway reads version 8 \(a database of the v1 registry: drain it with the v1 gateway/);
    });
  });

  describe("enrolments", () => {
    it("scopes an oid to its group, as the registry does: the same oid may be enrolled in two groups, not twice in one", () => {
      const oid = toId("bed-7").toLowerCase() as Hex;
      const other = toId("ward-2").toLowerCase() as Hex;
      const second: Address = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
      store.enrol({ gid: GID, oid, address: DEVICE, secret_hash: null, enrolled_at: 1, oid_name: null });
      store.enrol({ gid: other, oid, address: second, secret_hash: null, enrolled_at: 2, oid_name: null });
      expect(store.enrolment(GID, oid)?.address).to.equal(DEVICE);
      expect(store.enrolment(other, oid)?.address).to.equal(second);
      expect(() => store.enrol({ gid: GID, oid, address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", secret_hash: null, enrolled_at: 3, oid_name: null })).to.throw(/UNIQUE constraint failed: enrolments.gid, enrolments.oid/);
      store.markTicketIssued(other, oid, 9);
      expect(store.enrolment(GID, oid)?.ticket_issued_at).to.equal(null);
      expect(store.enrolment(other, oid)?.ticket_issued_at).to.equal(9);
    });
  });

  describe("sessions", () => {
    it("stores none: no sessions table, so no session key or counter is ever on disk", () => {
      expect(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'sessions'").pluck().get()).to.equal(0);
    });
  });

  describe("createBatch", () => {
    it("numbers the leaves in the order the messages are given and takes them out of the pending ones", () => {
      for (let nonce = 1; nonce <= 5; nonce++) store.insertMessage(message(nonce));
      const pending = store.pendingMessages(GID, "anchor", 10);
      const order = [pending[3], pending[0], pending[4], pending[1], pending[2]];
      const root = keccak256(stringToHex("root"));
      const id = store.createBatch(GID, root, order);

      expect(store.batch(id)).to.deep.include({ gid: GID, root, size: 5, status: "created" });
      expect(store.batchLeaves(id)).to.deep.equal(order.map((row) => row.digest));
      for (const [index, row] of order.entries()) {
        expect(store.messageByDeviceNonce(row.device, row.nonce), `message ${row.nonce}`).to.deep.include({ status: "batched", batch_id: id, leaf_index: index });
      }
      expect(store.pendingStats(GID, "anchor").count).to.equal(0);
      expect(store.pendingCount()).to.equal(0);
    });

    it("starts each batch's leaves at 0 and gives it its own id", () => {
      for (let nonce = 1; nonce <= 4; nonce++) store.insertMessage(message(nonce));
      const first = store.createBatch(GID, keccak256(stringToHex("root 1")), store.pendingMessages(GID, "anchor", 2));
      const second = store.createBatch(GID, keccak256(stringToHex("root 2")), store.pendingMessages(GID, "anchor", 2));
      expect(second).to.not.equal(first);
      expect(store.batchLeaves(first)).to.deep.equal([message(1).digest, message(2).digest]);
      expect(store.batchLeaves(second)).to.deep.equal([message(3).digest, message(4).digest]);
      expect(store.messageByDeviceNonce(DEVICE, 3)?.leaf_index).to.equal(0);
    });
  });
});
