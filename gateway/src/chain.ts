// The Blockchain Gateway half: one worker that owns every transaction the Master key sends, so
// nonces never race. Each tick it syncs the AuthTable mirror, relays queued associations in one
// `associateBatchBySig`, confirms submitted ones, anchors waiting messages in batches (by size or
// age) or relays them with `recordDataBatchBySig` (policy `relay`), and confirms what it sent.
// Batches never revert for one bad item: each item's outcome is read from the receipt
// (`getBatchItemResults`) — applied or already applied (someone relayed the same signed request
// first) counts as done, a rejected item is reported with the registry rule it broke. Every step's
// progress is in the store before the next step starts, so a crash at any point resumes where it
// stopped; a chain error backs the whole worker off (doubling, capped) and nothing acknowledged is
// dropped. While a served group's Master has lost its powers (revoked in the parent group, or the
// group or its parent deactivated) the worker does not try to anchor for it: its messages stay
// stored and the group's standing is reported in /health.
import { getLogs, getTransactionReceipt, waitForTransactionReceipt } from "viem/actions";
import { createPublicClient, createWalletClient, defineChain, getAbiItem, http, type Hash, type Hex, type Transport } from "viem";
import {
  anchorBatch,
  associateBatchBySig,
  buildBatchTree,
  ContractRuleError,
  fromWireAssociation,
  getBatchItemResults,
  iomtRegistryAbi,
  recordDataBatchBySig,
  type BatchItemResult,
  type ReadClient,
  type WireAssociation,
  type WriteClient,
} from "@iomt-auth/sdk";
import type { GatewayConfig, LoadedConfig } from "./config.js";
import type { GatewayMetrics } from "./metrics.js";
import { standingErrors, type AuthTableMirror, type GroupStanding, type StandingError } from "./mirror.js";
import type { AssociationRow, BatchRow, GatewayStore, MessageRow } from "./store.js";

