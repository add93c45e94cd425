// The gateway's error answers as the tests see them: raw HTTP (`post`, `get`, the error body and
// status) and the SDK client's GatewayError. Each helper checks the status and the stable code and
// records the code in the assertion ledger (sdk/test/support/expect.ts), which scripts/test-all.mjs
// compares with every code the gateway declares.
import { expect } from "chai";
import { GatewayError } from "@iomt-auth/sdk";
import { expectRejection } from "../../../sdk/test/support/expect.js";
import { recordAssertion } from "../../../sdk/test/support/ledger.js";

export { expectCode, expectError, expectFailure, expectRejection, rejection, thrown } from "../../../sdk/test/support/expect.js";

/**
 * An HTTP answer: its status and its JSON body (for a sealed route, the opened answer's error);
 * `sealed`: the error came sealed and bound to the request (docs/protocol.md §5).
 */
export type Answer = { status: number; body: { error?: { code: string; message: string; details?: Record<string, unknown> } } & Record<string, unknown>; sealed?: boolean };

export async function post(url: string, path: string, body: unknown, contentType = "application/json"): Promise<Answer> {
  const response = await fetch(`${url}${path}`, { method: "POST", headers: { "content-type": contentType }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

export async function get(url: string, path: string): Promise<Answer> {
  const response = await fetch(`${url}${path}`);
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

/** Asserts an error answer `{ error: { code, message } }` with this status and code (and a message for people), and records the code. */
export function expectErrorAnswer(answer: Answer, status: number, code: string): NonNullable<Answer["body"]["error"]> {
  expect(answer.body.error?.code, JSON.stringify(answer.body)).to.equal(code);
  expect(answer.status, JSON.stringify(answer.body)).to.equal(status);
  expect(answer.body.error?.message).to.be.a("string").and.not.equal("");
  recordAssertion("code", code);
  return answer.body.error!;
}

/**
 * Asserts that the SDK's gateway client rejects with a GatewayError of this code and HTTP status
 * (the code is recorded), and, when given, whether it was authenticated (sealed by the gateway).
 */
export async function expectGatewayError(promise: Promise<unknown>, status: number, code: string, options: { authenticated?: boolean } = {}): Promise<GatewayError> {
  const error = await expectRejection(promise, GatewayError, code);
  expect(error.status, error.message).to.equal(status);
  if (options.authenticated !== undefined) expect(error.authenticated, `${code} authenticated`).to.equal(options.authenticated);
  return error;
}
