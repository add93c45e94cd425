// The Blockchain Gateway half: one worker that owns every transaction the Master key sends, so
// nonces never race. Each tick it syncs the AuthTable mirror, relays queued associations,
// confirms submitted ones, anchors waiting messages in batches (by size or age) or relays them one
// by one (policy `relay`), and confirms what it sent. Every step's progress is in the store before
// the next step starts, so a crash at any point resumes where it stopped; a chain error backs the
// whole worker off (doubling, capped) and nothing acknowledged is dropped.
import { getTransactionReceipt, waitForTransactionReceipt } from "viem/actions";
import type { Hash, Hex } from "viem";
import {
  anchorBatch,
  associateBatch,
  associateFor,
  buildBatchTree,
  ContractRuleError,
  fromWireAssociation,
  recordData,
  type ReadClient,
  type WireAssociation,
  type WriteClient,
} from "@iomt-auth/sdk";
import type { GatewayConfig } from "./config.js";
import type { GatewayMetrics } from "./metrics.js";
import type { AuthTableMirror } from "./mirror.js";
import type { AssociationRow, BatchRow, GatewayStore, MessageRow } from "./store.js";

/** Associations relayed in one `associateBatch` (all or nothing on chain). */
const ASSOCIATION_BATCH_LIMIT = 32;
/** Rounds of association or relay submissions per tick, so a node that keeps dropping transactions can't hold a tick forever. */
const SUBMISSION_ROUNDS_PER_TICK = 16;
/** How long one tick waits for a transaction it just sent before leaving it for the next tick. */
const RECEIPT_TIMEOUT_MS = 30_000;

export type Logger = { info(object: object, message: string): void; warn(object: object, message: string): void; error(object: object, message: string): void };

export type ChainWorkerParameters = {
  config: GatewayConfig;
  publicClient: ReadClient;
  walletClient: WriteClient;
  store: GatewayStore;
  mirror: AuthTableMirror;
  metrics: GatewayMetrics;
  log: Logger;
};

export class ChainWorker {
  private readonly p: ChainWorkerParameters;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  private wakeRequested = false;
  /** False after a failed chain call, until a tick succeeds. */
  chainUp = true;
  lastError: string | undefined;

  constructor(parameters: ChainWorkerParameters) {
    this.p = parameters;
  }

  start(): void {
    this.schedule(0);
  }

