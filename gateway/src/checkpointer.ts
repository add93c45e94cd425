// Checkpoints of the gateway's write-ahead log, off the main thread. SQLite's own automatic
// checkpoint runs inside the commit that crosses its threshold, on the writer's thread: it copies
// the log into the database file and fsyncs that file there, so every few commits the main thread
// waited on the disk for tens of milliseconds under load (docs/benchmarks.md, "Where a request's
// time goes"). The store asks this checkpointer after its commits instead; it runs SQLite's PASSIVE
// checkpoint on a thread with its own connection (checkpoint-worker.ts), at most one at a time and
// one every MIN_INTERVAL_MS, which never blocks the writer. The writer keeps SQLite's automatic
// checkpoint as a backstop at a higher threshold (BACKSTOP_PAGES), so the log stays bounded even if
// this thread dies or falls behind. A checkpoint that fails loses nothing: the log keeps every
// page until one succeeds; the failure is logged and counted in `status()`.
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/** The shortest time between two checkpoints: each one ends in an fsync of the database file, which shares the disk with the log's. */
const MIN_INTERVAL_MS = 250;
/** The writer's own automatic checkpoint, in pages (SQLite's default is 1,000): reached only when this thread falls behind. */
export const BACKSTOP_PAGES = 16_384;

const runningFromSources = fileURLToPath(import.meta.url).endsWith(".ts");
const workerFile = new URL(runningFromSources ? "./checkpoint-worker.ts" : "./checkpoint-worker.js", import.meta.url);
const workerExecArgv = runningFromSources ? [...process.execArgv, "--import", import.meta.resolve("tsx/esm")] : process.execArgv;

/** Checkpoints done and failed since start, the last failure's code, whether the thread runs, and whether a checkpoint runs or waits to. */
export type CheckpointerStatus = { checkpoints: number; failures: number; lastError: string | null; running: boolean; busy: boolean };
type Log = { warn(object: object, message: string): void };

export class Checkpointer {
  private readonly worker: Worker;
  private readonly log: Log | undefined;
  private inFlight = false;
  private wanted = false;
  private timer: NodeJS.Timeout | undefined;
  private lastStarted = 0;
  private alive = true;
  private readonly counts: Omit<CheckpointerStatus, "busy"> = { checkpoints: 0, failures: 0, lastError: null, running: true };

  constructor(path: string, log?: Log) {
    this.log = log;
    this.worker = new Worker(workerFile, { workerData: { path }, execArgv: workerExecArgv });
    // It must never keep a process alive on its own: the store's close() stops it.
    this.worker.unref();
    this.worker.on("message", (message: { ready: true } | { result: { busy: number; log: number; checkpointed: number } } | { error: { message: string; code: string | null } }) => {
      if ("ready" in message) return;
      this.inFlight = false;
      if ("error" in message) {
        this.counts.failures++;
        this.counts.lastError = message.error.code ?? message.error.message;
        this.log?.warn({ err: message.error }, "a WAL checkpoint failed; the log keeps every page until one succeeds");
      } else this.counts.checkpoints++;
      if (this.wanted) this.request();
    });
    this.worker.on("error", (error) => this.log?.warn({ err: error }, "the checkpoint thread failed; SQLite's automatic checkpoint takes over"));
    this.worker.on("exit", () => {
      this.alive = false;
      this.counts.running = false;
    });
  }

  /** Asks for a checkpoint: now if none runs and the last began long enough ago, else as soon as that holds. */
  request(): void {
    if (!this.alive) return;
    this.wanted = true;
    if (this.inFlight || this.timer !== undefined) return;
    const wait = this.lastStarted + MIN_INTERVAL_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.request();
      }, wait);
      this.timer.unref();
      return;
    }
    this.wanted = false;
    this.inFlight = true;
    this.lastStarted = performance.now();
    this.worker.postMessage("checkpoint");
  }

  status(): CheckpointerStatus {
    return { ...this.counts, busy: this.alive && (this.inFlight || this.wanted) };
  }

  /** Stops the thread (a checkpoint it is running finishes or is abandoned; either way nothing is lost). */
  close(): Promise<number> {
    this.alive = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    return this.worker.terminate();
  }
}
