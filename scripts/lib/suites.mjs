// The test runner's suite logic (scripts/test-all.mjs), kept apart so that scripts/test/ can run
// it against temporary folders: which files a suite runs, what its runner reported, and which of
// its skipped tests are allowed.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { LEDGER_VARIABLE, readLedger } from "./gates.mjs";

/** The files a folder suite runs: `*.test.ts` at the top of the folder. */
export const TEST_FILE = /\.test\.ts$/;
const CODE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;
/** A mocha test or suite declared in a file: `describe("…"`, `it.only('…'`, `context(\`…\``, … */
const MOCHA_CALL = /^\s*(describe|context|suite|it|specify|test|xit|xdescribe)(\.only|\.skip)?\s*\(\s*["'`]/m;

/**
 * The test files of a folder suite, and what is wrong with the folder: no test file at all
 * (hardhat-mocha would then run the contracts' test/ under this suite's name), a code file at its
 * top that the pattern misses, or tests in a subfolder (never run). A `fixtures` subfolder holds
 * inputs the tests copy elsewhere and run themselves (scripts/test), so it is left alone.
 * @param {string} folder
 * @returns {{ files: string[], problems: string[] }}
 */
export function suiteFiles(folder) {
  const problems = [];
  if (!existsSync(folder)) return { files: [], problems: [`${folder} does not exist`] };
  const entries = readdirSync(folder, { recursive: true, withFileTypes: true }).filter((entry) => {
    const parts = relative(folder, entry.parentPath).split(/[\\/]/);
    return entry.isFile() && !parts.includes("node_modules") && !parts.includes("fixtures");
  });
  const files = [];
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    const topLevel = relative(folder, entry.parentPath) === "";
    if (topLevel && TEST_FILE.test(entry.name)) files.push(path);
    else if (topLevel && CODE_FILE.test(entry.name)) problems.push(`${path} is not named *.test.ts, so it would never run (move shared code to ${folder}/support/)`);
    else if (!topLevel && CODE_FILE.test(entry.name) && (TEST_FILE.test(entry.name) || MOCHA_CALL.test(readFileSync(path, "utf8")))) {
      problems.push(`${path} declares tests in a subfolder, where they would never run`);
    }
  }
  if (files.length === 0) problems.push(`${folder} holds no *.test.ts file (hardhat-mocha would run test/ instead)`);
  return { files: files.sort(), problems };
}

/**
 * Files (outside a `support` folder) that write the assertion ledger themselves: only the shared
 * helpers may, after their assertion passed.
 * @param {string[]} folders
 */
export function findStrayLedgerWriters(folders) {
  const strays = [];
  for (const folder of folders) {
    if (!existsSync(folder)) continue;
    for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !CODE_FILE.test(entry.name)) continue;
      const parts = relative(folder, entry.parentPath).split(/[\\/]/);
      if (parts.includes("support") || parts.includes("node_modules")) continue;
      const path = join(entry.parentPath, entry.name);
      if (/\brecordAssertion\b|IOMT_ASSERTION_LEDGER/.test(readFileSync(path, "utf8"))) strays.push(path);
    }
  }
  return strays;
}

/**
 * The counts a runner reported: mocha's `N passing` / `N failing` / `N pending`, Hardhat's
 * Solidity runner's `N passing` / `N failing` / `N skipped`.
 * @param {string} output
 */
export function parseCounts(output) {
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\u001b\[[0-9;]*m/g, "");
  const count = (word) => {
    const match = plain.match(new RegExp(`^\\s*(\\d+) ${word}\\b`, "m"));
    return match === null ? undefined : Number(match[1]);
  };
  return { passed: count("passing"), failed: count("failing"), pending: (count("pending") ?? 0) + (count("skipped") ?? 0) };
}

/**
 * Runs `hardhat test <runner> [files]`, echoing its output, and resolves with its exit code and output.
 * @param {{ target: string, runner: string, files?: string[], env?: Record<string, string>, args?: string[], echo?: boolean, cwd?: string }} parameters
 */
