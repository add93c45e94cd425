// The CLI binary (dist/cli.js) as an operator runs it, with storage faults made real on disk:
// the command line is read before any configuration (`--help`, `help`, `--version`, per-command
// help listing every option with its default, CliUsage for unknown commands and flags; `status`
// without a config reads the working directory's gateway.db); under Node 20 it refuses with
// NodeVersionUnsupported before SQLite loads; `status`, `devices` and `pending` read the database
// read-only, without the key or the chain, with ISO times, oid names and group labels, and take
// paths relative to the working directory (also through `./iomt gateway`); `init` creates the
// database and the pepper file once and never overwrites either; `start` refuses a missing, a
// zero-byte and a corrupted database (bytes flipped) with a message naming the way out, and a
// second `start` on a database a running gateway holds (the first keeps serving; after kill -9 of
// the first the lock is free again); `enrol` and `renew-secret` read secrets from a file or stdin,
// never argv, refuse weak ones, generate a strong one by default, and work next to a running
// gateway; `backup` copies a running gateway's database with what its WAL holds (a file copy
// does not) and `restore` puts it back, never over a database without --replace nor under a
// running gateway. The chain is unreachable here (the gateway starts anyway, as during an outage): none of
// this needs it.
import { expect } from "chai";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { generatePrivateKey } from "viem/accounts";
import { toId } from "@iomt-auth/sdk";
import { enrolDevice } from "../src/enrolment.js";
import { GatewayStore } from "../src/store.js";
import { cli, exited, expectCliFailure, runCli, spawnGateway, type CliResult } from "./support/cli.js";
import { corruptPages } from "./support/faults.js";
import { findNode20, NODE_20 } from "../../scripts/lib/suites.mjs";
import { skipBecause } from "../../sdk/test/support/skips.js";

/** Runs `iomt-gateway …args` with `input` on its stdin (support/cli.ts's runCli gives none). */
function runWithInput(args: string[], input: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdin.end(input);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const run = (args: string[]) => runCli(args);

/** The environment without any IOMT_GATEWAY_* setting: only the command line counts. */
function bareEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("IOMT_GATEWAY_")));
}

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string; engines: { node: string } };
const commands = ["init", "admin-token", "start", "enrol", "renew-secret", "revoke", "unenrol", "devices", "pending", "status"];

