// Where a gateway's requests waited during a slice of load (figures, not a test), read from the
// gateway's own metrics before and after it: the mean time a data request waited for its
// signature verdicts (iomt_gateway_verify_seconds) and a sealed request for the commit that holds
// its work (iomt_gateway_commit_seconds; with durability full, until the write-ahead log is
// synced). A gateway that does not export them (the landed one) gives null.

/** Milliseconds per request over a slice; null where the gateway does not export the histogram. */
export type Waits = { verifyMs: number | null; commitMs: number | null };

type Totals = Record<"verify" | "commit", { sum: number; count: number } | undefined>;

async function readTotals(adminUrl: string): Promise<Totals> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const histogram = (name: string) => {
    const sum = new RegExp(`^${name}_sum (\\S+)$`, "m").exec(text)?.[1];
    const count = new RegExp(`^${name}_count (\\S+)$`, "m").exec(text)?.[1];
    return sum === undefined || count === undefined ? undefined : { sum: Number(sum), count: Number(count) };
  };
  return { verify: histogram("iomt_gateway_verify_seconds"), commit: histogram("iomt_gateway_commit_seconds") };
}

/** Reads the gateway's totals now; `end()` reads them again and gives the means over the requests in between. */
export async function measureWaits(adminUrl: string): Promise<{ end(): Promise<Waits> }> {
  const before = await readTotals(adminUrl);
  return {
    async end() {
      const after = await readTotals(adminUrl);
      const mean = (key: keyof Totals) => {
        const [from, to] = [before[key], after[key]];
        if (from === undefined || to === undefined || to.count === from.count) return null;
        return Number(((1000 * (to.sum - from.sum)) / (to.count - from.count)).toFixed(1));
      };
      return { verifyMs: mean("verify"), commitMs: mean("commit") };
    },
  };
}

/** A server's waits over its slices, averaged: "verification 22.1 ms, commit 25.3 ms", or "" when it exports none. */
export function waitsLine(waits: readonly Waits[]): string {
  const mean = (pick: (w: Waits) => number | null) => {
    const values = waits.map(pick).filter((value) => value !== null);
    return values.length === 0 ? null : (values.reduce((sum, value) => sum + value, 0) / values.length).toFixed(1);
  };
  const [verify, commit] = [mean((w) => w.verifyMs), mean((w) => w.commitMs)];
  if (verify === null && commit === null) return "";
  return `  mean wait per request, from its metrics: verification ${verify ?? "n/a"} ms, commit ${commit ?? "n/a"} ms`;
}