/** A read client and a wallet client of the Master key on the configured chain (`transport` defaults to `http(rpcUrl)`). */
export function chainClients({ config, account }: Pick<LoadedConfig, "config" | "account">, transport?: Transport): { publicClient: ReadClient; walletClient: WriteClient } {
  const chain = defineChain({ id: config.chainId, name: `chain ${config.chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [config.rpcUrl] } } });
  const used = transport ?? http(config.rpcUrl, { retryCount: 0, timeout: 10_000 });
  return {
    publicClient: createPublicClient({ chain, transport: used, cacheTime: 0 }) as ReadClient,
    walletClient: createWalletClient({ chain, transport: used, account }) as WriteClient,
  };
}

/** Associations relayed in one `associateBatchBySig`. */
const ASSOCIATION_BATCH_LIMIT = 32;
/** Messages relayed in one `recordDataBatchBySig` (policy `relay`). */
const RELAY_BATCH_LIMIT = 32;
/** Rounds of association or relay submissions per tick, so a node that keeps dropping transactions can't hold a tick forever. */
const SUBMISSION_ROUNDS_PER_TICK = 16;
/** How long one tick waits for a transaction it just sent before leaving it for the next tick. */
const RECEIPT_TIMEOUT_MS = 30_000;
/** Block window of one `getLogs` when looking for the transaction that recorded a message first. */
const LOG_WINDOW = 2_000n;
/** How far back (in windows) that search goes before the message is anchored instead. */
const LOG_WINDOWS = 16;
const dataMessageRecorded = getAbiItem({ abi: iomtRegistryAbi, name: "DataMessageRecorded" });

export type Logger = { info(object: object, message: string): void; warn(object: object, message: string): void; error(object: object, message: string): void };

export type ChainWorkerParameters = {
  config: GatewayConfig;
  publicClient: ReadClient;
  walletClient: WriteClient;
  store: GatewayStore;
  mirror: AuthTableMirror;
  metrics: GatewayMetrics;
  log: Logger;
  /** Hierarchical anchoring (aggregation.ts): takes the batches as they are cut, and runs its step after the batches' own. */
  aggregation?: { adoptBatches(): Promise<void>; tick(): Promise<void> };
};

export class ChainWorker {
  private readonly p: ChainWorkerParameters;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  private wakeRequested = false;
  /** Each served group's standing, from the mirror at the start of each tick (or a refusal seen since). */
  private readonly standing = new Map<Hex, GroupStanding>();
  /** False after a failed chain call, until a tick succeeds. */
  chainUp = true;
  lastError: string | undefined;

  constructor(parameters: ChainWorkerParameters) {
    this.p = parameters;
  }

  /** Starts (or, after `stop`, restarts) the worker's ticks. */
  start(): void {
    this.stopped = false;
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

  /** Each served group's standing as of the last tick: whether its Master may act (anchor, associate). */
  standings(): GroupStanding[] {
    return this.p.config.groups.map((gid) => this.standing.get(gid) ?? { gid, status: "ok" });
  }

  private async runTick(): Promise<void> {
    try {
      await this.p.mirror.sync();
      this.refreshStanding();
      await this.confirmAssociations();
      await this.submitAssociations();
      await this.confirmRelays();
      if (this.p.config.policy === "relay") await this.relayMessages();
      await this.createBatches();
      await this.p.aggregation?.adoptBatches();
      await this.sendBatches();
      await this.p.aggregation?.tick();
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

  /** Reads each served group's standing from the mirror and logs every change. */
  private refreshStanding(): void {
    for (const gid of this.p.config.groups) {
      const now = this.p.mirror.standing(gid);
      const before = this.standing.get(gid);
      this.standing.set(gid, now);
      if (before === undefined ? now.status === "ok" : before.status === now.status) continue;
      if (now.status === "ok") this.p.log.info({ gid }, "the group's Master has its powers again; anchoring resumes");
      else {
        this.p.log.error(
          { gid, code: now.status, pendingMessages: this.p.store.pendingStats(gid, "anchor").count },
          "the registry refuses this group's Master (it lost its powers): anchoring is held; acknowledged messages stay stored",
        );
      }
    }
  }

  private canAnchor(gid: Hex): boolean {
    return (this.standing.get(gid)?.status ?? "ok") === "ok";
  }

  // ------------------------------------------------------------------------- associations

  private async submitAssociations(): Promise<void> {
    const { store, walletClient, config } = this.p;
    for (let round = 0; round < SUBMISSION_ROUNDS_PER_TICK; round++) {
      const queued = store.associationsWithStatus("queued", ASSOCIATION_BATCH_LIMIT);
      if (queued.length === 0) return;
      const associations = queued.map((row) => fromWireAssociation(JSON.parse(row.request) as WireAssociation));
      // One transaction, whatever its items: the batch applies the valid ones and reports the others.
      const hash = await associateBatchBySig(walletClient, { registry: config.registry, associations });
      await store.commit(() => queued.forEach((row, index) => store.setAssociation({ device: row.device, status: "submitted", tx_hash: hash, tx_index: index })));
      this.p.log.info({ count: queued.length, tx: hash }, "associations relayed");
      await this.confirmAssociationTx(hash, queued.map((row, index) => ({ ...row, tx_index: index })));
    }
  }

  private async confirmAssociations(): Promise<void> {
    const submitted = this.p.store.associationsWithStatus("submitted", 1_000);
    const byTx = new Map<Hash, AssociationRow[]>();
    for (const row of submitted) byTx.set(row.tx_hash as Hash, [...(byTx.get(row.tx_hash as Hash) ?? []), row]);
    for (const [hash, rows] of byTx) await this.confirmAssociationTx(hash, rows, false);
  }

  private async confirmAssociationTx(hash: Hash, rows: readonly AssociationRow[], wait = true): Promise<void> {
    const { store, config } = this.p;
    const receipt = await this.receipt(hash, wait);
    if (receipt === undefined) return;
    if (receipt === "unknown" || receipt.status !== "success") {
      // Dropped (e.g. a chain reset) or reverted as a whole (never for one bad item): relay
      // again, and let the registry's rules decide.
      await store.commit(() => rows.forEach((row) => store.setAssociation({ device: row.device, status: "queued" })));
      return;
    }
    await this.p.mirror.sync();
    const results = getBatchItemResults({ logs: receipt.logs, registry: config.registry, itemCount: batchSize(rows.map((row) => row.tx_index)) });
    let applied = 0;
    await store.commit(() => {
      for (const row of rows) {
        const result = results[row.tx_index as number];
        if (result.status === "Rejected") {
          this.rejectAssociation(row, hash, result);
          continue;
        }
        // Applied here, or already applied: the same signed request was relayed by someone else first.
        store.setAssociation({ device: row.device, status: "associated", tx_hash: hash, tx_index: row.tx_index });
        if (result.status === "Applied") applied++;
        else this.p.log.info({ device: row.device, tx: hash }, "association already applied (relayed by someone else first)");
      }
    });
    this.p.metrics.associationsRelayed.inc(applied);
  }

  private rejectAssociation(row: AssociationRow, hash: Hash, { error }: BatchItemResult): void {
    const code = error?.code ?? "AssociationRejected";
    this.p.store.setAssociation({ device: row.device, status: "rejected", tx_hash: hash, tx_index: row.tx_index, error_code: code, error_message: error?.message.split("\n")[0] ?? "" });
    this.p.log.warn({ device: row.device, code }, "association rejected by the registry");
  }

  // ------------------------------------------------------------------------- relayed messages

  private async relayMessages(): Promise<void> {
    const { store, walletClient, config } = this.p;
    for (const gid of config.groups) {
      for (let round = 0; round < SUBMISSION_ROUNDS_PER_TICK; round++) {
        const messages = store.pendingMessages(gid, "relay", RELAY_BATCH_LIMIT);
        if (messages.length === 0) break;
        const signed = messages.map((message) => ({ message: messageOf(message), signature: message.signature }));
        const hash = await recordDataBatchBySig(walletClient, { registry: config.registry, messages: signed });
        await store.commit(() => messages.forEach((message, index) => store.setRelay({ id: message.id, status: "relaying", route: "relay", relay_tx: hash, relay_index: index })));
        await this.confirmRelayTx(hash, messages.map((message, index) => ({ ...message, relay_tx: hash, relay_index: index })));
      }
    }
  }

  private async confirmRelays(): Promise<void> {
    const byTx = new Map<Hash, MessageRow[]>();
    for (const message of this.p.store.relayingMessages()) byTx.set(message.relay_tx as Hash, [...(byTx.get(message.relay_tx as Hash) ?? []), message]);
    for (const [hash, messages] of byTx) await this.confirmRelayTx(hash, messages, false);
  }

  private async confirmRelayTx(hash: Hash, messages: readonly MessageRow[], wait = true): Promise<void> {
    const { store, config, log } = this.p;
    const receipt = await this.receipt(hash, wait);
    if (receipt === undefined) return;
    if (receipt === "unknown") {
      await store.commit(() => messages.forEach((message) => store.setRelay({ id: message.id, status: "pending", route: "relay" })));
      return;
    }
    if (receipt.status !== "success") {
      await store.commit(() => messages.forEach((message) => store.setRelay({ id: message.id, status: "pending", route: "anchor", relay_error: "TransactionReverted" })));
      return;
    }
    const results = getBatchItemResults({ logs: receipt.logs, registry: config.registry, itemCount: batchSize(messages.map((message) => message.relay_index)) });
    // A message whose nonce was already used: find the transaction that recorded it; a different
    // message under that nonce (the device signed two) leaves this one to be anchored.
    const recordedElsewhere = new Map<number, { hash: Hash; blockNumber: bigint } | undefined>();
    for (const message of messages) {
      if (results[message.relay_index as number].status === "AlreadyApplied") recordedElsewhere.set(message.id, await this.findRecorded(message, receipt.blockNumber));
    }
    let onChain = 0;
    await store.commit(() => {
      for (const message of messages) {
        const result = results[message.relay_index as number];
        const elsewhere = recordedElsewhere.get(message.id);
        if (result.status === "Applied" || elsewhere !== undefined) {
          const tx = elsewhere ?? { hash, blockNumber: receipt.blockNumber };
          store.setRelay({ id: message.id, status: "relayed", route: "relay", relay_tx: tx.hash, relay_index: elsewhere === undefined ? message.relay_index : null, relay_block: tx.blockNumber.toString() });
          onChain++;
          continue;
        }
        // The chain refuses it (deadline passed during an outage, nonce moved), or its nonce went
        // to another message: it was acknowledged, so it is anchored in a batch instead.
        const code = result.error?.code ?? "DataLedgerNonceUsed";
        store.setRelay({ id: message.id, status: "pending", route: "anchor", relay_error: code });
        log.warn({ digest: message.digest, code }, "relay refused; the message will be anchored instead");
      }
    });
    this.p.metrics.messagesOnChain.inc({ route: "relay" }, onChain);
  }

  /**
   * The transaction that recorded exactly this message (same device, nonce and fields) before
   * `toBlock`, searched backwards window by window; undefined when none is found.
   */
  private async findRecorded(message: MessageRow, toBlock: bigint): Promise<{ hash: Hash; blockNumber: bigint } | undefined> {
    const { publicClient, config } = this.p;
    for (let windows = 0, to = toBlock; windows < LOG_WINDOWS && to >= config.fromBlock; windows++, to -= LOG_WINDOW) {
      const from = to - LOG_WINDOW + 1n > config.fromBlock ? to - LOG_WINDOW + 1n : config.fromBlock;
      const logs = await getLogs(publicClient, { address: config.registry, event: dataMessageRecorded, args: { gid: message.gid, device: message.device }, fromBlock: from, toBlock: to, strict: true });
      const match = logs.find(
        ({ args }) =>
          args.nonce === BigInt(message.nonce) &&
          args.oid.toLowerCase() === message.oid &&
          args.payloadHash.toLowerCase() === message.payload_hash &&
          args.timestamp === BigInt(message.timestamp) &&
          args.deadline === BigInt(message.deadline),
      );
      if (match !== undefined) return { hash: match.transactionHash, blockNumber: match.blockNumber };
    }
    return undefined;
  }

  // ------------------------------------------------------------------------- anchored batches

  /**
   * Cuts batches of waiting messages: full ones, and a last partial one once its oldest message is
   * old enough. Each batch is written in the store's group commit and awaited until durable (before
   * it is sent), so the main thread never waits on the disk for it, as it does for a data request.
   */
  private async createBatches(): Promise<void> {
    const { store, config } = this.p;
    for (const gid of config.groups) {
      // The registry would refuse to anchor for this group: the messages wait, stored, uncut.
      if (!this.canAnchor(gid)) continue;
      for (;;) {
        const { count, oldest } = store.pendingStats(gid, "anchor");
        if (count === 0) break;
        if (count < config.batchMaxMessages && Date.now() - (oldest ?? 0) < config.batchMaxAgeMs) break;
        const messages = store.pendingMessages(gid, "anchor", config.batchMaxMessages);
        // Hashed with the SDK's keccak backend, which the gateway installs at start from its `keccak` setting (1,023 hashes for a full batch).
        const tree = buildBatchTree(messages.map((message) => message.digest));
        await store.commit(() => store.createBatch(gid, tree.root, messages));
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
          await this.markAnchored(batch, batch.tx_hash, receipt.blockNumber);
          continue;
        }
      }
      // A batch cut before its group's Master lost its powers stays open until they return.
      if (!this.canAnchor(batch.gid)) continue;
      // Created, or sent but dropped or reverted: (re)send. A root already on chain counts as anchored.
      try {
        const hash = await anchorBatch(walletClient, { registry: config.registry, gid: batch.gid, root: batch.root, messageCount: batch.size });
        await store.commit(() => store.setBatch({ id: batch.id, status: "sent", tx_hash: hash }));
        const receipt = await this.receipt(hash, true);
        if (receipt !== undefined && receipt !== "unknown" && receipt.status === "success") await this.markAnchored(batch, hash, receipt.blockNumber);
      } catch (error) {
        if (!(error instanceof ContractRuleError)) throw error;
        if (error.code === "DataLedgerRootAlreadyAnchored") {
          await this.markAnchored(batch, batch.tx_hash, undefined);
          continue;
        }
        if ((standingErrors as readonly string[]).includes(error.code)) {
          // The mirror had not seen it yet: hold the batch (open, messages stored) and say why.
          this.standing.set(batch.gid, { gid: batch.gid, status: error.code as StandingError });
          log.error({ batch: batch.id, gid: batch.gid, code: error.code }, "the registry refuses this group's Master (it lost its powers): anchoring is held; acknowledged messages stay stored");
          continue;
        }
        // The key may no longer anchor for this group (a hand-over): the messages stay stored and
        // listed as a failed batch for an operator.
        await store.commit(() => store.setBatch({ id: batch.id, status: "failed", tx_hash: batch.tx_hash, error_code: error.code }));
        log.error({ batch: batch.id, gid: batch.gid, code: error.code }, "the registry refuses this batch; its messages stay stored");
      }
    }
  }

  private async markAnchored(batch: BatchRow, hash: Hex | null, blockNumber: bigint | undefined): Promise<void> {
    await this.p.store.commit(() => this.p.store.setBatch({ id: batch.id, status: "anchored", tx_hash: hash, block_number: blockNumber?.toString() ?? null, anchored_at: Date.now() }));
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

/** The number of items of a batch transaction, from the item indices its rows recorded. */
function batchSize(indices: readonly (number | null)[]): number {
  return Math.max(...indices.map((index) => index ?? 0)) + 1;
}

/** The stored message as the SDK's DataMessage. */
export function messageOf(row: MessageRow) {
  return { gid: row.gid, oid: row.oid, nonce: BigInt(row.nonce), payloadHash: row.payload_hash, timestamp: BigInt(row.timestamp), deadline: BigInt(row.deadline) };
}
