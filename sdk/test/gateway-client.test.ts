// The device's gateway client (sdk/src/gateway-client.ts) against real HTTP on 127.0.0.1 where the
// gateway fails or misbehaves: nothing listening, a body that is not JSON, an error without the
// error shape, a ticket for another device, an association that never leaves the queue, and a
// sealed call before any session. The scripted gateway runs the Master's half of the real
// handshake and seals its answers with the SDK's own session functions; the happy path against
// the real gateway is in gateway/test/flow.test.ts. Also the wire converters both ways.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { expect } from "chai";
import { keccak256, stringToHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  acceptClientHello,
  createDataMessage,
  createGatewayClient,
  finishHandshake,
  fromWireAssociation,
  fromWireDataMessage,
  GatewayError,
  gatewayRoutes,
  issueToken,
  openRecord,
  registryDomain,
  sealRecord,
  serializeToken,
  signAssociation,
  toId,
  toWireAssociation,
  toWireDataMessage,
  type GatewayClient,
  type MasterHandshakeState,
  type SealedEnvelope,
  type Session,
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
      const route = Object.keys(routes).find((path) => request.url?.startsWith(path));
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

/**
 * The Master's side of a gateway that keys real sessions and answers sealed routes with `answers`
 * (route → the JSON to seal), the way the real gateway seals them.
 */
function sealingGateway(master: ReturnType<typeof privateKeyToAccount>, answers: Record<string, (session: Session) => Promise<unknown> | unknown>): Record<string, Handler> {
  const handshakes = new Map<string, MasterHandshakeState>();
  const sessions = new Map<Hex, Session>();
  const routes: Record<string, Handler> = {
    [gatewayRoutes.hello]: async (_request, body, response) => {
      const { serverHello, state } = await acceptClientHello({ account: master, clientHello: JSON.parse(body).clientHello, context });
      const handshakeId = `h${handshakes.size}`;
      handshakes.set(handshakeId, state);
      json(response, 200, { handshakeId, serverHello });
    },
    [gatewayRoutes.finish]: async (_request, body, response) => {
      const { handshakeId, clientFinish } = JSON.parse(body);
      const session = await finishHandshake({ state: handshakes.get(handshakeId)!, clientFinish });
      sessions.set(session.id, session);
      json(response, 200, { sessionId: session.id, expiresAt: session.establishedAt + 3600 });
    },
  };
  for (const [route, answer] of Object.entries(answers)) {
    routes[route] = async (_request, body, response) => {
      const envelope = JSON.parse(body) as SealedEnvelope;
      const session = sessions.get(envelope.sessionId)!;
      const aad = new TextEncoder().encode(route);
      openRecord(session, { record: envelope.record, aad });
      const record = sealRecord(session, { plaintext: new TextEncoder().encode(JSON.stringify(await answer(session))), aad });
      json(response, 200, { record });
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
      const error = await expectRejection(clientFor(url).getInclusion(digest), GatewayError, "GatewayUnreachable");
      expect(error.status).to.equal(0);
      expect(error.message).to.contain(`${url}${gatewayRoutes.message}/${digest}`);
      expect(error.cause).to.be.instanceOf(Error);
    });
  });

  describe("when the gateway answers something else than its protocol", () => {
    let gateway: Awaited<ReturnType<typeof startScriptedGateway>>;
    before(async () => {
      gateway = await startScriptedGateway({
        [gatewayRoutes.message]: (_request, _body, response) => void response.writeHead(502, { "content-type": "text/html" }).end("<html><body>502 Bad Gateway</body></html>"),
        [gatewayRoutes.verify]: (_request, _body, response) => json(response, 500, { oops: true }),
        [gatewayRoutes.hello]: (_request, _body, response) => json(response, 409, { error: { code: "NonceOutOfOrder", message: "nonce 5 is not the next nonce 3", details: { expected: 3 } } }),
      });
    });
    after(() => gateway.close());

    it("throws GatewayBadResponse with the HTTP status for a body that is not JSON (a proxy's error page)", async () => {
      const error = await expectRejection(clientFor(gateway.url).getInclusion(digest), GatewayError, "GatewayBadResponse");
      expect(error.status).to.equal(502);
      expect(error.cause).to.be.instanceOf(SyntaxError);
    });

    it("throws GatewayBadResponse with the HTTP status for an error answer without the error shape", async () => {
      const error = await expectRejection(clientFor(gateway.url).verifyPath({ path: [] }), GatewayError, "GatewayBadResponse");
      expect(error.status).to.equal(500);
      expect(error.message).to.equal("HTTP 500");
    });

    it("throws the gateway's own code, message, status and details from an error answer", async () => {
      const error = await expectRejection(clientFor(gateway.url).keySession(), GatewayError, "NonceOutOfOrder");
      expect(error).to.deep.include({ status: 409, message: "nonce 5 is not the next nonce 3", details: { expected: 3 } });
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
        }),
      );
      client = clientFor(gateway.url);
      await client.keySession();
    });
    after(() => gateway.close());

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
    const message = createDataMessage({ gid: context.gid, oid: toId("ward-7/ecg"), nonce: (1n << 256n) - 1n, payload: "spo2=97", timestamp: (1n << 64n) - 2n, deadline: (1n << 64n) - 1n });
    const wire = JSON.parse(JSON.stringify(toWireDataMessage(message)));
    expect(wire.nonce).to.equal(((1n << 256n) - 1n).toString());
    expect(wire.timestamp).to.equal("18446744073709551614");
    expect(fromWireDataMessage(wire)).to.deep.equal(message);
  });
});
