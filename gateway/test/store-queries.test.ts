// The store's queries, read through SQLite's own query planner (EXPLAIN QUERY PLAN): what a serving
// gateway runs on every request or every poll of its chain worker must find its rows through an
// index, never by reading a table that grows with the devices or the messages — a full scan costs
// the event loop time in proportion to the database (20,000 associations: 1.8 ms per poll for one
// such query, against 0.07 ms through the index). Only the operator's reports may scan, and are
// named here. A query added later is checked the same way, without a change to this test.
import { expect } from "chai";
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Aggregation, type AggregationParameters } from "../src/aggregation.js";
import type { GatewayConfig } from "../src/config.js";
import { GatewayStore } from "../src/store.js";
import { fullScans } from "./support/database.js";

/** The reports (the CLI's `status` and `devices`, the console's list) and the tiny table of group labels: they read every row on purpose. */
const SCANS_ALLOWED = new Set(["enrolments", "groupsLabelled", "messageCounts", "batchCounts"]);

describe("gateway store: the queries of a serving gateway read through indexes", () => {
  let dir: string;
  let store: GatewayStore;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "iomt-gateway-store-queries-"));
    GatewayStore.create(join(dir, "gateway.db"));
    store = GatewayStore.open(join(dir, "gateway.db"));
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("scans no whole table but in the operator's reports (a SCAN through no index or a full one): the store's statements and hierarchical anchoring's", () => {
    // Hierarchical anchoring prepares its statements on the store's database as it is built, from the served group and the store alone.
    const aggregation = new Aggregation({ config: { groups: [`0x${"11".repeat(32)}`], maxRootsPerHandover: 64 } as unknown as GatewayConfig, store } as AggregationParameters);
    const statements = [
      ...Object.entries(store["statements"] as Record<string, Database.Statement>),
      ...Object.entries(aggregation["sql"] as Record<string, Database.Statement>).map(([name, statement]) => [`aggregation.${name}`, statement] as const),
    ];
    expect(statements.length, "the prepared statements").to.be.greaterThan(45);
    const scanning = statements
      .filter(([name]) => !SCANS_ALLOWED.has(name))
      .map(([name, statement]) => ({ name, scans: fullScans(store.db, statement.source) }))
      .filter(({ scans }) => scans.length > 0);
    expect(scanning, "statements that read a whole table").to.deep.equal([]);
  });

  it("adds the indexes over the history (aggregates, handed roots, failed batches) to a version-7 file, keeping its rows; read-only, it refuses the file until then", () => {
    const path = join(dir, "version-7.db");
    GatewayStore.create(path);
    const db = new Database(path);
    db.exec(`INSERT INTO aggregates (gid, root, batch_count, message_count, status, created_at) VALUES ('0x01', '0x02', 1, 3, 'anchored', 1);
             DROP INDEX aggregates_open; DROP INDEX handovers_aggregate; DROP INDEX batches_failed; UPDATE meta SET value = '7' WHERE key = 'schema_version';`);
    db.close();
    expect(() => GatewayStore.open(path, { readonly: true })).to.throw(/schema version 7; this gateway reads version 8 and brings the file to it when it starts/);
    const migrated = GatewayStore.open(path);
    try {
      expect(migrated.getMeta("schema_version")).to.equal("8");
      const indexes = migrated.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND name IN ('aggregates_open', 'batches_failed', 'handovers_aggregate') ORDER BY name").pluck().all();
      expect(indexes).to.deep.equal(["aggregates_open", "batches_failed", "handovers_aggregate"]);
      expect(migrated.db.prepare("SELECT count(*) FROM aggregates").pluck().get()).to.equal(1);
    } finally {
      migrated.close();
    }
  });
});
