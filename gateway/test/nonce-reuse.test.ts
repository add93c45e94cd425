// Rule: no (key, AES-GCM nonce) pair is ever used twice (docs/protocol.md §4). The review recovered
// one answer's plaintext from another's when two gateway processes — or one process after a power
// loss — sealed with a stored session's key and a sequence number it had already used. Sessions now
// live in the gateway's memory only: after a kill -9 and a start on the same database the device's
// session is unknown, its client runs a new handshake by itself, and every record the gateway
// sealed, before and after, has its own (key, nonce) — also when a power loss rolled the database
// back to an earlier state (simulated by putting back a copy of the file taken earlier), which
// with stored sessions brought back counters that had already been used.
import { expect } from "chai";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, type Hex } from "viem";
import { createGatewayClient, gatewayRoutes, type GatewayClient, type Session } from "@iomt-auth/sdk";
import { enrolDevice, GatewayStore } from "../src/index.js";
import { createHarness, type Device, type Harness } from "./support/harness.js";
import { exited, killHard, randomPort, spawnGateway } from "./support/process.js";
import type { ChildProcess } from "node:child_process";

/** The GCM nonce of record `seq` under a direction's IV (docs/protocol.md §4). */
function gcmNonce(iv: Uint8Array, seq: number): Hex {
  const nonce = iv.slice();
  const seqBytes = new Uint8Array(8);
  new DataView(seqBytes.buffer).setBigUint64(0, BigInt(seq));
  for (let i = 0; i < 8; i++) nonce[4 + i] ^= seqBytes[i];
  return bytesToHex(nonce);
}

describe("rule: no (key, AES-GCM nonce) pair is ever used twice", () => {
  let harness: Harness;
  let child: ChildProcess | undefined;
  let databasePath: string;
  let device: Device;
  let client: GatewayClient;
  /** Every record the gateway sealed to the device: the key it was sealed under and its GCM nonce. */
  const sealedByGateway: { key: Hex; nonce: Hex; sessionId: Hex; seq: number }[] = [];
  /** Every session the device held, by id (the device's copy: its receive key is the gateway's send key). */
  const sessions = new Map<string, Session>();

  before(async () => {
    harness = await createHarness();
    device = harness.device("pump");
    const port = await randomPort();
    const url = `http://127.0.0.1:${port}`;
    const configFile = join(harness.dir, "gateway.json");
    const settings = harness.settings({ port: String(port) });
    databasePath = settings.databasePath as string;
    writeFileSync(configFile, JSON.stringify(settings));
    GatewayStore.create(databasePath); // as `init` does
    const store = GatewayStore.open(databasePath);
    await enrolDevice(store, { gid: harness.gid, oid: device.oid, address: device.account.address });
    store.close();
    child = await spawnGateway(configFile, url);

    // The device's transport, watched: each answer record, with the session it was sealed in.
    const watching: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const text = await response.text();
      const path = new URL(String(input)).pathname;
      const body = JSON.parse(text) as { record?: { seq: number; ciphertext: Hex }; sessionId?: Hex };
      const request = init?.body === undefined ? {} : (JSON.parse(String(init.body)) as { sessionId?: Hex });
      const sessionId = path === gatewayRoutes.finish ? body.sessionId : request.sessionId;
      if (body.record !== undefined && sessionId !== undefined) sealedByGateway.push({ key: "0x", nonce: "0x", sessionId: sessionId.toLowerCase() as Hex, seq: body.record.seq });
      return new Response(text, { status: response.status, headers: response.headers });
    };
    client = createGatewayClient({
      url,
      account: device.account,
      master: harness.master.address,
      context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid },
      fetch: watching,
    });
    const remember = () => sessions.set(client.session!.id.toLowerCase(), client.session!);
    await client.keySession();
    remember();
    await client.associate({ token: await client.getTicket() });
    expect((await client.waitForAssociation({ pollIntervalMs: 50 })).status).to.equal("associated");
    for (let nonce = 1n; nonce <= 3n; nonce++) await client.sendData({ messages: [await device.sign(nonce)] });
    // A copy of the database as it is now (the gateway stopped cleanly for it), to roll back to later.
    child.kill("SIGTERM");
    await exited(child);
    copyFileSync(databasePath, `${databasePath}.earlier`);
    child = await spawnGateway(configFile, url);
    for (let nonce = 4n; nonce <= 5n; nonce++) await client.sendData({ messages: [await device.sign(nonce)] });
    remember();

    // kill -9, and a start on the same database: the device goes on as if nothing happened.
    await killHard(child);
    child = await spawnGateway(configFile, url);
    for (let nonce = 6n; nonce <= 10n; nonce++) {
      const [receipt] = await client.sendData({ messages: [await device.sign(nonce)] });
      expect(receipt.nonce).to.equal(String(nonce));
      remember();
    }
    await client.getInclusion((await client.sendData({ messages: [await device.sign(11n)] }))[0]);
    remember();

    // A power loss that rolls the database back to the earlier copy: the device's next requests.
    await killHard(child);
    for (const suffix of ["-wal", "-shm"]) rmSync(`${databasePath}${suffix}`, { force: true });
    copyFileSync(`${databasePath}.earlier`, databasePath);
    child = await spawnGateway(configFile, url);
    await client.getNextNonce();
    remember();
    await client.getAuthPath();
    await client.associationStatus();
    remember();
    for (const record of sealedByGateway) {
      const session = sessions.get(record.sessionId)!;
      record.key = bytesToHex(session.receive.key);
      record.nonce = gcmNonce(session.receive.iv, record.seq);
    }
  });

  after(async () => {
    if (child !== undefined) await killHard(child);
    await harness?.close();
  });

  it("after kill -9 and a start on the same database, the device goes on transparently in a new session", () => {
    // One session per gateway process: the first, after the clean restart, after the kill -9, after the rollback.
    expect(sessions.size).to.equal(4);
    const keys = [...sessions.values()].map((session) => bytesToHex(session.receive.key));
    expect(new Set(keys).size).to.equal(4);
    // Every session carried sealed answers; the one after the kill -9 carried the six data requests and the inclusion.
    for (const session of sessions.values()) expect(sealedByGateway.some((record) => record.sessionId === session.id.toLowerCase())).to.equal(true);
    expect(sealedByGateway.filter((record) => record.sessionId === [...sessions.keys()][2]).length).to.be.greaterThan(7);
  });

  it("never sealed two records under one (key, nonce), across restarts and a database rolled back by a power loss", () => {
    const pairs = sealedByGateway.map((record) => `${record.key}:${record.nonce}`);
    expect(pairs.length).to.be.greaterThan(15);
    expect(new Set(pairs).size).to.equal(pairs.length);
  });

  it("keeps no session key, IV or counter on disk: the database and its WAL hold none of them, and no sessions table", async () => {
    await killHard(child!);
    child = undefined;
    const files = [databasePath, `${databasePath}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file));
    expect(files.length).to.be.greaterThan(0);
    for (const session of sessions.values()) {
      for (const secret of [session.send.key, session.receive.key, session.send.iv, session.receive.iv]) {
        for (const file of files) expect(file.includes(Buffer.from(secret)), `a session secret found in ${databasePath}`).to.equal(false);
      }
    }
    const store = GatewayStore.open(databasePath);
    try {
      expect(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'sessions'").pluck().get()).to.equal(0);
    } finally {
      store.close();
    }
  });
});
