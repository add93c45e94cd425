// A new database file for each test of the describe block that calls it: created (not opened) in a
// directory of its own before the test; after it, the store the test opened (if it set one) is
// closed and the directory removed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayStore } from "../../src/store.js";

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
