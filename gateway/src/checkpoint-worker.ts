// The checkpointer's thread (checkpointer.ts): its own connection to the gateway's database, on
// which it runs SQLite's PASSIVE checkpoint when asked — copying the write-ahead log's pages into
// the database file and syncing that file — so the main thread's commits never wait on it. It
// writes nothing else, and PASSIVE never blocks the gateway's writer.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

if (parentPort === null) throw new Error("checkpoint-worker runs as a worker thread of the gateway");
const port = parentPort;
const { path } = workerData as { path: string };
// A connection per checkpoint, closed at once: between checkpoints this thread holds nothing open,
// so when the gateway closes its own connection it is the last one, and SQLite checkpoints and
// removes the log as it does without this thread.
port.on("message", () => {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    // NORMAL, as the writer: SQLite syncs the database file at the end of each checkpoint, before the log can be reused.
    db.pragma("synchronous = NORMAL");
    const [result] = db.pragma("wal_checkpoint(PASSIVE)") as { busy: number; log: number; checkpointed: number }[];
    port.postMessage({ result });
  } catch (error) {
    port.postMessage({ error: { message: (error as Error).message, code: (error as { code?: string }).code ?? null } });
  } finally {
    db?.close();
  }
});
port.postMessage({ ready: true });
