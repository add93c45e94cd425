// The pool of verifier threads (`verifierThreads`, default: the cores Node reports less one). Started with
// the gateway, before it listens; terminated by `close()`, so no thread outlives the gateway. A
// request's messages wait for the end of the event-loop turn, and the messages of every request
// that arrived in the turn go to the least busy workers together, in batches of at least MIN_BATCH
// messages: one hand-off (one thread woken) per worker and turn rather than per request, which cut
// the gateway's CPU per message by about a tenth (docs/benchmarks.md). Each request gets its own
// verdicts back, in order. A worker that dies (a crash, an out-of-memory kill) fails every request
// with a message in the batch it held with `VerifierUnavailable` (503, retryable: nothing was
// stored) and is replaced at once; readiness is 503 until every worker answers again. Home-made rather than piscina: the pool
// is small, and the gateway needs each crash to fail exactly the requests it hit, with its own code.
import { EventEmitter } from "node:events";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { WireSignedDataMessage } from "@iomt-auth/sdk";
import { apiError } from "./errors.js";
import type { DataVerifier, Verdict, VerifierOptions, VerifierStatus } from "./verifier.js";

/** Fewer messages than this are not split across workers: the hand-off would cost more than it saves. */
const MIN_BATCH = 16;
/** A replacement that dies before it answers once is retried after this long, not in a loop. */
const RESPAWN_DELAY_MS = 1_000;

// From the sources (tests, benchmarks under tsx) the worker is TypeScript and needs tsx's loader too.
const runningFromSources = fileURLToPath(import.meta.url).endsWith(".ts");
const workerFile = new URL(runningFromSources ? "./verify-worker.ts" : "./verify-worker.js", import.meta.url);
const workerExecArgv = runningFromSources ? [...process.execArgv, "--import", import.meta.resolve("tsx/esm")] : process.execArgv;

const shuttingDown = () => apiError("VerifierUnavailable", "the gateway is shutting down; retry shortly", { retryAfterMs: 1_000 });
const noVerifier = () => apiError("VerifierUnavailable", "no signature verifier thread is running; retry shortly", { retryAfterMs: 1_000 });

type Task = { resolve(verdicts: Verdict[]): void; reject(error: Error): void };
type Request = Task & { messages: readonly WireSignedDataMessage[] };
type Slot = { worker: Worker; ready: boolean; pending: Map<number, Task> };

export type VerifierPoolOptions = VerifierOptions & {
  threads: number;
  log?: { warn(object: object, message: string): void; error(object: object, message: string): void };
};

/**
 * Emits `crash` (`{ threadId, code, error }`) when a worker dies, and `dispatch` (`worker`,
 * `messages`) when a batch is posted to a worker: for observers, such as a test that kills the worker.
 */
export class VerifierPool extends EventEmitter implements DataVerifier {
  private readonly options: VerifierPoolOptions;
  private readonly slots = new Set<Slot>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextId = 0;
  /** Requests of this turn, handed to the workers together at its end. */
  private waiting: Request[] = [];
  private dispatchScheduled = false;
  private crashes = 0;
  private closing = false;
  private native: Pick<VerifierStatus, "nativeSecp256k1" | "keccak"> = { nativeSecp256k1: false, keccak: "noble" };

  private constructor(options: VerifierPoolOptions) {
    super();
    this.options = options;
  }

