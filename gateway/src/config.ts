// Gateway configuration: a JSON file, then environment variables (IOMT_GATEWAY_*), then flags,
// each overriding the one before. The Master key is only ever read from a key file and kept as a
// viem account, so no configuration object that gets printed or logged carries it.
import { readFileSync, statSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { resolve } from "node:path";
import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { groupId, toId } from "@iomt-auth/sdk";
import { GatewayConfigError } from "./errors.js";
import { keccakBackends, type KeccakBackend } from "./keccak.js";
import { masterKeyOf, type MasterKey } from "./crypto.js";

/** What the gateway does with a verified data message. */
export type SubmissionPolicy = "anchor" | "relay";

export interface GatewayConfig {
  rpcUrl: string;
  chainId: number;
  registry: Address;
  /** The registry's deployment block: the mirror scans logs from here. */
  fromBlock: bigint;
  /**
   * The groups this gateway serves (its Master key masters them, or may anchor for them), as gids.
   * Configured by gid, or by the label of a group the Master key created (see `resolveGroup`).
   */
  groups: Hex[];
  databasePath: string;
  host: string;
  port: number;
  /**
   * The admin listener: readiness with the operator's details (Master, groups, chain errors,
   * backlog) and /metrics, apart from the device-facing listener; on localhost unless configured.
   */
  adminHost: string;
  adminPort: number;
  /**
   * The URL devices reach this gateway at, written into provisioning bundles. Default
   * `http://<host>:<port>` (a wildcard host gives the machine's name); undefined when neither it
   * nor a fixed port is set (port 0), so no bundle can be made.
   */
  publicUrl: string | undefined;
  policy: SubmissionPolicy;
  /** Anchor once this many messages wait… */
  batchMaxMessages: number;
  /** …or once the oldest has waited this long. */
  batchMaxAgeMs: number;
  /** How often the chain worker wakes to sync the mirror and submit work. */
  pollIntervalMs: number;
  /** First and largest delay between retries after a chain error (doubling in between). */
  retryBaseMs: number;
  retryMaxMs: number;
  sessionTtlSeconds: number;
  /** Established sessions held in memory, in all (the oldest is evicted beyond it)… */
  maxSessions: number;
  /** …and per device. */
  maxSessionsPerDevice: number;
  /** Half-open handshakes held at once (each a few hundred bytes, for up to a minute); more hellos get 503 `HandshakesBusy`. */
  maxPendingHandshakes: number;
  /** Requests per minute and client IP on the routes without a session (handshake, unknown routes). */
  rateLimitPerMinute: number;
  /** Sealed requests per minute and device, counted once the record opened. */
  deviceRateLimitPerMinute: number;
  /** Longest a client may take to send a request's headers, and its whole request; slower sockets are closed. */
  requestTimeoutMs: number;
  /** How long a request waits for the AuthTable mirror to catch up before answering `MirrorSyncing`. */
  mirrorWaitMs: number;
  /** Take the client address from X-Forwarded-For (only behind a trusted reverse proxy). */
  trustProxy: boolean;
  bodyLimitBytes: number;
  maxMessagesPerRequest: number;
  maxPayloadBytes: number;
  /** `full` fsyncs every commit (an acknowledged message survives power loss); `normal` survives a process crash only. */
  durability: "full" | "normal";
  /** SQLite's check of the database at start: `quick` (quick_check, O(size)) or `full` (integrity_check, also every index). */
  integrityCheck: "quick" | "full";
  /**
   * The pepper of enrolment secrets: a file of 32 random bytes (hex), 0600, kept apart from the
   * database (`init` creates it). Without it, devices can only be enrolled without a secret.
   */
  pepperFile: string | undefined;
  /**
   * The operator console's admin token: a file (0600) whose one line the console's API asks for as
   * `Authorization: Bearer` (`admin-token` creates it). Without it, the admin listener serves no console.
   */
  adminTokenFile: string | undefined;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Use the native libsecp256k1 binding when it loads (default), or force the pure-JS path. */
  nativeSecp256k1: boolean;
  /** The keccak-256 backend (keccak.ts): `wasm` (default), `native` or `noble`; each falls back to the next that loads. */
  keccak: KeccakBackend;
  /** Worker threads that hash and recover data messages (verifier-pool.ts); 0 = on the main thread. */
  verifierThreads: number;
  /**
   * Hierarchical anchoring (aggregation.ts): `on` hands this gateway's batch roots, and those its
   * children's gateways handed it, to `parentUrl`, or anchors them in one aggregate per
   * `aggregateIntervalMs` when there is no parent; `off` (default) anchors each batch itself.
   */
  aggregation: "off" | "on";
  /** The parent group's gateway; unset: this gateway anchors the aggregates itself (a root group's gateway). */
  parentUrl: string | undefined;
  /** The key the parent gateway must prove; default: the parent group's Master as the mirror knows it. */
  parentMaster: Address | undefined;
  /** A root handed up but not anchored this long after its batch was cut is anchored by this gateway itself. */
  handoverDeadlineMs: number;
  /** How often this gateway anchors one aggregate over the roots it holds (without a parent, or past the deadline). */
  aggregateIntervalMs: number;
  /** Roots held for anchoring, in all; a hand-over beyond it is refused with `HandoverBacklogFull`. */
  maxHandoverBacklog: number;
  /** Roots per hand-over request. */
  maxRootsPerHandover: number;
}

export interface LoadedConfig {
  config: GatewayConfig;
  /** The Master's key, from `keyFile`. */
  account: PrivateKeyAccount;
  /** The same key for the handshake's fast signer (no property holds the key). */
  masterKey: MasterKey;
  /** The served groups configured by label: gid → label (the store keeps them, so read-only commands take labels too). */
  groupLabels: Record<Hex, string>;
}

export const defaultConfig = {
  fromBlock: 0n,
  databasePath: "gateway.db",
  host: "127.0.0.1",
  port: 8080,
  adminHost: "127.0.0.1",
  adminPort: 9464,
  policy: "anchor",
  batchMaxMessages: 256,
  batchMaxAgeMs: 2_000,
  pollIntervalMs: 500,
  retryBaseMs: 250,
  retryMaxMs: 15_000,
  sessionTtlSeconds: 3_600,
  maxSessions: 100_000,
  maxSessionsPerDevice: 4,
  maxPendingHandshakes: 10_000,
  rateLimitPerMinute: 6_000,
  deviceRateLimitPerMinute: 1_200,
  requestTimeoutMs: 10_000,
  mirrorWaitMs: 2_000,
  trustProxy: false,
  bodyLimitBytes: 1_048_576,
  maxMessagesPerRequest: 256,
  maxPayloadBytes: 16_384,
  durability: "full",
  integrityCheck: "quick",
  logLevel: "info",
  nativeSecp256k1: true,
  keccak: "wasm",
  // One core is the main thread's (HTTP, sessions, storage): on 2 cores one worker gave ~10% more than two (docs/benchmarks.md).
  verifierThreads: Math.max(1, availableParallelism() - 1),
  aggregation: "off",
  handoverDeadlineMs: 60_000,
  aggregateIntervalMs: 2_000,
  maxHandoverBacklog: 100_000,
  maxRootsPerHandover: 256,
} satisfies Partial<GatewayConfig>;

/** Every setting by its file/flag name: its environment variable, and what it means (for `--help`). */
const settings = {
  rpcUrl: ["IOMT_GATEWAY_RPC_URL", "JSON-RPC URL of the chain"],
  chainId: ["IOMT_GATEWAY_CHAIN_ID", "chain id; start refuses a node of another chain"],
  registry: ["IOMT_GATEWAY_REGISTRY", "IomtRegistry address; start refuses an address without code"],
  fromBlock: ["IOMT_GATEWAY_FROM_BLOCK", "the registry's deployment block (the mirror starts there)"],
  groups: ["IOMT_GATEWAY_GROUPS", "served groups, comma-separated: gids, or labels of groups the Master key created"],
  keyFile: ["IOMT_GATEWAY_KEY_FILE", "the Master's private key file (one hex line, chmod 600)"],
  databasePath: ["IOMT_GATEWAY_DATABASE", "the SQLite file"],
  host: ["IOMT_GATEWAY_HOST", "listen address"],
  port: ["IOMT_GATEWAY_PORT", "listen port (0: any free port)"],
  adminHost: ["IOMT_GATEWAY_ADMIN_HOST", "the admin listener's address (/metrics and detailed health; keep it on localhost)"],
  adminPort: ["IOMT_GATEWAY_ADMIN_PORT", "the admin listener's port (0: any free port)"],
  publicUrl: ["IOMT_GATEWAY_PUBLIC_URL", "the URL devices reach this gateway at, written into provisioning bundles (default http://<host>:<port>)"],
  policy: ["IOMT_GATEWAY_POLICY", "anchor (batches of digests) or relay (each message on chain)"],
  batchMaxMessages: ["IOMT_GATEWAY_BATCH_MAX_MESSAGES", "anchor once this many messages wait…"],
  batchMaxAgeMs: ["IOMT_GATEWAY_BATCH_MAX_AGE_MS", "…or once the oldest waited this long (ms)"],
  pollIntervalMs: ["IOMT_GATEWAY_POLL_INTERVAL_MS", "chain worker period (ms)"],
  retryBaseMs: ["IOMT_GATEWAY_RETRY_BASE_MS", "first delay after a chain error (ms), doubling…"],
  retryMaxMs: ["IOMT_GATEWAY_RETRY_MAX_MS", "…up to this (ms)"],
  sessionTtlSeconds: ["IOMT_GATEWAY_SESSION_TTL_SECONDS", "session lifetime (s)"],
  maxSessions: ["IOMT_GATEWAY_MAX_SESSIONS", "live sessions held in memory, in all"],
  maxSessionsPerDevice: ["IOMT_GATEWAY_MAX_SESSIONS_PER_DEVICE", "live sessions per device"],
  maxPendingHandshakes: ["IOMT_GATEWAY_MAX_PENDING_HANDSHAKES", "half-open handshakes held at once"],
  rateLimitPerMinute: ["IOMT_GATEWAY_RATE_LIMIT_PER_MINUTE", "requests per minute and client address without a session"],
  deviceRateLimitPerMinute: ["IOMT_GATEWAY_DEVICE_RATE_LIMIT_PER_MINUTE", "sealed requests per minute and device"],
  requestTimeoutMs: ["IOMT_GATEWAY_REQUEST_TIMEOUT_MS", "longest a client may take to send its request (ms)"],
  mirrorWaitMs: ["IOMT_GATEWAY_MIRROR_WAIT_MS", "how long a request waits for the mirror to catch up (ms)"],
  trustProxy: ["IOMT_GATEWAY_TRUST_PROXY", "take the client address from X-Forwarded-For (behind a trusted proxy only)"],
  bodyLimitBytes: ["IOMT_GATEWAY_BODY_LIMIT_BYTES", "largest request body"],
  maxMessagesPerRequest: ["IOMT_GATEWAY_MAX_MESSAGES_PER_REQUEST", "messages per data request"],
  maxPayloadBytes: ["IOMT_GATEWAY_MAX_PAYLOAD_BYTES", "largest raw reading stored with a message"],
  durability: ["IOMT_GATEWAY_DURABILITY", "full (nothing answered before its commit is fsynced) or normal (survives a process crash only)"],
  integrityCheck: ["IOMT_GATEWAY_INTEGRITY_CHECK", "SQLite's check of the database at start: quick or full"],
  pepperFile: ["IOMT_GATEWAY_PEPPER_FILE", "the pepper of enrolment secrets (32 bytes hex, chmod 600; init creates it)"],
  adminTokenFile: ["IOMT_GATEWAY_ADMIN_TOKEN_FILE", "the operator console's admin token (one line, chmod 600; admin-token creates it); unset: no console"],
  logLevel: ["IOMT_GATEWAY_LOG_LEVEL", "pino level: fatal, error, warn, info, debug, trace, silent"],
  nativeSecp256k1: ["IOMT_GATEWAY_NATIVE_SECP256K1", "use libsecp256k1 when its binding loads"],
  keccak: ["IOMT_GATEWAY_KECCAK", "keccak-256 backend: wasm (WebAssembly), native (the keccak addon) or noble (pure JS); each falls back to the next that loads"],
  verifierThreads: ["IOMT_GATEWAY_VERIFIER_THREADS", "worker threads hashing and recovering data messages (0: the main thread)"],
  aggregation: ["IOMT_GATEWAY_AGGREGATION", "hierarchical anchoring: on (hand batch roots to parentUrl, or anchor aggregates) or off"],
  parentUrl: ["IOMT_GATEWAY_PARENT_URL", "the parent group's gateway (aggregation on); unset: anchor the aggregates here"],
  parentMaster: ["IOMT_GATEWAY_PARENT_MASTER", "the key the parent gateway must prove (default: the parent group's Master)"],
  handoverDeadlineMs: ["IOMT_GATEWAY_HANDOVER_DEADLINE_MS", "anchor a root here if the parent has not anchored it this long after its batch was cut (ms)"],
  aggregateIntervalMs: ["IOMT_GATEWAY_AGGREGATE_INTERVAL_MS", "how often to anchor one aggregate over the roots held here (ms)"],
  maxHandoverBacklog: ["IOMT_GATEWAY_MAX_HANDOVER_BACKLOG", "roots held for anchoring, in all; more hand-overs get HandoverBacklogFull"],
  maxRootsPerHandover: ["IOMT_GATEWAY_MAX_ROOTS_PER_HANDOVER", "roots per hand-over request"],
} as const satisfies Record<string, readonly [variable: string, help: string]>;

export type SettingName = keyof typeof settings;
export const settingNames = Object.keys(settings) as SettingName[];

/** A setting's environment variable, meaning and default, for the CLI's help. */
export function settingHelp(name: SettingName): { variable: string; help: string; default: string | undefined } {
  const [variable, help] = settings[name];
  const value = (defaultConfig as Record<string, unknown>)[name];
  return { variable, help, default: value === undefined ? undefined : String(value) };
}

/** Raw settings as strings (flags, environment) or JSON values (the config file). */
export type RawSettings = Partial<Record<SettingName, unknown>>;

/** Reads a JSON config file; relative paths in it (keyFile, databasePath, pepperFile) are resolved against its folder. */
export function readConfigFile(path: string): RawSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new GatewayConfigError(`cannot read the config file ${path}: ${(cause as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new GatewayConfigError(`${path} must hold a JSON object`);
  const raw = parsed as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((name) => !(name in settings));
  if (unknown.length > 0) throw new GatewayConfigError(`${path}: unknown setting(s) ${unknown.join(", ")}`);
  return withAbsolutePaths(raw as RawSettings, resolve(path, ".."));
}

/** The settings with their relative file paths (keyFile, databasePath, pepperFile, adminTokenFile) resolved against `folder`. */
export function withAbsolutePaths(raw: RawSettings, folder: string): RawSettings {
  const paths = Object.fromEntries((["keyFile", "databasePath", "pepperFile", "adminTokenFile"] as const).flatMap((name) => (typeof raw[name] === "string" && raw[name] !== "" ? [[name, resolve(folder, raw[name])]] : [])));
  return { ...raw, ...paths };
}

export function settingsFromEnvironment(env: NodeJS.ProcessEnv): RawSettings {
  const raw: RawSettings = {};
  for (const name of settingNames) {
    const value = env[settings[name][0]];
    if (value !== undefined && value !== "") raw[name] = value;
  }
  return raw;
}

/** Validates merged settings and loads the Master key. */
export function resolveConfig(raw: RawSettings): LoadedConfig {
  const merged: RawSettings = { ...defaultConfig, ...raw };
  const chainId = integer(merged.chainId, "chainId", 1);
  const registry = address(merged.registry, "registry");
  const groupItems = groupList(merged.groups);
  const { account, privateKey } = readKeyFile(text(merged.keyFile, "keyFile"));
  const host = text(merged.host, "host");
  const port = integer(merged.port, "port", 0, 65_535);
  const config: GatewayConfig = {
    rpcUrl: url(merged.rpcUrl, "rpcUrl"),
    chainId,
    registry,
    fromBlock: BigInt(integer(merged.fromBlock, "fromBlock", 0)),
    groups: groupItems.map((item) => resolveGroup(item, { chainId, registry, master: account.address })),
    databasePath: text(merged.databasePath, "databasePath"),
    host,
    port,
    adminHost: text(merged.adminHost, "adminHost"),
    adminPort: integer(merged.adminPort, "adminPort", 0, 65_535),
    publicUrl: merged.publicUrl === undefined ? defaultPublicUrl(host, port) : url(merged.publicUrl, "publicUrl"),
    policy: oneOf(merged.policy, "policy", ["anchor", "relay"] as const),
    batchMaxMessages: integer(merged.batchMaxMessages, "batchMaxMessages", 1, 65_536),
    batchMaxAgeMs: integer(merged.batchMaxAgeMs, "batchMaxAgeMs", 0),
    pollIntervalMs: integer(merged.pollIntervalMs, "pollIntervalMs", 10),
    retryBaseMs: integer(merged.retryBaseMs, "retryBaseMs", 1),
    retryMaxMs: integer(merged.retryMaxMs, "retryMaxMs", 1),
    sessionTtlSeconds: integer(merged.sessionTtlSeconds, "sessionTtlSeconds", 1),
    maxSessions: integer(merged.maxSessions, "maxSessions", 1),
    maxSessionsPerDevice: integer(merged.maxSessionsPerDevice, "maxSessionsPerDevice", 1, 1_000),
    maxPendingHandshakes: integer(merged.maxPendingHandshakes, "maxPendingHandshakes", 1),
    rateLimitPerMinute: integer(merged.rateLimitPerMinute, "rateLimitPerMinute", 1),
    deviceRateLimitPerMinute: integer(merged.deviceRateLimitPerMinute, "deviceRateLimitPerMinute", 1),
    requestTimeoutMs: integer(merged.requestTimeoutMs, "requestTimeoutMs", 100, 600_000),
    mirrorWaitMs: integer(merged.mirrorWaitMs, "mirrorWaitMs", 0, 60_000),
    trustProxy: boolean(merged.trustProxy, "trustProxy"),
    bodyLimitBytes: integer(merged.bodyLimitBytes, "bodyLimitBytes", 1_024),
    maxMessagesPerRequest: integer(merged.maxMessagesPerRequest, "maxMessagesPerRequest", 1, 4_096),
    maxPayloadBytes: integer(merged.maxPayloadBytes, "maxPayloadBytes", 0),
    durability: oneOf(merged.durability, "durability", ["full", "normal"] as const),
    integrityCheck: oneOf(merged.integrityCheck, "integrityCheck", ["quick", "full"] as const),
    pepperFile: merged.pepperFile === undefined ? undefined : text(merged.pepperFile, "pepperFile"),
    adminTokenFile: merged.adminTokenFile === undefined ? undefined : text(merged.adminTokenFile, "adminTokenFile"),
    logLevel: oneOf(merged.logLevel, "logLevel", ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const),
    nativeSecp256k1: boolean(merged.nativeSecp256k1, "nativeSecp256k1"),
    keccak: oneOf(merged.keccak, "keccak", keccakBackends),
    verifierThreads: integer(merged.verifierThreads, "verifierThreads", 0, 256),
    aggregation: oneOf(merged.aggregation, "aggregation", ["off", "on"] as const),
    parentUrl: merged.parentUrl === undefined ? undefined : url(merged.parentUrl, "parentUrl"),
    parentMaster: merged.parentMaster === undefined ? undefined : address(merged.parentMaster, "parentMaster"),
    handoverDeadlineMs: integer(merged.handoverDeadlineMs, "handoverDeadlineMs", 1),
    aggregateIntervalMs: integer(merged.aggregateIntervalMs, "aggregateIntervalMs", 10),
    maxHandoverBacklog: integer(merged.maxHandoverBacklog, "maxHandoverBacklog", 1),
    maxRootsPerHandover: integer(merged.maxRootsPerHandover, "maxRootsPerHandover", 1, 4_096),
  };
  if (config.retryMaxMs < config.retryBaseMs) throw new GatewayConfigError("retryMaxMs must be at least retryBaseMs");
  if (config.adminPort !== 0 && config.adminPort === config.port) throw new GatewayConfigError("adminPort must differ from port: the admin listener is not for devices");
  if (new Set(config.groups).size !== config.groups.length) throw new GatewayConfigError("groups names one group twice");
  if (config.pepperFile !== undefined && resolve(config.pepperFile) === resolve(config.databasePath)) throw new GatewayConfigError("pepperFile must not be the database");
  for (const [name, path] of [["databasePath", config.databasePath], ["keyFile", merged.keyFile], ["pepperFile", config.pepperFile]] as const) {
    if (config.adminTokenFile !== undefined && path !== undefined && resolve(config.adminTokenFile) === resolve(String(path))) throw new GatewayConfigError(`adminTokenFile must not be the ${name}`);
  }
  if (config.aggregation === "off" && (config.parentUrl !== undefined || config.parentMaster !== undefined)) throw new GatewayConfigError("parentUrl and parentMaster need aggregation on");
  // One served group: its Master key is the one the parent admits as a child group's Master, and the aggregates' anchoring group.
  if (config.aggregation === "on" && config.groups.length !== 1) throw new GatewayConfigError("aggregation on needs exactly one served group");
  const groupLabels = Object.fromEntries(groupItems.flatMap((item, index) => (isGroupId(item) ? [] : [[config.groups[index], item]])));
  return { config, account, masterKey: masterKeyOf(privateKey), groupLabels };
}

/**
 * `http://<host>:<port>`: the listen address, when it is one devices can reach. A wildcard host
 * (`0.0.0.0`, `::`) listens everywhere, so the machine's name stands in for it; an IPv6 literal
 * goes in brackets. Port 0 (any free port) gives no URL: set `publicUrl`.
 */
export function defaultPublicUrl(host: string, port: number): string | undefined {
  if (port === 0) return undefined;
  const name = host === "0.0.0.0" || host === "::" ? hostname() : host;
  return `http://${name.includes(":") ? `[${name}]` : name}:${port}`;
}

/**
 * Reads the Master's private key (0x-prefixed hex, one line). The file must not be readable by
 * group or others, as with ssh keys; the key itself never appears in an error message.
 */
/** A key file's key, as an account (and the key, for the fast signer). */
export type KeyFile = { account: PrivateKeyAccount; privateKey: Hex };

export function readKeyFile(path: string): KeyFile {
  let content: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) throw new GatewayConfigError(`key file ${path} is readable by others; chmod 600 it`);
    content = readFileSync(path, "utf8").trim();
  } catch (cause) {
    if (cause instanceof GatewayConfigError) throw cause;
    throw new GatewayConfigError(`cannot read key file ${path}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`);
  }
  if (!isHex(content, { strict: true }) || content.length !== 66) throw new GatewayConfigError(`key file ${path} must hold one 32-byte hex private key`);
  try {
    return { account: privateKeyToAccount(content as Hex), privateKey: content as Hex };
  } catch {
    throw new GatewayConfigError(`key file ${path} does not hold a valid secp256k1 private key`);
  }
}

