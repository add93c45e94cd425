// The published package, as a user gets it: `npm pack` of the SDK (its `prepack` builds dist/),
// the tarball installed from scratch into a fresh temporary project next to viem, and the
// README's example run there, unchanged, against anvil — on the Node running the tests (22+) and,
// when the machine has one, on Node 20 (`/usr/bin/node`), the oldest the package supports; where
// there is none, that test skips through `skipBecause` and says so (scripts/test-all.mjs allows
// that skip only after checking for Node 20 itself). The install works offline: it takes the
// packages from npm's cache (filled by the repository's own install) and asks the registry only
// for what the cache lacks.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { parseEther, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startAnvil, type TestChain } from "./support/chain.js";
import { skipBecause } from "./support/skips.js";

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The viem the SDK pins (later releases do not install here); the temporary project installs it beside the tarball. */
const VIEM_VERSION = "2.57.1";
const NODE_20 = "/usr/bin/node";

/**
 * The environment for child processes: without the NODE_OPTIONS hardhat-mocha sets (it loads tsx
 * from this repository, which must not leak into the fresh project or into another Node).
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects with its output when it fails. */
function run(file: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env ?? childEnv(), timeout: options.timeout ?? 240_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${file} ${args.join(" ")} failed in ${options.cwd}: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
        else resolvePromise({ stdout, stderr });
      },
    );
  });
}

/** The first ```js block of the README, verbatim. */
function readmeExample(readme: string): string {
  const match = /^```js\n([\s\S]*?)^```/m.exec(readme);
  if (match === null) throw new Error("sdk/README.md has no ```js code block");
  return match[1];
}

/** The Node 20 binary at /usr/bin/node, when there is one. */
async function findNode20(): Promise<string | undefined> {
  if (!existsSync(NODE_20)) return undefined;
  try {
    const { stdout } = await run(NODE_20, ["--version"], { cwd: tmpdir(), timeout: 30_000 });
    return /^v20\./.test(stdout.trim()) ? NODE_20 : undefined;
  } catch {
    return undefined;
  }
}

describe("SDK package (npm pack → fresh project → README example)", function () {
  // Building, packing and a registry `npm install` take 30–60 s; each example run a few seconds.
  this.timeout(600_000);

  const tempDirs: string[] = [];
  let tarball: string;
  let tarballEntries: string[];
  let project: string;
  let anvil: TestChain | undefined;
  let node20: string | undefined;

  before(async function () {
    // A clean build: stale files in dist/ (from a deleted source) must not reach the tarball.
    await rm(join(sdkDir, "dist"), { recursive: true, force: true });
    const packDir = await mkdtemp(join(tmpdir(), "iomt-sdk-pack-"));
    tempDirs.push(packDir);
    // `npm pack` runs `prepack`, which builds dist/ with `tsc -p tsconfig.build.json`.
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", packDir], { cwd: sdkDir });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string }[];
    tarball = join(packDir, packed.filename);
    expect(existsSync(tarball), `tarball ${tarball}`).to.equal(true);
    const listing = await run("tar", ["-tzf", tarball], { cwd: packDir });
    tarballEntries = listing.stdout.split("\n").filter((line) => line !== "");

    project = await mkdtemp(join(tmpdir(), "iomt-sdk-project-"));
    tempDirs.push(project);
    await writeFile(join(project, "package.json"), JSON.stringify({ type: "module", private: true }, null, 2) + "\n");
    const install = ["install", tarball, `viem@${VIEM_VERSION}`, "--no-audit", "--no-fund"];
    try {
      await run("npm", [...install, "--offline"], { cwd: project });
    } catch (offline) {
      console.log(`      npm's cache lacks a package; asking the registry (${(offline as Error).message.split("\n")[0]})`);
      await run("npm", [...install, "--prefer-offline"], { cwd: project });
    }
    await writeFile(join(project, "example.mjs"), readmeExample(await readFile(join(sdkDir, "README.md"), "utf8")));

    anvil = await startAnvil();
    node20 = await findNode20();
  });

  after(async function () {
    await anvil?.stop();
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh key with 1,000 ether on anvil, for one run of the example (it deploys and acts as the Master). */
  async function fundedKey(): Promise<Hex> {
    const privateKey = generatePrivateKey();
    const request = anvil!.publicClient.request as (args: { method: string; params: unknown[] }) => Promise<unknown>;
    await request({ method: "hardhat_setBalance", params: [privateKeyToAccount(privateKey).address, `0x${parseEther("1000").toString(16)}`] });
    return privateKey;
  }

  async function runExample(node: string): Promise<RunResult> {
    expect(anvil!.rpcUrl, "anvil's RPC URL").to.be.a("string");
    const env = childEnv({ RPC_URL: anvil!.rpcUrl!, PRIVATE_KEY: await fundedKey() });
    return run(node, ["example.mjs"], { cwd: project, env, timeout: 120_000 });
  }

  function expectExampleOutput({ stdout }: RunResult): void {
    expect(stdout).to.contain("path: Valid");
    expect(stdout).to.contain("nonce now: 2n");
  }

  it("packs only dist/, README.md and package.json, with type declarations", function () {
    expect(tarballEntries.length).to.be.greaterThan(3);
    for (const entry of tarballEntries) {
      expect(entry, "every entry is under package/").to.match(/^package\//);
      const path = entry.slice("package/".length);
      expect(path === "README.md" || path === "package.json" || path.startsWith("dist/"), `unexpected file in the tarball: ${path}`).to.equal(true);
      expect(path, "no sources or tests").not.to.match(/(^|\/)(src|test)\//);
      expect(path, "no TypeScript sources").not.to.match(/(?<!\.d)\.ts$/);
    }
    for (const required of ["package/README.md", "package/package.json", "package/dist/index.js", "package/dist/index.d.ts", "package/dist/deploy.js", "package/dist/deploy.d.ts"]) {
      expect(tarballEntries, required).to.include(required);
    }
  });

  it("installs with only viem and @noble/* as runtime dependencies", async function () {
    const installed = JSON.parse(await readFile(join(project, "node_modules", "@iomt-auth", "sdk", "package.json"), "utf8")) as Record<string, unknown>;
    const dependencies = Object.keys((installed.dependencies ?? {}) as Record<string, string>);
    expect(dependencies).to.include("viem");
    for (const name of dependencies) expect(name === "viem" || name.startsWith("@noble/"), `runtime dependency ${name}`).to.equal(true);
    expect(installed.peerDependencies, "peerDependencies").to.equal(undefined);
    expect(installed.optionalDependencies, "optionalDependencies").to.equal(undefined);
    const viem = JSON.parse(await readFile(join(project, "node_modules", "viem", "package.json"), "utf8")) as { version: string };
    expect(viem.version).to.equal(VIEM_VERSION);
    expect(existsSync(join(project, "node_modules", "@iomt-auth", "sdk", "dist", "index.d.ts"))).to.equal(true);
  });

  it(`runs the README example on Node ${process.versions.node} (the Node running the tests)`, async function () {
    expect(Number(process.versions.node.split(".")[0]), "Node major").to.be.at.least(22);
    expectExampleOutput(await runExample(process.execPath));
  });

  it("runs the README example on Node 20 (/usr/bin/node)", async function () {
    if (node20 === undefined) skipBecause(this, "no-node-20", `no Node 20 at ${NODE_20}, so the package's oldest supported Node is not tried`);
    expectExampleOutput(await runExample(node20));
  });
});
