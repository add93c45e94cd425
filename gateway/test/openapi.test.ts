// The OpenAPI documents (openapi.ts): valid OpenAPI 3.1, generated from every route Fastify
// registers on each listener, served by the admin listener only, committed in docs/openapi/ as
// generated; and the answers a running gateway gives are what the documents say, sealed ones
// included (opened, against `x-iomt-sealed`), with the bytes of sealed answers untouched by the
// response serializer.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import Fastify, { type FastifyInstance } from "fastify";
import { Validator } from "@seriousme/openapi-schema-validator";
import { completeHandshake, createClientHello, gatewayRoutes, openAnswer, sealRequest, type GatewayClient, type SealedRoute, type SessionRecord } from "@iomt-auth/sdk";
import { adminApp } from "../src/admin.js";
import { defaultConfig, type GatewayConfig } from "../src/config.js";
import type { Aggregation } from "../src/aggregation.js";
import type { ConsoleParameters } from "../src/console/routes.js";
import { gatewayDependencies } from "../src/decorators.js";
import { describeGateway, openapiRoutes, registerOpenApi } from "../src/openapi.js";
import { deviceApp } from "../src/server.js";
import type { RunningGateway } from "../src/index.js";
import { createHarness, type Device, type Harness } from "./support/harness.js";

type Operation = { requestBody?: { content: Record<string, { schema: object }> }; responses: Record<string, { content?: Record<string, { schema: object }> }>; "x-iomt-sealed"?: { request: object; answer: object } };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** The routes a listener's plugins register, as Fastify reports them (HEAD routes are GET's, added by Fastify). */
async function registeredRoutes(listener: "device" | "admin"): Promise<string[]> {
  const app: FastifyInstance = Fastify();
  const routes: string[] = [];
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) if (method !== "HEAD") routes.push(`${method.toLowerCase()} ${route.url}`);
  });
  await app.register(gatewayDependencies, { config: defaultConfig as GatewayConfig, aggregation: {} as Aggregation });
  await registerOpenApi(app, listener);
  await (listener === "device" ? app.register(deviceApp) : app.register(adminApp, { deviceOpenApi: () => ({}), console: { loaded: { config: defaultConfig } } as unknown as ConsoleParameters }));
  await app.ready();
  await app.close();
  return routes.sort();
}

const operations = (document: Document) => Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`)).sort();

const ajv = new Ajv({ strict: false });
/** Checks `value` against a schema from the document; the error names what does not match. */
function expectValid(schema: object, value: unknown, what: string): void {
  const validate = ajv.compile(schema);
  expect(validate(value), `${what}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
}
const responseSchema = (operation: Operation, status: string) => operation.responses[status].content!["application/json"].schema;

describe("gateway OpenAPI: the documents are valid OpenAPI 3.1 and list every route", () => {
  let documents: { device: Document; admin: Document };
  before(async () => {
    // Every route a listener may register, as committed: with the console and the hand-over routes.
    documents = (await describeGateway(defaultConfig, { everyRoute: true })) as typeof documents;
  });

  for (const listener of ["device", "admin"] as const) {
    it(`validates the ${listener} listener's document against the OpenAPI 3.1 schema`, async () => {
      const result = await new Validator().validate(documents[listener] as unknown as Record<string, unknown>);
      expect(result.errors ?? [], JSON.stringify(result.errors)).to.deep.equal([]);
      expect(result.valid).to.equal(true);
      expect(documents[listener].openapi).to.equal("3.1.0");
    });

    it(`has an operation for every route the ${listener} listener registers, and no other`, async () => {
      const routes = await registeredRoutes(listener);
      expect(routes.length).to.be.greaterThan(3);
      expect(operations(documents[listener])).to.deep.equal(routes);
    });

    it(`declares a response schema on every operation of the ${listener} listener`, () => {
      for (const [path, methods] of Object.entries(documents[listener].paths)) {
        for (const operation of Object.values(methods)) {
          expect(operation.responses["200"], path).to.not.equal(undefined);
          expect(Object.values(operation.responses["200"].content ?? {}).length, path).to.equal(1);
        }
      }
    });

    it(`is committed in docs/openapi/${listener}.json as generated (./iomt openapi)`, () => {
      expect(JSON.parse(readFileSync(`docs/openapi/${listener}.json`, "utf8"))).to.deep.equal(JSON.parse(JSON.stringify(documents[listener])));
    });
  }

  it("describes what every sealed route carries once opened: its request and its answer (x-iomt-sealed)", () => {
    const sealedRoutes = [gatewayRoutes.ticket, gatewayRoutes.assoc, gatewayRoutes.data, gatewayRoutes.nonce, gatewayRoutes.proof, gatewayRoutes.inclusion, gatewayRoutes.verify];
    for (const route of sealedRoutes) {
      const sealed = documents.device.paths[route].post["x-iomt-sealed"];
      expect(sealed, route).to.have.keys("request", "answer");
    }
    expect(documents.device.paths[gatewayRoutes.hello].post["x-iomt-sealed"]).to.equal(undefined);
  });
});

