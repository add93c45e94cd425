// Prometheus metrics of one gateway instance (its own registry, so several gateways can share a
// process, as the scenario runner does). Counters of stored work move only once the work is
// committed: callers increment them through `GatewayStore.afterCommit`, never inside a unit of a
// commit that may still fail. Gauges are read from committed state when /metrics is scraped. Beside
// them: Node's process metrics (CPU, memory, event loop lag, GC, handles) and the HTTP latency
// histogram under the names dashboards and alerts already expect.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AggregationHealth } from "./aggregation.js";

export type GatewayMetrics = ReturnType<typeof createMetrics>;

/** What /metrics reads from committed state at each scrape; `checkpoints`: the checkpoint thread's counts, absent without one. */
export type GaugeValues = {
  pendingMessages: number;
  openBatches: number;
  chainUp: boolean;
  storeUp: boolean;
  indexedBlock: bigint;
  sessions: number;
  checkpoints?: { checkpoints: number; failures: number };
  /** With `aggregation: on`. */
  aggregation?: AggregationHealth;
};

/** `aggregation`: the gateway runs with `aggregation: on` (`parent`: with a parentUrl), so its series are exported. */
export function createMetrics(readGauges: () => GaugeValues, { aggregation }: { aggregation?: { parent: boolean } } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // `route` is the route's pattern, or `unmatched` for every URL no route serves: a scanner's
  // random paths cannot grow the label set. Its `_count` is the request counter.
  const requestSeconds = new Histogram({
    name: "http_request_duration_seconds",
    help: "Device-facing HTTP requests: latency by method, route pattern and status code",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const rejections = new Counter({ name: "iomt_gateway_rejections_total", help: "Refused requests by error code", labelNames: ["code"] as const, registers: [registry] });
  const messagesAccepted = new Counter({ name: "iomt_gateway_messages_accepted_total", help: "Data messages verified, committed to the store and acknowledged", registers: [registry] });
  const messagesOnChain = new Counter({ name: "iomt_gateway_messages_on_chain_total", help: "Acknowledged messages now on chain, by route", labelNames: ["route"] as const, registers: [registry] });
  const batchesAnchored = new Counter({ name: "iomt_gateway_batches_anchored_total", help: "Batches anchored on chain", registers: [registry] });
  const associationsRelayed = new Counter({ name: "iomt_gateway_associations_relayed_total", help: "Associations relayed and mined", registers: [registry] });
  const ticketsIssued = new Counter({ name: "iomt_gateway_tickets_issued_total", help: "Tokens issued to enrolled devices", registers: [registry] });
  const chainErrors = new Counter({ name: "iomt_gateway_chain_errors_total", help: "Failed chain worker passes (each one backs off)", registers: [registry] });
  const keyExchanges = new Counter({ name: "iomt_gateway_key_exchanges_total", help: "Handshakes that reached the key exchange (ECDH and the Master's signature)", registers: [registry] });
  const pending = new Gauge({ name: "iomt_gateway_pending_messages", help: "Acknowledged messages not yet in a batch or relayed", registers: [registry] });
  const openBatches = new Gauge({ name: "iomt_gateway_open_batches", help: "Batches cut but not yet anchored", registers: [registry] });
  const chainUp = new Gauge({ name: "iomt_gateway_chain_up", help: "1 when the last chain worker pass succeeded", registers: [registry] });
  const storeUp = new Gauge({ name: "iomt_gateway_store_up", help: "1 unless the store's last commit failed (disk full, I/O error); /health/ready answers 503 while it is 0", registers: [registry] });
  const indexedBlock = new Gauge({ name: "iomt_gateway_indexed_block", help: "Last block the AuthTable mirror indexed", registers: [registry] });
  const sessions = new Gauge({ name: "iomt_gateway_sessions", help: "Established, unexpired sessions", registers: [registry] });
  // The checkpoint thread's own counts (store.checkpoints), carried into counters at each scrape.
  const checkpoints = new Counter({ name: "iomt_gateway_store_checkpoints_total", help: "Write-ahead log checkpoints the checkpoint thread completed", registers: [registry] });
  const checkpointFailures = new Counter({
    name: "iomt_gateway_store_checkpoint_failures_total",
    help: "Checkpoints that failed (logged; the log keeps every page, nothing is lost, and the store's status does not change)",
    registers: [registry],
  });
  const carried = { checkpoints: 0, failures: 0 };
  // The disk's fsync latency, which every acknowledgement waits for (durability full), by the
  // thread that waited: `main` is the event loop, which a serving gateway never blocks on the disk
  // (docs: Monitoring). Both series exist from the start. Buckets from 1 ms to 8 s, as etcd's WAL fsync histogram.
  const walFsyncSeconds = new Histogram({
    name: "iomt_gateway_store_wal_fsync_seconds",
    help: "fsyncs of the write-ahead log (durability full; failed ones too), by the thread that waited: pool (libuv's thread pool, the group commit) or main (the event loop, blocked meanwhile)",
    labelNames: ["thread"] as const,
    buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192],
    registers: [registry],
  });
  for (const thread of ["pool", "main"] as const) walFsyncSeconds.zero({ thread });
  // Hierarchical anchoring (aggregation.ts), with `aggregation: on` only: a gateway without it exports none of these.
  const aggregating = aggregation === undefined ? [] : [registry];
  const handoverRoots = new Gauge({ name: "iomt_gateway_handover_roots", help: "Batch roots held for hierarchical anchoring and not anchored yet, by state (waiting, handed, aggregated)", labelNames: ["status"] as const, registers: aggregating });
  const handoverOldest = new Gauge({ name: "iomt_gateway_handover_oldest_seconds", help: "Age of the oldest batch root held and not anchored yet (0 when none is)", registers: aggregating });
  const parentUp = new Gauge({ name: "iomt_gateway_parent_up", help: "1 when the last exchange with the parent gateway succeeded", registers: aggregation?.parent === true ? [registry] : [] });
  // Where a request's time goes, beside its whole latency above: the two waits a data request has
  // (docs/benchmarks.md, "Where a request's time goes"). Unlabelled: one series each.
  const verifySeconds = new Histogram({
    name: "iomt_gateway_verify_seconds",
    help: "Data requests: from handing their messages to the signature verifier (the verifier threads, or the main thread) to having every verdict, waiting included",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const commitSeconds = new Histogram({
    name: "iomt_gateway_commit_seconds",
    help: "Sealed requests: from their work queued for the group commit to the commit that holds it being done (with durability full, the write-ahead log synced), waiting included",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });

  return {
    registry,
    requestSeconds,
    rejections,
    messagesAccepted,
    messagesOnChain,
    batchesAnchored,
    associationsRelayed,
    ticketsIssued,
    chainErrors,
    keyExchanges,
    verifySeconds,
    commitSeconds,
    walFsyncSeconds,
    refreshGauges(): void {
      const values = readGauges();
      pending.set(values.pendingMessages);
      openBatches.set(values.openBatches);
      chainUp.set(values.chainUp ? 1 : 0);
      storeUp.set(values.storeUp ? 1 : 0);
      indexedBlock.set(Number(values.indexedBlock));
      sessions.set(values.sessions);
      if (values.checkpoints !== undefined) {
        checkpoints.inc(values.checkpoints.checkpoints - carried.checkpoints);
        checkpointFailures.inc(values.checkpoints.failures - carried.failures);
        carried.checkpoints = values.checkpoints.checkpoints;
        carried.failures = values.checkpoints.failures;
      }
      if (values.aggregation !== undefined) {
        const { roots, oldestOpenMs, parentUp: up } = values.aggregation;
        for (const [status, count] of Object.entries(roots)) handoverRoots.set({ status }, count);
        handoverOldest.set((oldestOpenMs ?? 0) / 1_000);
        if (up !== null) parentUp.set(up ? 1 : 0);
      }
    },
  };
}
