// `backup` and `restore`: copies of the database made through SQLite's online backup API
// (better-sqlite3's `db.backup`), which copies a consistent snapshot page by page, the pages still
// in the WAL included, while a gateway keeps writing. A plain file copy of a running gateway's
// database misses whatever sits in the WAL (recent enrolments and messages, or even the tables).
// Both write to a side file first and rename it into place only once SQLite's integrity check
// passed on it, so a crash halfway leaves no half-written database under the real name; neither
// overwrites a file, and `restore --replace` moves the old database aside (under the lock, so not
// while a gateway runs on it).
import { chmodSync, closeSync, existsSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { GatewayStore, StoreError, lockDatabase } from "./store.js";

/** What a copy holds, as `backup` and `restore` print it. */
export type CopySummary = { schemaVersion: number; bytes: number; enrolments: number; messages: number; batches: number };

/** Copies the database at `source` (which a gateway may be running on) to the new file `target` (0600). */
export async function backupDatabase(source: string, target: string): Promise<CopySummary> {
  if (existsSync(target)) throw new StoreError("StoreExists", `${target} already exists: backup writes a new file and never overwrites one`);
  const store = GatewayStore.open(source, { readonly: true });
  try {
    return await copyInto(store, target);
  } finally {
    store.close();
  }
}

/**
 * Restores the backup `source` as the database `target`. A `target` that exists is refused unless
 * `replace`: then it (with its -wal and -shm) is moved aside to `<target>.replaced-<time>`, under the
 * database's lock (`StoreLocked` while a gateway runs on it). Returns where the old one went.
 */
export async function restoreDatabase(source: string, target: string, { replace = false }: { replace?: boolean } = {}): Promise<CopySummary & { replaced: string | null }> {
  const backup = GatewayStore.open(source, { readonly: true, check: "full" });
  try {
    if (!existsSync(target)) return { ...(await copyInto(backup, target)), replaced: null };
    if (!replace) throw new StoreError("StoreExists", `${target} already exists: restore never overwrites a database; stop its gateway and give --replace to move it aside first`);
    const lock = lockDatabase(target);
    try {
      const replaced = `${target}.replaced-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      for (const suffix of ["", "-wal", "-shm"]) if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, `${replaced}${suffix}`);
      return { ...(await copyInto(backup, target)), replaced };
    } finally {
      lock.release();
    }
  } finally {
    backup.close();
  }
}

/** Backs `store` up into `<target>.partial`, checks the copy, and renames it to `target`. */
async function copyInto(store: GatewayStore, target: string): Promise<CopySummary> {
  const partial = `${target}.partial`;
  let fd: number;
  try {
    fd = openSync(partial, "wx", 0o600);
  } catch (cause) {
    const why = (cause as NodeJS.ErrnoException).code === "EEXIST" ? `${partial} exists (left by an interrupted copy? remove it)` : (cause as Error).message;
    throw new StoreError("StoreUnwritable", `cannot create ${partial}: ${why}`, { cause });
  }
  closeSync(fd);
  try {
    await store.db.backup(partial);
    chmodSync(partial, 0o600);
    const copy = GatewayStore.open(partial, { readonly: true, check: "quick" });
    let summary: CopySummary;
    try {
      const count = (table: string) => copy.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
      summary = { schemaVersion: Number(copy.getMeta("schema_version")), bytes: statSync(partial).size, enrolments: count("enrolments"), messages: count("messages"), batches: count("batches") };
    } finally {
      copy.close();
    }
    // The copy's side files (if SQLite left any) go with it.
    for (const suffix of ["-wal", "-shm", ""]) if (existsSync(`${partial}${suffix}`)) renameSync(`${partial}${suffix}`, `${target}${suffix}`);
    return summary;
  } catch (error) {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${partial}${suffix}`, { force: true });
    if (error instanceof StoreError) throw error;
    throw new StoreError("StoreUnwritable", `cannot write ${target}: ${(error as Error).message}`, { cause: error });
  }
}
