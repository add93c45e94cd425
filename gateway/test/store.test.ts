// The SQLite store, on a real file: the group commit runs a turn's units in one transaction and
// rolls a failing unit back alone, answering each caller only once the transaction committed;
// what was committed is there after the file is closed and opened again; a file of another schema
// version is refused (also a version-1 file of the v1 registry's gateway); enrolments are scoped
// to their group; no session is stored (protocol v2: sessions live in memory) and a database of
// the landed gateway loses its sessions table and gains the salt column; a batch's leaves are
// numbered in the order given.
import { expect } from "chai";
import Database from "better-sqlite3";
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import { toId } from "@iomt-auth/sdk";
import { GatewayStore, type NewMessage } from "../src/store.js";

const GID = toId("ward-1").toLowerCase() as Hex;
const DEVICE: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

function message(nonce: number, device: Address = DEVICE): NewMessage {
  return {
    digest: keccak256(stringToHex(`message ${device} ${nonce}`)),
    gid: GID,
    oid: toId(`device:${device}`).toLowerCase() as Hex,
    device,
    nonce,
    payload_hash: keccak256(stringToHex(`reading ${nonce}`)),
    timestamp: "1700000000",
    deadline: "18446744073709551615",
    signature: `0x${"11".repeat(65)}`,
    payload: Buffer.from(`reading ${nonce}`),
    salt: Buffer.alloc(32, nonce),
    accepted_at: 1_700_000_000_000 + nonce,
    route: "anchor",
  };
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
    store = new GatewayStore(path);
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

  describe("file permissions", () => {
    it("keeps the database and its WAL readable by the owner only", async () => {
      await store.commit(() => store.setMeta("probe", "1"));
      for (const file of [path, `${path}-wal`]) expect(statSync(file).mode & 0o777, file).to.equal(0o600);
    });

    it("takes permissions away from a database file created readable by others", () => {
      store.close();
      reader.close();
      chmodSync(path, 0o644);
      store = new GatewayStore(path);
      reader = new Database(path, { readonly: true });
      expect(statSync(path).mode & 0o777).to.equal(0o600);
    });
  });

  describe("durability across reopening", () => {
    it("keeps everything committed after the file is closed and opened again", async () => {
      const stored = await store.commit(() => {
        store.enrol({ oid: toId("bed-7").toLowerCase() as Hex, gid: GID, address: DEVICE, secret_hash: null, enrolled_at: 5 });
        store.setNextNonce(DEVICE, 3);
        return [store.insertMessage(message(1)), store.insertMessage(message(2))];
      });
      store.close();
      reader.close();

      store = new GatewayStore(path);
      reader = new Database(path, { readonly: true });
      expect(store.enrolmentByAddress(DEVICE)).to.deep.include({ oid: toId("bed-7").toLowerCase(), gid: GID, enrolled_at: 5 });
      expect(store.nextNonce(DEVICE)).to.equal(3);
      const rows = [1, 2].map((nonce) => store.messageByDeviceNonce(DEVICE, nonce));
      expect(rows.map((row) => row?.id)).to.deep.equal(stored);
      expect(rows[1]).to.deep.include({ ...message(2), status: "pending", batch_id: null });
    });

    it("refuses a file of another schema version, and keeps reading its own", () => {
      expect(store.getMeta("schema_version")).to.equal("2");
      store.close();
      store = new GatewayStore(path);
      expect(store.getMeta("schema_version")).to.equal("2");
      store.setMeta("schema_version", "3");
      store.close();
      expect(() => new GatewayStore(path)).to.throw(/schema version 3; this gateway reads version 2/);
    });

    it("refuses a file of the v1 registry's gateway (version 1) instead of converting it: its messages belong to that registry", () => {
      store.setMeta("schema_version", "1");
      store.close();
      expect(() => new GatewayStore(path)).to.throw(/schema version 1; this gateway reads version 2 \(a database of the v1 registry: drain it with the v1 gateway/);
    });
  });

  describe("enrolments", () => {
    it("scopes an oid to its group, as the registry does: the same oid may be enrolled in two groups, not twice in one", () => {
      const oid = toId("bed-7").toLowerCase() as Hex;
      const other = toId("ward-2").toLowerCase() as Hex;
      const second: Address = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
      store.enrol({ gid: GID, oid, address: DEVICE, secret_hash: null, enrolled_at: 1 });
      store.enrol({ gid: other, oid, address: second, secret_hash: null, enrolled_at: 2 });
      expect(store.enrolment(GID, oid)?.address).to.equal(DEVICE);
      expect(store.enrolment(other, oid)?.address).to.equal(second);
      expect(() => store.enrol({ gid: GID, oid, address: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", secret_hash: null, enrolled_at: 3 })).to.throw(/UNIQUE constraint failed: enrolments.gid, enrolments.oid/);
      store.markTicketIssued(other, oid, 9);
      expect(store.enrolment(GID, oid)?.ticket_issued_at).to.equal(null);
      expect(store.enrolment(other, oid)?.ticket_issued_at).to.equal(9);
    });
  });

  describe("sessions", () => {
    it("stores none: no sessions table, so no session key or counter is ever on disk", () => {
      expect(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'sessions'").pluck().get()).to.equal(0);
    });

    it("drops the sessions table of a database the landed gateway wrote, and adds the salt column, keeping the messages", () => {
      store.close();
      reader.close();
      const old = new Database(path);
      old.exec("ALTER TABLE messages DROP COLUMN salt");
      old.exec("CREATE TABLE sessions (id TEXT PRIMARY KEY, sealed_keys TEXT NOT NULL, send_seq INTEGER NOT NULL, receive_seq INTEGER NOT NULL) STRICT");
      old.prepare("INSERT INTO sessions VALUES ('s1', 'sealed', 3, 4)").run();
      const { salt: _salt, ...unsalted } = message(1);
      old.prepare(
        "INSERT INTO messages (digest, gid, oid, device, nonce, payload_hash, timestamp, deadline, signature, payload, accepted_at, route, status) VALUES (@digest, @gid, @oid, @device, @nonce, @payload_hash, @timestamp, @deadline, @signature, @payload, @accepted_at, @route, 'pending')",
      ).run(unsalted);
      old.close();
      store = new GatewayStore(path);
      reader = new Database(path, { readonly: true });
      expect(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'sessions'").pluck().get()).to.equal(0);
      expect(store.messageByDeviceNonce(DEVICE, 1)).to.deep.include({ ...unsalted, salt: null });
      store.insertMessage(message(2));
      expect(store.messageByDeviceNonce(DEVICE, 2)?.salt).to.deep.equal(Buffer.alloc(32, 2));
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
        expect(store.messageByDigest(row.digest), `message ${row.nonce}`).to.deep.include({ status: "batched", batch_id: id, leaf_index: index });
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
      expect(store.messageByDigest(message(3).digest)?.leaf_index).to.equal(0);
    });
  });
});
