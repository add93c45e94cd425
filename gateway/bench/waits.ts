// Where a gateway's requests waited during a slice of load (figures, not a test), read from the
// gateway's own metrics before and after it: the mean time a data request waited for its
// signature verdicts (iomt_gateway_verify_seconds) and a sealed request for the commit that holds
// its work (iomt_gateway_commit_seconds; with durability full, until the write-ahead log is
// synced); and the write-ahead log's fsyncs on the thread pool in that time
// (iomt_gateway_store_wal_fsync_seconds{thread="pool"}): their mean, and how many took over 256 ms.
// A gateway that does not export them (the landed one, and older builds) gives null.
import { samples } from "../test/support/admin.js";

/** Milliseconds per request over a slice; null where the gateway does not export the histogram. */
export type Waits = { verifyMs: number | null; commitMs: number | null; fsyncMs: number | null; slowFsyncs: number | null };

type Totals = Record<"verify" | "commit" | "fsync", { sum: number; count: number } | undefined> & { fastFsyncs: number | undefined };

async function readTotals(adminUrl: string): Promise<Totals> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples(text, name).find((sample) => Object.entries(labels).every(([key, label]) => sample.labels[key] === label))?.value;
  const histogram = (name: string, labels: Record<string, string> = {}) => {
    const [sum, count] = [value(`${name}_sum`, labels), value(`${name}_count`, labels)];
    return sum === undefined || count === undefined ? undefined : { sum, count };
  };
  return {
    verify: histogram("iomt_gateway_verify_seconds"),
    commit: histogram("iomt_gateway_commit_seconds"),
    fsync: histogram("iomt_gateway_store_wal_fsync_seconds", { thread: "pool" }),
    fastFsyncs: value("iomt_gateway_store_wal_fsync_seconds_bucket", { le: "0.256", thread: "pool" }),
  };
}

/** Reads the gateway's totals now; `end()` reads them again and gives the means over the requests in between. */
export async function measureWaits(adminUrl: string): Promise<{ end(): Promise<Waits> }> {
  const before = await readTotals(adminUrl);
  return {
    async end() {
      const after = await readTotals(adminUrl);
      const mean = (key: "verify" | "commit" | "fsync") => {
        const [from, to] = [before[key], after[key]];
        if (from === undefined || to === undefined || to.count === from.count) return null;
        return Number(((1000 * (to.sum - from.sum)) / (to.count - from.count)).toFixed(1));
      };
      const slowFsyncs =
        before.fsync === undefined || after.fsync === undefined || before.fastFsyncs === undefined || after.fastFsyncs === undefined
          ? null
          : after.fsync.count - before.fsync.count - (after.fastFsyncs - before.fastFsyncs);
      return { verifyMs: mean("verify"), commitMs: mean("commit"), fsyncMs: mean("fsync"), slowFsyncs };
    },
  };
}

/** A server's waits over its slices, averaged (slow fsyncs summed): "verification 22.1 ms, commit 25.3 ms; WAL fsync 12.0 ms, 0 over 256 ms", or "" when it exports none. */
export function waitsLine(waits: readonly Waits[]): string {
  const mean = (pick: (w: Waits) => number | null) => {
    const values = waits.map(pick).filter((value) => value !== null);
    return values.length === 0 ? null : (values.reduce((sum, value) => sum + value, 0) / values.length).toFixed(1);
  };
  const [verify, commit, fsync] = [mean((w) => w.verifyMs), mean((w) => w.commitMs), mean((w) => w.fsyncMs)];
  if (verify === null && commit === null) return "";
  const slow = waits.some((w) => w.slowFsyncs !== null) ? waits.reduce((sum, w) => sum + (w.slowFsyncs ?? 0), 0) : null;
  const fsyncs = fsync === null ? "" : `; WAL fsync on the thread pool ${fsync} ms, ${slow ?? "n/a"} over 256 ms`;
  return `  mean wait per request, from its metrics: verification ${verify ?? "n/a"} ms, commit ${commit ?? "n/a"} ms${fsyncs}`;
}
