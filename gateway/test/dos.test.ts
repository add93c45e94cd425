// Rule: no pre-authentication denial of service (docs/protocol.md §3.4, §3.6, §7). The review found
// that a hello cost about 14 ms of CPU, that the same hello was answered any number of times, that
// 170 hellos/s filled the half-open table, that 8 s of junk from one address locked every device
// behind it out for 52 s, and that slow sockets were never closed. Now: a stateless cookie round
// and admission come before any asymmetric work, a replayed hello is refused, the Master's ECDH
// and signing run on libsecp256k1, budgets are per address before a session and per device after,
// live sessions are bounded per device, and slow clients are closed.
import { expect } from "chai";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { bytesToHex, hexToBytes, keccak256, stringToBytes, type Hex } from "viem";
import { secp256k1 } from "@noble/curves/secp256k1";
import {
  createClientHello,
  gatewayRoutes,
  GatewayError,
  hashClientHello,
  nobleKeyAgreement,
  recoverSigner,
  requestAad,
  sealRecord,
  type ClientHello,
  type GatewayClient,
} from "@iomt-auth/sdk";
import { COOKIE_LIFETIME_SECONDS, createHandshakeCrypto, helloDigest, loadNativeSecp256k1, masterKeyOf, SessionManager, type RunningGateway } from "../src/index.js";
import { metricValue } from "./support/admin.js";
import { expectErrorAnswer, type Answer } from "./support/expect.js";
import { createHarness, type Device, type Harness } from "./support/harness.js";
import { rawExchange, jsonBody, statusOf } from "./support/raw-http.js";

const keyExchanges = (gateway: RunningGateway) => metricValue(gateway, "iomt_gateway_key_exchanges_total");

