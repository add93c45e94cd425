// Timing and printing helpers of the SDK benchmark (sdk-bench.ts): tinybench runs for the main
// table, interleaved slices for the before/after and keccak tables, and Markdown tables.
import { Bench, type Task } from "tinybench";

/**
 * For operations of a few µs, a sample is the mean of `inner` back-to-back calls, so the timer's
 * own cost does not dominate; the median is then taken over those samples.
 */
export function batched(inner: number, fn: () => unknown): () => { overriddenDuration: number; overriddenIterationCost: number } {
  return () => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) fn();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    return { overriddenDuration: elapsed / inner, overriddenIterationCost: elapsed };
  };
}

/** A timed operation of the main table: tinybench's task, and for whom it is work. */
export interface Row {
  task: Task;
  deviceSide: boolean;
  who: string;
}

/** Times `tasks` with tinybench under `options`; their rows, in order. */
export async function runBench(options: { time: number; iterations: number; warmupTime: number; warmupIterations: number }, tasks: { name: string; who: string; deviceSide: boolean; fn: () => unknown }[]): Promise<Row[]> {
  const bench = new Bench({ ...options, timestampProvider: "hrtimeNow", throws: true });
  for (const { name, fn } of tasks) bench.add(name, fn as () => void);
  await bench.run();
  return tasks.map(({ name, who, deviceSide }) => ({ task: bench.getTask(name)!, who, deviceSide }));
}

export const medianMs = (task: Task): number => {
  const result = task.result;
  if (result.state !== "completed") throw new Error(`${task.name}: ${result.state === "errored" ? result.error.message : result.state}`);
  return result.latency.p50;
};

export const fmt = (value: number, digits = 1): string => value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const fmtInt = (value: number): string => Math.round(value).toLocaleString("en-US");

export function table(headers: string[], body: string[][], alignRight: boolean[]): string {
  const widths = headers.map((header, c) => Math.max(header.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) => "| " + cells.map((cell, c) => (alignRight[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join(" | ") + " |";
  return [line(headers), "| " + widths.map((w, c) => (alignRight[c] ? "-".repeat(w - 1) + ":" : "-".repeat(w))).join(" | ") + " |", ...body.map(line)].join("\n");
}

/**
 * Median µs/op of each task, timed in `rounds` slices of about `sliceMs`, the tasks interleaved
 * (A B C, A B C, …) so that a shared machine's drift hits each alike; the median of the slices'
 * medians. A slice runs at least one call; `inner` calls are timed together for sub-µs work.
 */
export async function interleaved(tasks: { name: string; fn: () => unknown; inner?: number }[], rounds: number, sliceMs: number): Promise<Map<string, number>> {
  const perRound = new Map<string, number[]>(tasks.map((task) => [task.name, []]));
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  for (const task of tasks) for (let i = 0; i < 3; i++) await task.fn(); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const { name, fn, inner = 1 } of tasks) {
      const samples: number[] = [];
      const end = performance.now() + sliceMs;
      do {
        const start = process.hrtime.bigint();
        for (let i = 0; i < inner; i++) {
          const result = fn();
          if (result instanceof Promise) await result;
        }
        samples.push(Number(process.hrtime.bigint() - start) / 1e3 / inner);
      } while (performance.now() < end);
      perRound.get(name)!.push(median(samples));
    }
  }
  return new Map([...perRound].map(([name, values]) => [name, median(values)]));
}
