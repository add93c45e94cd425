// What the operator console shows, as JSON: devices (enrolled here or associated through here, with
// their membership on chain as the mirror last saw it, their next nonce and their last message),
// live sessions, recent messages with where they landed on chain (batch root, transaction, block),
// recent batches, and the backlog. Plain queries over the running gateway's store; every time is
// ISO 8601 (UTC). Lists are capped: the console is a window on the gateway, not an export.
import type { Address, Hex } from "viem";
import type { MemberView } from "../mirror.js";
import { pendingReport } from "../reports.js";
import type { SessionManager } from "../sessions.js";
import type { GatewayStore } from "../store.js";

/** Rows each list holds at most (newest first, but devices: oldest enrolment first). */
export const CONSOLE_LIST_LIMIT = 200;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export type ConsoleSources = {
  store: GatewayStore;
  sessions: SessionManager;
  /** The device's entry in a served group as the AuthTable mirror last saw it. */
  member(device: Address): MemberView | undefined;
};

type LastMessage = { nonce: number; digest: Hex; status: string; acceptedAt: number; txHash: Hex | null; block: string | null };

export function devicesView({ store, member }: ConsoleSources): unknown[] {
  const db = store.db;
  const enrolled = db
    .prepare(
      `SELECT e.address, e.gid, e.oid, e.oid_name AS oidName, g.label AS "group", e.enrolled_at AS enrolledAt, e.ticket_issued_at AS ticketIssuedAt,
              CASE WHEN e.secret_hash IS NOT NULL THEN 'set' WHEN e.secret_used_at IS NOT NULL THEN 'used' ELSE 'none' END AS secret
       FROM enrolments e LEFT JOIN group_labels g ON g.gid = e.gid ORDER BY e.enrolled_at, e.oid LIMIT ${CONSOLE_LIST_LIMIT}`,
    )
    .all() as { address: string; gid: Hex; oid: Hex; oidName: string | null; group: string | null; enrolledAt: number; ticketIssuedAt: number | null; secret: string }[];
  // Associated through this gateway but no longer enrolled here (revoked, or unenrolled after associating).
  const associated = db
    .prepare(
      `SELECT a.device AS address, a.gid, a.oid, g.label AS "group", a.status, a.tx_hash AS txHash, a.created_at AS createdAt
       FROM associations a LEFT JOIN group_labels g ON g.gid = a.gid ORDER BY a.created_at LIMIT ${CONSOLE_LIST_LIMIT}`,
    )
    .all() as { address: string; gid: Hex; oid: Hex; group: string | null; status: string; txHash: Hex | null; createdAt: number }[];
  // Per listed device, through the keys (device_nonces' and messages' (device, nonce)): the console
  // asks every 2 s while open, and a scan of the messages would hold the event loop for time that
  // grows with every message stored.
  const nextNonce = db.prepare("SELECT next_nonce FROM device_nonces WHERE device = ?").pluck();
  const lastMessage = db.prepare(
    `SELECT m.nonce, m.digest, CASE WHEN b.status = 'anchored' THEN 'anchored' ELSE m.status END AS status, m.accepted_at AS acceptedAt,
            coalesce(b.tx_hash, m.relay_tx) AS txHash, coalesce(b.block_number, m.relay_block) AS block
     FROM messages m LEFT JOIN batches b ON b.id = m.batch_id AND b.status = 'anchored'
     WHERE m.device = ? ORDER BY m.nonce DESC LIMIT 1`,
  );
  const firstNonce = db.prepare("SELECT nonce FROM messages WHERE device = ? ORDER BY nonce LIMIT 1").pluck();
  const associations = new Map(associated.map((row) => [row.address.toLowerCase(), row]));
  const rows = new Map<string, Record<string, unknown>>();
  for (const row of enrolled) rows.set(row.address.toLowerCase(), { ...row, enrolled: true, enrolledAt: iso(row.enrolledAt), ticketIssuedAt: iso(row.ticketIssuedAt) });
  for (const row of associated) {
    const key = row.address.toLowerCase();
    if (!rows.has(key)) rows.set(key, { address: row.address, gid: row.gid, oid: row.oid, oidName: null, group: row.group, enrolled: false, enrolledAt: null, ticketIssuedAt: null, secret: null });
  }
  return [...rows.entries()].map(([key, row]) => {
    const association = associations.get(key);
    const onChain = member(row.address as Address);
    const message = lastMessage.get(row.address) as LastMessage | undefined;
    // A device's messages are stored with consecutive nonces (each as its next one: api.ts), none deleted.
    const count = message === undefined ? 0 : message.nonce - (firstNonce.get(row.address) as number) + 1;
    return {
      ...row,
      association: association === undefined ? null : { status: association.status, txHash: association.txHash, at: iso(association.createdAt) },
      member: onChain === undefined ? null : { index: onChain.index, revoked: onChain.revoked },
      nextNonce: (nextNonce.get(row.address) as number | undefined) ?? null,
      messages: count,
      lastMessage: message === undefined ? null : { nonce: message.nonce, digest: message.digest, status: message.status, acceptedAt: iso(message.acceptedAt), txHash: message.txHash, block: message.block },
    };
  });
}

/** The newest messages, each with its batch (root) and where it landed on chain. */
export function messagesView({ store }: ConsoleSources): unknown[] {
  const rows = store.db
    .prepare(
      `SELECT m.digest, m.device, m.oid, m.gid, m.nonce, m.route, m.status, m.accepted_at AS acceptedAt, m.batch_id AS batch, b.root, b.status AS batchStatus,
              coalesce(b.tx_hash, m.relay_tx) AS txHash, coalesce(b.block_number, m.relay_block) AS block, b.anchored_at AS anchoredAt
       FROM messages m LEFT JOIN batches b ON b.id = m.batch_id ORDER BY m.id DESC LIMIT ${CONSOLE_LIST_LIMIT}`,
    )
    .all() as { acceptedAt: number; anchoredAt: number | null; status: string; batchStatus: string | null }[];
  // A batched message is on chain once its batch is anchored; a relayed one once relayed.
  return rows.map((row) => ({ ...row, onChain: row.status === "relayed" || row.batchStatus === "anchored", acceptedAt: iso(row.acceptedAt), anchoredAt: iso(row.anchoredAt) }));
}

/** The newest batches: root, size, state, transaction and block. */
export function batchesView({ store }: ConsoleSources): unknown[] {
  const rows = store.db
    .prepare(
      `SELECT id, gid, root, size, status, tx_hash AS txHash, block_number AS block, error_code AS errorCode, created_at AS createdAt, anchored_at AS anchoredAt
       FROM batches ORDER BY id DESC LIMIT ${CONSOLE_LIST_LIMIT}`,
    )
    .all() as { createdAt: number; anchoredAt: number | null }[];
  return rows.map((row) => ({ ...row, createdAt: iso(row.createdAt), anchoredAt: iso(row.anchoredAt) }));
}

/** Live sessions; `revoked`: the device was revoked since (its session stays until it expires, but every request on it is refused). */
export function sessionsView({ sessions, member }: ConsoleSources): unknown {
  return {
    live: sessions.size,
    sessions: sessions
      .list(CONSOLE_LIST_LIMIT)
      .map((session) => ({ ...session, revoked: member(session.device)?.revoked === true, establishedAt: iso(session.establishedAt * 1000), expiresAt: iso(session.expiresAt * 1000) })),
  };
}

/** Work not yet on chain, as `iomt-gateway pending` prints it. */
export function backlogView({ store }: ConsoleSources): unknown {
  return pendingReport(store);
}