async function postHello(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}${gatewayRoutes.hello}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe("gateway: pre-authentication denial of service", () => {
  let harness: Harness;

  before(async () => {
    harness = await createHarness();
  });

  after(async () => {
    await harness?.close();
  });

  const helloOf = (device: Device): ClientHello =>
    createClientHello({ account: device.account, master: harness.master.address, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid } }).clientHello;

  describe("rule: no asymmetric work before the cookie round and admission", () => {
    let gateway: RunningGateway;
    let proxied: RunningGateway;
    let busy: RunningGateway;
    let member: Device;

    before(async () => {
      gateway = await harness.start();
      proxied = await harness.start({ trustProxy: "true" });
      busy = await harness.start({ maxPendingHandshakes: "2" });
      member = harness.device("member");
      await harness.onboard(gateway, member);
    });

    after(async () => {
      await busy?.close();
      await proxied?.close();
      await gateway?.close();
    });

    it("answers a hello without a cookie with a 40-byte cookie only: no key exchange", async () => {
      const before = await keyExchanges(gateway);
      const { status, json } = await postHello(gateway.url, { clientHello: helloOf(member) });
      expect(status).to.equal(200);
      expect(Object.keys(json)).to.deep.equal(["cookie"]);
      const cookie = hexToBytes(json.cookie as Hex);
      expect(cookie).to.have.length(40);
      const expiry = Number(new DataView(cookie.buffer).getBigUint64(0));
      const now = Math.floor(Date.now() / 1000);
      expect(expiry).to.be.within(now + COOKIE_LIFETIME_SECONDS - 2, now + COOKIE_LIFETIME_SECONDS + 1);
      expect(COOKIE_LIFETIME_SECONDS).to.equal(30);
      expect(await keyExchanges(gateway)).to.equal(before);
    });

    it("answers the same hello with its cookie with the ServerHello", async () => {
      const clientHello = helloOf(member);
      const { json } = await postHello(gateway.url, { clientHello });
      const answer = await postHello(gateway.url, { clientHello, cookie: json.cookie });
      expect(answer.status).to.equal(200);
      expect(answer.json).to.have.keys(["handshakeId", "serverHello"]);
    });

    it("binds the cookie to the client's address: the same hello and cookie from another address are refused", async () => {
      const clientHello = helloOf(member);
      const { json } = await postHello(proxied.url, { clientHello }, { "x-forwarded-for": "10.0.0.1" });
      const elsewhere = await postHello(proxied.url, { clientHello, cookie: json.cookie }, { "x-forwarded-for": "10.0.0.2" });
      expect(elsewhere.status).to.equal(400);
      expect((elsewhere.json.error as { code: string }).code).to.equal("HandshakeCookieInvalid");
      const same = await postHello(proxied.url, { clientHello, cookie: json.cookie }, { "x-forwarded-for": "10.0.0.1" });
      expect(same.json).to.have.property("serverHello");
    });

    it("refuses a ClientHello answered once (HelloReplayed): five concurrent copies cost one key exchange", async () => {
      const clientHello = helloOf(member);
      const { json } = await postHello(gateway.url, { clientHello });
      const before = await keyExchanges(gateway);
      const answers = await Promise.all(Array.from({ length: 5 }, () => postHello(gateway.url, { clientHello, cookie: json.cookie })));
      expect(answers.filter((answer) => answer.status === 200 && "serverHello" in answer.json)).to.have.length(1);
      expect(answers.filter((answer) => answer.status === 409).map((answer) => (answer.json.error as { code: string }).code)).to.deep.equal(Array(4).fill("HelloReplayed"));
      expect(await keyExchanges(gateway)).to.equal(before + 1);
    });

    it("refuses before the key exchange a hello naming a device neither enrolled nor a member", async () => {
      const stranger = harness.device("stranger");
      const before = await keyExchanges(gateway);
      for (let i = 0; i < 5; i++) {
        const clientHello = helloOf(stranger);
        const { json } = await postHello(gateway.url, { clientHello });
        const answer = await postHello(gateway.url, { clientHello, cookie: json.cookie });
        expect(answer.status).to.equal(403);
        expect((answer.json.error as { code: string }).code).to.equal("DeviceNotAdmitted");
      }
      expect(await keyExchanges(gateway)).to.equal(before);
    });

    it("holds at most maxPendingHandshakes half-open handshakes: beyond, HandshakesBusy", async () => {
      const opened = [];
      for (let i = 0; i < 3; i++) {
        const clientHello = helloOf(member);
        const { json } = await postHello(busy.url, { clientHello });
        opened.push(await postHello(busy.url, { clientHello, cookie: json.cookie }));
      }
      expect(opened.map((answer) => answer.status)).to.deep.equal([200, 200, 503]);
      expect((opened[2].json.error as { code: string }).code).to.equal("HandshakesBusy");
    });
  });

  describe("rule: the cookie is stateless and expires after 30 seconds", () => {
    let clock = 1_750_000_000;
    const master = generatePrivateKey();
    const manager = () =>
      new SessionManager({
        crypto: createHandshakeCrypto(masterKeyOf(master), true),
        chainId: 31337,
        registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        groups: [keccak256(stringToBytes("ward-1"))],
        ttlSeconds: 3_600,
        maxSessions: 10,
        maxSessionsPerDevice: 2,
        maxPendingHandshakes: 10,
        admit: async () => undefined,
        now: () => clock,
      });
    const hello = () =>
      createClientHello({
        account: privateKeyToAccount(generatePrivateKey()),
        master: privateKeyToAccount(master).address,
        context: { chainId: 31337, registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3", gid: keccak256(stringToBytes("ward-1")) },
        now: clock,
      }).clientHello;

    it("digests the hello exactly as the SDK's hashClientHello, without checking the curve point", () => {
      for (let i = 0; i < 5; i++) {
        const clientHello = hello();
        expect(bytesToHex(helloDigest(clientHello))).to.equal(hashClientHello(clientHello));
        const recased = { ...clientHello, device: clientHello.device.toLowerCase() as Hex, nonce: clientHello.nonce.toUpperCase().replace("0X", "0x") as Hex };
        expect(bytesToHex(helloDigest(recased))).to.equal(hashClientHello(clientHello));
      }
    });

    it("answers a cookie 30 s old with the ServerHello, and one 31 s old with a fresh cookie", async () => {
      const sessions = manager();
      const [first, second] = [hello(), hello()];
      const cookies = [(await sessions.hello(first, undefined, "10.0.0.1")) as { cookie: Hex }, (await sessions.hello(second, undefined, "10.0.0.1")) as { cookie: Hex }];
      clock += 30;
      expect(await sessions.hello(first, cookies[0].cookie, "10.0.0.1")).to.have.property("serverHello");
      clock += 1;
      const expired = await sessions.hello(second, cookies[1].cookie, "10.0.0.1");
      expect(Object.keys(expired)).to.deep.equal(["cookie"]);
      expect((expired as { cookie: Hex }).cookie).to.not.equal(cookies[1].cookie);
    });

    it("does not accept a cookie from another gateway process (a fresh key per process)", async () => {
      const clientHello = hello();
      const { cookie } = (await manager().hello(clientHello, undefined, "10.0.0.1")) as { cookie: Hex };
      const error = await manager()
        .hello(clientHello, cookie, "10.0.0.1")
        .catch((caught: unknown) => caught);
      expect((error as { code: string }).code).to.equal("HandshakeCookieInvalid");
    });
  });

  describe("rule: the Master's handshake crypto runs on the native binding, with the same results as pure JS", () => {
    it("loads the native binding on this machine", () => {
      expect(loadNativeSecp256k1(), "the secp256k1 binding did not load").to.not.equal(undefined);
      expect(createHandshakeCrypto(masterKeyOf(generatePrivateKey()), true).native).to.equal(true);
      expect(createHandshakeCrypto(masterKeyOf(generatePrivateKey()), false).native).to.equal(false);
    });

    it("gives the same public keys, ECDH secrets, signatures and recovered signers as pure JS", async () => {
      const key = generatePrivateKey();
      const native = createHandshakeCrypto(masterKeyOf(key), true);
      const pure = createHandshakeCrypto(masterKeyOf(key), false);
      for (let i = 0; i < 20; i++) {
        const { privateKey, publicKey } = native.keyAgreement.generateKeyPair();
        expect(bytesToHex(publicKey)).to.equal(bytesToHex(nobleKeyAgreement.publicKeyOf(privateKey)));
        const peer = secp256k1.getPublicKey(secp256k1.utils.randomPrivateKey(), true);
        expect(bytesToHex(native.keyAgreement.sharedSecret(privateKey, peer))).to.equal(bytesToHex(nobleKeyAgreement.sharedSecret(privateKey, peer)));
        const message = { raw: keccak256(stringToBytes(`transcript ${i}`)) };
        const [fast, slow, viemSignature] = await Promise.all([native.account.signMessage({ message }), pure.account.signMessage({ message }), privateKeyToAccount(key).signMessage({ message })]);
        expect(fast).to.equal(slow);
        expect(fast).to.equal(viemSignature);
        const hash = keccak256(stringToBytes(`hash ${i}`));
        const signature = await privateKeyToAccount(key).sign({ hash });
        expect(native.recover(hash, signature).toLowerCase()).to.equal(recoverSigner(hash, signature).toLowerCase());
      }
    });

    it("completes handshakes on either path, and reports which it uses", async () => {
      const device = harness.device("either");
      for (const nativeSecp256k1 of ["true", "false"]) {
        const gateway = await harness.start({ nativeSecp256k1 });
        try {
          const client = await harness.onboard(gateway, device);
          expect(await client.getNextNonce()).to.equal(1n);
          const ready = (await (await fetch(`${gateway.adminUrl}/health/ready`)).json()) as { nativeSecp256k1: boolean };
          expect(ready.nativeSecp256k1).to.equal(nativeSecp256k1 === "true");
        } finally {
          await gateway.close();
        }
      }
    });
  });

  describe("rule: junk from one address does not lock the devices behind it out of their sessions", () => {
    let gateway: RunningGateway;
    const devices: Device[] = [];
    const clients: GatewayClient[] = [];

    before(async () => {
      gateway = await harness.start({ rateLimitPerMinute: "12", deviceRateLimitPerMinute: "100" });
      for (const name of ["ward-a", "ward-b"]) {
        const device = harness.device(name);
        devices.push(device);
        clients.push(await harness.onboard(gateway, device));
      }
    });

    after(async () => {
      await gateway?.close();
    });

    it("keeps serving sessions from an address whose per-address budget junk spent", async () => {
      // Junk from the devices' own address (loopback): hellos, and records under unknown sessions.
      const junk = [];
      for (let i = 0; i < 30; i++) junk.push((await postHello(gateway.url, { clientHello: helloOf(harness.device(`junk-${i}`)) })).status);
      for (let i = 0; i < 30; i++) {
        const response = await fetch(`${gateway.url}${gatewayRoutes.data}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ sessionId: keccak256(stringToBytes(`junk ${i}`)), record: { seq: i, ciphertext: `0x${"00".repeat(32)}` } }),
        });
        junk.push(response.status);
      }
      expect(junk.filter((status) => status === 429).length).to.be.greaterThan(10);
      // New handshakes from this address wait for the budget…
      const error = await harness.device("newcomer").client(gateway.url).keySession().catch((caught: unknown) => caught);
      expect(error).to.deep.include({ code: "RateLimited", status: 429, authenticated: false });
      // … but the devices behind it go on in their sessions.
      for (const [i, client] of clients.entries()) {
        const [receipt] = await client.sendData({ messages: [await devices[i].sign(1n)] });
        expect(receipt.nonce).to.equal("1");
        expect(await client.getNextNonce()).to.equal(2n);
      }
    });

    it("limits each device on its own, counted once its record opened, with a sealed RateLimited", async () => {
      let refused: GatewayError | undefined;
      for (let i = 0; i < 150 && refused === undefined; i++) {
        await clients[0].getNextNonce().catch((error: GatewayError) => (refused = error));
      }
      expect(refused).to.deep.include({ code: "RateLimited", status: 429, authenticated: true });
      // The other device behind the same address is not affected.
      expect(await clients[1].getNextNonce()).to.equal(2n);
      // Junk under the limited device's session id does not count: only opened records do.
      const session = clients[1].session!;
      for (let i = 0; i < 50; i++) {
        await fetch(`${gateway.url}${gatewayRoutes.nonce}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sessionId: session.id, record: { seq: 4_000_000 + i, ciphertext: `0x${"00".repeat(32)}` } }) });
      }
      expect(await clients[1].getNextNonce()).to.equal(2n);
    });
  });

  describe("rule: live sessions are bounded, per device and in all", () => {
    let gateway: RunningGateway;

    before(async () => {
      gateway = await harness.start({ maxSessionsPerDevice: "2", maxSessions: "4" });
    });

    after(async () => {
      await gateway?.close();
    });

    const sealedStatus = async (client: GatewayClient) => {
      const session = client.session!;
      const record = sealRecord(session, { plaintext: new TextEncoder().encode("{}"), aad: requestAad(gatewayRoutes.nonce) });
      const response = await fetch(`${gateway.url}${gatewayRoutes.nonce}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sessionId: session.id, record }) });
      const json = (await response.json()) as { error?: { code: string } };
      return json.error?.code ?? String(response.status);
    };

    it("keeps at most maxSessionsPerDevice sessions per device, evicting the oldest, whose client renews it by itself", async () => {
      const device = harness.device("many-sessions");
      const first = await harness.onboard(gateway, device);
      const second = device.client(gateway.url);
      const third = device.client(gateway.url);
      await second.keySession();
      expect(await sealedStatus(first)).to.equal("200");
      await third.keySession();
      expect(await sealedStatus(first)).to.equal("SessionUnknown");
      expect(await sealedStatus(second)).to.equal("200");
      expect(await sealedStatus(third)).to.equal("200");
      // The client of the evicted session runs a new handshake and goes on.
      expect(await first.getNextNonce()).to.equal(1n);
      expect(await sealedStatus(second)).to.equal("SessionUnknown");
    });

    it("keeps at most maxSessions in all, evicting the oldest", async () => {
      const clients = [];
      for (let i = 0; i < 5; i++) clients.push(await harness.onboard(gateway, harness.device(`bounded-${i}`)));
      const ready = (await (await fetch(`${gateway.adminUrl}/health/ready`)).json()) as { sessions: number };
      expect(ready.sessions).to.equal(4);
      expect(gateway.sessions.size).to.equal(4);
      expect(await sealedStatus(clients[4])).to.equal("200");
    });
  });

  describe("rule: slow clients are closed", () => {
    let gateway: RunningGateway;

    before(async () => {
      gateway = await harness.start({ requestTimeoutMs: "1000" });
    });

    after(async () => {
      await gateway?.close();
    });

    it("closes a socket that sends its headers slowly, answering 408 RequestTimeout in the error shape", async () => {
      const headerBytes = Array.from({ length: 100 }, (_, i) => `x-slow-${i}: ${i}\r\n`);
      const exchange = await rawExchange(gateway.url, [`POST ${gatewayRoutes.data} HTTP/1.1\r\nHost: gateway\r\n`, ...headerBytes], { intervalMs: 200, giveUpMs: 8_000 });
      expect(exchange.closed, "the gateway kept the slow socket open").to.equal(true);
      expect(exchange.closedAfterMs).to.be.lessThan(4_000);
      expectErrorAnswer({ status: statusOf(exchange.response), body: jsonBody(exchange.response) as Answer["body"] }, 408, "RequestTimeout");
      expect(jsonBody(exchange.response)).to.deep.equal({ error: { code: "RequestTimeout", message: "the request was not received in time" } });
    });

    it("closes a socket that sends its body slowly", async () => {
      const body = JSON.stringify({ clientHello: {} }).padEnd(200, " ");
      const head = `POST ${gatewayRoutes.hello} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      const exchange = await rawExchange(gateway.url, [head, ...body.split("")], { intervalMs: 100, giveUpMs: 8_000 });
      expect(exchange.closed, "the gateway kept the slow socket open").to.equal(true);
      expect(exchange.closedAfterMs).to.be.lessThan(4_000);
      expect(statusOf(exchange.response)).to.equal(408);
    });

    it("closes a socket that connects and sends nothing", async () => {
      const exchange = await rawExchange(gateway.url, [], { giveUpMs: 8_000 });
      expect(exchange.closed, "the gateway kept the idle socket open").to.equal(true);
      expect(exchange.closedAfterMs).to.be.lessThan(4_000);
    });
  });
});