export function runHardhat({ target, runner, files = [], env = {}, args = [], echo = true, cwd }) {
  return new Promise((resolve) => {
    const child = spawn("npx", ["hardhat", "test", runner, ...args, ...files], {
      cwd,
      env: { ...process.env, IOMT_EVM: target, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const forward = (stream, sink) =>
      stream.on("data", (chunk) => {
        output += chunk;
        if (echo) sink.write(chunk);
      });
    forward(child.stdout, process.stdout);
    forward(child.stderr, process.stderr);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/**
 * Skips a test may take, by the key the test's `skipBecause` records, each with the runner's own
 * check: it returns why the skip is justified here, or undefined when it is not.
 * @type {Record<string, () => string | undefined>}
 */
export const allowedSkips = {
  // sdk/test/package.test.ts runs the README example on Node 20 where the machine has one.
  "no-node-20": () => (findNode20() === undefined ? `no Node 20 at ${NODE_20}` : undefined),
  // sdk/test/secp256k1.test.ts compares libsecp256k1 with the pure-JS signer where the binding loads.
  "no-native-secp256k1": () => nativeSecp256k1Problem(),
  // sdk/test/keccak.test.ts compares the SDK's hashing on the native keccak with noble's where the addon loads.
  "no-native-keccak": () => nativeKeccakProblem(),
  // The gateway's full-disk tests put its database on a small tmpfs; mounting one needs root or CAP_SYS_ADMIN.
  "no-tmpfs-mount": () => (canMountTmpfs() ? undefined : "this process may not mount a tmpfs (needs root or CAP_SYS_ADMIN)"),
  // gateway/test/package.test.ts checks the systemd unit with `systemd-analyze verify` where the machine has it.
  "no-systemd-analyze": () => (spawnSync("systemd-analyze", ["--version"], { stdio: "ignore", timeout: 30_000 }).status === 0 ? undefined : "no systemd-analyze on PATH (Debian: apt-get install systemd)"),
};

/** Why the optional `secp256k1` binding does not load here (the runner's own check), or undefined when it loads. */
export function nativeSecp256k1Problem() {
  try {
    createRequire(join(process.cwd(), "sdk", "package.json"))("secp256k1/bindings");
    return undefined;
  } catch (error) {
    return `the secp256k1 binding does not load here (${String(error?.message ?? error).split("\n")[0]})`;
  }
}

/** Why the optional `keccak` addon does not load here (the runner's own check, as the SDK's loader loads it), or undefined when it loads. */
export function nativeKeccakProblem() {
  try {
    const manifest = createRequire(join(process.cwd(), "sdk", "package.json")).resolve("keccak/package.json");
    if (typeof createRequire(manifest)("node-gyp-build")(dirname(manifest)) !== "function") return "the keccak addon loads as something other than its KeccakState class";
    return undefined;
  } catch (error) {
    return `the keccak addon does not load here (${String(error?.message ?? error).split("\n")[0]})`;
  }
}

/** True when this process can mount (and unmount) a small tmpfs, as the gateway's full-disk tests do. */
export function canMountTmpfs() {
  const dir = mkdtempSync(join(tmpdir(), "iomt-tmpfs-check-"));
  try {
    if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { stdio: "ignore", timeout: 30_000 }).status !== 0) return false;
    spawnSync("umount", [dir], { stdio: "ignore", timeout: 30_000 });
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where the SDK's package test looks for Node 20 (sdk/test/package.test.ts). */
export const NODE_20 = "/usr/bin/node";

/** The Node 20 binary at {@link NODE_20}, when there is one. */
export function findNode20() {
  if (!existsSync(NODE_20)) return undefined;
  const version = spawnSync(NODE_20, ["--version"], { encoding: "utf8", timeout: 30_000 });
  return version.status === 0 && /^v20\./.test(version.stdout.trim()) ? NODE_20 : undefined;
}

/**
 * Checks a suite's skipped tests against the ledger: each skip must have been recorded by
 * `skipBecause` under a key of `allowed` whose check holds here.
 * @param {number} pending the runner's count of skipped tests
 * @param {string[]} recorded the ledger's `skip` entries
 * @param {Record<string, () => string | undefined>} allowed
 * @returns {{ allowed: string[], problems: string[] }}
 */
export function checkSkips(pending, recorded, allowed = allowedSkips) {
  const problems = [];
  const justified = [];
  for (const key of recorded) {
    const check = allowed[key];
    const reason = check?.();
    if (check === undefined) problems.push(`a test skipped itself as "${key}", which the runner does not allow`);
    else if (reason === undefined) problems.push(`a test skipped itself as "${key}", but the runner finds that reason does not hold here`);
    else justified.push(`${key}: ${reason}`);
  }
  const unexplained = pending - recorded.length;
  if (unexplained > 0) problems.push(`${unexplained} skipped test(s) no allowed reason covers (it.skip, xit, a test without a body, or this.skip() without skipBecause)`);
  return { allowed: justified, problems };
}

/**
 * Runs one suite and judges it: its runner's counts, a crash or missing summary (one failure),
 * the folder's problems and the skips (one failure each). Resolves with the counts and the
 * runner's output.
 * @param {{ title: string, target: string, runner: string, files?: string[], problems?: string[], ledger: string, args?: string[], echo?: boolean, allowed?: Record<string, () => string | undefined>, cwd?: string }} parameters
 */
export async function runSuite({ title, target, runner, files = [], problems: folderProblems = [], ledger, args = [], echo = true, allowed = allowedSkips, cwd }) {
  const log = echo ? (line) => console.log(line) : () => {};
  log(`\n=== ${title} ===`);
  const problems = [...folderProblems];
  let passed = 0;
  let failed = 0;
  let pending = 0;
  let justified = [];
  let output = "";
  if (folderProblems.length === 0) {
    // The ledger may be shared with another suite of the same build: only this run's skips count here.
    const skipsBefore = readLedger(ledger).skip.length;
    let code;
    ({ code, output } = await runHardhat({ target, runner, files, env: { [LEDGER_VARIABLE]: ledger }, args, echo, cwd }));
    const counts = parseCounts(output);
    passed = counts.passed ?? 0;
    failed = counts.failed ?? 0;
    pending = counts.pending;
    // A runner that crashed or printed no summary counts as one failure, never as silence.
    if (failed === 0 && (code !== 0 || counts.passed === undefined || passed === 0)) problems.push(`the runner exited with ${code} and reported ${passed} passing`);
    const skips = checkSkips(pending, readLedger(ledger).skip.slice(skipsBefore), allowed);
    justified = skips.allowed;
    problems.push(...skips.problems);
  }
  for (const problem of problems) log(`${title}: ${problem}`);
  log(`${title}: ${passed} passed, ${failed + problems.length} failed, ${pending} pending${justified.length > 0 ? ` (allowed: ${justified.join("; ")})` : ""}`);
  return { passed, failed: failed + problems.length, pending, allowed: justified, problems, output };
}

/**
 * The runner's last two lines: the pending count (with the allowed skips' reasons), then exactly
 * `N passed, N failed`, which CI reads.
 * @param {{ passed: number, failed: number, pending: number, allowed?: string[] }} counts
 */
export function finalLines({ passed, failed, pending, allowed = [] }) {
  return [`${pending} pending${allowed.length > 0 ? ` (allowed: ${allowed.join("; ")})` : ""}`, `${passed} passed, ${failed} failed`];
}
