// Refusals the bad-request table cannot reach, each from a real cause: a group deactivated on
// chain (data refused, its messages held and listed by `pending`, the gateway still starting),
// the chain going away (a new device's first nonce, and the worker's doubling back-off), too many
// half-open handshakes, enrolment mistakes, sessions refused over HTTP (the wrong Master, a
// session that sealed its last record), a database another process holds locked (503
// StoreUnavailable, nothing stored), an enrolment secret stored under another pepper than the
// running gateway's (the 500 path), and the CLI's failure paths. Real anvil, real HTTP on loopback,
// real SQLite files. Hellos go through the cookie round first (docs/protocol.md §3.6).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect } from "chai";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  completeHandshake,
  createClientHello,
  createGatewayClient,
  deactivateGroup,
  GatewayError,
  gatewayRoutes,
  issueToken,
  serializeToken,
  SESSION_RECORD_LIMIT,
  SessionError,
  type GatewayClient,
} from "@iomt-auth/sdk";
import { ApiError, enrolDevice, GatewayStore, hashEnrolmentSecret, resolveConfig, startGateway, type RunningGateway } from "../src/index.js";
import { freePort } from "../../sdk/test/support/ports.js";
import { exited, expectCliFailure, runCli, runCliJson, spawnGateway, type GatewayProcess } from "./support/cli.js";
import { expectErrorAnswer, expectGatewayError, expectRejection, post, postHello } from "./support/expect.js";
import { configFile, createHarness, eventually, type Device, type Harness } from "./support/harness.js";

const hello = (harness: Harness, device: Device) =>
  createClientHello({ account: device.account, master: harness.master.address, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid } });

