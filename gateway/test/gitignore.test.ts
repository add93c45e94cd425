// The database files a gateway writes (the SQLite file under its default name or any other, and
// the -wal/-shm files SQLite adds next to it while it is open) are ignored by the repository's
// .gitignore, so a gateway run from a checkout cannot end up in a commit. The check runs in a
// scratch git repository holding only that .gitignore, so neither the user's global excludes nor
// the checkout's state can hide a missing pattern.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultConfig } from "../src/config.js";
import { GatewayStore } from "../src/store.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

describe("gateway database files are ignored by git", () => {
  let scratch: string;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), "iomt-gitignore-"));
    execFileSync("git", ["init", "--quiet", scratch]);
    copyFileSync(join(repoRoot, ".gitignore"), join(scratch, ".gitignore"));
  });

  after(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  /** The paths among `paths` (relative to the scratch repository) that git would not ignore. */
  function notIgnored(paths: readonly string[]): string[] {
    return paths.filter((path) => {
      try {
        execFileSync("git", ["-c", "core.excludesFile=/dev/null", "check-ignore", "--quiet", "--no-index", path], { cwd: scratch, stdio: "ignore" });
        return false;
      } catch {
        return true;
      }
    });
  }

  for (const [folder, name] of [["", defaultConfig.databasePath], ["gateway", "ward-3.sqlite"]] as const) {
    it(`a store opened as ${join(folder, name)} leaves only ignored files`, function () {
      // The files come from a real store, so the names are SQLite's own, not a list kept here.
      const dir = join(scratch, folder);
      mkdirSync(dir, { recursive: true });
      GatewayStore.create(join(dir, name));
      const store = GatewayStore.open(join(dir, name));
      try {
        const written = readdirSync(dir).filter((file) => file.startsWith(name));
        expect(written, "the store writes its file and, in WAL mode, -wal and -shm").to.include.members([name, `${name}-wal`, `${name}-shm`]);
        expect(notIgnored(written.map((file) => join(folder, file)))).to.deep.equal([]);
      } finally {
        store.close();
      }
    });
  }
});
