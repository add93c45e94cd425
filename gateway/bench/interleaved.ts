// Interleaved rounds for the gateway's micro-benchmarks (figures, not a test): one warm-up round of
// each case (JIT), then rounds in which every case runs once in turn, back to back, so that what
// else the shared machine does falls on all cases alike. Each case's figure is its median time per
// item over the rounds, with the min–max beside it.

/** A case: `run` does `items` items of work (signatures, messages) once. */
export type InterleavedCase = { name: string; items: number; run: () => void };

/** Microseconds per item of one case: the median over the rounds, and the fastest and slowest round. */
export type InterleavedResult = { name: string; median: number; min: number; max: number };

/** Runs the cases in interleaved rounds; the results are in the cases' order. */
export function runInterleaved(cases: readonly InterleavedCase[], rounds: number): InterleavedResult[] {
  const timeOnce = ({ items, run }: InterleavedCase): number => {
    const started = process.hrtime.bigint();
    run();
    return Number(process.hrtime.bigint() - started) / 1_000 / items;
  };
  for (const entry of cases) timeOnce(entry);
  const times = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) cases.forEach((entry, i) => times[i].push(timeOnce(entry)));
  return cases.map(({ name }, i) => {
    const sorted = times[i].sort((a, b) => a - b);
    return { name, median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
  });
}

/** Prints `header`, then one line per case: its median µs per item and the min–max over the rounds. */
export function printInterleaved(header: string, results: readonly InterleavedResult[]): void {
  console.log(header);
  for (const { name, median, min, max } of results) console.log(`  ${median.toFixed(1).padStart(8)} µs  (${min.toFixed(1)}–${max.toFixed(1)})  ${name}`);
}
