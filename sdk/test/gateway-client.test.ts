// The device's gateway client (sdk/src/gateway-client.ts, protocol v2) against real HTTP on
// 127.0.0.1 where the gateway fails, misbehaves or is attacked: nothing listening, a body that is
// not JSON, an error without the error shape, a ticket for another device, an association that
// never leaves the queue, a sealed call before any session, an answer served to the wrong request,
// a forged plain refusal, receipts that name other messages, a gateway that forgot the session.
// The scripted gateway runs the Master's half of the real handshake (with the cookie round) and
// seals its answers with the SDK's own gateway-protocol functions; the happy path against the real
// gateway is in gateway/test/flow.test.ts. Also the wire converters both ways.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { expect } from "chai";
import { keccak256, stringToHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  acceptClientHello,
  createDataMessage,
  createGatewayClient,
  finishBinding,
  finishHandshake,
  fromWireAssociation,
  fromWireDataMessage,
  GatewayError,
  gatewayRoutes,
  hashDataMessage,
  issueToken,
  openRequest,
  randomSalt,
  registryDomain,
  sealAnswer,
  serializeToken,
  signAssociation,
  signDataMessage,
  toId,
  toWireAssociation,
  toWireDataMessage,
  type GatewayClient,
  type MasterHandshakeState,
  type SealedEnvelope,
  type Session,
  type SessionRecord,
} from "../src/index.js";
import { expectRejection } from "./support/expect.js";
import { freePort } from "./support/ports.js";

const context = { chainId: 31337, registry: privateKeyToAccount(generatePrivateKey()).address, gid: toId("ward-7") };
const digest: Hex = keccak256(stringToHex("a message"));

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void | Promise<void>;

