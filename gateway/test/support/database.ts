// A new database file for each test of the describe block that calls it: created (not opened) in a
// directory of its own before the test; after it, the store the test opened (if it set one) is
// closed and the directory removed. And the message rows the store's tests write, and SQLite's plan of a query.
import type Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import { toId } from "@iomt-auth/sdk";
import { GatewayStore, type NewMessage } from "../../src/store.js";

/** SQLite's plan for `source` (EXPLAIN QUERY PLAN), its parameters bound to null: the plan does not depend on their values. */
function queryPlan(db: Database.Database, source: string): string[] {
  const named = [...new Set([...source.matchAll(/@(\w+)/g)].map(([, name]) => name))];
  const parameters = named.length > 0 ? [Object.fromEntries(named.map((name) => [name, null]))] : Array.from(source.matchAll(/\?/g), () => null);
  return (db.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...parameters) as { detail: string }[]).map((step) => step.detail);
}

/**
 * The steps of `source`'s plan that read a whole table: a SCAN through no index, or through an index
 * over every row. A SCAN of a partial index (`… WHERE status = 'pending'`) reads only the open work.
 */
export function fullScans(db: Database.Database, source: string): string[] {
  const partial = new Set(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql LIKE '% WHERE %'").pluck().all() as string[]);
  return queryPlan(db, source).filter((step) => {
    const scan = /^SCAN (\S+)(?: USING (?:COVERING )?INDEX (\S+))?/.exec(step);
    return scan !== null && scan[1] !== "CONSTANT" && (scan[2] === undefined || !partial.has(scan[2]));
  });
}

/** The group of the stored messages' fixtures. */
export const STORED_GID = toId("ward-1").toLowerCase() as Hex;

/** A message row as the data route stores it, distinct for each (device, nonce). */
export function storedMessageRow(nonce: number, device: Address): NewMessage {
  return {
    digest: keccak256(stringToHex(`message ${device} ${nonce}`)),
    gid: STORED_GID,
    oid: toId(`device:${device}`).toLowerCase() as Hex,
    device,
    nonce,
    payload_hash: keccak256(stringToHex(`reading ${nonce}`)),
    timestamp: "1700000000",
    deadline: "18446744073709551615",
    signature: `0x${"11".repeat(65)}`,
    payload: Buffer.from(`reading ${nonce}`),
    salt: Buffer.alloc(32, nonce),
    accepted_at: 1_700_000_000_000 + nonce,
    route: "anchor",
  };
}

export type FreshDatabase = { dir: string; path: string; store: GatewayStore | undefined };

export function freshDatabase(prefix: string): FreshDatabase {
  const database: FreshDatabase = { dir: "", path: "", store: undefined };
  beforeEach(() => {
    database.dir = mkdtempSync(join(tmpdir(), prefix));
    database.path = join(database.dir, "gateway.db");
    GatewayStore.create(database.path);
  });
  afterEach(() => {
    database.store?.close();
    database.store = undefined;
    rmSync(database.dir, { recursive: true, force: true });
  });
  return database;
}
