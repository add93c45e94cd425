// A new database file for each test of the describe block that calls it: created (not opened) in a
// directory of its own before the test; after it, the store the test opened (if it set one) is
// closed and the directory removed. And the message rows the store's tests write.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import { toId } from "@iomt-auth/sdk";
import { GatewayStore, type NewMessage } from "../../src/store.js";

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