function text(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") throw new GatewayConfigError(`${name} is required`);
  return value;
}

function url(value: unknown, name: string): string {
  const raw = text(value, name);
  let parsed: URL;
  try {
    parsed = new URL(raw);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
  } catch {
    throw new GatewayConfigError(`${name} must be an http(s) URL`);
  }
  // A publicUrl is handed to every device, a parentUrl shown in readiness and logs: no credentials in either (the
  // child proves itself to its parent with its Master key), and no query or fragment for the client's routes to mangle.
  if ((name === "publicUrl" || name === "parentUrl") && (parsed.username !== "" || parsed.password !== "" || parsed.search !== "" || parsed.hash !== "")) {
    throw new GatewayConfigError(`${name} must not carry credentials, a query or a fragment`);
  }
  return raw;
}

function integer(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : typeof value === "bigint" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new GatewayConfigError(`${name} must be an integer from ${min} to ${max}`);
  }
  return number;
}

function address(value: unknown, name: string): Address {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) throw new GatewayConfigError(`${name} must be an address`);
  return getAddress(value);
}

function oneOf<const T extends readonly string[]>(value: unknown, name: string, allowed: T): T[number] {
  if (typeof value !== "string" || !allowed.includes(value)) throw new GatewayConfigError(`${name} must be one of ${allowed.join(", ")}`);
  return value as T[number];
}

