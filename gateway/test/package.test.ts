// The gateway as an operator installs it: `npm pack` of the SDK and of the gateway (their
// `prepack` scripts build dist/), the two tarballs installed into a fresh temporary project
// (`npx iomt-gateway …`) and, as the systemd unit and the Containerfile expect, globally under a
// prefix (`npm install --global --prefix …`). The installs take packages from the registry, or
// from npm's cache alone when it cannot be reached (sdk/test/support/npm.ts). The bin runs on the
// Node running the tests (22+; the project-local one first on PATH). The shipped examples are
// held to what runs: the sample configuration through the config loader and the binary, the unit
// through `systemd-analyze verify` where the machine has it and against the installed layout.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { generatePrivateKey } from "viem/accounts";
import { childEnv, installProject, npmPack, run, usable, type Project, type RunResult } from "../../sdk/test/support/npm.js";
import { skipBecause } from "../../sdk/test/support/skips.js";
import { readConfigFile, resolveConfig } from "../src/config.js";
import { exited } from "./support/cli.js";
import { createHarness, eventually } from "./support/harness.js";
import { randomPort } from "./support/process.js";

const gatewayDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoDir = resolve(gatewayDir, "..");
const examples = join(gatewayDir, "examples");
/** Where the unit and the Containerfile expect `npm install --global` to have put the package. */
const UNIT_PREFIX = "/opt/iomt-gateway";
const CONTAINER_PREFIX = "/usr/local";
const PACKAGE_PATH = join("lib", "node_modules", "@iomt-auth", "gateway");

type Manifest = { name: string; version: string; private?: boolean; bin: Record<string, string>; files: string[]; license: string; engines: { node: string } };

/** A systemd unit file: each section's settings, in order (a key may repeat). */
function parseUnit(text: string): Map<string, [string, string][]> {
  const sections = new Map<string, [string, string][]>();
  let current: [string, string][] | undefined;
  for (const line of text.split("\n").map((raw) => raw.trim())) {
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section !== null) sections.set(section[1], (current = []));
    else if (current === undefined || !line.includes("=")) throw new Error(`unit line outside a section or without '=': ${line}`);
    else current.push([line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]);
  }
  return sections;
}

/** A Containerfile's instructions (continuation lines joined), as [INSTRUCTION, arguments]. */
function parseContainerfile(text: string): [string, string][] {
  const joined = text.replace(/\\\n/g, " ").split("\n").map((line) => line.trim());
  return joined.filter((line) => line !== "" && !line.startsWith("#")).map((line) => {
    const [instruction, ...rest] = line.split(/\s+/);
    return [instruction.toUpperCase(), rest.join(" ")];
  });
}

