// The gateway client's retry rules (sdk/src/gateway-client.ts) against a scripted gateway built
// from the SDK's own protocol functions, in memory (the client's `fetch`): a retryable
// MirrorSyncing is retried with back-off, a forgotten session is renewed at most once, one sealed
// request is in flight per session. gateway-client.test.ts covers the rest over real HTTP; the
// gateway's tests run the same client against the real gateway.
import { expect } from "chai";
import { keccak256, stringToBytes, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  acceptClientHello,
  createGatewayClient,
  finishBinding,
  finishHandshake,
  GatewayError,
  gatewayRoutes,
  openRequest,
  sealAnswer,
  type MasterHandshakeState,
  type SealedAnswerBody,
  type Session,
} from "../src/index.js";
import { expectRejection } from "./support/expect.js";

const master = privateKeyToAccount(generatePrivateKey());
const device = privateKeyToAccount(generatePrivateKey());
const context = { chainId: 31337, registry: privateKeyToAccount(generatePrivateKey()).address, gid: keccak256(stringToBytes("ward-1")) };

type Reply = { status: number; answer: SealedAnswerBody<unknown> } | { plain: { status: number; body: unknown } };

/** A gateway that answers each sealed request with `reply(route, body, n)`: n counts the requests. */
function scriptedGateway(reply: (route: string, body: unknown, n: number) => Reply) {
  const handshakes = new Map<string, MasterHandshakeState>();
  const sessions = new Map<string, Session>();
  const seen: { route: string; sessionId?: string; at: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const fetcher: typeof fetch = async (input, init) => {
    const route = new URL(String(input)).pathname;
    const body = JSON.parse(String(init?.body)) as Record<string, never>;
    if (route === gatewayRoutes.hello) {
      const { serverHello, state } = await acceptClientHello({ account: master, clientHello: body.clientHello, context });
      const handshakeId = `0x${"ab".repeat(16)}${handshakes.size}`;
      handshakes.set(handshakeId, state);
      return json(200, { handshakeId, serverHello });
    }
    if (route === gatewayRoutes.finish) {
      const session = await finishHandshake({ state: handshakes.get(body.handshakeId)!, clientFinish: body.clientFinish });
      sessions.set(session.id, session);
      return json(200, { sessionId: session.id, record: sealAnswer(session, finishBinding(route, (body.clientFinish as { signature: Hex }).signature), { ok: true, result: { expiresAt: 2 ** 31 } }) });
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push({ route, sessionId: body.sessionId, at: Date.now() });
      const session = sessions.get(body.sessionId);
      if (session === undefined) return json(401, { error: { code: "SessionUnknown", message: "no such session" } });
      const { body: request, binding } = openRequest(session, route, body.record);
      const outcome = reply(route, request, seen.length);
      if ("plain" in outcome) {
        if ((outcome.plain.body as { error?: { code: string } }).error?.code === "SessionUnknown") sessions.delete(session.id);
        return json(outcome.plain.status, outcome.plain.body);
      }
      return json(outcome.status, { record: sealAnswer(session, binding, outcome.answer) });
    } finally {
      inFlight--;
    }
  };
  return { fetcher, seen, get maxInFlight() { return maxInFlight; } };
}

const clientOf = (fetcher: typeof fetch, retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number }) =>
  createGatewayClient({ url: "http://gateway.test", account: device, master: master.address, context, fetch: fetcher, ...(retry === undefined ? {} : { retry }) });

describe("gateway client", () => {
  describe("rule: a retryable MirrorSyncing is retried with back-off", () => {
    it("retries a sealed MirrorSyncing with growing delays, then returns the result", async () => {
      const gateway = scriptedGateway((_route, _body, n) => (n < 4 ? { status: 503, answer: { ok: false, error: { code: "MirrorSyncing", message: "catching up" } } } : { status: 200, answer: { ok: true, result: { next: "7" } } }));
      const client = clientOf(gateway.fetcher, { baseDelayMs: 20, maxDelayMs: 200 });
      await client.keySession();
      expect(await client.getNextNonce()).to.equal(7n);
      expect(gateway.seen).to.have.length(4);
      const gaps = gateway.seen.slice(1).map((request, i) => request.at - gateway.seen[i].at);
      expect(gaps[0]).to.be.at.least(15);
      expect(gaps[2]).to.be.greaterThan(gaps[0]);
    });

    it("gives up after its attempts with the sealed MirrorSyncing, authenticated", async () => {
      const gateway = scriptedGateway(() => ({ status: 503, answer: { ok: false, error: { code: "MirrorSyncing", message: "catching up" } } }));
      const client = clientOf(gateway.fetcher, { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 });
      await client.keySession();
      const error = await expectRejection(client.getNextNonce(), GatewayError, "MirrorSyncing");
      expect(error).to.deep.include({ status: 503, authenticated: true });
      expect(gateway.seen).to.have.length(3);
    });

    it("does not retry other refusals", async () => {
      const gateway = scriptedGateway(() => ({ status: 409, answer: { ok: false, error: { code: "NonceOutOfOrder", message: "no", details: { expected: 3 } } } }));
      const client = clientOf(gateway.fetcher, { baseDelayMs: 1 });
      await client.keySession();
      const error = await expectRejection(client.getNextNonce(), GatewayError, "NonceOutOfOrder");
      expect(error).to.deep.include({ status: 409, authenticated: true });
      expect(gateway.seen).to.have.length(1);
    });
  });

  describe("rule: a forgotten session is renewed once", () => {
    it("runs a new handshake after a plain SessionUnknown and sends the request again, once", async () => {
      const gateway = scriptedGateway((_route, _body, n) => (n === 1 ? { plain: { status: 401, body: { error: { code: "SessionUnknown", message: "restarted" } } } } : { status: 200, answer: { ok: true, result: { next: "1" } } }));
      const client = clientOf(gateway.fetcher);
      await client.keySession();
      const first = client.session!.id;
      expect(await client.getNextNonce()).to.equal(1n);
      expect(client.session!.id).to.not.equal(first);
      expect(gateway.seen.map((request) => request.sessionId === first)).to.deep.equal([true, false]);
    });

    it("renews at most once: a second plain SessionUnknown is thrown, unauthenticated", async () => {
      const gateway = scriptedGateway(() => ({ plain: { status: 401, body: { error: { code: "SessionUnknown", message: "restarted" } } } }));
      const client = clientOf(gateway.fetcher);
      await client.keySession();
      const error = await expectRejection(client.getNextNonce(), GatewayError, "SessionUnknown");
      expect(error.authenticated).to.equal(false);
      expect(gateway.seen).to.have.length(2);
    });
  });

  describe("rule: one sealed request in flight per session", () => {
    it("queues concurrent calls so that answers arrive in sequence order", async () => {
      const gateway = scriptedGateway(() => ({ status: 200, answer: { ok: true, result: { next: "1" } } }));
      const client = clientOf(gateway.fetcher);
      await client.keySession();
      await Promise.all(Array.from({ length: 6 }, () => client.getNextNonce()));
      expect(gateway.seen).to.have.length(6);
      expect(gateway.maxInFlight).to.equal(1);
    });
  });
});
