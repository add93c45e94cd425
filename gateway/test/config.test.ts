// Configuration: settings as strings (environment, flags) or JSON values (a config file) resolve to
// the typed config with its defaults; every invalid setting is refused by name before the gateway
// starts; the Master's key file must be private and well formed and its text never appears in an
// error; a config file's unknown keys are refused and its relative paths are its own folder's;
// IOMT_GATEWAY_* variables map onto the settings; a group is named by gid or by the label of a group
// the Master key created (its gid derived as the registry derives it); the README's settings table
// names every setting.
import { expect } from "chai";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { getAddress, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { groupId, toId } from "@iomt-auth/sdk";
import { readConfigFile, readKeyFile, resolveConfig, resolveGroup, settingNames, settingsFromEnvironment, type RawSettings, type SettingName } from "../src/config.js";
import { GatewayConfigError } from "../src/errors.js";
import { expectCode } from "../../sdk/test/support/expect.js";

const KEY: Hex = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const REGISTRY = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const MASTER = privateKeyToAccount(KEY).address;
/** The group the Master key created with label "ward-1" on chain 31337 (the default settings below). */
const GID = groupId({ chainId: 31337, registry: REGISTRY, creator: MASTER, label: "ward-1" });

/** Asserts that `fn` is refused with GatewayConfigInvalid and a message naming `setting`; returns the message. */
function expectRefused(fn: () => unknown, setting: string | RegExp): string {
  const error = expectCode(fn, GatewayConfigError, "GatewayConfigInvalid");
  expect(error.message).to.match(typeof setting === "string" ? new RegExp(`\\b${setting}\\b`) : setting);
  return error.message;
}

describe("gateway config", () => {
  let dir: string;
  let keyFile: string;
  /** Valid settings as strings, as the environment or flags give them. */
  let base: RawSettings;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "iomt-gateway-config-"));
    keyFile = join(dir, "master.key");
    writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
    base = { rpcUrl: "http://127.0.0.1:8545", chainId: "31337", registry: REGISTRY, groups: "ward-1", keyFile };
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes `content` to a fresh file in the temp folder with `mode`, and returns its path. */
  let files = 0;
  function file(content: string, mode = 0o600): string {
    const path = join(dir, `file-${++files}`);
    writeFileSync(path, content);
    chmodSync(path, mode); // explicit: writeFileSync's mode is filtered by the umask
    return path;
  }

  describe("resolveConfig with valid settings", () => {
    it("types settings given as strings (environment, flags) and fills every other setting with its default", () => {
      const { config, account, masterKey } = resolveConfig({
        ...base,
        fromBlock: "12",
        groups: `ward-1, ${toId("ward-2")}`,
        port: "9000",
        policy: "relay",
        retryMaxMs: "1000",
        nativeSecp256k1: "false",
        durability: "normal",
      });
      expect(config).to.deep.equal({
        rpcUrl: "http://127.0.0.1:8545",
        chainId: 31337,
        registry: getAddress(REGISTRY),
        fromBlock: 12n,
        groups: [GID, toId("ward-2").toLowerCase()],
        port: 9000,
        policy: "relay",
        retryMaxMs: 1000,
        nativeSecp256k1: false,
        durability: "normal",
        // the defaults
        databasePath: "gateway.db",
        host: "127.0.0.1",
        adminHost: "127.0.0.1",
        adminPort: 9464,
        publicUrl: "http://127.0.0.1:9000",
        batchMaxMessages: 256,
        batchMaxAgeMs: 2_000,
        pollIntervalMs: 500,
        retryBaseMs: 250,
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
        integrityCheck: "quick",
        pepperFile: undefined,
        adminTokenFile: undefined,
        logLevel: "info",
        keccak: "wasm",
        verifierThreads: Math.max(1, availableParallelism() - 1),
        aggregation: "off",
        parentUrl: undefined,
        parentMaster: undefined,
        handoverDeadlineMs: 60_000,
        aggregateIntervalMs: 2_000,
        maxHandoverBacklog: 100_000,
        maxRootsPerHandover: 256,
      });
      expect(account.address).to.equal(privateKeyToAccount(KEY).address);
      expect(masterKey.address).to.equal(account.address);
    });

    it("refuses parentUrl or parentMaster without aggregation on, and aggregation on with more than one served group", () => {
      expectRefused(() => resolveConfig({ ...base, parentUrl: "http://127.0.0.1:8081" }), /parentUrl and parentMaster need aggregation on/);
      expectRefused(() => resolveConfig({ ...base, parentMaster: REGISTRY }), /parentUrl and parentMaster need aggregation on/);
      expectRefused(() => resolveConfig({ ...base, aggregation: "on", groups: `ward-1, ${toId("ward-2")}` }), /aggregation on needs exactly one served group/);
      expectRefused(() => resolveConfig({ ...base, aggregation: "yes" }), /aggregation must be one of off, on/);
      const { config } = resolveConfig({ ...base, aggregation: "on", parentUrl: "http://127.0.0.1:8081", handoverDeadlineMs: "5000" });
      expect(config).to.deep.include({ aggregation: "on", parentUrl: "http://127.0.0.1:8081", handoverDeadlineMs: 5_000 });
    });

    it("takes JSON numbers, booleans and a group array as a config file gives them", () => {
      const { config } = resolveConfig({ ...base, chainId: 31337, fromBlock: 0, groups: ["ward-1"], port: 0, batchMaxMessages: 10, nativeSecp256k1: true });
      expect(config).to.deep.include({ chainId: 31337, fromBlock: 0n, groups: [GID], port: 0, batchMaxMessages: 10, nativeSecp256k1: true });
    });

    it("takes the verifier threads from 0 (the main thread) up, by default one less than the cores Node reports, at least one", () => {
      expect(resolveConfig({ ...base, verifierThreads: "0" }).config.verifierThreads).to.equal(0);
      expect(resolveConfig({ ...base, verifierThreads: 3 }).config.verifierThreads).to.equal(3);
      expect(resolveConfig(base).config.verifierThreads).to.equal(Math.max(1, availableParallelism() - 1));
    });

    it("takes the keccak backend by name, wasm by default", () => {
      expect(resolveConfig(base).config.keccak).to.equal("wasm");
      for (const backend of ["wasm", "native", "noble"]) expect(resolveConfig({ ...base, keccak: backend }).config.keccak).to.equal(backend);
    });

    it("accepts a boolean as 1/0 and true/false", () => {
      expect(resolveConfig({ ...base, nativeSecp256k1: "1" }).config.nativeSecp256k1).to.equal(true);
      expect(resolveConfig({ ...base, nativeSecp256k1: "0" }).config.nativeSecp256k1).to.equal(false);
      expect(resolveConfig({ ...base, nativeSecp256k1: "true" }).config.nativeSecp256k1).to.equal(true);
    });

    it("takes the integrity check and the pepper file; the pepper file is read only where secrets are handled, never by resolveConfig", () => {
      const { config } = resolveConfig({ ...base, integrityCheck: "full", pepperFile: join(dir, "not-created-yet.pepper") });
      expect(config).to.deep.include({ integrityCheck: "full", pepperFile: join(dir, "not-created-yet.pepper") });
    });

    it("keeps the Master key out of everything it returns that could be printed: no storage key, no key property", () => {
      const loaded = resolveConfig(base);
      expect(loaded).to.not.have.property("storageKey");
      expect(JSON.stringify(loaded, (_, value) => (typeof value === "bigint" ? value.toString() : value)).toLowerCase()).to.not.include(KEY.slice(2).toLowerCase());
      expect(Object.keys(loaded.masterKey)).to.deep.equal(["address", "signer"]);
    });
  });

  describe("publicUrl: the URL written into provisioning bundles", () => {
    it("defaults to http://host:port, a wildcard host giving the machine's name and an IPv6 host its brackets", () => {
      expect(resolveConfig({ ...base, port: "8080" }).config.publicUrl).to.equal("http://127.0.0.1:8080");
      expect(resolveConfig({ ...base, host: "ward-3.local", port: "9000" }).config.publicUrl).to.equal("http://ward-3.local:9000");
      expect(resolveConfig({ ...base, host: "0.0.0.0", port: "8080" }).config.publicUrl).to.equal(`http://${hostname()}:8080`);
      expect(resolveConfig({ ...base, host: "::1", port: "8080" }).config.publicUrl).to.equal("http://[::1]:8080");
      expect(resolveConfig(base).config.publicUrl, "the default port").to.equal("http://127.0.0.1:8080");
    });

    it("has none with port 0 (any free port) unless one is set, and takes a set one as it is", () => {
      expect(resolveConfig({ ...base, port: "0" }).config.publicUrl).to.equal(undefined);
      expect(resolveConfig({ ...base, port: "0", publicUrl: "https://ward-3.hospital.example:8443/gw" }).config.publicUrl).to.equal("https://ward-3.hospital.example:8443/gw");
    });
  });

  describe("groups by gid or by label", () => {
    it("takes a label as the group the Master key created: its gid is derived from chain, registry, key and label, as on chain", () => {
      const { config } = resolveConfig({ ...base, groups: "ward-1,icu" });
      expect(config.groups).to.deep.equal([GID, groupId({ chainId: 31337, registry: REGISTRY, creator: MASTER, label: "icu" })]);
      // Not the v1 reading of a name (toId), which anyone could have created first.
      expect(config.groups[0]).to.not.equal(toId("ward-1"));
      expect(resolveConfig({ ...base, chainId: "1" }).config.groups[0]).to.not.equal(GID);
      expect(resolveConfig({ ...base, registry: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" }).config.groups[0]).to.not.equal(GID);
    });

    it("takes a bytes32 as the gid itself (a group the key took over, or only anchors for), lower-cased", () => {
      const other = toId("some group created by another key");
      expect(resolveConfig({ ...base, groups: [other.toUpperCase().replace("0X", "0x")] }).config.groups).to.deep.equal([other]);
    });

    it("resolves like the CLI's --group does", () => {
      expect(resolveGroup("ward-1", { chainId: 31337, registry: getAddress(REGISTRY), master: MASTER })).to.equal(GID);
      expect(resolveGroup(GID, { chainId: 1, registry: getAddress(REGISTRY), master: MASTER })).to.equal(GID);
    });

    it("refuses a truncated 0x… id rather than taking it as a label, and a group named twice", () => {
      expectRefused(() => resolveConfig({ ...base, groups: GID.slice(0, 40) }), /groups: 0x[0-9a-f]+ is neither a group id nor a label/);
      expectRefused(() => resolveConfig({ ...base, groups: `ward-1,${GID}` }), /groups names one group twice/);
    });
  });

  describe("resolveConfig refuses each invalid setting by name", () => {
    const invalid: [setting: string, value: unknown][] = [
      ["rpcUrl", "not a url"],
      ["rpcUrl", "ftp://127.0.0.1:8545"],
      ["chainId", "0"],
      ["port", "80.5"],
      ["port", "-1"],
      ["port", 1.5],
      ["port", "65536"],
      ["port", 65_536],
      ["adminPort", "65536"],
      ["adminPort", "admin"],
      ["adminHost", ""],
      ["policy", "broadcast"],
      ["registry", "0x5fbdb2315678afecb367f032d93f642f64180a"],
      ["registry", "registry"],
      ["groups", []],
      ["groups", ""],
      ["groups", "ward-1,,ward-2"],
      ["groups", [42]],
      ["nativeSecp256k1", "yes"],
      ["keccak", "native-please"],
      ["keccak", true],
      ["verifierThreads", "-1"],
      ["verifierThreads", "257"],
      ["verifierThreads", "two"],
      ["durability", "sometimes"],
      ["integrityCheck", "none"],
      ["pepperFile", ""],
      ["pepperFile", "gateway.db"],
      ["logLevel", "loud"],
      ["publicUrl", "ward-3.hospital.example:8080"],
      ["publicUrl", "ws://ward-3.hospital.example:8080"],
      ["publicUrl", "https://operator:secret@ward-3.hospital.example"],
      ["publicUrl", "https://ward-3.hospital.example/?device=1"],
      ["parentUrl", "https://operator:secret@hospital.gateway.example"],
      ["parentUrl", "https://hospital.gateway.example/#v2"],
      ["batchMaxMessages", "0"],
      ["maxPendingHandshakes", "0"],
      ["pollIntervalMs", "5"],
      ["bodyLimitBytes", "1e6"],
    ];
    for (const [setting, value] of invalid) {
      it(`${setting}: ${JSON.stringify(value)}`, () => {
        expectRefused(() => resolveConfig({ ...base, [setting]: value }), setting);
      });
    }

    it("retryMaxMs below retryBaseMs", () => {
      expectRefused(() => resolveConfig({ ...base, retryBaseMs: "500", retryMaxMs: "100" }), /retryMaxMs.*retryBaseMs/);
    });

    it("adminPort equal to port: the admin listener is never the devices' (both 0, two free ports, is fine)", () => {
      expectRefused(() => resolveConfig({ ...base, port: "9000", adminPort: "9000" }), /adminPort must differ from port/);
      expect(resolveConfig({ ...base, port: "0", adminPort: "0" }).config).to.deep.include({ port: 0, adminPort: 0 });
    });

    it("an adminTokenFile that is the database, the key file or the pepper file: the console's token is a file of its own", () => {
      for (const [name, path] of [["databasePath", join(dir, "same.db")], ["keyFile", keyFile], ["pepperFile", join(dir, "same.pepper")]] as const) {
        expectRefused(() => resolveConfig({ ...base, databasePath: join(dir, "gateway.db"), [name]: path, adminTokenFile: path }), new RegExp(`adminTokenFile must not be the ${name}`));
      }
    });

    for (const setting of ["rpcUrl", "chainId", "registry", "groups", "keyFile"]) {
      it(`a missing ${setting}, which has no default`, () => {
        expectRefused(() => resolveConfig({ ...base, [setting]: undefined }), setting);
      });
    }
  });

  describe("readKeyFile", () => {
    it("reads the key of a file only its owner can read", () => {
      const { account, privateKey } = readKeyFile(file(`  ${KEY}\r\n`));
      expect(privateKey).to.equal(KEY);
      expect(account.address).to.equal(privateKeyToAccount(KEY).address);
    });

    it("refuses a key file that group or others can read (0644, 0640, 0604), without printing the key", () => {
      for (const mode of [0o644, 0o640, 0o604]) {
        const path = file(KEY, mode);
        const message = expectRefused(() => readKeyFile(path), /readable by others; chmod 600/);
        expect(message).to.not.include(KEY.slice(2));
      }
    });

    it("refuses a missing key file", () => {
      expectRefused(() => readKeyFile(join(dir, "no-such.key")), /cannot read key file .*ENOENT/);
    });

    it("refuses a file that does not hold one 32-byte hex key, without printing its text", () => {
      const notKeys = [
        KEY.slice(2), // no 0x
        KEY.slice(0, -2), // 31 bytes
        `${KEY}00`, // 33 bytes
        `${KEY.slice(0, -1)}z`, // not hex
        `${KEY}\n${KEY}`, // two keys
        "",
      ];
      for (const content of notKeys) {
        const message = expectRefused(() => readKeyFile(file(content)), /must hold one 32-byte hex private key/);
        if (content !== "") expect(message).to.not.include(content.slice(2, 40));
      }
    });

    it("refuses 32 bytes that are no secp256k1 key (zero, the group order), without printing them", () => {
      const zero = `0x${"00".repeat(32)}`;
      const order = "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
      for (const content of [zero, order]) {
        const message = expectRefused(() => readKeyFile(file(content)), /not hold a valid secp256k1 private key/);
        expect(message).to.not.include(content.slice(2));
      }
    });
  });

  describe("readConfigFile", () => {
    it("resolves relative keyFile, databasePath, pepperFile and adminTokenFile against the config file's folder, and leaves absolute ones", () => {
      const folder = join(dir, "etc", "gateway");
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, "master.key"), KEY, { mode: 0o600 });
      chmodSync(join(folder, "master.key"), 0o600);
      const path = join(folder, "gateway.json");
      writeFileSync(path, JSON.stringify({ ...base, chainId: 31337, keyFile: "master.key", databasePath: "data/gateway.db", pepperFile: "secret/pepper", adminTokenFile: "secret/admin.token", port: 8081 }));
      const raw = readConfigFile(path);
      expect(raw).to.deep.include({ keyFile: join(folder, "master.key"), databasePath: join(folder, "data", "gateway.db"), pepperFile: join(folder, "secret", "pepper"), adminTokenFile: join(folder, "secret", "admin.token"), chainId: 31337, port: 8081 });
      expect(resolveConfig(raw).account.address).to.equal(privateKeyToAccount(KEY).address);

      writeFileSync(path, JSON.stringify({ keyFile, databasePath: "/var/lib/gateway.db" }));
      expect(readConfigFile(path)).to.deep.equal({ keyFile, databasePath: "/var/lib/gateway.db" });
    });

    it("refuses unknown settings, naming them (a typo must not silently fall back to a default)", () => {
      const path = file(JSON.stringify({ ...base, rpcURL: "http://127.0.0.1:1", batchSize: 10 }));
      expectRefused(() => readConfigFile(path), /unknown setting\(s\) rpcURL, batchSize/);
    });

    it("refuses nativeKeccak, the boolean that the keccak setting replaced, as unknown (a file that turned the addon off must say keccak: noble now)", () => {
      expectRefused(() => readConfigFile(file(JSON.stringify({ ...base, nativeKeccak: false }))), /unknown setting\(s\) nativeKeccak/);
    });

    it("refuses a file that is not JSON, is not an object, or is missing", () => {
      expectRefused(() => readConfigFile(file("rpcUrl = http://127.0.0.1:8545")), /cannot read the config file/);
      expectRefused(() => readConfigFile(file(JSON.stringify([base]))), /must hold a JSON object/);
      expectRefused(() => readConfigFile(file("null")), /must hold a JSON object/);
      expectRefused(() => readConfigFile(join(dir, "missing.json")), /cannot read the config file/);
    });
  });

  describe("settingsFromEnvironment", () => {
    const variables: Record<SettingName, string> = {
      rpcUrl: "IOMT_GATEWAY_RPC_URL",
      chainId: "IOMT_GATEWAY_CHAIN_ID",
      registry: "IOMT_GATEWAY_REGISTRY",
      fromBlock: "IOMT_GATEWAY_FROM_BLOCK",
      groups: "IOMT_GATEWAY_GROUPS",
      keyFile: "IOMT_GATEWAY_KEY_FILE",
      databasePath: "IOMT_GATEWAY_DATABASE",
      host: "IOMT_GATEWAY_HOST",
      port: "IOMT_GATEWAY_PORT",
      adminHost: "IOMT_GATEWAY_ADMIN_HOST",
      adminPort: "IOMT_GATEWAY_ADMIN_PORT",
      publicUrl: "IOMT_GATEWAY_PUBLIC_URL",
      policy: "IOMT_GATEWAY_POLICY",
      batchMaxMessages: "IOMT_GATEWAY_BATCH_MAX_MESSAGES",
      batchMaxAgeMs: "IOMT_GATEWAY_BATCH_MAX_AGE_MS",
      pollIntervalMs: "IOMT_GATEWAY_POLL_INTERVAL_MS",
      retryBaseMs: "IOMT_GATEWAY_RETRY_BASE_MS",
      retryMaxMs: "IOMT_GATEWAY_RETRY_MAX_MS",
      sessionTtlSeconds: "IOMT_GATEWAY_SESSION_TTL_SECONDS",
      maxSessions: "IOMT_GATEWAY_MAX_SESSIONS",
      maxSessionsPerDevice: "IOMT_GATEWAY_MAX_SESSIONS_PER_DEVICE",
      maxPendingHandshakes: "IOMT_GATEWAY_MAX_PENDING_HANDSHAKES",
      rateLimitPerMinute: "IOMT_GATEWAY_RATE_LIMIT_PER_MINUTE",
      deviceRateLimitPerMinute: "IOMT_GATEWAY_DEVICE_RATE_LIMIT_PER_MINUTE",
      requestTimeoutMs: "IOMT_GATEWAY_REQUEST_TIMEOUT_MS",
      mirrorWaitMs: "IOMT_GATEWAY_MIRROR_WAIT_MS",
      trustProxy: "IOMT_GATEWAY_TRUST_PROXY",
      bodyLimitBytes: "IOMT_GATEWAY_BODY_LIMIT_BYTES",
      maxMessagesPerRequest: "IOMT_GATEWAY_MAX_MESSAGES_PER_REQUEST",
      maxPayloadBytes: "IOMT_GATEWAY_MAX_PAYLOAD_BYTES",
      durability: "IOMT_GATEWAY_DURABILITY",
      integrityCheck: "IOMT_GATEWAY_INTEGRITY_CHECK",
      pepperFile: "IOMT_GATEWAY_PEPPER_FILE",
      adminTokenFile: "IOMT_GATEWAY_ADMIN_TOKEN_FILE",
      logLevel: "IOMT_GATEWAY_LOG_LEVEL",
      nativeSecp256k1: "IOMT_GATEWAY_NATIVE_SECP256K1",
      keccak: "IOMT_GATEWAY_KECCAK",
      verifierThreads: "IOMT_GATEWAY_VERIFIER_THREADS",
      aggregation: "IOMT_GATEWAY_AGGREGATION",
      parentUrl: "IOMT_GATEWAY_PARENT_URL",
      parentMaster: "IOMT_GATEWAY_PARENT_MASTER",
      handoverDeadlineMs: "IOMT_GATEWAY_HANDOVER_DEADLINE_MS",
      aggregateIntervalMs: "IOMT_GATEWAY_AGGREGATE_INTERVAL_MS",
      maxHandoverBacklog: "IOMT_GATEWAY_MAX_HANDOVER_BACKLOG",
      maxRootsPerHandover: "IOMT_GATEWAY_MAX_ROOTS_PER_HANDOVER",
    };

    it("maps every setting from its IOMT_GATEWAY_* variable", () => {
      expect(Object.keys(variables)).to.have.members(settingNames);
      for (const [setting, variable] of Object.entries(variables)) {
        expect(settingsFromEnvironment({ [variable]: `value of ${variable}` }), variable).to.deep.equal({ [setting]: `value of ${variable}` });
      }
    });

    it("ignores empty variables and variables of other programs", () => {
      const env = { IOMT_GATEWAY_PORT: "9000", IOMT_GATEWAY_HOST: "", IOMT_GATEWAY_PORTS: "1", PORT: "80", HOME: "/root" };
      expect(settingsFromEnvironment(env)).to.deep.equal({ port: "9000" });
    });

    it("gives settings that resolve like flags", () => {
      const env = { IOMT_GATEWAY_RPC_URL: "https://rpc.example", IOMT_GATEWAY_CHAIN_ID: "5", IOMT_GATEWAY_REGISTRY: REGISTRY, IOMT_GATEWAY_GROUPS: "ward-1", IOMT_GATEWAY_KEY_FILE: keyFile, IOMT_GATEWAY_NATIVE_SECP256K1: "0" };
      const onChain5 = groupId({ chainId: 5, registry: REGISTRY, creator: MASTER, label: "ward-1" });
      expect(resolveConfig(settingsFromEnvironment(env)).config).to.deep.include({ rpcUrl: "https://rpc.example", chainId: 5, groups: [onChain5], nativeSecp256k1: false });
    });
  });

  describe("the README's settings table", () => {
    it("names every setting in its first column, and no other", () => {
      const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
      const table = readme.slice(readme.indexOf("| setting (file key / `--flag`)"));
      const rows = table.slice(0, table.indexOf("\n\n")).split("\n").slice(2);
      const named = rows.flatMap((row) => [...(row.split("|")[1] ?? "").matchAll(/`(\w+)`/g)].map(([, name]) => name));
      expect(named).to.have.members(settingNames);
    });
  });
});
