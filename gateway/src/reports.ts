// What the read-only commands print (`devices`, `pending`, `status`): plain queries over a store
// opened read-only, with every time as ISO 8601 (UTC) and every oid and group with its name where
// the store knows it.
import type { Hex } from "viem";
import type { GatewayStore } from "./store.js";

/** Milliseconds since the epoch as ISO 8601, or null. */
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

type DeviceRow = {
  oid: Hex;
  oidName: string | null;
  gid: Hex;
  group: string | null;
  address: string;
  secret: "set" | "used" | "none";
  secretFailures: number;
  secretLockedUntil: number | null;
  enrolledAt: number;
  ticketIssuedAt: number | null;
  association: string | null;
  associationTx: Hex | null;
  messages: number;
};

/** Enrolled devices (of one group, or all), oldest enrolment first. */
export function devicesReport(store: GatewayStore, gid?: Hex): unknown[] {
  const rows = store.db
    .prepare(
      `SELECT e.oid, e.oid_name AS oidName, e.gid, g.label AS "group", e.address,
              CASE WHEN e.secret_hash IS NOT NULL THEN 'set' WHEN e.secret_used_at IS NOT NULL THEN 'used' ELSE 'none' END AS secret,
              e.secret_failures AS secretFailures, e.secret_locked_until AS secretLockedUntil,
              e.enrolled_at AS enrolledAt, e.ticket_issued_at AS ticketIssuedAt,
              a.status AS association, a.tx_hash AS associationTx,
              (SELECT count(*) FROM messages m WHERE m.device = e.address) AS messages
       FROM enrolments e LEFT JOIN associations a ON a.device = e.address LEFT JOIN group_labels g ON g.gid = e.gid
       WHERE @gid IS NULL OR e.gid = @gid
       ORDER BY e.enrolled_at, e.oid`,
    )
    .all({ gid: gid ?? null }) as DeviceRow[];
  return rows.map((row) => ({ ...row, secretLockedUntil: iso(row.secretLockedUntil), enrolledAt: iso(row.enrolledAt), ticketIssuedAt: iso(row.ticketIssuedAt) }));
}

/** Work not yet on chain (of one group, or all): messages by group, route and status; open batches; open associations. */
export function pendingReport(store: GatewayStore, gid?: Hex): unknown {
  const db = store.db;
  const group = gid ?? null;
  // One SELECT per partial index (messages_pending, messages_relaying; batches_open, batches_failed):
  // SQLite uses a partial index only for a query that states its condition, and the console asks
  // every 2 s, on the gateway's event loop.
  const byStatus = (status: "pending" | "relaying") =>
    `SELECT gid, route, status, count(*) AS count, min(accepted_at) AS oldestAcceptedAt FROM messages WHERE status = '${status}' AND (@gid IS NULL OR gid = @gid) GROUP BY gid, route`;
  const messages = db.prepare(`${byStatus("pending")} UNION ALL ${byStatus("relaying")}`).all({ gid: group }) as { oldestAcceptedAt: number }[];
  const batchColumns = "id, gid, root, size, status, tx_hash AS txHash, error_code AS errorCode, created_at AS createdAt";
  const batches = db
    .prepare(
      `SELECT * FROM (SELECT ${batchColumns} FROM batches WHERE status IN ('created', 'sent') AND (@gid IS NULL OR gid = @gid)
       UNION ALL SELECT ${batchColumns} FROM batches WHERE status = 'failed' AND (@gid IS NULL OR gid = @gid)) ORDER BY id`,
    )
    .all({ gid: group }) as { createdAt: number }[];
  const associations = db
    .prepare("SELECT device, gid, oid, status, tx_hash AS txHash, created_at AS createdAt FROM associations WHERE status IN ('queued', 'submitted') AND (@gid IS NULL OR gid = @gid) ORDER BY created_at")
    .all({ gid: group }) as { createdAt: number }[];
  return {
    messages: messages.map((row) => ({ ...row, oldestAcceptedAt: iso(row.oldestAcceptedAt) })),
    batches: batches.map((row) => ({ ...row, createdAt: iso(row.createdAt) })),
    associations: associations.map((row) => ({ ...row, createdAt: iso(row.createdAt) })),
  };
}

/** Counts of messages, batches, associations and enrolments, and when the database was created and last opened by a gateway. */
export function statusReport(store: GatewayStore): unknown {
  const db = store.db;
  const counts = store.counts();
  const metaTime = (key: string) => {
    const value = store.getMeta(key);
    return value === undefined ? null : iso(Number(value));
  };
  return {
    messages: counts.messages,
    batches: counts.batches,
    associations: Object.fromEntries((db.prepare("SELECT status, count(*) AS count FROM associations GROUP BY status").all() as { status: string; count: number }[]).map((row) => [row.status, row.count])),
    enrolments: db.prepare("SELECT count(*) FROM enrolments").pluck().get(),
    database: { path: store.path, schemaVersion: Number(store.getMeta("schema_version")), createdAt: metaTime("created_at"), lastOpenedAt: metaTime("opened_at") },
  };
}
