// The database files a gateway writes in a checkout (the SQLite file under its default name or any
// other, and the -wal/-shm files SQLite adds next to it while it is open) are ignored by git, so a
// gateway run from the repository cannot end up in a commit.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultConfig } from "../src/config.js";
import { GatewayStore } from "../src/store.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The paths among `paths` (relative to the repository) that git would not ignore. */
function notIgnored(paths: readonly string[]): string[] {
  return paths.filter((path) => {
    try {
      execFileSync("git", ["check-ignore", "--quiet", "--no-index", path], { cwd: repoRoot, stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
}

describe("gateway database files are ignored by git", () => {
  let dir: string | undefined;

  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  for (const name of [defaultConfig.databasePath, "ward-3.sqlite"]) {
    it(`a store opened as ${name} in the checkout leaves only ignored files`, function () {
      // The files come from a real store, so the names are SQLite's own, not a list kept here.
      dir ??= mkdtempSync(join(repoRoot, "gateway", "ignore-check-"));
      const store = new GatewayStore(join(dir, name));
      try {
        const written = readdirSync(dir).filter((file) => file.startsWith(name));
        expect(written, "the store writes its file and, in WAL mode, -wal and -shm").to.include.members([name, `${name}-wal`, `${name}-shm`]);
        expect(notIgnored(written.map((file) => relative(repoRoot, join(dir!, file))))).to.deep.equal([]);
      } finally {
        store.close();
      }
    });
  }
});