  /** Runs a tick soon (new work arrived), unless the worker is backing off. */
  wake(): void {
    if (this.failures > 0 || this.stopped) return;
    if (this.running !== undefined) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  /** Stops scheduling and waits for the tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One full pass (also used by tests and the CLI to drain work deterministically). */
  tick(): Promise<void> {
    this.running ??= this.runTick().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick().then(() => {
        const again = this.wakeRequested;
        this.wakeRequested = false;
        this.schedule(this.failures > 0 ? this.backoffDelay() : again ? 0 : this.p.config.pollIntervalMs);
      });
    }, delay);
  }

  private backoffDelay(): number {
    const { retryBaseMs, retryMaxMs } = this.p.config;
    return Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(this.failures - 1, 20));
  }

  private async runTick(): Promise<void> {
    try {
      await this.p.mirror.sync();
      await this.confirmAssociations();
      await this.submitAssociations();
      await this.confirmRelays();
      if (this.p.config.policy === "relay") await this.relayMessages();
      this.createBatches();
      await this.sendBatches();
      if (!this.chainUp) this.p.log.info({ after: this.failures }, "chain reachable again");
      this.failures = 0;
      this.chainUp = true;
      this.lastError = undefined;
    } catch (error) {
      this.failures++;
      this.chainUp = false;
      this.lastError = error instanceof Error ? error.message.split("\n")[0] : String(error);
      this.p.metrics.chainErrors.inc();
      this.p.log.warn({ failures: this.failures, retryInMs: this.backoffDelay(), error: this.lastError }, "chain work failed; backing off");
    }
  }

  // ------------------------------------------------------------------------- associations

  private async submitAssociations(): Promise<void> {
    const { store, walletClient, config } = this.p;
    for (let round = 0; round < SUBMISSION_ROUNDS_PER_TICK; round++) {
      const queued = store.associationsWithStatus("queued", ASSOCIATION_BATCH_LIMIT);
      if (queued.length === 0) return;
      const associations = queued.map((row) => fromWireAssociation(JSON.parse(row.request) as WireAssociation));
      try {
        const hash =
          associations.length === 1
            ? await associateFor(walletClient, { registry: config.registry, association: associations[0] })
            : await associateBatch(walletClient, { registry: config.registry, associations });
        store.transaction(() => queued.forEach((row) => store.setAssociation({ device: row.device, status: "submitted", tx_hash: hash })));
        this.p.log.info({ count: queued.length, tx: hash }, "associations relayed");
        await this.confirmAssociationTx(hash, queued);
      } catch (error) {
        if (!(error instanceof ContractRuleError)) throw error;
        if (queued.length === 1) {
          this.rejectAssociation(queued[0], error);
        } else {
          // A batch is all or nothing: find the broken request by relaying one at a time.
          await this.submitOneByOne(queued);
        }
      }
    }
  }

  private async submitOneByOne(rows: AssociationRow[]): Promise<void> {
    const { store, walletClient, config } = this.p;
    for (const row of rows) {
      try {
        const hash = await associateFor(walletClient, { registry: config.registry, association: fromWireAssociation(JSON.parse(row.request) as WireAssociation) });
        store.setAssociation({ device: row.device, status: "submitted", tx_hash: hash });
        await this.confirmAssociationTx(hash, [row]);
      } catch (error) {
        if (!(error instanceof ContractRuleError)) throw error;
        this.rejectAssociation(row, error);
      }
    }
  }

  private rejectAssociation(row: AssociationRow, error: ContractRuleError): void {
    this.p.store.setAssociation({ device: row.device, status: "rejected", error_code: error.code, error_message: error.message.split("\n")[0] });
    this.p.log.warn({ device: row.device, code: error.code }, "association rejected by the registry");
  }

  private async confirmAssociations(): Promise<void> {
    const submitted = this.p.store.associationsWithStatus("submitted", 1_000);
    const byTx = new Map<Hash, AssociationRow[]>();
    for (const row of submitted) byTx.set(row.tx_hash as Hash, [...(byTx.get(row.tx_hash as Hash) ?? []), row]);
    for (const [hash, rows] of byTx) await this.confirmAssociationTx(hash, rows, false);
  }

  private async confirmAssociationTx(hash: Hash, rows: readonly AssociationRow[], wait = true): Promise<void> {
    const { store } = this.p;
    const receipt = await this.receipt(hash, wait);
    if (receipt === undefined) return;
    if (receipt === "unknown" || receipt.status !== "success") {
      // Dropped (e.g. a chain reset) or reverted after the simulation passed: relay again, and
      // let the registry's rules decide.
      store.transaction(() => rows.forEach((row) => store.setAssociation({ device: row.device, status: "queued" })));
      return;
    }
    await this.p.mirror.sync();
    store.transaction(() => rows.forEach((row) => store.setAssociation({ device: row.device, status: "associated", tx_hash: hash })));
    this.p.metrics.associationsRelayed.inc(rows.length);
  }

  // ------------------------------------------------------------------------- relayed messages

  private async relayMessages(): Promise<void> {
    const { store, walletClient, config } = this.p;
    for (const gid of config.groups) {
      for (let round = 0; round < SUBMISSION_ROUNDS_PER_TICK * ASSOCIATION_BATCH_LIMIT; round++) {
        const [message] = store.pendingMessages(gid, "relay", 1);
        if (message === undefined) break;
        try {
          const hash = await recordData(walletClient, { registry: config.registry, signed: { message: messageOf(message), signature: message.signature } });
          store.setRelay({ id: message.id, status: "relaying", route: "relay", relay_tx: hash });
          await this.confirmRelay({ ...message, relay_tx: hash });
        } catch (error) {
          if (!(error instanceof ContractRuleError)) throw error;
          // The chain refuses it (deadline passed during an outage, nonce moved): the message was
          // acknowledged, so it is anchored in a batch instead.
          store.setRelay({ id: message.id, status: "pending", route: "anchor", relay_error: error.code });
          this.p.log.warn({ digest: message.digest, code: error.code }, "relay refused; the message will be anchored instead");
        }
      }
    }
  }

  private async confirmRelays(): Promise<void> {
    for (const message of this.p.store.relayingMessages()) await this.confirmRelay(message, false);
  }

  private async confirmRelay(message: MessageRow, wait = true): Promise<void> {
    const receipt = await this.receipt(message.relay_tx as Hash, wait);
    if (receipt === undefined) return;
    if (receipt === "unknown" || receipt.status !== "success") {
      this.p.store.setRelay({ id: message.id, status: "pending", route: receipt === "unknown" ? "relay" : "anchor", relay_error: receipt === "unknown" ? null : "TransactionReverted" });
      return;
    }
    this.p.store.setRelay({ id: message.id, status: "relayed", route: "relay", relay_tx: message.relay_tx, relay_block: receipt.blockNumber.toString() });
    this.p.metrics.messagesOnChain.inc({ route: "relay" });
  }

  // ------------------------------------------------------------------------- anchored batches

  /** Cuts batches of waiting messages: full ones, and a last partial one once its oldest message is old enough. */
  private createBatches(): void {
    const { store, config } = this.p;
    for (const gid of config.groups) {
      for (;;) {
        const { count, oldest } = store.pendingStats(gid, "anchor");
        if (count === 0) break;
        if (count < config.batchMaxMessages && Date.now() - (oldest ?? 0) < config.batchMaxAgeMs) break;
        const messages = store.pendingMessages(gid, "anchor", config.batchMaxMessages);
        const tree = buildBatchTree(messages.map((message) => message.digest));
        store.createBatch(gid, tree.root, messages);
      }
    }
  }

  private async sendBatches(): Promise<void> {
    const { store, walletClient, config, log } = this.p;
    for (const batch of store.openBatches()) {
      if (batch.status === "sent") {
        const receipt = await this.receipt(batch.tx_hash as Hash, false);
        if (receipt === undefined) continue;
        if (receipt !== "unknown" && receipt.status === "success") {
          this.markAnchored(batch, batch.tx_hash, receipt.blockNumber);
          continue;
        }
      }
      // Created, or sent but dropped or reverted: (re)send. A root already on chain counts as anchored.
      try {
        const hash = await anchorBatch(walletClient, { registry: config.registry, gid: batch.gid, root: batch.root, messageCount: batch.size });
        store.setBatch({ id: batch.id, status: "sent", tx_hash: hash });
        const receipt = await this.receipt(hash, true);
        if (receipt !== undefined && receipt !== "unknown" && receipt.status === "success") this.markAnchored(batch, hash, receipt.blockNumber);
      } catch (error) {
        if (!(error instanceof ContractRuleError)) throw error;
        if (error.code === "DataLedgerRootAlreadyAnchored") {
          this.markAnchored(batch, batch.tx_hash, undefined);
          continue;
        }
        // The key may no longer anchor for this group (hand-over, deactivation): the messages stay
        // stored and listed as a failed batch for an operator.
        store.setBatch({ id: batch.id, status: "failed", tx_hash: batch.tx_hash, error_code: error.code });
        log.error({ batch: batch.id, gid: batch.gid, code: error.code }, "the registry refuses this batch; its messages stay stored");
      }
    }
  }

  private markAnchored(batch: BatchRow, hash: Hex | null, blockNumber: bigint | undefined): void {
    this.p.store.setBatch({ id: batch.id, status: "anchored", tx_hash: hash, block_number: blockNumber?.toString() ?? null, anchored_at: Date.now() });
    this.p.metrics.batchesAnchored.inc();
    this.p.metrics.messagesOnChain.inc({ route: "anchor" }, batch.size);
    this.p.log.info({ batch: batch.id, size: batch.size, root: batch.root, tx: hash }, "batch anchored");
  }

  /**
   * The receipt of `hash`: waits for it when `wait`, else looks once. `undefined` = not mined yet
   * (leave it for the next tick), `"unknown"` = the node does not know the transaction at all.
   */
  private async receipt(hash: Hash, wait: boolean): Promise<Awaited<ReturnType<typeof getTransactionReceipt>> | "unknown" | undefined> {
    const { publicClient } = this.p;
    if (wait) {
      try {
        return await waitForTransactionReceipt(publicClient, { hash, timeout: RECEIPT_TIMEOUT_MS, pollingInterval: 100, retryCount: 0 });
      } catch (error) {
        if ((error as Error).name !== "WaitForTransactionReceiptTimeoutError") throw error;
        return undefined;
      }
    }
    try {
      return await getTransactionReceipt(publicClient, { hash });
    } catch (error) {
      if ((error as Error).name !== "TransactionReceiptNotFoundError") throw error;
      const known = await publicClient.request({ method: "eth_getTransactionByHash", params: [hash] });
      return known === null ? "unknown" : undefined;
    }
  }
}

/** The stored message as the SDK's DataMessage. */
export function messageOf(row: MessageRow) {
  return { gid: row.gid, oid: row.oid, nonce: BigInt(row.nonce), payloadHash: row.payload_hash, timestamp: BigInt(row.timestamp), deadline: BigInt(row.deadline) };
}