describe("gateway CLI: commands are dispatched before any configuration is read", () => {
  let empty: string;
  /** Runs the CLI in an empty folder, without config file or IOMT_GATEWAY_* variables. */
  const bare = (args: string[]) => runCli(args, bareEnvironment(), { cwd: empty });

  before(() => {
    empty = mkdtempSync(join(tmpdir(), "iomt-gateway-bare-"));
  });

  after(() => {
    rmSync(empty, { recursive: true, force: true });
  });

  describe("help and version", () => {
    it("answers --help, -h and `help` with every command, exit 0, without a configuration", async () => {
      for (const args of [["--help"], ["-h"], ["help"]]) {
        const result = await bare(args);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout).to.match(/^Usage: iomt-gateway \[options\] \[command\]/);
        for (const command of commands) expect(result.stdout, `${args.join(" ")} lists ${command}`).to.match(new RegExp(`\\n  ${command} `));
        expect(result.stderr).to.equal("");
      }
    });

    it("prints the package's version for --version and -V", async () => {
      for (const flag of ["--version", "-V"]) {
        const result = await bare([flag]);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stdout).to.equal(`${manifest.version}\n`);
      }
    });

    it("lists every option of every command with its default (or that it is required), for `<command> --help` and `help <command>`", async () => {
      const { defaultConfig, settingNames } = await import("../src/config.js");
      const settingsOf: Record<string, readonly string[]> = {
        init: ["databasePath", "pepperFile"],
        "admin-token": ["adminTokenFile"],
        start: settingNames,
        enrol: settingNames,
        "renew-secret": settingNames,
        revoke: settingNames,
        unenrol: ["databasePath"],
        devices: ["databasePath"],
        pending: ["databasePath"],
        status: ["databasePath"],
      };
      for (const command of commands) {
        const result = await bare([command, "--help"]);
        expect(result.code, result.stderr).to.equal(0);
        expect((await bare(["help", command])).stdout).to.equal(result.stdout);
        const text = result.stdout.replace(/\s+/g, " ");
        expect(text).to.include(`Usage: iomt-gateway ${command} [options]`);
        expect(text).to.include("--config <file>");
        for (const name of settingsOf[command]) {
          const fallback = (defaultConfig as Record<string, unknown>)[name];
          const state = fallback !== undefined ? `default: ${String(fallback)}` : ["rpcUrl", "chainId", "registry", "groups", "keyFile"].includes(name) ? "required" : "default: none";
          const option = text.slice(text.indexOf(`--${name} <value> `));
          expect(option, `${command} --help: --${name}`).to.match(/^--\w+ <value> /);
          expect(option.match(/\(IOMT_GATEWAY_\w+; [^)]*\)/)?.[0], `${command} --help: --${name}`).to.match(new RegExp(`; ${state}\\)$`));
        }
        // Only the settings the command uses.
        for (const name of settingNames.filter((name) => !settingsOf[command].includes(name))) expect(text).not.to.include(`--${name} `);
      }
      const enrol = (await bare(["enrol", "--help"])).stdout.replace(/\s+/g, " ");
      for (const flag of ["--oid <id>", "--address <0x…>", "--group <gid|label>", "--secret-file <file>", "--secret-stdin", "--no-secret", "--token-file <file>"]) expect(enrol).to.include(flag);
      expect(enrol).to.include("needs rpcUrl and the node");
      expect(enrol).not.to.match(/--secret </);
      expect((await bare(["devices", "--help"])).stdout).to.include("--group <gid|label>");
      for (const command of ["revoke", "unenrol"]) {
        const help = (await bare([command, "--help"])).stdout.replace(/\s+/g, " ");
        for (const flag of ["--oid <id>", "--group <gid|label>"]) expect(help, `${command} --help`).to.include(flag);
      }
      expect((await bare(["unenrol", "--help"])).stdout.replace(/\s+/g, " ")).to.include("does not revoke on chain");
    });
  });

  describe("usage errors: CliUsage, exit 2, naming what was wrong", () => {
    it("refuses an unknown command, suggesting the nearest one, instead of asking for rpcUrl", async () => {
      const result = await bare(["restart"]);
      expect(expectCliFailure(result, 2, "CliUsage")).to.match(/unknown command 'restart'.*Did you mean one of restore, start\?.*iomt-gateway --help lists the commands/);
      expect(result.stderr).not.to.include("rpcUrl");
    });

    it("refuses an unknown flag, and a setting the command does not use", async () => {
      expect(expectCliFailure(await bare(["status", "--verbose"]), 2, "CliUsage")).to.match(/unknown option '--verbose'.*iomt-gateway <command> --help/);
      expect(expectCliFailure(await bare(["status", "--rpcUrl", "http://127.0.0.1:8545"]), 2, "CliUsage")).to.include("unknown option '--rpcUrl'");
      expect(expectCliFailure(await bare(["start", "--prot", "8080"]), 2, "CliUsage")).to.match(/unknown option '--prot'.*Did you mean --port\?/);
    });

    it("refuses a missing option value, a missing mandatory option and a stray argument", async () => {
      expect(expectCliFailure(await bare(["status", "--config"]), 2, "CliUsage")).to.include("option '--config <file>' argument missing");
      expect(expectCliFailure(await bare(["enrol", "--oid", "bed-1"]), 2, "CliUsage")).to.include("required option '--address <0x…>' not specified");
      expect(expectCliFailure(await bare(["status", "now"]), 2, "CliUsage")).to.include("too many arguments");
    });

    it("prints the usage on stderr and exits 2 without a command", async () => {
      const result = await bare([]);
      expect(result.stdout).to.equal("");
      expect(result.stderr).to.match(/^Usage: iomt-gateway /);
      expect(expectCliFailure(result, 2, "CliUsage")).to.include("a command is required");
    });
  });

  it("runs `status` without --config on the working directory's gateway.db: StoreMissing there, not \"rpcUrl is required\"", async () => {
    const result = await bare(["status"]);
    expect(expectCliFailure(result, 3, "StoreMissing")).to.include(`no database at ${join(empty, "gateway.db")}`);
    expect(result.stderr).not.to.include("rpcUrl");
  });
});