describe("gateway package (npm pack of the SDK and the gateway → fresh installs → iomt-gateway)", function () {
  // Two builds, two packs and two installs take a few minutes on a shared machine.
  this.timeout(900_000);

  const tempDirs: string[] = [];
  let sdkTarball: string;
  let gatewayTarball: string;
  let entries: string[];
  let manifest: Manifest;
  let project: Project;
  let global: Project;

  before(async function () {
    const packDir = await mkdtemp(join(tmpdir(), "iomt-gateway-pack-"));
    tempDirs.push(packDir);
    // The SDK first: the gateway's build (its prepack) compiles against the SDK's fresh dist/.
    sdkTarball = await npmPack(join(repoDir, "sdk"), packDir);
    gatewayTarball = await npmPack(gatewayDir, packDir);
    entries = (await run("tar", ["-tzf", gatewayTarball], { cwd: packDir })).stdout.split("\n").filter((line) => line !== "");
    manifest = JSON.parse(await readFile(join(gatewayDir, "package.json"), "utf8")) as Manifest;
    [project, global] = await Promise.all([
      installProject([sdkTarball, gatewayTarball], tempDirs),
      installProject([sdkTarball, gatewayTarball], tempDirs, ["--global", "--prefix", "prefix"]),
    ]);
  });

  after(async function () {
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  });

  /** `npx iomt-gateway …args` in the fresh project. */
  const npx = (dir: string, ...args: string[]): Promise<RunResult> => run("npx", ["--no-install", "iomt-gateway", ...args], { cwd: dir, timeout: 120_000 });

  /** The console's page, built from console-ui/ at pack time (no CDN: the gateway serves these). */
  const consolePage = ["dist/console-ui/index.html", "dist/console-ui/app.js", "dist/console-ui/app.css"];

  describe("the tarball", function () {
    it("holds dist/ (modules and declarations, and the operator console's page), README.md, LICENSE, package.json and the two examples that run, nothing else", function () {
      const shipped = ["README.md", "LICENSE", "package.json", "examples/gateway.json", "examples/iomt-gateway.service"];
      for (const entry of entries) {
        expect(entry, "every entry is under package/").to.match(/^package\//);
        const path = entry.slice("package/".length);
        expect(shipped.includes(path) || /^dist\/(console\/)?[\w-]+\.(js|d\.ts)$/.test(path) || consolePage.includes(path), `unexpected file in the tarball: ${path}`).to.equal(true);
      }
      for (const path of [...shipped, ...consolePage, "dist/cli.js", "dist/commands.js", "dist/index.js", "dist/index.d.ts", "dist/console/routes.js"]) expect(entries, path).to.include(`package/${path}`);
    });

    it("is publishable: not private, MIT with the repository's LICENSE, the bin iomt-gateway pointing into dist/", async function () {
      expect(manifest.private, "private").to.equal(undefined);
      expect(manifest.license).to.equal("MIT");
      expect(manifest.bin).to.deep.equal({ "iomt-gateway": "dist/cli.js" });
      expect(await readFile(join(gatewayDir, "LICENSE"), "utf8")).to.equal(await readFile(join(repoDir, "LICENSE"), "utf8"));
    });

    it("publishes without npm correcting the manifest (npm 11 drops a bin written ./dist/cli.js at publish)", async function () {
      // --ignore-scripts: dist/ is already built by the pack above; --offline: a dry run needs no registry;
      // --loglevel notice: `./iomt test` runs under `npm run --silent`, whose npm_config_loglevel=silent
      // every child npm inherits, and would hide both the dry run's notice and npm's corrections.
      const { stderr } = await run("npm", ["publish", "--dry-run", "--ignore-scripts", "--offline", "--loglevel", "notice"], { cwd: gatewayDir });
      expect(stderr).to.match(/\(dry-run\)/);
      expect(stderr, "npm's corrections").not.to.match(/auto-corrected|was invalid|errors corrected/);
    });
  });

  describe("installed from the two tarballs in a fresh project: `npx iomt-gateway`", function () {
    it("prints the package's version with --version", async function () {
      const { stdout } = await npx(usable(this, project), "--version");
      expect(stdout.trim()).to.equal(manifest.version);
    });

    it("lists every command with --help", async function () {
      const { stdout } = await npx(usable(this, project), "--help");
      expect(stdout).to.match(/^Usage: iomt-gateway/m);
      for (const command of ["init", "start", "enrol", "renew-secret", "revoke", "unenrol", "devices", "pending", "backup", "restore", "status"]) expect(stdout).to.match(new RegExp(`^  ${command}\\b`, "m"));
    });

    it("creates a database and a pepper file with init, both 0600, and reads the database with status: its SQLite binding loads", async function () {
      const dir = usable(this, project);
      const database = join(dir, "data", "gateway.db");
      for (const folder of ["data", "secrets"]) await mkdir(join(dir, folder));
      const init = JSON.parse((await npx(dir, "init", "--databasePath", "data/gateway.db", "--pepperFile", "secrets/pepper")).stdout) as { initialised: { database: string; pepperFile: string } };
      expect(init.initialised.database).to.equal(await realpath(database));
      for (const file of [database, join(dir, "secrets", "pepper")]) expect(statSync(file).mode & 0o777, file).to.equal(0o600);
      const status = JSON.parse((await npx(dir, "status", "--databasePath", "data/gateway.db")).stdout) as Record<string, unknown> & { database: { schemaVersion: number } };
      expect(status).to.deep.include({ messages: {}, batches: {}, associations: {}, enrolments: 0 });
      expect(status.database.schemaVersion).to.equal(8);
    });

    it("runs init and status with the shipped sample configuration, its paths moved to the project", async function () {
      const dir = usable(this, project);
      const sample = join(dir, "node_modules", "@iomt-auth", "gateway", "examples", "gateway.json");
      const paths = ["--databasePath", "sample.db", "--pepperFile", "sample-pepper"];
      await npx(dir, "init", "--config", sample, ...paths);
      const status = JSON.parse((await npx(dir, "status", "--config", sample, "--databasePath", "sample.db")).stdout) as { database: { path: string } };
      expect(status.database.path).to.equal(await realpath(join(dir, "sample.db")));
    });
  });

  describe("the systemd unit (examples/iomt-gateway.service)", function () {
    let unit: Map<string, [string, string][]>;
    const setting = (section: string, key: string): string[] => (unit.get(section) ?? []).filter(([name]) => name === key).map(([, value]) => value);

    before(async function () {
      unit = parseUnit(await readFile(join(examples, "iomt-gateway.service"), "utf8"));
    });

    it("runs the package's bin with node directly, from the global install under /opt/iomt-gateway, never through npm", function () {
      const [execStart, ...more] = setting("Service", "ExecStart");
      expect(more, "one ExecStart").to.deep.equal([]);
      const [node, script, ...args] = execStart.split(/\s+/);
      expect(node).to.equal("/usr/bin/node");
      expect(script).to.equal(join(UNIT_PREFIX, PACKAGE_PATH, manifest.bin["iomt-gateway"]));
      expect(args).to.deep.equal(["start", "--config", "/etc/iomt-gateway/gateway.json"]);
      for (const [key, value] of unit.get("Service")!) if (key.startsWith("Exec")) expect(value, key).not.to.match(/\b(npm|npx)\b/);
    });

    it("stops with SIGTERM, restarts on failure but not on a configuration or database refusal, runs as its own user", function () {
      expect(setting("Service", "KillSignal")).to.deep.equal(["SIGTERM"]);
      expect(setting("Service", "Restart")).to.deep.equal(["on-failure"]);
      expect(setting("Service", "RestartPreventExitStatus")).to.deep.equal(["2 3"]);
      expect(setting("Service", "User")).to.deep.equal(["iomt-gateway"]);
    });

    it("is hardened: no new privileges, the system read-only but the database's folder, a private /tmp, no capabilities", function () {
      expect(setting("Service", "NoNewPrivileges")).to.deep.equal(["yes"]);
      expect(setting("Service", "ProtectSystem")).to.deep.equal(["strict"]);
      expect(setting("Service", "PrivateTmp")).to.deep.equal(["yes"]);
      expect(setting("Service", "ProtectHome")).to.deep.equal(["yes"]);
      expect(setting("Service", "CapabilityBoundingSet")).to.deep.equal([""]);
      const sample = readConfigFile(join(examples, "gateway.json"));
      expect(setting("Service", "ReadWritePaths")).to.deep.equal([dirname(sample.databasePath as string)]);
      for (const secret of [sample.keyFile, sample.pepperFile] as string[]) expect(secret.startsWith(`${dirname(sample.databasePath as string)}/`), `${secret} is read-only to the service`).to.equal(false);
    });

    it("starts the installed bin exactly as its ExecStart says (paths under the test's prefix): start's help", async function () {
      const prefix = join(usable(this, global), "prefix");
      const [, script, ...args] = setting("Service", "ExecStart")[0].split(/\s+/);
      const installed = join(prefix, script.slice(UNIT_PREFIX.length));
      expect(existsSync(installed), installed).to.equal(true);
      const { stdout } = await run(process.execPath, [installed, ...args, "--help"], { cwd: prefix });
      expect(stdout).to.match(/^Usage: iomt-gateway start/m);
      const linked = await run(join(prefix, "bin", "iomt-gateway"), ["--version"], { cwd: prefix });
      expect(linked.stdout.trim(), "the global bin link").to.equal(manifest.version);
    });

    it("stops as systemd stops it: the installed bin, started as ExecStart says beside a chain (its operator console on, served from the package), gets SIGTERM itself, logs `gateway closed` and exits 0", async function () {
      const prefix = join(usable(this, global), "prefix");
      const [, script] = setting("Service", "ExecStart")[0].split(/\s+/);
      const installed = join(prefix, script.slice(UNIT_PREFIX.length));
      const harness = await createHarness();
      try {
        const [port, adminPort] = [await randomPort(), await randomPort()];
        const config = join(harness.dir, "service.json");
        const adminTokenFile = join(harness.dir, "admin.token");
        await writeFile(config, JSON.stringify(harness.settings({ port: String(port), adminPort: String(adminPort), adminTokenFile, logLevel: "info" })));
        await run(process.execPath, [installed, "init", "--config", config], { cwd: harness.dir });
        await run(process.execPath, [installed, "admin-token", "--config", config], { cwd: harness.dir });
        const child = spawn(process.execPath, [installed, "start", "--config", config], { cwd: harness.dir, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.stderr.on("data", (chunk) => (stderr += chunk));
        try {
          await eventually("the installed gateway to answer /health/live", async () => {
            if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}: ${stderr}`);
            return fetch(`http://127.0.0.1:${port}/health/live`).then((response) => (response.ok ? true : undefined), () => undefined);
          });
          for (const asset of ["/console", "/console/app.js", "/console/app.css"]) expect((await fetch(`http://127.0.0.1:${adminPort}${asset}`)).status, asset).to.equal(200);
          const token = (await readFile(adminTokenFile, "utf8")).trim();
          expect((await fetch(`http://127.0.0.1:${adminPort}/console/api/overview`, { headers: { authorization: `Bearer ${token}` } })).status).to.equal(200);
          child.kill("SIGTERM");
          await exited(child);
        } finally {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        }
        expect({ code: child.exitCode, signal: child.signalCode }, stderr).to.deep.equal({ code: 0, signal: null });
        const lines = stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { msg: string; signal?: string });
        expect(lines.find((line) => line.msg === "closing")?.signal).to.equal("SIGTERM");
        expect(lines.at(-1)?.msg).to.equal("gateway closed");
        expect(stderr).to.equal("");
      } finally {
        await harness.close();
      }
    });

    it("passes systemd-analyze verify without a warning (node and the bin at the test's install)", async function () {
      const found = await run("systemd-analyze", ["--version"], { cwd: tmpdir() }).then(() => true, () => false);
      if (!found) skipBecause(this, "no-systemd-analyze", "no systemd-analyze on PATH: the unit is checked by the tests above only");
      const prefix = join(usable(this, global), "prefix");
      const text = (await readFile(join(examples, "iomt-gateway.service"), "utf8")).replace("/usr/bin/node ", `${process.execPath} `).replace(`${UNIT_PREFIX}/`, `${prefix}/`);
      const copy = join(prefix, "iomt-gateway.service");
      await writeFile(copy, text);
      const { stdout, stderr } = await run("systemd-analyze", ["verify", copy], { cwd: prefix });
      expect(stdout + stderr, "systemd-analyze's complaints").to.equal("");
    });
  });

  describe("the sample configuration (examples/gateway.json)", function () {
    it("loads through the config loader with only keyFile replaced: devices behind a local TLS proxy, the admin listener on localhost with the console", async function () {
      const dir = await mkdtemp(join(tmpdir(), "iomt-sample-config-"));
      tempDirs.push(dir);
      const keyFile = join(dir, "master.key");
      await writeFile(keyFile, `${generatePrivateKey()}\n`);
      await chmod(keyFile, 0o600);
      const raw = readConfigFile(join(examples, "gateway.json"));
      const { config } = resolveConfig({ ...raw, keyFile });
      expect(config).to.deep.include({ host: "127.0.0.1", adminHost: "127.0.0.1", trustProxy: true, durability: "full", databasePath: "/var/lib/iomt-gateway/gateway.db" });
      expect(new URL(config.publicUrl!).protocol, "publicUrl is the proxy's https URL").to.equal("https:");
      expect(raw.keyFile).to.equal("/etc/iomt-gateway/secrets/master.key");
      // The console is on, its token with the other secrets (admin-token creates it, as the README's steps do).
      expect(config.adminTokenFile).to.equal("/etc/iomt-gateway/secrets/admin.token");
    });

    it("is explained setting by setting in the README's service section", async function () {
      const readme = await readFile(join(gatewayDir, "README.md"), "utf8");
      const start = readme.indexOf("## Install and run as a service");
      expect(start, "the section").to.be.greaterThan(-1);
      const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
      for (const key of Object.keys(JSON.parse(await readFile(join(examples, "gateway.json"), "utf8")) as object)) expect(section, key).to.include(`\`${key}\``);
    });
  });

  describe("the Containerfile (examples/Containerfile, untested: no container engine runs here)", function () {
    let instructions: [string, string][];
    const all = (name: string) => instructions.filter(([instruction]) => instruction === name).map(([, args]) => args);

    before(async function () {
      instructions = parseContainerfile(await readFile(join(examples, "Containerfile"), "utf8"));
    });

    it("installs the two tarballs `npm pack` makes globally on node:22-slim", function () {
      expect(all("FROM")).to.deep.equal(["node:22-slim"]);
      const copied = all("COPY")[0].split(" ").slice(0, -1);
      for (const tarball of [sdkTarball, gatewayTarball]) {
        const name = tarball.slice(tarball.lastIndexOf("/") + 1);
        expect(copied.some((pattern) => new RegExp(`^${pattern.replace(/\./g, "\\.").replace(/\*/g, ".*")}$`).test(name)), `COPY picks ${name}`).to.equal(true);
      }
      expect(all("RUN")[0]).to.match(/^npm install --global --omit=dev .*\*\.tgz/);
    });

    it("runs the bin with node as PID 1 as a non-root user, the database in a volume", function () {
      const [entrypoint] = all("ENTRYPOINT").map((args) => JSON.parse(args) as string[]);
      expect(entrypoint).to.deep.equal(["node", join(CONTAINER_PREFIX, PACKAGE_PATH, manifest.bin["iomt-gateway"])]);
      expect(JSON.parse(all("CMD")[0])).to.deep.equal(["start", "--config", "/etc/iomt-gateway/gateway.json"]);
      expect(all("USER")).to.deep.equal(["iomt-gateway"]);
      expect(all("VOLUME")).to.deep.equal([dirname(readConfigFile(join(examples, "gateway.json")).databasePath as string)]);
      expect(all("STOPSIGNAL")).to.deep.equal(["SIGTERM"]);
    });
  });
});