  /** Starts `threads` workers and resolves once each answered; rejects (with none left running) when one cannot start. */
  static async start(options: VerifierPoolOptions): Promise<VerifierPool> {
    if (!Number.isSafeInteger(options.threads) || options.threads < 1) throw new RangeError("a verifier pool has at least one thread");
    const pool = new VerifierPool(options);
    try {
      await Promise.all(Array.from({ length: options.threads }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  async verify(messages: readonly WireSignedDataMessage[]): Promise<Verdict[]> {
    if (this.closing) throw shuttingDown();
    if (this.slots.size === 0) throw noVerifier();
    return new Promise<Verdict[]>((resolve, reject) => {
      this.waiting.push({ messages, resolve, reject });
      if (!this.dispatchScheduled) {
        this.dispatchScheduled = true;
        setImmediate(() => this.dispatch());
      }
    });
  }

  /** Hands this turn's requests to the least busy workers together. */
  private dispatch(): void {
    this.dispatchScheduled = false;
    const requests = this.waiting;
    this.waiting = [];
    const idle = [...this.slots].sort((a, b) => a.pending.size - b.pending.size);
    if (this.closing || idle.length === 0) {
      const refusal = this.closing ? shuttingDown() : noVerifier();
      for (const request of requests) request.reject(refusal);
      return;
    }
    const messages = requests.flatMap((request) => request.messages);
    const batches = Math.min(idle.length, Math.max(1, Math.ceil(messages.length / MIN_BATCH)));
    const size = Math.ceil(messages.length / batches);
    const answers = idle.slice(0, batches).map((slot, i) => this.post(slot, messages.slice(i * size, (i + 1) * size)));
    void Promise.all(answers).then(
      (parts) => {
        const verdicts = parts.flat();
        let offset = 0;
        for (const request of requests) {
          request.resolve(verdicts.slice(offset, offset + request.messages.length));
          offset += request.messages.length;
        }
      },
      (error: Error) => {
        for (const request of requests) request.reject(error);
      },
    );
  }

  status(): VerifierStatus {
    const alive = [...this.slots].filter((slot) => slot.ready).length;
    return { threads: this.options.threads, alive, crashes: this.crashes, ...this.native };
  }

  /** Terminates every worker; batches still out fail with `VerifierUnavailable`. */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
  }

  private post(slot: Slot, messages: WireSignedDataMessage[]): Promise<Verdict[]> {
    const id = this.nextId++;
    return new Promise<Verdict[]>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      // Announced before it is posted: a listener that stops the worker (the crash test) does so before the batch can be answered.
      this.emit("dispatch", slot.worker, messages.length);
      slot.worker.postMessage({ id, messages });
    });
  }

  /** One worker; resolves when it answered that it is ready, rejects when it dies before. */
  private spawn(): Promise<void> {
    const { domain, nativeSecp256k1, keccak } = this.options;
    const worker = new Worker(workerFile, { workerData: { domain, nativeSecp256k1, keccak } satisfies VerifierOptions, execArgv: workerExecArgv });
    const slot: Slot = { worker, ready: false, pending: new Map() };
    const { threadId } = worker; // -1 once the thread exited
    this.slots.add(slot);
    let lastError: Error | undefined;
    return new Promise<void>((resolve, reject) => {
      worker.on("message", (answer: { ready: VerifierPool["native"] } | { id: number; verdicts: Verdict[] }) => {
        if ("ready" in answer) {
          slot.ready = true;
          this.native = answer.ready;
          return resolve();
        }
        const task = slot.pending.get(answer.id);
        slot.pending.delete(answer.id);
        task?.resolve(answer.verdicts);
      });
      worker.on("error", (error) => {
        lastError = error;
      });
      worker.on("exit", (code) => {
        this.slots.delete(slot);
        const failure = apiError("VerifierUnavailable", "the signature verifier thread handling this request stopped; nothing was stored, retry", { retryAfterMs: 1_000 });
        for (const task of slot.pending.values()) task.reject(failure);
        slot.pending.clear();
        if (this.closing) return;
        this.crashes++;
        this.options.log?.error({ threadId, exitCode: code, err: lastError }, "a verifier thread died: its requests were refused with VerifierUnavailable, starting a replacement");
        this.emit("crash", { threadId, code, error: lastError });
        if (!slot.ready) return reject(lastError ?? new Error(`the verifier thread exited (code ${code}) before it was ready`));
        this.replace();
      });
    });
  }

  private replace(): void {
    this.spawn().catch((error: unknown) => {
      if (this.closing) return;
      this.options.log?.warn({ err: error }, `a replacement verifier thread did not start; trying again in ${RESPAWN_DELAY_MS} ms`);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.closing) this.replace();
      }, RESPAWN_DELAY_MS);
      this.timers.add(timer);
    });
  }
}
