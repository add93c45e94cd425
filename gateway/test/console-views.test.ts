// The operator console's views (src/console/views.ts) over a real store: what the device list shows
// for each device, and that no view reads a whole table of messages or batches, which grow with
// every reading — the page asks for them every 2 s while it is open, on the gateway's event loop.
// The queries are read from SQLite's planner (EXPLAIN QUERY PLAN), as each view prepared them.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import { toId } from "@iomt-auth/sdk";
import { backlogView, batchesView, devicesView, messagesView } from "../src/console/views.js";
import type { MemberView } from "../src/mirror.js";
import type { SessionManager } from "../src/sessions.js";
import { GatewayStore } from "../src/store.js";
import { fullScans, STORED_GID, storedMessageRow } from "./support/database.js";

const GID = STORED_GID;
const DEVICES: Address[] = ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "0x90F79bf6EB2c4f870365E785982E1f101E93b906"];
/** Tables read on purpose in full: the lists of devices (capped) and the labels. */
const LISTS = new Set(["e", "a", "g", "enrolments", "associations", "group_labels"]);

type DeviceRow = { address: string; nextNonce: number | null; messages: number; lastMessage: { nonce: number; status: string; block: string | null } | null };

describe("the operator console's views", () => {
  let dir: string;
  let store: GatewayStore;
  const sources = () => ({ store, sessions: undefined as unknown as SessionManager, member: (): MemberView | undefined => undefined });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "iomt-console-views-"));
    GatewayStore.create(join(dir, "gateway.db"));
    store = GatewayStore.open(join(dir, "gateway.db"));
    await store.commit(() => {
      DEVICES.forEach((address, i) => store.enrol({ gid: GID, oid: toId(`bed-${i}`).toLowerCase() as Hex, address, secret_hash: null, enrolled_at: i, oid_name: `bed-${i}` }));
      // The first device sent nonces 4 to 8 (its count on chain started at 4), the second nonce 0, the third nothing.
      for (let nonce = 4; nonce <= 8; nonce++) store.insertMessage(storedMessageRow(nonce, DEVICES[0]));
      store.setNextNonce(DEVICES[0], 9);
      store.insertMessage(storedMessageRow(0, DEVICES[1]));
      store.setNextNonce(DEVICES[1], 1);
      const batch = store.createBatch(GID, keccak256(stringToHex("root")), [store.messageByDeviceNonce(DEVICES[1], 0)!]);
      store.setBatch({ id: batch, status: "anchored", tx_hash: `0x${"ab".repeat(32)}`, block_number: "42", anchored_at: 1 });
    });
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows each device's next nonce, its number of messages and its last one, with the block that anchored it", () => {
    const rows = devicesView(sources()) as DeviceRow[];
    expect(rows.map(({ address, nextNonce, messages, lastMessage }) => ({ address, nextNonce, messages, last: lastMessage && { nonce: lastMessage.nonce, status: lastMessage.status, block: lastMessage.block } }))).to.deep.equal([
      { address: DEVICES[0], nextNonce: 9, messages: 5, last: { nonce: 8, status: "pending", block: null } },
      { address: DEVICES[1], nextNonce: 1, messages: 1, last: { nonce: 0, status: "anchored", block: "42" } },
      { address: DEVICES[2], nextNonce: null, messages: 0, last: null },
    ]);
  });

  for (const [name, view] of [
    ["device list", devicesView],
    ["messages", messagesView],
    ["batches", batchesView],
    ["backlog", backlogView],
  ] as const) {
    it(`reads the messages and the batches for its ${name} only through their keys or as the newest rows, never by a scan`, () => {
      const prepared: string[] = [];
      const prepare = store.db.prepare.bind(store.db);
      store.db.prepare = ((source: string) => (prepared.push(source), prepare(source))) as typeof store.db.prepare;
      try {
        view(sources());
      } finally {
        store.db.prepare = prepare;
      }
      expect(prepared.length, "statements the view prepared").to.be.at.least(1);
      const scans = prepared.flatMap((source) => {
        // The newest rows in the key's order, unfiltered: the scan stops after the LIMIT's rows.
        if (!/\bWHERE\b/.test(source) && /ORDER BY (?:\w+\.)?id DESC LIMIT \d+$/.test(source.trim())) return [];
        return fullScans(store.db, source).filter((step) => !LISTS.has(step.split(" ")[1])).map((step) => `${step} in: ${source.replace(/\s+/g, " ").slice(0, 90)}`);
      });
      expect(scans).to.deep.equal([]);
    });
  }
});
