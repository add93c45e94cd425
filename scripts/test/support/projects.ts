// Temporary projects for the tests of the test gates: a copy of a fixture (scripts/test/fixtures)
// or a folder of files written by the test, inside the repository's .gates-tmp/ (ignored by git),
// so Node finds the repository's node_modules and the fixtures' imports of the shared test
// helpers (`../../../test/support/…`) resolve. Scripts run there as CI runs them.
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const scratch = join(repositoryRoot, ".gates-tmp");

export type Project = {
  dir: string;
  /** Writes (or overwrites) a file of the project. */
  write(path: string, content: string): void;
  /** Copies a file of the project to another path of it. */
  copy(from: string, to: string): void;
  remove(): void;
};

/** A fresh folder two levels below the repository root, optionally filled from scripts/test/fixtures/<fixture>. */
export function createProject(prefix: string, fixture?: string): Project {
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, `${prefix}-`));
  if (fixture !== undefined) cpSync(join(repositoryRoot, "scripts", "test", "fixtures", fixture), dir, { recursive: true });
  return {
    dir,
    write(path, content) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    },
    copy(from, to) {
      mkdirSync(dirname(join(dir, to)), { recursive: true });
      cpSync(join(dir, from), join(dir, to));
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The environment of a script run as CI runs it: without what the test runner around this test
 * set for itself (the assertion ledger, Hardhat's options and loaders), which would leak into it.
 */
export function cleanEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith("HARDHAT_") || name === "IOMT_ASSERTION_LEDGER" || name === "NODE_OPTIONS" || name === "HH_TEST" || name === "IOMT_EVM") delete env[name];
  }
  return { ...env, ...extra };
}

export type ScriptResult = { code: number | null; stdout: string; stderr: string };

/** Runs `node <script> …args` in `cwd` to completion. */
export function runScript(script: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnvironment()): Promise<ScriptResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}