/** A scripted gateway on 127.0.0.1: `routes` by path, every request counted. */
async function startScriptedGateway(routes: Record<string, Handler>): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      requests.push(request.url ?? "");
      const route = Object.keys(routes).find((path) => request.url === path);
      if (route === undefined) {
        response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "NotFound", message: "no route" } }));
        return;
      }
      Promise.resolve(routes[route](request, body, response)).catch((error: unknown) => response.writeHead(599).end(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const json = (response: ServerResponse, status: number, body: unknown): void => void response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

/** A sealed route's behaviour: the answer to seal, or a raw HTTP reply to send instead. */
type SealedBehaviour = (session: Session, request: unknown, record: SessionRecord) => Promise<unknown> | unknown;

/**
 * The Master's side of a gateway that keys real sessions (cookie round first) and answers sealed
 * routes the way the real gateway does: `{ record }` sealed over `{ ok, result }`, bound to the request.
 */
function sealingGateway(master: ReturnType<typeof privateKeyToAccount>, answers: Record<string, SealedBehaviour>, sessions = new Map<Hex, Session>()): Record<string, Handler> {
  const handshakes = new Map<string, MasterHandshakeState>();
  const routes: Record<string, Handler> = {
    [gatewayRoutes.hello]: async (_request, body, response) => {
      const { clientHello, cookie } = JSON.parse(body);
      if (cookie === undefined) return json(response, 200, { cookie: "0x00000000000000ff" });
      const { serverHello, state } = await acceptClientHello({ account: master, clientHello, context });
      const handshakeId = `h${handshakes.size}`;
      handshakes.set(handshakeId, state);
      json(response, 200, { handshakeId, serverHello });
    },
    [gatewayRoutes.finish]: async (_request, body, response) => {
      const { handshakeId, clientFinish } = JSON.parse(body);
      const session = await finishHandshake({ state: handshakes.get(handshakeId)!, clientFinish });
      sessions.set(session.id, session);
      const record = sealAnswer(session, finishBinding(gatewayRoutes.finish, clientFinish.signature), { ok: true, result: { expiresAt: session.establishedAt + 3600 } });
      json(response, 200, { sessionId: session.id, record });
    },
  };
  for (const [route, answer] of Object.entries(answers)) {
    routes[route] = async (_request, body, response) => {
      const envelope = JSON.parse(body) as SealedEnvelope;
      const session = sessions.get(envelope.sessionId);
      if (session === undefined) return json(response, 401, { error: { code: "SessionUnknown", message: "no such session" } });
      const { body: request, binding } = openRequest(session, route, envelope.record);
      const result = await answer(session, request, envelope.record);
      if (result instanceof Response) return json(response, result.status, await result.json());
      json(response, 200, { record: sealAnswer(session, binding, { ok: true, result }) });
    };
  }
  return routes;
}

describe("the gateway client", () => {
  const device = privateKeyToAccount(generatePrivateKey());
  const master = privateKeyToAccount(generatePrivateKey());
  const clientFor = (url: string): GatewayClient => createGatewayClient({ url, account: device, master: master.address, context });

  describe("when the gateway cannot be reached", () => {
    it("throws GatewayUnreachable with status 0 and the network error as cause, for a port nothing listens on", async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const error = await expectRejection(clientFor(url).keySession(), GatewayError, "GatewayUnreachable");
      expect(error.status).to.equal(0);
      expect(error.message).to.contain(`${url}${gatewayRoutes.hello}`);
      expect(error.cause).to.be.instanceOf(Error);
    });
  });

  describe("when the gateway answers something else than its protocol", () => {
    it("throws GatewayBadResponse with the HTTP status for a body that is not JSON (a proxy's error page)", async () => {
      const gateway = await startScriptedGateway({
        [gatewayRoutes.hello]: (_request, _body, response) => void response.writeHead(502, { "content-type": "text/html" }).end("<html><body>502 Bad Gateway</body></html>"),
      });
      try {
        const error = await expectRejection(clientFor(gateway.url).keySession(), GatewayError, "GatewayBadResponse");
        expect(error.status).to.equal(502);
        expect(error.cause).to.be.instanceOf(SyntaxError);
      } finally {
        await gateway.close();
      }
    });

    it("throws GatewayBadResponse with the HTTP status for an error answer without the error shape", async () => {
      const gateway = await startScriptedGateway({ [gatewayRoutes.hello]: (_request, _body, response) => json(response, 500, { oops: true }) });
      try {
        const error = await expectRejection(clientFor(gateway.url).keySession(), GatewayError, "GatewayBadResponse");
        expect(error.status).to.equal(500);
      } finally {
        await gateway.close();
      }
    });

    it("throws the gateway's plain code, message, status and details as unauthenticated", async () => {
      const gateway = await startScriptedGateway({
        [gatewayRoutes.hello]: (_request, _body, response) => json(response, 409, { error: { code: "HelloReplayed", message: "this hello was answered", details: { nonce: "0x01" } } }),
      });
      try {
        const error = await expectRejection(clientFor(gateway.url).keySession(), GatewayError, "HelloReplayed");
        expect(error).to.deep.include({ status: 409, message: "this hello was answered", details: { nonce: "0x01" }, authenticated: false });
      } finally {
        await gateway.close();
      }
    });
  });

  describe("without a session", () => {
    it("throws GatewayNoSession for every sealed call before keySession, sending nothing", async () => {
      const gateway = await startScriptedGateway({});
      try {
        const client = clientFor(gateway.url);
        await expectRejection(client.getTicket(), GatewayError, "GatewayNoSession");
        await expectRejection(client.associationStatus(), GatewayError, "GatewayNoSession");
        await expectRejection(client.sendData({ messages: [] }), GatewayError, "GatewayNoSession");
        await expectRejection(client.getAuthPath(), GatewayError, "GatewayNoSession");
        await expectRejection(client.getInclusion({ digest, nonce: 1n }), GatewayError, "GatewayNoSession");
        expect(gateway.requests).to.deep.equal([]);
      } finally {
        await gateway.close();
      }
    });
  });

  describe("on a keyed session with a gateway that misbehaves", () => {
    const stranger = privateKeyToAccount(generatePrivateKey());
    let gateway: Awaited<ReturnType<typeof startScriptedGateway>>;
    let client: GatewayClient;

    before(async () => {
      gateway = await startScriptedGateway(
        sealingGateway(master, {
          // A token the Master really signed, but for another device.
          [gatewayRoutes.ticket]: async () => ({ token: serializeToken(await issueToken(master, { gid: context.gid, oid: toId("ward-7/pump"), device: stranger.address })) }),
          [gatewayRoutes.assoc]: () => ({ status: "queued" }),
          // Receipts that name another message than the one sent.
          [gatewayRoutes.data]: () => ({ receipts: [{ digest, device: device.address, nonce: "1", acceptedAt: 1 }] }),
        }),
      );
      client = clientFor(gateway.url);
      await client.keySession();
    });
    after(() => gateway.close());

    it("ran the cookie round: the first hello got a cookie, the second carried it", () => {
      expect(gateway.requests.slice(0, 3)).to.deep.equal([gatewayRoutes.hello, gatewayRoutes.hello, gatewayRoutes.finish]);
    });

    it("throws GatewayWrongTicket for a token issued to another device", async () => {
      await expectRejection(client.getTicket(), GatewayError, "GatewayWrongTicket");
    });

    it("throws GatewayTimeout when the association is still queued after timeoutMs, having polled until then", async () => {
      const polls = () => gateway.requests.filter((path) => path === gatewayRoutes.assoc).length;
      const before = polls();
      const started = Date.now();
      const error = await expectRejection(client.waitForAssociation({ pollIntervalMs: 20, timeoutMs: 200 }), GatewayError, "GatewayTimeout");
      expect(Date.now() - started).to.be.at.least(200);
      expect(polls() - before).to.be.at.least(2);
      expect(error.message).to.contain("still queued after 200 ms");
    });

    it("throws GatewayBadReceipt for a receipt that does not name the message sent: it is not acknowledged", async () => {
      const domain = registryDomain(context);
      const message = createDataMessage({ gid: context.gid, oid: toId("ward-7/ecg"), nonce: 1n, payload: "spo2=97", salt: randomSalt(), timestamp: 1n, deadline: 2n });
      const signed = await signDataMessage(device, { domain, message });
      expect(hashDataMessage(domain, message)).to.not.equal(digest);
      await expectRejection(client.sendData({ messages: [signed] }), GatewayError, "GatewayBadReceipt");
    });
  });

  describe("answers bound to their request (docs/protocol.md §5.2)", () => {
    it("refuses an answer withheld from one request and served to the next with SessionTampered", async () => {
      let withheld: { record: SessionRecord } | undefined;
      const sessions = new Map<Hex, Session>();
      const routes = sealingGateway(master, { [gatewayRoutes.nonce]: () => ({ next: "7" }) }, sessions);
      const honest = routes[gatewayRoutes.nonce];
      // An on-path attacker keeps the first answer, lets the gateway answer the second request, and serves the first answer instead.
      routes[gatewayRoutes.nonce] = async (request, body, response) => {
        if (withheld === undefined) {
          const captured = { writeHead: () => ({ end: (text: string) => (withheld = JSON.parse(text)) }) } as unknown as ServerResponse;
          await honest(request, body, captured);
          return json(response, 503, { error: { code: "Overloaded", message: "try again" } });
        }
        json(response, 200, withheld);
      };
      const gateway = await startScriptedGateway(routes);
      try {
        const client = clientFor(gateway.url);
        await client.keySession();
        await expectRejection(client.getNextNonce(), GatewayError, "Overloaded");
        await expectRejection(client.getNextNonce(), GatewayError, "SessionTampered");
      } finally {
        await gateway.close();
      }
    });

    it("treats a plain DeviceRevoked on a sealed route as unauthenticated, and a sealed one as authenticated", async () => {
      const sessions = new Map<Hex, Session>();
      const routes = sealingGateway(master, { [gatewayRoutes.proof]: () => new Response(JSON.stringify({ error: { code: "DeviceRevoked", message: "forged" } }), { status: 403 }) }, sessions);
      const gateway = await startScriptedGateway(routes);
      try {
        const client = clientFor(gateway.url);
        await client.keySession();
        const forged = await expectRejection(client.getAuthPath(), GatewayError, "DeviceRevoked");
        expect(forged.authenticated).to.equal(false);
      } finally {
        await gateway.close();
      }
      const sealed = await startScriptedGateway({
        ...sealingGateway(master, {}, sessions),
        [gatewayRoutes.proof]: async (_request, body, response) => {
          const envelope = JSON.parse(body) as SealedEnvelope;
          const session = sessions.get(envelope.sessionId)!;
          const { binding } = openRequest(session, gatewayRoutes.proof, envelope.record);
          json(response, 403, { record: sealAnswer(session, binding, { ok: false, error: { code: "DeviceRevoked", message: "revoked on chain" } }) });
        },
      });
      try {
        const client = clientFor(sealed.url);
        await client.keySession();
        const real = await expectRejection(client.getAuthPath(), GatewayError, "DeviceRevoked");
        expect(real).to.deep.include({ authenticated: true, status: 403 });
      } finally {
        await sealed.close();
      }
    });

    it("runs a new handshake and resends the request once when the gateway forgot the session", async () => {
      const sessions = new Map<Hex, Session>();
      const gateway = await startScriptedGateway(sealingGateway(master, { [gatewayRoutes.nonce]: () => ({ next: "3" }) }, sessions));
      try {
        const client = clientFor(gateway.url);
        await client.keySession();
        sessions.clear(); // the gateway restarted
        expect(await client.getNextNonce()).to.equal(3n);
        expect(gateway.requests.filter((path) => path === gatewayRoutes.finish)).to.have.length(2);
      } finally {
        await gateway.close();
      }
    });

    it("refuses a finish answer whose session id is not the handshake's with GatewayBadResponse", async () => {
      const routes = sealingGateway(master, {});
      const honest = routes[gatewayRoutes.finish];
      routes[gatewayRoutes.finish] = async (request, body, response) => {
        const captured = { writeHead: () => ({ end: (text: string) => json(response, 200, { ...JSON.parse(text), sessionId: `0x${"ab".repeat(32)}` }) }) } as unknown as ServerResponse;
        await honest(request, body, captured);
      };
      const gateway = await startScriptedGateway(routes);
      try {
        await expectRejection(clientFor(gateway.url).keySession(), GatewayError, "GatewayBadResponse");
      } finally {
        await gateway.close();
      }
    });
  });
});

describe("the wire converters", () => {
  const device = privateKeyToAccount(generatePrivateKey());
  const master = privateKeyToAccount(generatePrivateKey());
  const domain = registryDomain(context);

  it("carry a signed association through JSON and back unchanged: bigints as decimal strings, the device checksummed", async () => {
    const token = await issueToken(master, { gid: context.gid, oid: toId("ward-7/ecg"), device: device.address });
    const signed = await signAssociation(device, { domain, token, deadline: (1n << 64n) - 1n });
    const wire = toWireAssociation(signed);
    expect(wire.request).to.deep.equal({ gid: signed.request.gid, oid: signed.request.oid, device: device.address, nonce: "0", deadline: "18446744073709551615" });
    const lowerCased = JSON.parse(JSON.stringify({ ...wire, request: { ...wire.request, device: device.address.toLowerCase() } }));
    expect(fromWireAssociation(lowerCased)).to.deep.equal(signed);
  });

  it("carry a data message through JSON and back unchanged, at the largest nonce and timestamps", () => {
    const message = createDataMessage({ gid: context.gid, oid: toId("ward-7/ecg"), nonce: (1n << 256n) - 1n, payload: "spo2=97", salt: randomSalt(), timestamp: (1n << 64n) - 2n, deadline: (1n << 64n) - 1n });
    const wire = JSON.parse(JSON.stringify(toWireDataMessage(message)));
    expect(wire.nonce).to.equal(((1n << 256n) - 1n).toString());
    expect(wire.timestamp).to.equal("18446744073709551614");
    expect(fromWireDataMessage(wire)).to.deep.equal(message);
  });
});
