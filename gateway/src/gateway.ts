// Puts a gateway together: store, AuthTable mirror, chain worker, sessions (in memory), API, the
// device-facing HTTP listener and the admin listener, one root logger. Start-up refuses a store it
// cannot trust before anything listens: a missing or empty database file (it is created only by
// `init`), one another gateway process holds, one that fails SQLite's integrity check, one it
// cannot write to, enrolment secrets it cannot check (no or another pepper), and a chain, registry
// or key the chain contradicts (preflight.ts).
import { existsSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Address, Hex, Transport } from "viem";
import { registryDomain } from "@iomt-auth/sdk";
import { createAdminServer, isLoopback } from "./admin.js";
import { readAdminTokenFile } from "./console/token.js";
import { GatewayApi } from "./api.js";
import { ChainWorker, chainClients } from "./chain.js";
import type { LoadedConfig } from "./config.js";
import { checkStoredSecrets, EnrolmentSecrets, enrolDevice, hashEnrolmentSecret, readPepperFile } from "./enrolment.js";
import { GatewayConfigError } from "./errors.js";
import { createReadiness } from "./health.js";
import { createRootLogger, type Logger } from "./logging.js";
import { createMetrics } from "./metrics.js";
import { checkChain } from "./preflight.js";
import { AuthTableMirror } from "./mirror.js";
import { Aggregation } from "./aggregation.js";
import { createServer } from "./server.js";
import { createHandshakeCrypto } from "./crypto.js";
import type { MemberView } from "./mirror.js";
import { SessionManager } from "./sessions.js";
import { createSignerRecovery } from "./signatures.js";
import { installKeccak256 } from "./keccak.js";
import { createInThreadVerifier, type DataVerifier } from "./verifier.js";
import { VerifierPool } from "./verifier-pool.js";
import { GatewayStore, type EnrolmentRow, type WalSyncObserver } from "./store.js";

/** Expired sessions, half-open handshakes and answered hellos are swept this often. */
const SESSION_SWEEP_MS = 5_000;

export type RunningGateway = {
  /** `http://host:port` the gateway listens on for devices. */
  url: string;
  /** `http://adminHost:adminPort`: readiness with details, and /metrics (admin.ts). */
  adminUrl: string;
  /** The root logger: JSON lines with ISO 8601 times on stdout. */
  log: Logger;
  master: Address;
  /** True when signature recovery and the handshake's ECDH and signing run on the native libsecp256k1 binding. */
  nativeSecp256k1: boolean;
  store: GatewayStore;
  sessions: SessionManager;
  worker: ChainWorker;
  /** Hashes and recovers data messages: a pool of `verifierThreads` worker threads, or the main thread when 0. */
  verifier: DataVerifier;
  /**
   * Enrols a device (in the first served group unless `gid` is given), with a secret hashed under
   * the configured pepper when `secret` is given (at least 16 characters).
   */
  enrol(parameters: { gid?: Hex; oid: string; address: string; secret?: string }): Promise<EnrolmentRow>;
  /**
   * Stops accepting requests, finishes the chain work in progress, saves the mirror and closes the
   * store: closes the device listener, whose onClose hooks release the rest in reverse order of start.
   */
  close(): Promise<void>;
};

export type StartGatewayOptions = {
  /**
   * How to reach the chain instead of `http(config.rpcUrl)`: e.g. viem's `custom(provider)` over
   * an EIP-1193 provider such as Hardhat's in-process network (set `retryCount: 0` there, since it
   * reports reverts as internal errors that viem would otherwise retry).
   */
  transport?: Transport;
  /**
   * Check on chain, before listening, the node's chain id, the registry's code, and that the key
   * masters (or may anchor for) each served group (default true; preflight.ts). When the chain is
   * unreachable at start the checks are skipped with a warning, so a gateway restarted during an
   * outage still takes data.
   */
  checkRoles?: boolean;
  /**
   * Create the database when no file exists at `databasePath` (as `iomt-gateway init` does), for
   * tests and embedded use; default false: a missing file is refused. An empty file is refused
   * either way.
   */
  createDatabase?: boolean;
};

