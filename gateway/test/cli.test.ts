// The CLI binary (dist/cli.js) as an operator runs it, with storage faults made real on disk:
// `init` creates the database and the pepper file once and never overwrites either; `start` refuses
// a missing, a zero-byte and a corrupted database (bytes flipped) with a message naming the way
// out, and a second `start` on a database a running gateway holds (the first keeps serving; after
// kill -9 of the first the lock is free again); `enrol` and `renew-secret` read secrets from a
// file or stdin, never argv, refuse weak ones, generate a strong one by default, and work next to
// a running gateway. The chain is unreachable here (the gateway starts anyway, as during an
// outage): none of this needs it.
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { generatePrivateKey } from "viem/accounts";
import { toId } from "@iomt-auth/sdk";
import { enrolDevice } from "../src/enrolment.js";
import { GatewayStore } from "../src/store.js";
import { cli, exited, expectCliFailure, runCli, spawnGateway, type CliResult } from "./support/cli.js";
import { corruptPages } from "./support/faults.js";

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
      expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).to.equal("3");
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
      for (let i = 0; i < 200; i++) enrolDevice(store, { gid: toId("ward-1"), oid: `bed-${i}`, address: `0x${(i + 1).toString(16).padStart(40, "0")}` });
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
