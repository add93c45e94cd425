// Rule: every refusal carries `{ error: { code, message } }` (issue 12, item 11), also those the
// HTTP layer makes before a route runs: an unparsable request line, headers over the size limit,
// unparsable JSON, a body over the limit, an unknown route. And the error table: every code the
// gateway declares (src/errors.ts) is in the README's table with its HTTP status and whether it
// travels sealed, and the README lists no other.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gatewayRoutes } from "@iomt-auth/sdk";
import { apiErrors, type RunningGateway } from "../src/index.js";
import { expectErrorAnswer, type Answer } from "./support/expect.js";
import { createHarness, type Harness } from "./support/harness.js";
import { jsonBody, rawExchange, statusOf } from "./support/raw-http.js";

/** The error shape, exactly: a code, a message, and nothing but optional details. */
function expectErrorShape(body: unknown, code: string): void {
  expect(body).to.be.an("object").with.keys(["error"]);
  const { error } = body as { error: Record<string, unknown> };
  expect(Object.keys(error).filter((key) => key !== "details")).to.deep.equal(["code", "message"]);
  expect(error.code).to.equal(code);
  expect(error.message).to.be.a("string").and.not.equal("");
}

describe("rule: every refusal has the error shape, also the HTTP layer's", () => {
  let harness: Harness;
  let gateway: RunningGateway;

  before(async () => {
    harness = await createHarness();
    gateway = await harness.start({ bodyLimitBytes: "2048" });
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  const cases: { name: string; status: number; code: string; send: () => Promise<{ status: number; body: unknown }> }[] = [
    {
      name: "a request line that is not HTTP",
      status: 400,
      code: "MalformedRequest",
      async send() {
        const { response } = await rawExchange(gateway.url, ["THIS IS NOT HTTP\r\n\r\n"]);
        return { status: statusOf(response), body: jsonBody(response) };
      },
    },
    {
      name: "a header line without a colon",
      status: 400,
      code: "MalformedRequest",
      async send() {
        const { response } = await rawExchange(gateway.url, [`POST ${gatewayRoutes.hello} HTTP/1.1\r\nHost: gateway\r\nno colon here\r\n\r\n`]);
        return { status: statusOf(response), body: jsonBody(response) };
      },
    },
    {
      name: "headers over the size limit",
      status: 431,
      code: "HeaderTooLarge",
      async send() {
        const { response } = await rawExchange(gateway.url, [`POST ${gatewayRoutes.hello} HTTP/1.1\r\nHost: gateway\r\nX-Padding: ${"a".repeat(20_000)}\r\n\r\n`]);
        return { status: statusOf(response), body: jsonBody(response) };
      },
    },
    {
      name: "unparsable JSON",
      status: 400,
      code: "MalformedJson",
      async send() {
        const response = await fetch(`${gateway.url}${gatewayRoutes.hello}`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"clientHello": ' });
        return { status: response.status, body: await response.json() };
      },
    },
    {
      name: "an empty JSON body",
      status: 400,
      code: "MalformedJson",
      async send() {
        const response = await fetch(`${gateway.url}${gatewayRoutes.hello}`, { method: "POST", headers: { "content-type": "application/json" }, body: "" });
        return { status: response.status, body: await response.json() };
      },
    },
    {
      name: "a body over the size limit",
      status: 413,
      code: "BodyTooLarge",
      async send() {
        const response = await fetch(`${gateway.url}${gatewayRoutes.data}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pad: "x".repeat(5_000) }) });
        return { status: response.status, body: await response.json() };
      },
    },
    {
      name: "a request with both Content-Length and Transfer-Encoding (request smuggling)",
      status: 400,
      code: "MalformedRequest",
      async send() {
        const { response } = await rawExchange(gateway.url, [`POST ${gatewayRoutes.hello} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`]);
        return { status: statusOf(response), body: jsonBody(response) };
      },
    },
    {
      name: "a body that is not JSON by its content type",
      status: 415,
      code: "UnsupportedMediaType",
      async send() {
        const response = await fetch(`${gateway.url}${gatewayRoutes.hello}`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
        return { status: response.status, body: await response.json() };
      },
    },
    {
      name: "an unknown route",
      status: 404,
      code: "NotFound",
      async send() {
        const response = await fetch(`${gateway.url}/v1/session/hello`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
        return { status: response.status, body: await response.json() };
      },
    },
    {
      name: "a known route with another method",
      status: 404,
      code: "NotFound",
      async send() {
        const response = await fetch(`${gateway.url}${gatewayRoutes.data}`);
        return { status: response.status, body: await response.json() };
      },
    },
  ];

  for (const { name, status, code, send } of cases) {
    it(`answers ${name} with ${status} and { error: { code: "${code}", message } }`, async () => {
      const answer = await send();
      expectErrorAnswer(answer as Answer, status, code);
      expectErrorShape(answer.body, code);
      expect(apiErrors[code as keyof typeof apiErrors]).to.deep.include({ status, sealed: "no" });
      // The gateway goes on serving.
      expect((await fetch(`${gateway.url}/health/live`)).status).to.equal(200);
    });
  }
});

describe("rule: the README's error table is the gateway's", () => {
  const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
  /** The rows of the table under "## Errors": `| code | status | sealed | … |`. */
  const rows = new Map(
    [...readme.slice(readme.indexOf("## Errors")).matchAll(/^\| `(\w+)` \| (\d{3}) \| (no|yes|both|cli)\b/gm)].map(([, code, status, sealed]) => [code, { status: Number(status), sealed }]),
  );

  it("lists every code the gateway declares, with its status and whether it is sealed", () => {
    for (const [code, { status, sealed }] of Object.entries(apiErrors)) {
      expect(rows.get(code), `${code} is missing from the README's error table`).to.deep.equal({ status, sealed });
    }
  });

  it("lists no code the gateway does not declare", () => {
    expect([...rows.keys()].filter((code) => !(code in apiErrors))).to.deep.equal([]);
  });
});