export async function startGateway(loaded: LoadedConfig, { checkRoles = true, transport: customTransport, createDatabase = false }: StartGatewayOptions = {}): Promise<RunningGateway> {
  const { config, account, masterKey, groupLabels } = loaded;
  // The SDK's own hashing (the mirror's AuthTable, the typed-data digests, the batch trees) on the configured keccak in this thread; the verifier's threads install it for themselves.
  const keccak = await installKeccak256(config.keccak);
  const { publicClient, walletClient } = chainClients({ config, account }, customTransport);

  if (createDatabase && !existsSync(config.databasePath)) GatewayStore.create(config.databasePath);
  const root = createRootLogger(config);
  // The metrics, made below, are told of each WAL sync from then on (the opening's are before them).
  let observeWalSync: WalSyncObserver = () => undefined;
  const store = GatewayStore.open(config.databasePath, {
    durability: config.durability,
    lock: true,
    check: config.integrityCheck,
    checkpointThread: { log: root.child({ component: "store" }) },
    observeWalSync: (thread, seconds) => observeWalSync(thread, seconds),
  });
  let closed = false;
  let app: FastifyInstance | undefined;
  let verifier: DataVerifier | undefined;
  try {
    const pepper = config.pepperFile === undefined ? undefined : readPepperFile(config.pepperFile);
    const adminToken = config.adminTokenFile === undefined ? undefined : readAdminTokenFile(config.adminTokenFile);
    checkStoredSecrets(store, pepper);
    // The labels of the groups configured by label, so that the read-only commands take them too.
    for (const [gid, label] of Object.entries(groupLabels)) store.setGroupLabel(gid as Hex, label);
    const secrets = new EnrolmentSecrets({ store, pepper });
    // A revocation the mirror sees drops the device's enrolment (bound below, once the API exists).
    let onRevoked: (member: MemberView) => void = () => undefined;
    const mirror = new AuthTableMirror({ client: publicClient, registry: config.registry, fromBlock: config.fromBlock, groups: config.groups, store, onRevoked: (member) => onRevoked(member) });
    const recovery = createSignerRecovery(config.nativeSecp256k1);
    const crypto = createHandshakeCrypto(masterKey, config.nativeSecp256k1);
    let worker: ChainWorker | undefined;
    let sessions: SessionManager | undefined;
    let aggregation: Aggregation | undefined;
    const metrics = createMetrics(
      () => ({
        pendingMessages: store.pendingCount(),
        openBatches: store.openBatchStats().batches,
        chainUp: worker?.chainUp ?? false,
        storeUp: store.health.ok,
        indexedBlock: mirror.indexedBlock,
        sessions: sessions?.size ?? 0,
        checkpoints: store.checkpoints,
        aggregation: aggregation?.health(),
      }),
      config.aggregation === "on" ? { aggregation: { parent: config.parentUrl !== undefined } } : {},
    );
    observeWalSync = (thread, seconds) => metrics.walFsyncSeconds.observe({ thread }, seconds);
    const log = root.child({ component: "chain", master: account.address });
    aggregation = config.aggregation === "on" ? new Aggregation({ config, account, publicClient, walletClient, store, mirror, log: log.child({ component: "aggregation" }) }) : undefined;
    worker = new ChainWorker({ config, publicClient, walletClient, store, mirror, metrics, log, aggregation });

    if (checkRoles) await checkChain(publicClient, { chainId: config.chainId, registry: config.registry, groups: config.groups, key: account.address, log });

    // Started before anything listens; `close` (or a failed start, below) terminates the threads.
    const verifierOptions = { domain: registryDomain({ chainId: config.chainId, registry: config.registry }), nativeSecp256k1: config.nativeSecp256k1, keccak: config.keccak };
    const verifiers = config.verifierThreads === 0 ? await createInThreadVerifier(verifierOptions) : await VerifierPool.start({ ...verifierOptions, threads: config.verifierThreads, log: root.child({ component: "verifier" }) });
    verifier = verifiers;
    const api = new GatewayApi({ config, account, publicClient, store, mirror, worker, recovery, verifier: verifiers, metrics, log, secrets, aggregation });
    onRevoked = (member) => api.dropRevoked(member);
    mirror.reportRevoked();
    sessions = new SessionManager({
      crypto,
      chainId: config.chainId,
      registry: config.registry,
      groups: config.groups,
      ttlSeconds: config.sessionTtlSeconds,
      maxSessions: config.maxSessions,
      maxSessionsPerDevice: config.maxSessionsPerDevice,
      maxPendingHandshakes: config.maxPendingHandshakes,
      admit: (device, gid) => api.admit(device, gid),
      onKeyExchange: () => metrics.keyExchanges.inc(),
    });
    // Readiness: the chain reachable and the store writing (its own health: a failed commit marks it
    // failing until a background probe write succeeds again).
    const health = () => {
      const open = store.openBatchStats();
      // A group whose Master lost its powers (revoked in the parent group, or a group on its way
      // deactivated): the registry refuses to anchor for it, so its messages wait here.
      const standing = worker.standings();
      // A parent gateway that does not answer: roots wait for it until handoverDeadlineMs, then this gateway anchors them itself.
      const handing = aggregation?.health();
      const held = standing.some((group) => group.status !== "ok") || handing?.parentUp === false;
      // A verifier thread that died is being replaced: data requests would be refused meanwhile.
      const verification = verifiers.status();
      const ready = worker.chainUp && verification.alive === verification.threads;
      return {
        ready,
        status: held ? "degraded" : "ok",
        master: account.address,
        groups: config.groups,
        policy: config.policy,
        chain: { up: worker.chainUp, indexedBlock: mirror.indexedBlock.toString(), lastError: worker.lastError ?? null },
        standing,
        // Acknowledged messages not yet on chain: waiting for a batch or relay, or in a batch being anchored.
        backlog: { pendingMessages: store.pendingCount(), openBatches: open.batches, messagesInOpenBatches: open.messages },
        sessions: sessions!.size,
        nativeSecp256k1: recovery.native && crypto.native,
        verifier: verification,
        ...(handing === undefined ? {} : { aggregation: handing }),
      };
    };
    const readiness = createReadiness({ store, health });
    app = await createServer({ config, api, sessions, store, metrics, readiness, log: root, aggregation });
    // Shutdown, as onClose hooks added in the order things started: Fastify runs them last-added
    // first, once the device listener stopped accepting requests and finished those in flight.
    app.addHook("onClose", async () => root.info("gateway closed"));
    app.addHook("onClose", async () => store.close());
    app.addHook("onClose", async () => mirror.saveCheckpoint());
    app.addHook("onClose", () => verifiers.close());
    const stopping = worker;
    app.addHook("onClose", () => stopping.stop());
    const device = app;
    const console =
      adminToken === undefined ? undefined : { loaded, store, sessions, member: (device: Address) => mirror.memberByDevice(device), token: adminToken, pepper, readiness };
    const admin = await createAdminServer({ config, log: root, metrics, readiness, deviceOpenApi: () => device.swagger(), console });
    app.addHook("onClose", () => admin.close());
    const live = sessions;
    const sweeper = setInterval(() => live.sweep(), SESSION_SWEEP_MS);
    sweeper.unref();
    app.addHook("onClose", async () => clearInterval(sweeper));
    const address = await app.listen({ host: config.host, port: config.port });
    const adminAddress = await admin.listen({ host: config.adminHost, port: config.adminPort });
    if (!isLoopback(config.adminHost)) {
      root.warn({ adminHost: config.adminHost, adminUrl: adminAddress }, "the admin listener is reachable from other hosts and has no authentication: keep it on a management network behind a firewall");
    }
    worker.start();
    root.info({ master: account.address, groups: config.groups, policy: config.policy, nativeSecp256k1: recovery.native && crypto.native, keccak: keccak.backend, url: address, adminUrl: adminAddress }, "gateway listening");

    const running = worker;
    const server = app;
    return {
      url: address,
      adminUrl: adminAddress,
      log: root,
      master: account.address,
      nativeSecp256k1: recovery.native && crypto.native,
      store,
      sessions: live,
      worker: running,
      verifier: verifiers,
      async enrol({ gid = config.groups[0], oid, address, secret }) {
        if (!config.groups.includes(gid.toLowerCase() as Hex)) throw new GatewayConfigError(`group ${gid} is not one of the served groups`);
        if (secret !== undefined && pepper === undefined) throw new GatewayConfigError("an enrolment secret needs a pepperFile in the configuration");
        const secretHash = secret === undefined ? undefined : await hashEnrolmentSecret(secret, pepper as Uint8Array);
        return enrolDevice(store, { gid: gid.toLowerCase() as Hex, oid, address, secretHash });
      },
      async close() {
        if (closed) return;
        closed = true;
        await server.close();
      },
    };
  } catch (error) {
    // Once the listener exists its onClose hooks release whatever had started; before, only the store and the verifier threads had.
    if (app === undefined) {
      await verifier?.close();
      store.close();
    } else await app.close();
    throw error;
  }
}
