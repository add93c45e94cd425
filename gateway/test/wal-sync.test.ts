// Durability `full` without the main thread waiting on the disk: SQLite commits with
// `synchronous = NORMAL` and the store syncs the write-ahead log itself, on libuv's thread pool,
// before it answers anyone. The property: no caller of `commit` is answered before a sync of the
// WAL that started after its transaction committed has finished — and when that sync fails, the
// callers are refused with StoreUnavailable and the store reports itself failing. Real files; the
// sync is wrapped (to hold it, count it or make it fail) around the real fsync.
import { expect } from "chai";
import { fstatSync, fsync, fsyncSync, statSync } from "node:fs";
import { GatewayStore, type WalSync } from "../src/store.js";
import { ApiError } from "../src/errors.js";
import { freshDatabase } from "./support/database.js";
import { expectCode, expectRejection, expectStoreFault } from "./support/expect.js";

type Held = { fd: number; release(error?: NodeJS.ErrnoException): void };

/** A WAL sync that records every call and holds each background sync until the test releases it (then really syncs). */
function heldSync() {
  const held: Held[] = [];
  const now: number[] = [];
  const walSync: WalSync = {
    later(fd, callback) {
      held.push({ fd, release: (error) => (error === undefined ? fsync(fd, callback) : callback(error)) });
    },
    now(fd) {
      now.push(fd);
      fsyncSync(fd);
    },
  };
  return { walSync, held, now };
}

const eio = (): NodeJS.ErrnoException => Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO", errno: -5, syscall: "fsync" });

/** Lets pending callbacks, immediates and promise reactions run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("gateway store: nothing is acknowledged before the write-ahead log is synced", () => {
  const database = freshDatabase("iomt-gateway-wal-");

  describe("the group commit (durability full)", () => {
    it("answers a commit only after the WAL sync that follows it has finished", async () => {
      const sync = heldSync();
      database.store = GatewayStore.open(database.path, { walSync: sync.walSync });
      let answered = false;
      const commit = database.store.commit(() => database.store!.setMeta("reading", "1")).then(() => (answered = true));
      await settle();
      // Committed (another connection could read it) but not yet durable: not answered.
      expect(database.store.getMeta("reading")).to.equal("1");
      expect(sync.held).to.have.length(1);
      expect(answered).to.equal(false);
      sync.held[0].release();
      await commit;
      expect(answered).to.equal(true);
    });

    it("syncs the WAL file itself", async () => {
      const synced: number[] = [];
      database.store = GatewayStore.open(database.path, { walSync: { later: (fd, callback) => (synced.push(fstatSync(fd).ino), fsync(fd, callback)), now: fsyncSync } });
      await database.store.commit(() => database.store!.setMeta("reading", "1"));
      expect(synced).to.deep.equal([statSync(`${database.path}-wal`).ino]);
    });

    it("lets the turns that commit while a sync runs share the next sync", async () => {
      const sync = heldSync();
      database.store = GatewayStore.open(database.path, { walSync: sync.walSync });
      const answered: string[] = [];
      const first = database.store.commit(() => database.store!.setMeta("first", "1")).then(() => answered.push("first"));
      await settle();
      // Two more turns commit while the first sync is held: they wait for one sync together.
      const second = database.store.commit(() => database.store!.setMeta("second", "2")).then(() => answered.push("second"));
      await settle();
      const third = database.store.commit(() => database.store!.setMeta("third", "3")).then(() => answered.push("third"));
      await settle();
      expect(sync.held).to.have.length(1);
      sync.held[0].release();
      await first;
      await settle();
      expect(answered).to.deep.equal(["first"]);
      expect(sync.held).to.have.length(2);
      sync.held[1].release();
      await Promise.all([second, third]);
      expect(answered).to.deep.equal(["first", "second", "third"]);
      expect(sync.held).to.have.length(2);
    });

    it("refuses the callers of a failed sync with StoreUnavailable and reports the store failing until a sync succeeds", async () => {
      const sync = heldSync();
      database.store = GatewayStore.open(database.path, { walSync: sync.walSync });
      const refused = database.store.commit(() => database.store!.setMeta("reading", "1"));
      await settle();
      sync.held[0].release(eio());
      const error = await expectRejection(refused, ApiError, "StoreUnavailable");
      expect(error.message).to.match(/could not sync this request to disk \(an I\/O error\): it is not acknowledged/);
      // The reason an operator reads in the refusal's details and in readiness: SQLite's own code for a failed sync.
      expectStoreFault(error, "SQLITE_IOERR_FSYNC");
      expect(database.store.health).to.deep.include({ ok: false, lastError: "SQLITE_IOERR_FSYNC: fsync of the write-ahead log failed: EIO: i/o error, fsync" });
      // What was committed stays (a device's retry finds its message stored); the next good sync clears the failure.
      expect(database.store.getMeta("reading")).to.equal("1");
      const next = database.store.commit(() => database.store!.setMeta("reading", "2"));
      await settle();
      sync.held[1].release();
      await next;
      expect(database.store.health.ok).to.equal(true);
    });

    it("answers on close the commits still waiting for a sync, after syncing on the closing thread", async () => {
      const sync = heldSync();
      database.store = GatewayStore.open(database.path, { walSync: sync.walSync });
      const syncsBefore = sync.now.length;
      const waiting = database.store.commit(() => database.store!.setMeta("reading", "1"));
      await settle();
      database.store.close();
      await waiting;
      expect(sync.now.length).to.equal(syncsBefore + 1);
      // The held background sync finishing late changes nothing.
      sync.held[0].release();
      await settle();
      database.store = undefined;
    });
  });

  describe("synchronous transactions (the chain worker, the CLI)", () => {
    it("syncs the WAL before returning, and throws StoreUnavailable when the sync fails", () => {
      let fail = false;
      const synced: number[] = [];
      database.store = GatewayStore.open(database.path, {
        walSync: {
          later: fsync,
          now(fd) {
            synced.push(fd);
            if (fail) throw eio();
            fsyncSync(fd);
          },
        },
      });
      database.store.transaction(() => database.store!.setMeta("batch", "1"));
      expect(synced).to.have.length(1);
      fail = true;
      expectCode(() => database.store!.transaction(() => database.store!.setMeta("batch", "2")), ApiError, "StoreUnavailable");
      expect(database.store.health.ok).to.equal(false);
    });
  });

  describe("durability normal", () => {
    it("never syncs: a commit is answered once SQLite committed it", async () => {
      const sync = heldSync();
      database.store = GatewayStore.open(database.path, { durability: "normal", walSync: sync.walSync });
      await database.store.commit(() => database.store!.setMeta("reading", "1"));
      database.store.transaction(() => database.store!.setMeta("batch", "1"));
      expect(sync.held).to.have.length(0);
      expect(sync.now).to.have.length(0);
    });
  });
});
