// Checkpoints of the write-ahead log on their own thread (checkpointer.ts, the store's
// `checkpointThread`): the gateway's commits no longer copy the log into the database file and
// fsync it on the main thread. The properties: the thread checkpoints what the commits wrote, and
// nothing written is lost (read back after reopening); the log is reused once checkpointed, so it
// does not grow with what was written; a checkpoint that fails is counted and logged and loses
// nothing; the gateway's connection is still the last to close, so SQLite removes the log as
// before. Real files, a real worker thread.
import { expect } from "chai";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { Checkpointer } from "../src/checkpointer.js";
import { GatewayStore } from "../src/store.js";
import { freshDatabase } from "./support/database.js";
import { eventually } from "./support/harness.js";

/** About 64 pages of the log per commit: 16 values of 16 KiB. */
const VALUES_PER_COMMIT = 16;
const value = (commit: number, i: number) => `${commit}:${i}:`.padEnd(16 * 1024, "x");

async function writeCommits(store: GatewayStore, from: number, count: number): Promise<void> {
  for (let commit = from; commit < from + count; commit++) {
    await store.commit(() => {
      for (let i = 0; i < VALUES_PER_COMMIT; i++) store.setMeta(`reading-${commit}-${i}`, value(commit, i));
    });
  }
}

describe("gateway store: write-ahead log checkpoints on their own thread", () => {
  const database = freshDatabase("iomt-gateway-checkpoint-");

  describe("with checkpointThread (the gateway)", () => {
    it("checkpoints what the commits wrote into the database file, and everything reads back after reopening", async () => {
      database.store = GatewayStore.open(database.path, { checkpointThread: true });
      const before = statSync(database.path).size;
      await writeCommits(database.store, 0, 40);
      await eventually("a checkpoint on the thread", () => ((database.store!.checkpoints?.checkpoints ?? 0) > 0 ? true : undefined));
      // The database file itself holds the readings now, not only the log.
      await eventually("the readings copied into the database file", () => (statSync(database.path).size > before + 1024 * 1024 ? true : undefined));
      database.store.close();
      database.store = GatewayStore.open(database.path);
      for (let commit = 0; commit < 40; commit++) expect(database.store.getMeta(`reading-${commit}-15`), `commit ${commit}`).to.equal(value(commit, 15));
    });

    it("reuses the log once the thread checkpointed it: the log does not grow with what was written", async () => {
      database.store = GatewayStore.open(database.path, { checkpointThread: true });
      const logSizes: number[] = [];
      for (let round = 0; round < 4; round++) {
        await writeCommits(database.store, round * 20, 20); // about 1,300 pages, past SQLite's default threshold of 1,000
        await eventually("the round checkpointed", () => (database.store!.checkpoints!.busy ? undefined : true));
        logSizes.push(statSync(`${database.path}-wal`).size);
      }
      // Each round's commits start the log again from its beginning: it holds about one round, not four.
      const oneRound = 20 * VALUES_PER_COMMIT * 16 * 1024;
      expect(Math.max(...logSizes), `log sizes ${logSizes.join(", ")}`).to.be.below(2 * oneRound);
      expect(database.store.checkpoints).to.deep.include({ failures: 0, lastError: null, running: true, busy: false });
    });

    it("closes as before: the gateway's connection is the last, so SQLite checkpoints and removes the log", async () => {
      database.store = GatewayStore.open(database.path, { checkpointThread: true });
      await writeCommits(database.store, 0, 5);
      expect(existsSync(`${database.path}-wal`)).to.equal(true);
      database.store.close();
      database.store = undefined;
      expect(existsSync(`${database.path}-wal`)).to.equal(false);
    });
  });

  describe("a checkpoint that fails", () => {
    it("is counted and logged, and the thread goes on taking requests", async () => {
      const warnings: object[] = [];
      const checkpointer = new Checkpointer(join(database.dir, "no-such.db"), { warn: (object) => void warnings.push(object) });
      try {
        checkpointer.request();
        await eventually("the failure", () => (checkpointer.status().failures === 1 ? true : undefined));
        expect(checkpointer.status()).to.deep.include({ checkpoints: 0, running: true }).and.to.have.property("lastError").that.matches(/SQLITE_CANTOPEN/);
        expect(warnings).to.have.length(1);
        checkpointer.request();
        await eventually("the second failure", () => (checkpointer.status().failures === 2 ? true : undefined));
      } finally {
        await checkpointer.close();
      }
    });
  });

  describe("without checkpointThread (the CLI's commands)", () => {
    it("leaves checkpoints to SQLite, and reports no thread", async () => {
      database.store = GatewayStore.open(database.path);
      await writeCommits(database.store, 0, 2);
      expect(database.store.checkpoints).to.equal(undefined);
    });
  });
});