function boolean(value: unknown, name: string): boolean {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new GatewayConfigError(`${name} must be true or false`);
}

/** Groups: an array, or a comma-separated list, of gids or labels (see `resolveGroup`). */
function groupList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(",").map((item) => item.trim()) : undefined;
  if (items === undefined || items.length === 0) throw new GatewayConfigError("groups is required (one or more group ids or labels)");
  return items.map((item) => {
    if (typeof item !== "string" || item === "") throw new GatewayConfigError("groups must be group ids or labels");
    return item;
  });
}

/** True for a gid as written (`0x` + 64 hex digits); any other text names a group by its label. */
export const isGroupId = (item: string): boolean => /^0x[0-9a-fA-F]{64}$/.test(item);

/**
 * A served group as configured: a gid (`0x` + 64 hex digits) is taken as it is; any other text is
 * the label of a group the Master key created, so its gid is derived as the registry derives it:
 * `groupId({ chainId, registry, creator: master, label })` (the label through `toId`). A group the
 * key did not create — one it took over by hand-over, or one it only anchors for — is named by gid.
 */
export function resolveGroup(item: string, { chainId, registry, master }: { chainId: number; registry: Address; master: Address }): Hex {
  try {
    if (isGroupId(item)) return toId(item);
    return groupId({ chainId, registry, creator: master, label: item });
  } catch {
    throw new GatewayConfigError(`groups: ${item} is neither a group id nor a label`);
  }
}