describe("gateway: a group deactivated on chain", function () {
  this.timeout(120_000);
  let harness: Harness;
  let gateway: RunningGateway | undefined;
  let databasePath: string;
  let alice: Device;
  let client: GatewayClient;

  before(async () => {
    harness = await createHarness();
    databasePath = join(harness.dir, "deactivated.db");
    // Batches only by size, never reached: the two messages wait while the group is deactivated.
    gateway = await harness.start({ databasePath, batchMaxMessages: "1000", batchMaxAgeMs: "3600000" });
    alice = harness.device("alice");
    client = await harness.onboard(gateway, alice);
    await client.sendData({ messages: [await alice.sign(1n), await alice.sign(2n)] });
    const path = await client.getAuthPath();
    await harness.publicClient.waitForTransactionReceipt({ hash: await deactivateGroup(harness.masterWallet, { registry: harness.registry, gid: harness.gid }) });
    // Every route now refuses the group's devices (sealed GroupInactive): the mirror has seen it.
    await eventually("the mirror to see the deactivation", async () => client.verifyPath({ path }).then(() => undefined, (error: { code?: string }) => (error.code === "GroupInactive" ? true : undefined)));
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("refuses the group's data with 403 GroupInactive and stores nothing", async () => {
    const before = gateway!.store.counts();
    await expectGatewayError(client.sendData({ messages: [await alice.sign(3n)] }), 403, "GroupInactive");
    expect(gateway!.store.counts()).to.deep.equal(before);
  });

  it("holds the group's messages, uncut and unsent, while the group is inactive, reports its standing, and lists them in `pending`", async () => {
    await gateway!.close();
    gateway = undefined;
    // Restarted with batches cut at once: a deactivated group's Master has lost its powers, so the
    // worker holds its messages (no batch, no transaction) rather than failing them.
    gateway = await startGateway(resolveConfig(harness.settings({ databasePath, batchMaxAgeMs: "0" })), { checkRoles: false });
    const running = gateway;
    const ready = await eventually("readiness to report the group's standing", async () => {
      const answer = (await (await fetch(`${running.adminUrl}/health/ready`)).json()) as { status: string; standing: { gid: string; status: string }[] };
      return answer.standing[0]?.status === "ok" ? undefined : answer;
    });
    expect(ready.standing).to.deep.equal([{ gid: harness.gid, status: "GroupRegistryGroupInactive" }]);
    expect(ready.status, "a held group is not a chain outage").to.equal("degraded");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(running.store.db.prepare("SELECT count(*) FROM batches").pluck().get()).to.equal(0);
    expect(running.store.db.prepare("SELECT count(*) FROM messages WHERE device = ? AND status = 'pending'").pluck().get(alice.account.address)).to.equal(2);
    const pending = (await runCliJson(configFile(harness, "deactivated", { databasePath }), "pending")) as { messages: { count: number; status: string }[] };
    expect(pending.messages.reduce((sum, row) => sum + row.count, 0)).to.equal(2);
  });

  it("starts, through the CLI, a gateway whose key masters a deactivated group, with a warning that it will not anchor for it", async () => {
    await gateway?.close();
    gateway = undefined;
    const port = await freePort();
    const started = await spawnGateway(configFile(harness, "inactive-start", { databasePath, port: String(port), logLevel: "warn" }), `http://127.0.0.1:${port}`);
    try {
      const warning = await eventually("the start-up warning", () => started.logs().find((line) => String(line.msg).startsWith("the key masters this group but has lost its powers")));
      expect(warning).to.deep.include({ gid: harness.gid, why: "the group was deactivated" });
    } finally {
      started.child.kill("SIGTERM");
      await exited(started.child);
    }
  });
});

describe("gateway: the chain away", function () {
  this.timeout(120_000);
  let harness: Harness;
  let gateway: GatewayProcess;
  let url: string;
  let bob: Device;
  let client: GatewayClient;
  let config: string;

  before(async () => {
    harness = await createHarness({ statePath: join(process.env.TMPDIR ?? "/tmp", `iomt-anvil-away-${process.pid}-${Date.now()}.json`) });
    url = `http://127.0.0.1:${await freePort()}`;
    config = configFile(harness, "away", { port: new URL(url).port, retryBaseMs: "50", retryMaxMs: "400", logLevel: "info" });
    await runCliJson(config, "init");
    gateway = await spawnGateway(config, url);
    bob = harness.device("bob");
    expect(((await runCliJson(config, "enrol", "--oid", bob.oid, "--address", bob.account.address, "--no-secret")) as { enrolled: { oid: string } }).enrolled.oid).to.equal(bob.oid);
    client = bob.client(url);
    await client.keySession();
    await client.associate({ token: await client.getTicket() });
    expect((await client.waitForAssociation({ pollIntervalMs: 50 })).status).to.equal("associated");
    await harness.anvil.stop();
  });

  after(async () => {
    gateway?.child.kill("SIGKILL");
    if (gateway !== undefined) await exited(gateway.child);
    await harness?.close();
  });

  it("answers a device's first data, whose nonce must be read from the chain, with 503 ChainUnavailable and stores nothing", async () => {
    await expectGatewayError(client.sendData({ messages: [await bob.sign(1n)] }), 503, "ChainUnavailable");
    const devices = (await runCliJson(config, "devices")) as { address: string; messages: number }[];
    expect(devices.find((row) => row.address === bob.account.address)?.messages).to.equal(0);
  });

  it("backs off doubling from retryBaseMs up to retryMaxMs, waiting at least each announced delay", async () => {
    const failures = await eventually("six failed ticks", () => {
      const logged = gateway.logs().filter((line) => line.msg === "chain work failed; backing off");
      return logged.length >= 6 ? logged.slice(0, 6) : undefined;
    });
    expect(failures.map((line) => line.failures)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(failures.map((line) => line.retryInMs)).to.deep.equal([50, 100, 200, 400, 400, 400]);
    for (let i = 1; i < failures.length; i++) {
      // Log times are ISO 8601 with milliseconds.
      const waited = Date.parse(failures[i].time as string) - Date.parse(failures[i - 1].time as string);
      expect(waited, `wait after failure ${i}`).to.be.at.least((failures[i - 1].retryInMs as number) - 1);
    }
  });

  it("takes the same first message once the chain is back, and says the chain is reachable again", async () => {
    await harness.anvil.restart();
    await eventually("the worker to reach the chain", () => (gateway.logs().some((line) => line.msg === "chain reachable again") ? true : undefined));
    const [receipt] = await client.sendData({ messages: [await bob.sign(1n)] });
    expect(receipt.nonce).to.equal("1");
  });
});

describe("gateway: too many half-open handshakes", function () {
  this.timeout(120_000);
  let harness: Harness;
  let gateway: RunningGateway;

  before(async () => {
    harness = await createHarness();
    gateway = await harness.start({ maxPendingHandshakes: "2" });
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("answers a hello beyond maxPendingHandshakes with 503 HandshakesBusy, and takes hellos again once one finishes", async () => {
    const device = harness.device("busy");
    await enrolDevice(gateway.store, { gid: harness.gid, oid: device.oid, address: device.account.address });
    const first = hello(harness, device);
    const answers = [await postHello(gateway.url, first.clientHello), await postHello(gateway.url, hello(harness, device).clientHello)];
    expect(answers.map((answer) => answer.status)).to.deep.equal([200, 200]);
    expectErrorAnswer(await postHello(gateway.url, hello(harness, device).clientHello), 503, "HandshakesBusy");

    const { handshakeId, serverHello } = answers[0].body as unknown as { handshakeId: string; serverHello: never };
    const { clientFinish } = await completeHandshake({ account: device.account, state: first.state, serverHello });
    expect((await post(gateway.url, gatewayRoutes.finish, { handshakeId, clientFinish })).status).to.equal(200);
    expect((await postHello(gateway.url, hello(harness, device).clientHello)).body).to.have.property("serverHello");
  });
});

describe("gateway: enrolment", () => {
  let harness: Harness;
  let store: GatewayStore;
  const address = privateKeyToAccount(generatePrivateKey()).address;

  before(async () => {
    harness = await createHarness();
    GatewayStore.create(join(harness.dir, "enrolment.db"));
    store = GatewayStore.open(join(harness.dir, "enrolment.db"));
    await enrolDevice(store, { gid: harness.gid, oid: "bed-1/spo2", address });
  });

  after(async () => {
    store?.close();
    await harness?.close();
  });

  const enrolled = () => store.db.prepare("SELECT count(*) FROM enrolments").pluck().get();

  it("refuses an address that is not one, and an oid that is not an id, with 400 EnrolmentInvalid, enrolling nothing", async () => {
    for (const bad of [{ oid: "bed-2/spo2", address: "0x1234" }, { oid: "0x1234", address: privateKeyToAccount(generatePrivateKey()).address }]) {
      expect((await expectRejection(enrolDevice(store, { gid: harness.gid, ...bad }), ApiError, "EnrolmentInvalid")).status).to.equal(400);
    }
    expect(enrolled()).to.equal(1);
  });

  it("refuses a taken oid and a taken address with 409 EnrolmentConflict, enrolling nothing", async () => {
    const other = privateKeyToAccount(generatePrivateKey()).address;
    for (const taken of [{ oid: "bed-1/spo2", address: other }, { oid: "bed-3/ecg", address: address.toLowerCase() }]) {
      expect((await expectRejection(enrolDevice(store, { gid: harness.gid, ...taken }), ApiError, "EnrolmentConflict")).status).to.equal(409);
    }
    expect(enrolled()).to.equal(1);
  });
});

describe("gateway: sessions refused over HTTP", function () {
  this.timeout(120_000);
  let harness: Harness;
  let gateway: RunningGateway | undefined;

  before(async () => {
    harness = await createHarness();
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("a device's client refuses a gateway that does not prove the expected Master key (SessionWrongPeer), and no session is stored", async () => {
    gateway = await harness.start();
    const device = harness.device("wary");
    await enrolDevice(gateway.store, { gid: harness.gid, oid: device.oid, address: device.account.address });
    const expected = privateKeyToAccount(generatePrivateKey()).address;
    const client = createGatewayClient({ url: gateway.url, account: device.account, master: expected, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid } });
    const error = await expectRejection(client.keySession(), SessionError, "SessionWrongPeer");
    expect(error.message).to.contain(harness.master.address);
    expect(client.session).to.equal(undefined);
    expect(gateway.sessions.size).to.equal(0);
  });

  it("answers 409 SessionExhausted on a session that sealed its last record, and serves the device again on a new session", async () => {
    await gateway?.close();
    gateway = await harness.start();
    const alice = harness.device("alice");
    const client = await harness.onboard(gateway, alice);
    const sessionId = client.session!.id;
    // The gateway's copy of the session (in its memory only) has sealed every record it may.
    gateway.sessions.session(sessionId)!.send.nextSeq = SESSION_RECORD_LIMIT;
    await expectGatewayError(client.getAuthPath(), 409, "SessionExhausted", { authenticated: false });
    await client.keySession();
    expect(client.session!.id).to.not.equal(sessionId);
    expect((await client.getAuthPath())[0].entry.device).to.equal(alice.account.address);
  });
});

describe("gateway: the database locked by another process, and an unexpected fault", function () {
  this.timeout(120_000);
  let harness: Harness;
  let gateway: RunningGateway;
  let databasePath: string;

  before(async () => {
    harness = await createHarness();
    databasePath = join(harness.dir, "locked.db");
    gateway = await harness.start({ databasePath });
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("answers 503 StoreUnavailable (sealed, nothing stored) to data and tickets while another process holds the database locked, and serves again once it is free", async () => {
    // Sessions live in memory, so the handshake writes nothing; data and tickets need the database.
    const patient = harness.device("patient");
    const patientClient = await harness.onboard(gateway, patient);
    const device = harness.device("waiting");
    await gateway.enrol({ oid: device.oid, address: device.account.address });
    const client = device.client(gateway.url);
    await client.keySession();

    // Another process (an operator's sqlite3 shell) holds the write lock past the gateway's 5 s busy timeout.
    const operator = new Database(databasePath);
    operator.exec("BEGIN IMMEDIATE");
    let dataError: GatewayError;
    let ticketError: GatewayError;
    try {
      // The records opened, so the refusals are sealed and bound to their requests.
      dataError = await expectGatewayError(patientClient.sendData({ messages: [await patient.sign(1n)] }), 503, "StoreUnavailable", { authenticated: true });
      ticketError = await expectGatewayError(client.getTicket(), 503, "StoreUnavailable", { authenticated: true });
    } finally {
      operator.exec("ROLLBACK");
      operator.close();
    }
    expect(dataError.details?.reason).to.match(/^SQLITE_BUSY/);
    expect(ticketError.details?.reason).to.match(/^SQLITE_BUSY/);
    expect(gateway.store.enrolmentByAddress(device.account.address)?.ticket_issued_at).to.equal(null);

    const [receipt] = await patientClient.sendData({ messages: [await patient.sign(1n)] });
    expect(receipt.nonce).to.equal("1");
    const token = await client.getTicket();
    expect(token.device.toLowerCase()).to.equal(device.account.address.toLowerCase());
    expect((await fetch(`${gateway.url}/health/ready`)).status).to.equal(200);
  });

  it("answers 500 InternalError, naming nothing internal, for a secret an operator stored under another pepper than the gateway's", async () => {
    const device = harness.device("mis-enrolled");
    // As `enrol --config other.json` with another pepperFile would store it, next to the running gateway.
    const otherPepper = new Uint8Array(32).fill(7);
    await enrolDevice(gateway.store, { gid: harness.gid, oid: device.oid, address: device.account.address, secretHash: await hashEnrolmentSecret("the right secret, 16+", otherPepper) });
    const client = device.client(gateway.url);
    await client.keySession();
    const error = await expectGatewayError(client.getTicket({ secret: "the right secret, 16+" }), 500, "InternalError");
    expect(error.message).to.equal("the gateway failed to handle this request");
    expect(error.message).not.to.match(/pepper|scrypt|secret/i);
  });
});

describe("gateway CLI: failure paths", function () {
  this.timeout(120_000);
  let harness: Harness;
  let config: string;
  let databasePath: string;
  let first: Device;
  const enrolledCount = () => {
    const store = GatewayStore.open(databasePath);
    try {
      return store.db.prepare("SELECT count(*) FROM enrolments").pluck().get();
    } finally {
      store.close();
    }
  };

  before(async () => {
    harness = await createHarness();
    databasePath = join(harness.dir, "cli.db");
    // enrol prints a provisioning bundle, so it needs the URL devices reach the gateway at (the harness listens on port 0).
    config = configFile(harness, "cli", { databasePath, publicUrl: "http://gateway.ward-3.example:8080" });
    first = harness.device("first");
    await runCliJson(config, "init");
    await runCliJson(config, "enrol", "--oid", first.oid, "--address", first.account.address, "--no-secret");
  });

  after(async () => {
    await harness?.close();
  });

  it("exits 2 with CliUsage for enrol without --oid or --address, and for a group it does not serve", async () => {
    expect(expectCliFailure(await runCli(["enrol", "--config", config, "--oid", "bed-9"]), 2, "CliUsage")).to.contain("required option '--address <0x…>' not specified");
    const address = privateKeyToAccount(generatePrivateKey()).address;
    expect(expectCliFailure(await runCli(["enrol", "--config", config, "--oid", "bed-9", "--address", address, "--group", `0x${"ab".repeat(32)}`]), 2, "CliUsage")).to.contain("not one of the served groups");
    expect(enrolledCount()).to.equal(1);
  });

  it("exits 2 with GatewayConfigInvalid for a config file it cannot read and for a missing setting", async () => {
    expect(expectCliFailure(await runCli(["status", "--config", join(harness.dir, "missing.json")]), 2, "GatewayConfigInvalid")).to.contain("cannot read the config file");
    const env = { ...process.env };
    for (const name of Object.keys(env)) if (name.startsWith("IOMT_GATEWAY_")) delete env[name];
    const address = privateKeyToAccount(generatePrivateKey()).address;
    expect(expectCliFailure(await runCli(["enrol", "--oid", "bed-9", "--address", address, "--chainId", "1"], env), 2, "GatewayConfigInvalid")).to.contain("registry must be an address");
  });

  it("enrol --token-file takes a token the Master key signed for this gid, oid and address (recovered and compared), and refuses with EnrolmentInvalid, enrolling nothing, one another key signed or a malformed file", async () => {
    const device = harness.device("tokened");
    const tokenFile = join(harness.dir, "token.hex");
    const enrol = () => runCli(["enrol", "--config", config, "--oid", device.oid, "--address", device.account.address, "--no-secret", "--token-file", tokenFile]);
    const stranger = privateKeyToAccount(generatePrivateKey());
    for (const bad of [serializeToken(await issueToken(stranger, { gid: harness.gid, oid: device.oid, device: device.account.address })), "0x1234"]) {
      writeFileSync(tokenFile, `${bad}\n`);
      expectCliFailure(await enrol(), 2, "EnrolmentInvalid");
      expect(enrolledCount()).to.equal(1);
    }
    const token = serializeToken(await issueToken(harness.master, { gid: harness.gid, oid: device.oid, device: device.account.address }));
    writeFileSync(tokenFile, `${token}\n`);
    const enrolled = await enrol();
    expect(enrolled.code, enrolled.stderr).to.equal(0);
    const store = GatewayStore.open(databasePath);
    try {
      expect(store.enrolmentByAddress(device.account.address)?.token).to.equal(token);
      store.dropEnrolment(device.account.address);
    } finally {
      store.close();
    }
  });

  it("exits 2 with EnrolmentInvalid for a bad address and EnrolmentConflict for a taken oid or address, enrolling nothing", async () => {
    const stranger = privateKeyToAccount(generatePrivateKey()).address;
    expectCliFailure(await runCli(["enrol", "--config", config, "--oid", "bed-9", "--address", "0x1234"]), 2, "EnrolmentInvalid");
    expectCliFailure(await runCli(["enrol", "--config", config, "--oid", first.oid, "--address", stranger]), 2, "EnrolmentConflict");
    expectCliFailure(await runCli(["enrol", "--config", config, "--oid", "bed-9", "--address", first.account.address]), 2, "EnrolmentConflict");
    expect(enrolledCount()).to.equal(1);
  });
});
