// npm as the packages' users run it, for the package tests (sdk/test/package.test.ts,
// gateway/test/package.test.ts): commands run to completion in a child environment, and fresh
// projects with tarballs installed from the registry, or from npm's cache alone when the registry
// cannot be reached.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join } from "node:path";

/**
 * The environment for child processes: without the NODE_OPTIONS hardhat-mocha sets (it loads tsx
 * from this repository, which must not leak into the fresh project or into another Node), and with
 * the Node running the tests first on PATH, so that npm, npx and a bin's `#!/usr/bin/env node` run
 * on it (the project-local Node 22 when the machine's own is older).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: [dirname(process.execPath), process.env.PATH].join(delimiter), ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects with its output (and exit code) when it fails. */
export function run(file: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env ?? childEnv(), timeout: options.timeout ?? 240_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(new Error(`${file} ${args.join(" ")} failed in ${options.cwd}: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`), { stdout, stderr, code: error.code }));
        else resolvePromise({ stdout, stderr });
      },
    );
  });
}

/** `npm pack` of the workspace in `packageDir` (its `prepack` runs) into `destination`; the tarball's path. */
export async function npmPack(packageDir: string, destination: string): Promise<string> {
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", destination], { cwd: packageDir });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string }[];
  return join(destination, packed.filename);
}

const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b/;

export type Project = { dir: string; from: "registry" | "npm cache" } | { dir: string; skipReason: string };

/**
 * A fresh ESM project with `packages` installed by `npm install …packages …flags` (e.g. `--global
 * --prefix DIR`), from the registry, or from the npm cache alone when the registry cannot be
 * reached. Any other install failure fails the test.
 */
export async function installProject(packages: readonly string[], tempDirs: string[], flags: readonly string[] = []): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), "iomt-package-project-"));
  tempDirs.push(dir);
  await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }, null, 2) + "\n");
  const install = (extra: string[]) => run("npm", ["install", ...packages, "--no-audit", "--no-fund", ...flags, ...extra], { cwd: dir });
  try {
    await install([]);
    return { dir, from: "registry" };
  } catch (error) {
    const output = `${(error as RunResult).stdout ?? ""}${(error as RunResult).stderr ?? ""}`;
    const cause = NETWORK_ERROR.exec(output)?.[1];
    if (cause === undefined) throw error;
    const names = packages.map((name) => basename(name)).join(" ");
    try {
      await install(["--offline"]);
      console.log(`      (npm registry unreachable, ${cause}: installed ${names} from the npm cache)`);
      return { dir, from: "npm cache" };
    } catch {
      return { dir, skipReason: `npm registry unreachable (${cause}) and the npm cache lacks what \`npm install ${names}\` needs` };
    }
  }
}

/**
 * The project's folder, or skips the test with the reason its install could not run (a skip the
 * test runner counts as a failure: only an unreachable registry with a cache that lacks a package
 * gets there).
 */
export function usable(context: Mocha.Context, project: Project): string {
  if ("skipReason" in project) {
    console.log(`      skipped: ${project.skipReason}`);
    context.skip();
  }
  return project.dir;
}