describe("gateway OpenAPI: a running gateway", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let alice: Device;
  let client: GatewayClient;
  let device: Document;

  before(async () => {
    harness = await createHarness();
    gateway = await harness.start();
    alice = harness.device("alice");
    client = await harness.onboard(gateway, alice);
    device = (await (await fetch(`${gateway.adminUrl}${openapiRoutes.device}`)).json()) as Document;
  });
  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("serves both documents on the admin listener, as generated for its settings (the harness keeps the default bounds)", async () => {
    const expected = (await describeGateway()) as { device: Document; admin: Document };
    expect(device).to.deep.equal(JSON.parse(JSON.stringify(expected.device)));
    const admin = (await (await fetch(`${gateway.adminUrl}${openapiRoutes.admin}`)).json()) as Document;
    expect(admin).to.deep.equal(JSON.parse(JSON.stringify(expected.admin)));
  });

  it("serves no document on the device-facing listener", async () => {
    for (const path of [openapiRoutes.device, openapiRoutes.admin, "/openapi.json", "/documentation/json"]) {
      expect((await fetch(`${gateway.url}${path}`)).status, path).to.equal(404);
    }
  });

  it("answers the handshake (cookie, ServerHello, finish) and health as the document says, byte for byte as JSON", async () => {
    const state = createClientHello({ account: alice.account, master: harness.master.address, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid } });
    const hello = device.paths[gatewayRoutes.hello].post;
    const post = async (route: string, body: unknown) => {
      const text = await (await fetch(`${gateway.url}${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).text();
      expect(text, route).to.equal(JSON.stringify(JSON.parse(text)));
      return JSON.parse(text) as { cookie?: string; handshakeId?: string; serverHello?: never };
    };
    const cookie = await post(gatewayRoutes.hello, { clientHello: state.clientHello });
    expectValid(responseSchema(hello, "200"), cookie, "cookie");
    const serverHello = await post(gatewayRoutes.hello, { clientHello: state.clientHello, cookie: cookie.cookie });
    expectValid(responseSchema(hello, "200"), serverHello, "ServerHello");
    const { clientFinish } = await completeHandshake({ account: alice.account, state: state.state, serverHello: serverHello.serverHello! });
    const finish = await post(gatewayRoutes.finish, { handshakeId: serverHello.handshakeId, clientFinish });
    expectValid(responseSchema(device.paths[gatewayRoutes.finish].post, "200"), finish, "finish");
    const live = await (await fetch(`${gateway.url}${gatewayRoutes.live}`)).json();
    expectValid(responseSchema(device.paths[gatewayRoutes.live].get, "200"), live, "liveness");
    const ready = await (await fetch(`${gateway.url}${gatewayRoutes.ready}`)).json();
    expectValid(responseSchema(device.paths[gatewayRoutes.ready].get, "200"), ready, "readiness");
    const admin = (await (await fetch(`${gateway.adminUrl}${openapiRoutes.admin}`)).json()) as Document;
    const details = await (await fetch(`${gateway.adminUrl}${gatewayRoutes.ready}`)).json();
    expectValid(responseSchema(admin.paths[gatewayRoutes.ready].get, "200"), details, "readiness with details");
  });

  /** Seals `body` for `route` under the client's session, posts it, and returns the raw answer and the opened one. */
  async function exchange(route: SealedRoute, body: unknown) {
    const session = client.session!;
    const { record, binding } = sealRequest(session, route, body);
    const response = await fetch(`${gateway.url}${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sessionId: session.id, record }) });
    const text = await response.text();
    const outer = JSON.parse(text) as { record: SessionRecord };
    return { status: response.status, text, outer, answer: openAnswer(session, binding, outer.record) };
  }

  it("answers sealed routes with exactly { record: { seq, ciphertext } }, whose opened answer is what x-iomt-sealed says", async () => {
    for (const route of [gatewayRoutes.nonce, gatewayRoutes.proof, gatewayRoutes.ticket] as const) {
      const { status, text, outer, answer } = await exchange(route, {});
      expect(status, route).to.equal(200);
      // fast-json-stringify writes the envelope: byte for byte what JSON.stringify makes of it, nothing dropped.
      expect(text, route).to.equal(JSON.stringify({ record: { seq: outer.record.seq, ciphertext: outer.record.ciphertext } }));
      expectValid(responseSchema(device.paths[route].post, "200"), outer, `${route} envelope`);
      expect(answer.ok, route).to.equal(true);
      expectValid(device.paths[route].post["x-iomt-sealed"]!.answer, answer, `${route} opened answer`);
    }
  });

  it("answers a sealed refusal sealed, as x-iomt-sealed says, and an unopened one as a plain error", async () => {
    const { status, text, outer, answer } = await exchange(gatewayRoutes.inclusion, { digest: `0x${"11".repeat(32)}`, nonce: "1" });
    expect(status).to.equal(404);
    expect(text).to.equal(JSON.stringify(outer));
    expect(answer.ok).to.equal(false);
    expectValid(device.paths[gatewayRoutes.inclusion].post["x-iomt-sealed"]!.answer, answer, "sealed refusal");
    const plain = await fetch(`${gateway.url}${gatewayRoutes.nonce}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sessionId: `0x${"22".repeat(32)}`, record: { seq: 0, ciphertext: `0x${"00".repeat(16)}` } }) });
    expectValid(responseSchema(device.paths[gatewayRoutes.nonce].post, "4XX"), await plain.json(), "plain refusal");
  });

  it("accepts, by the document's envelope schema, the envelope the SDK seals", () => {
    const { record } = sealRequest(client.session!, gatewayRoutes.nonce, {});
    expectValid(device.paths[gatewayRoutes.nonce].post.requestBody!.content["application/json"].schema, { sessionId: client.session!.id, record }, "envelope");
  });
});