describe("gateway CLI: the Node version is checked before anything is loaded", () => {
  it("refuses Node 20 with NodeVersionUnsupported (exit 2, naming the version needed) instead of dying in the SQLite binding (exit 139)", async function () {
    const node20 = findNode20();
    if (node20 === undefined) skipBecause(this, "no-node-20", `no Node 20 at ${NODE_20}, so the CLI is not tried under an unsupported Node`);
    for (const args of [["status"], ["--help"], ["start", "--config", "missing.json"]]) {
      const result = await runCli(args, bareEnvironment(), { node: node20 });
      expect(expectCliFailure(result, 2, "NodeVersionUnsupported")).to.match(new RegExp(`this is Node 20\\.\\d+\\.\\d+; iomt-gateway ${manifest.version} needs Node >=22\\.13\\.0 .*install Node 22`));
      expect(result.stdout).to.equal("");
    }
    expect(manifest.engines.node).to.equal(">=22.13.0");
  });
});

describe("gateway CLI: init, start refusals, one process per database, secrets never on argv", () => {
  let dir: string;
  let configFile: string;
  let database: string;
  let pepperFile: string;
  let port: number;
  const running: ChildProcess[] = [];

  /** A config for a gateway whose chain is unreachable (it starts anyway); `overrides` change settings. */
  function writeConfig(overrides: Record<string, unknown> = {}): string {
    const file = join(dir, `gateway-${Math.random().toString(16).slice(2)}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        rpcUrl: "http://127.0.0.1:9",
        chainId: 31337,
        registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        groups: "ward-1",
        keyFile: "master.key",
        databasePath: database,
        pepperFile,
        port,
        adminPort: 0,
        logLevel: "warn",
        ...overrides,
      }),
    );
    return file;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "iomt-gateway-cli-"));
    writeFileSync(join(dir, "master.key"), `${generatePrivateKey()}\n`);
    chmodSync(join(dir, "master.key"), 0o600);
    mkdirSync(join(dir, "data"));
    mkdirSync(join(dir, "secrets"), { mode: 0o700 });
    database = join(dir, "data", "gateway.db");
    pepperFile = join(dir, "secrets", "gateway.pepper");
    port = 20_000 + Math.floor(Math.random() * 20_000);
    configFile = writeConfig();
  });

  afterEach(async () => {
    for (const child of running.splice(0)) {
      child.kill("SIGKILL");
      await exited(child);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  describe("init", () => {
    it("creates the database and the pepper file, both 0600, and refuses to run again over either", async () => {
      const first = await run(["init", "--config", configFile]);
      expect(first.code, first.stderr).to.equal(0);
      expect(JSON.parse(first.stdout)).to.deep.equal({ initialised: { database, pepperFile, pepper: "created" } });
      expect(statSync(database).mode & 0o777).to.equal(0o600);
      expect(statSync(pepperFile).mode & 0o777).to.equal(0o600);
      const pepper = readFileSync(pepperFile, "utf8");
      expect(pepper).to.match(/^[0-9a-f]{64}\n$/);
      const db = new Database(database, { readonly: true });
      expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).to.equal("8");
      db.close();

      expect(expectCliFailure(await run(["init", "--config", configFile]), 3, "StoreExists")).to.match(/gateway\.db already exists .*never overwrites/);
      expect(readFileSync(pepperFile, "utf8")).to.equal(pepper);
    });

    it("refuses an existing empty file too, and keeps an existing pepper file (checked, not replaced)", async () => {
      writeFileSync(pepperFile, `${"ab".repeat(32)}\n`, { mode: 0o600 });
      chmodSync(pepperFile, 0o600);
      writeFileSync(database, "");
      expect(expectCliFailure(await run(["init", "--config", configFile]), 3, "StoreExists")).to.match(/\(0 bytes\)/);
      rmSync(database);
      const done = await run(["init", "--config", configFile]);
      expect(done.code, done.stderr).to.equal(0);
      expect(JSON.parse(done.stdout).initialised.pepper).to.equal("existing");
      expect(readFileSync(pepperFile, "utf8")).to.equal(`${"ab".repeat(32)}\n`);
    });

    it("refuses a pepper file others may read before creating anything", async () => {
      writeFileSync(pepperFile, `${"ab".repeat(32)}\n`);
      chmodSync(pepperFile, 0o644);
      expect(expectCliFailure(await run(["init", "--config", configFile]), 2, "GatewayConfigInvalid")).to.match(/pepper file .* readable by group or others; chmod 600/);
      expect(existsSync(database)).to.equal(false);
    });
  });

  describe("start refuses a database it cannot trust, naming the way out", () => {
    it("a missing file: StoreMissing, naming init; nothing is created", async () => {
      expect(expectCliFailure(await run(["start", "--config", configFile]), 3, "StoreMissing")).to.match(/no database at .*gateway\.db: create it once with `iomt-gateway init --config/);
      expect(existsSync(database)).to.equal(false);
    });

    it("a zero-byte file: StoreEmpty (a truncated database is never taken for a new one); the file is left as it is", async () => {
      writeFileSync(database, "");
      expect(expectCliFailure(await run(["start", "--config", configFile]), 3, "StoreEmpty")).to.match(/gateway\.db is empty \(0 bytes\).*restore it from a backup/i);
      expect(statSync(database).size).to.equal(0);
    });

    it("a corrupted file (bytes flipped in its pages): StoreCorrupt from the integrity check", async () => {
      expect((await run(["init", "--config", configFile])).code).to.equal(0);
      // Enough rows for several pages (written in this process: the CLI would take a second each).
      const store = GatewayStore.open(database);
      await Promise.all(Array.from({ length: 200 }, (_, i) => enrolDevice(store, { gid: toId("ward-1"), oid: `bed-${i}`, address: `0x${(i + 1).toString(16).padStart(40, "0")}` })));
      store.close();
      corruptPages(database);
      expect(expectCliFailure(await run(["start", "--config", configFile]), 3, "StoreCorrupt")).to.match(/gateway\.db (is corrupt|failed SQLite's quick_check)/);
    });
  });

  describe("one gateway process per database", () => {
    it("refuses a second start while the first runs (which keeps serving), lets the CLI work beside it, and frees the lock when the first is killed with kill -9", async () => {
      expect((await run(["init", "--config", configFile])).code).to.equal(0);
      const url = `http://127.0.0.1:${port}`;
      const first = (await spawnGateway(configFile, url)).child;
      running.push(first);

      const second = await run(["start", "--config", writeConfig({ port: port + 1 })]);
      expect(expectCliFailure(second, 3, "StoreLocked")).to.match(/another gateway process is running on .*gateway\.db .*one gateway per database/);
      expect((await fetch(`${url}/health/live`)).status).to.equal(200);

      // The operator's commands still run next to the gateway.
      const enrolled = await run(["enrol", "--config", configFile, "--oid", "bed-1", "--address", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]);
      expect(enrolled.code, enrolled.stderr).to.equal(0);
      const status = await run(["status", "--config", configFile]);
      expect(JSON.parse(status.stdout).enrolments).to.equal(1);

      first.kill("SIGKILL");
      await exited(first);
      const third = (await spawnGateway(configFile, url)).child;
      running.push(third);
      third.kill("SIGTERM");
      await exited(third);
      expect(third.exitCode).to.equal(0);
    });
  });

  describe("status, devices and pending: read-only, needing neither the Master key nor the chain", () => {
    const address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    let gid: string;
    /** A config that names only the database (relative to the config's folder): no key, no chain. */
    let databaseOnly: string;
    const read = async (...args: string[]) => {
      const result = await runCli([...args, "--config", databaseOnly], bareEnvironment());
      expect(result.code, result.stderr).to.equal(0);
      return JSON.parse(result.stdout);
    };
    const digest = () => createHash("sha256").update(readFileSync(database)).digest("hex");

    beforeEach(async () => {
      expect((await run(["init", "--config", configFile])).code).to.equal(0);
      const enrolled = await run(["enrol", "--config", configFile, "--oid", "bed-12/spo2", "--address", address, "--group", "ward-1", "--no-secret"]);
      expect(enrolled.code, enrolled.stderr).to.equal(0);
      gid = JSON.parse(enrolled.stdout).enrolled.gid;
      rmSync(join(dir, "master.key"));
      databaseOnly = join(dir, "read-only.json");
      writeFileSync(databaseOnly, JSON.stringify({ databasePath: "data/gateway.db" }));
    });

    it("devices shows the oid's name as enrolled beside its hash, the group's label, and times as ISO 8601", async () => {
      const [device] = await read("devices");
      expect(device).to.deep.include({ oid: toId("bed-12/spo2"), oidName: "bed-12/spo2", gid, group: "ward-1", address, secret: "none", secretLockedUntil: null, ticketIssuedAt: null, association: null, messages: 0 });
      expect(device.enrolledAt).to.match(ISO);
      expect(Date.now() - Date.parse(device.enrolledAt)).to.be.within(0, 600_000);
    });

    it("takes --group as a label the store recorded or as a gid, and refuses an unknown label with CliUsage", async () => {
      expect((await read("devices", "--group", "ward-1")).map((row: { oidName: string }) => row.oidName)).to.deep.equal(["bed-12/spo2"]);
      expect(await read("devices", "--group", gid)).to.have.length(1);
      expect(await read("devices", "--group", `0x${"ab".repeat(32)}`)).to.deep.equal([]);
      expect(await read("pending", "--group", "ward-1")).to.deep.equal({ messages: [], batches: [], associations: [] });
      const unknown = await runCli(["devices", "--group", "ward-9", "--config", databaseOnly], bareEnvironment());
      expect(expectCliFailure(unknown, 2, "CliUsage")).to.match(/--group ward-9: no group has this label in .*gateway\.db .*name the group by gid/);
    });

    it("status reports counts and the database's times as ISO 8601; none of the three writes to the file", async () => {
      const before = digest();
      const status = await read("status");
      expect(status).to.deep.include({ enrolments: 1, messages: {}, associations: {} });
      expect(status.database).to.deep.include({ path: database, schemaVersion: 8, lastOpenedAt: null });
      expect(status.database.createdAt).to.match(ISO);
      await read("devices");
      await read("pending");
      expect(digest()).to.equal(before);
    });

    it("resolves relative paths in flags from the working directory, also through ./iomt gateway", async () => {
      const direct = await runCli(["status", "--databasePath", "data/gateway.db"], bareEnvironment(), { cwd: dir });
      expect(direct.code, direct.stderr).to.equal(0);
      expect(JSON.parse(direct.stdout).database.path).to.equal(database);
      const wrapper = join(import.meta.dirname, "..", "..", "iomt");
      const through = await new Promise<CliResult>((resolve) =>
        execFile(wrapper, ["gateway", "devices", "--databasePath", "data/gateway.db"], { cwd: dir, env: bareEnvironment() }, (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
        ),
      );
      expect(through.code, through.stderr).to.equal(0);
      expect(JSON.parse(through.stdout)[0].oidName).to.equal("bed-12/spo2");
    });
  });

  describe("backup and restore: SQLite's online backup, against a running gateway", () => {
    const address = (i: number) => `0x${i.toString(16).padStart(40, "0")}`;
    const enrol = async (i: number) => expect((await run(["enrol", "--config", configFile, "--oid", `bed-${i}`, "--address", address(i), "--no-secret"])).code).to.equal(0);
    const enrolled = async () => (JSON.parse((await run(["devices", "--config", configFile])).stdout) as { oidName: string }[]).map((row) => row.oidName);

    it("backs up a running gateway's database with what is still in its WAL (a plain file copy misses it), and restores it for a gateway that starts on it", async () => {
      expect((await run(["init", "--config", configFile])).code).to.equal(0);
      const url = `http://127.0.0.1:${port}`;
      const first = (await spawnGateway(configFile, url)).child;
      running.push(first);
      for (const i of [1, 2, 3]) await enrol(i);

      // The running gateway keeps the database open, so the new rows sit in the WAL: a copy of the file alone lacks them.
      copyFileSync(database, join(dir, "copied.db"));
      const copied = new Database(join(dir, "copied.db"), { readonly: true });
      expect(copied.prepare("SELECT count(*) FROM enrolments").pluck().get()).to.equal(0);
      copied.close();

      mkdirSync(join(dir, "backups"));
      const backupFile = join(dir, "backups", "gateway.db");
      const made = await run(["backup", "--config", configFile, "--to", backupFile]);
      expect(made.code, made.stderr).to.equal(0);
      expect(JSON.parse(made.stdout).backup).to.deep.include({ database, to: backupFile, schemaVersion: 8, enrolments: 3, messages: 0, batches: 0 });
      expect(statSync(backupFile).mode & 0o777).to.equal(0o600);
      expect(expectCliFailure(await run(["backup", "--config", configFile, "--to", backupFile]), 3, "StoreExists")).to.match(/backups\/gateway\.db already exists: backup writes a new file and never overwrites one/);

      // Never over a database, and never under a running gateway; it keeps serving.
      await enrol(4);
      expect(expectCliFailure(await run(["restore", "--config", configFile, "--from", backupFile]), 3, "StoreExists")).to.include("restore never overwrites a database");
      expect(expectCliFailure(await run(["restore", "--config", configFile, "--from", backupFile, "--replace"]), 3, "StoreLocked")).to.include("another gateway process is running");
      expect((await fetch(`${url}/health/live`)).status).to.equal(200);
      expect(await enrolled()).to.deep.equal(["bed-1", "bed-2", "bed-3", "bed-4"]);

      first.kill("SIGTERM");
      await exited(first);
      const restored = await run(["restore", "--config", configFile, "--from", backupFile, "--replace"]);
      expect(restored.code, restored.stderr).to.equal(0);
      const { replaced, enrolments } = JSON.parse(restored.stdout).restored as { replaced: string; enrolments: number };
      expect(enrolments).to.equal(3);
      expect(replaced).to.match(/data\/gateway\.db\.replaced-\d{4}-\d\d-\d\dT/);
      const old = new Database(replaced, { readonly: true });
      expect(old.prepare("SELECT count(*) FROM enrolments").pluck().get()).to.equal(4);
      old.close();

      const second = (await spawnGateway(configFile, url)).child;
      running.push(second);
      expect(await enrolled()).to.deep.equal(["bed-1", "bed-2", "bed-3"]);
      second.kill("SIGTERM");
      await exited(second);
      expect(second.exitCode).to.equal(0);
    });

    it("refuses to restore a file that is not a sound gateway database (StoreCorrupt), leaving the database as it was", async () => {
      expect((await run(["init", "--config", configFile])).code).to.equal(0);
      await enrol(1);
      const bogus = join(dir, "bogus.db");
      writeFileSync(bogus, "not a database, just text that is long enough to look like one ".repeat(100));
      expectCliFailure(await run(["restore", "--config", configFile, "--from", bogus, "--replace"]), 3, "StoreCorrupt");
      expect(await enrolled()).to.deep.equal(["bed-1"]);
    });
  });

  describe("enrol and renew-secret: secrets from a file or stdin, never argv", () => {
    const address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    beforeEach(async () => {
      expect((await run(["init", "--config", configFile])).code).to.equal(0);
    });

    const devices = async () => JSON.parse((await run(["devices", "--config", configFile])).stdout) as { oid: string; secret: string; secretFailures: number }[];

    it("generates a strong secret by default, prints it once and stores only its peppered hash", async () => {
      const result = await run(["enrol", "--config", configFile, "--oid", "bed-12/spo2", "--address", address]);
      expect(result.code, result.stderr).to.equal(0);
      const printed = JSON.parse(result.stdout) as { enrolled: { secret: string }; secret: string };
      expect(printed.enrolled.secret).to.equal("generated");
      expect(printed.secret).to.match(/^[A-Z2-7]{20}$/);
      expect(readFileSync(database).includes(Buffer.from(printed.secret))).to.equal(false);
      expect((await devices())[0]).to.deep.include({ secret: "set", secretFailures: 0 });
    });

    it("refuses --secret on the command line and enrols nothing", async () => {
      const result = await run(["enrol", "--config", configFile, "--oid", "bed-1", "--address", address, "--secret", "a-long-enough-secret-value"]);
      expect(expectCliFailure(result, 2, "CliUsage")).to.match(/--secret is not accepted: .*visible to other users.*--secret-file FILE or --secret-stdin/);
      expect(await devices()).to.deep.equal([]);
    });

    it("reads a secret from a 0600 file (one trailing newline ignored), and refuses a file others may read", async () => {
      const secretFile = join(dir, "secrets", "bed-1.secret");
      writeFileSync(secretFile, "correct horse battery staple\n");
      chmodSync(secretFile, 0o644);
      const open = await run(["enrol", "--config", configFile, "--oid", "bed-1", "--address", address, "--secret-file", secretFile]);
      expect(expectCliFailure(open, 2, "CliUsage")).to.match(/secret file .* readable by group or others; chmod 600/);
      chmodSync(secretFile, 0o600);
      const result = await run(["enrol", "--config", configFile, "--oid", "bed-1", "--address", address, "--secret-file", secretFile]);
      expect(result.code, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout)).to.deep.include({ enrolled: { oid: JSON.parse(result.stdout).enrolled.oid, gid: JSON.parse(result.stdout).enrolled.gid, address, secret: "file" } });
      expect(result.stdout).to.not.include("correct horse");
    });

    it("reads a secret from stdin, and refuses one under 16 characters (EnrolmentSecretWeak)", async () => {
      const weak = await runWithInput(["enrol", "--config", configFile, "--oid", "bed-1", "--address", address, "--secret-stdin"], "4711\n");
      expect(expectCliFailure(weak, 2, "EnrolmentSecretWeak")).to.match(/the secret has 4 characters; at least 16 are required/);
      expect(await devices()).to.deep.equal([]);
      const result = await runWithInput(["enrol", "--config", configFile, "--oid", "bed-1", "--address", address, "--secret-stdin"], "sixteen chars ok\n");
      expect(result.code, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout).enrolled.secret).to.equal("stdin");
    });

    it("enrols without a secret only when told so (--no-secret), and renew-secret gives a device a new one", async () => {
      const plain = await run(["enrol", "--config", configFile, "--oid", "bed-1", "--address", address, "--no-secret"]);
      expect(plain.code, plain.stderr).to.equal(0);
      expect(JSON.parse(plain.stdout)).to.not.have.property("secret");
      expect((await devices())[0].secret).to.equal("none");
      const renewed = await run(["renew-secret", "--config", configFile, "--oid", "bed-1"]);
      expect(renewed.code, renewed.stderr).to.equal(0);
      expect(JSON.parse(renewed.stdout).secret).to.match(/^[A-Z2-7]{20}$/);
      expect((await devices())[0].secret).to.equal("set");
      expectCliFailure(await run(["renew-secret", "--config", configFile, "--oid", "bed-99"]), 2, "EnrolmentUnknown");
    });

    it("refuses a secret when no pepperFile is configured, pointing at --no-secret", async () => {
      const noPepper = writeConfig({ pepperFile: undefined });
      const result = await run(["enrol", "--config", noPepper, "--oid", "bed-1", "--address", address]);
      expect(expectCliFailure(result, 2, "GatewayConfigInvalid")).to.match(/enrolment secrets need pepperFile in the configuration .*--no-secret/);
      expect(await devices()).to.deep.equal([]);
    });
  });
});
