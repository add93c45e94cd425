// The SDK as it was at a baseline commit, for the benchmark's before/after table (sdk-bench.ts):
// its sdk/src extracted with `git archive` into sdk/bench/.baseline/<commit>/ (git-ignored) and
// imported beside the current one.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export type Sdk = typeof import("../src/index.js");

/** The SDK's sources at `ref`, extracted into sdk/bench/.baseline/<ref>/ and imported; undefined (with the reason) when git or the commit is missing. */
export async function loadBaseline(ref: string): Promise<{ sdk: Sdk; commit: string } | { reason: string }> {
  const benchDir = dirname(fileURLToPath(import.meta.url));
  try {
    const git = (args: string[]) => execFileSync("git", args, { cwd: benchDir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    const commit = git(["rev-parse", "--verify", `${ref}^{commit}`]);
    const root = join(benchDir, ".baseline", commit.slice(0, 12));
    if (!existsSync(join(root, "sdk", "src", "index.ts"))) {
      rmSync(root, { recursive: true, force: true });
      mkdirSync(root, { recursive: true });
      execFileSync("sh", ["-c", `git archive ${commit} sdk/src | tar -x -C "${root}"`], { cwd: git(["rev-parse", "--show-toplevel"]), stdio: ["ignore", "ignore", "pipe"] });
    }
    return { sdk: (await import(pathToFileURL(join(root, "sdk", "src", "index.ts")).href)) as Sdk, commit: commit.slice(0, 7) };
  } catch (error) {
    return { reason: (error as Error).message.split("\n")[0] };
  }
}
