// The gateway's error answers as the tests see them: raw HTTP (`post`, `get`, the error body and
// status; `postHello` with its cookie round; `postSealed`, a request sealed by hand under a
// client's session) and the SDK client's GatewayError. Each helper checks the status and the stable code and
// records the code in the assertion ledger (sdk/test/support/expect.ts), which scripts/test-all.mjs
// compares with every code the gateway declares.
import { expect } from "chai";
import { bytesToHex, hexToBytes } from "viem";
import { bindingOf, GatewayError, gatewayRoutes, openAnswer, requestAad, sealRecord, type ClientHello, type GatewayClient, type SealedRoute, type SessionRecord } from "@iomt-auth/sdk";
import { expectRejection } from "../../../sdk/test/support/expect.js";
import { recordAssertion } from "../../../sdk/test/support/ledger.js";
import type { ApiError } from "../../src/errors.js";

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

/** Posts a hello with its cookie round: the first answer is the cookie, sent back with the same hello. */
export async function postHello(url: string, clientHello: ClientHello): Promise<Answer> {
  const { body } = await post(url, gatewayRoutes.hello, { clientHello });
  return { ...(await post(url, gatewayRoutes.hello, { clientHello, cookie: body.cookie })), sealed: false };
}

/**
 * Seals `plaintext` under the client's session (for `sealedFor`'s route) and posts it to `route`;
 * a sealed answer is opened with the request's binding, as the device does.
 */
export async function postSealed(
  url: string,
  client: GatewayClient,
  route: SealedRoute,
  plaintext: unknown,
  { sealedFor = route, tamper = false, raw }: { sealedFor?: SealedRoute; tamper?: boolean; raw?: Uint8Array } = {},
): Promise<Answer> {
  const session = client.session!;
  const record = sealRecord(session, { plaintext: raw ?? new TextEncoder().encode(JSON.stringify(plaintext)), aad: requestAad(sealedFor) });
  if (tamper) {
    const bytes = hexToBytes(record.ciphertext);
    bytes[0] ^= 1;
    record.ciphertext = bytesToHex(bytes);
  }
  const response = await fetch(`${url}${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sessionId: session.id, record }) });
  const json = (await response.json()) as { record?: SessionRecord; error?: { code: string; message: string } };
  if (json.record === undefined) return { status: response.status, body: json, sealed: false };
  const answer = openAnswer(session, bindingOf(route, record), json.record);
  return { status: response.status, body: answer.ok ? {} : { error: answer.error }, sealed: true };
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

/** Asserts a `StoreUnavailable` refusal whose `details.reason` is this store fault code (e.g. `SQLITE_IOERR_FSYNC`), and records that code. */
export function expectStoreFault(error: ApiError, reason: string): void {
  expect(error.code).to.equal("StoreUnavailable");
  expect(error.details).to.deep.equal({ reason });
  recordAssertion("code", reason);
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
