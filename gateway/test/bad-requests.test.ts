// A table of bad requests. Each must be answered with its 4xx and stable error code — plain or
// sealed (bound to the request) exactly as the gateway's error table says — store nothing (the
// tables' row counts and nonces are unchanged), and leave the gateway serving everyone else (a
// healthy device's next message is acknowledged right after).
import { expect } from "chai";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  associateBySig,
  completeHandshake,
  createClientHello,
  gatewayRoutes,
  issueToken,
  requestAad,
  revoke,
  sealRecord,
  signAssociation,
  toWireDataMessage,
  type ClientHello,
  type GatewayClient,
  type WireSignedDataMessage,
} from "@iomt-auth/sdk";
import { apiErrors, type ApiErrorCode, type RunningGateway } from "../src/index.js";
import { toHighS } from "../../sdk/test/support/signatures.js";
import { expectErrorAnswer, get, post, postHello, postSealed, rejection, type Answer } from "./support/expect.js";
import { createHarness, eventually, type Device, type Harness } from "./support/harness.js";

const wire = async (device: Device, nonce: bigint, options?: Parameters<Device["sign"]>[1]): Promise<WireSignedDataMessage> => {
  const signed = await device.sign(nonce, options);
  return { message: toWireDataMessage(signed.message), signature: signed.signature, payload: signed.payload, salt: signed.salt };
};

describe("gateway: bad requests", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let limited: RunningGateway;
  let shortLived: RunningGateway;
  let url: string;
  const devices: Record<string, Device> = {};
  const clients: Record<string, GatewayClient> = {};
  let goodNonce = 1n;

  before(async () => {
    harness = await createHarness();
    // No anchoring during the table (batches only by size, never reached), so the snapshot can include batches.
    gateway = await harness.start({ bodyLimitBytes: "16384", maxMessagesPerRequest: "8", maxPayloadBytes: "64", batchMaxMessages: "10000", batchMaxAgeMs: "3600000" });
    limited = await harness.start({ rateLimitPerMinute: "3" });
    shortLived = await harness.start({ sessionTtlSeconds: "1" });
    url = gateway.url;
    for (const name of ["good", "victim", "other", "revoked"]) {
      devices[name] = harness.device(name);
      clients[name] = await harness.onboard(gateway, devices[name]);
    }
    // victim has used nonces 1 and 2.
    await clients.victim.sendData({ messages: [await devices.victim.sign(1n), await devices.victim.sign(2n)] });
    const revokedPath = await clients.revoked.getAuthPath();
    await harness.publicClient.waitForTransactionReceipt({ hash: await revoke(harness.masterWallet, { registry: harness.registry, gid: harness.gid, oid: devices.revoked.oid }) });
    await eventually("the mirror to see the revocation", async () => ((await clients.good.verifyPath({ path: revokedPath })).status === "Revoked" ? true : undefined));

    // fresh: enrolled and keyed, not associated. secretive: enrolled with a secret.
    for (const [name, secret] of [["fresh", undefined], ["secretive", "s3cret-pin 7QW2MZPHX"]] as const) {
      devices[name] = harness.device(name);
      await gateway.enrol({ oid: devices[name].oid, address: devices[name].account.address, ...(secret === undefined ? {} : { secret }) });
      clients[name] = devices[name].client(url);
      await clients[name].keySession();
    }
    // member: associated on chain by the Master directly, never enrolled with the gateway.
    devices.member = harness.device("member");
    const token = await issueToken(harness.master, { gid: harness.gid, oid: devices.member.oid, device: devices.member.account.address });
    const association = await signAssociation(devices.member.account, { domain: harness.domain, token, deadline: BigInt(Math.floor(Date.now() / 1000) + 600) });
    await harness.publicClient.waitForTransactionReceipt({ hash: await associateBySig(harness.masterWallet, { registry: harness.registry, association }) });
    clients.member = devices.member.client(url);
    await eventually("a session for the member", async () => clients.member.keySession().then(() => true, () => undefined));
    // expired: a session with a gateway whose sessions last one second, once the gateway's clock
    // (whole seconds) has passed its expiry.
    clients.expired = devices.good.client(shortLived.url);
    const { expiresAt } = await clients.expired.keySession();
    await eventually("the short-lived session to expire", () => (Math.floor(Date.now() / 1000) > expiresAt ? true : undefined), 10_000);
  });

  after(async () => {
    await shortLived?.close();
    await limited?.close();
    await gateway?.close();
    await harness?.close();
  });

  const snapshot = (target: RunningGateway = gateway) =>
    target.store.db
      .prepare(
        `SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM associations) AS associations,
                (SELECT count(*) FROM enrolments) AS enrolments,
                (SELECT count(*) FROM batches) AS batches, (SELECT group_concat(device || ':' || next_nonce) FROM device_nonces) AS nonces`,
      )
      .get();

  const stale = () => Math.floor(Date.now() / 1000) - 3_600;
  const soon = () => BigInt(Math.floor(Date.now() / 1000) + 600);
  const hello = (overrides: Record<string, unknown> = {}, device: Device = devices.good) => {
    const { clientHello } = createClientHello({ account: device.account, master: harness.master.address, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid } });
    return { clientHello: { ...clientHello, ...overrides } as ClientHello };
  };

  /**
   * `target`: the gateway the case talks to, when not the main one (its store is the one checked).
   * `sealed`: whether the refusal comes sealed, for the codes the table marks `both`.
   */
  const cases: { name: string; status: number; code: ApiErrorCode; sealed?: boolean; target?: () => RunningGateway; send: () => Promise<Answer> }[] = [
    // transport and envelopes
    { name: "malformed JSON", status: 400, code: "MalformedJson", send: () => post(url, gatewayRoutes.hello, '{"clientHello": ') },
    { name: "a body that is not JSON by its content type", status: 415, code: "UnsupportedMediaType", send: () => post(url, gatewayRoutes.hello, "hello", "text/plain") },
    { name: "a body over the size limit", status: 413, code: "BodyTooLarge", send: () => post(url, gatewayRoutes.data, { pad: "x".repeat(20_000) }) },
    { name: "a hello without its clientHello", status: 400, code: "RequestInvalid", send: () => post(url, gatewayRoutes.hello, {}) },
    { name: "a hello whose version is a string", status: 400, code: "RequestInvalid", send: () => post(url, gatewayRoutes.hello, hello({ version: "1" })) },
    { name: "a hello with an unknown field", status: 400, code: "RequestInvalid", send: () => post(url, gatewayRoutes.hello, hello({ extra: true })) },
    { name: "a hello for another chain", status: 403, code: "SessionWrongContext", send: () => post(url, gatewayRoutes.hello, hello({ context: { chainId: 1, registry: harness.registry, gid: harness.gid } })) },
    { name: "a hello for a group this gateway does not serve", status: 403, code: "GroupNotServed", send: () => post(url, gatewayRoutes.hello, hello({ context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: `0x${"ab".repeat(32)}` } })) },
    { name: "a hello whose version is not 2", status: 400, code: "SessionMalformed", send: () => post(url, gatewayRoutes.hello, hello({ version: 1 })) },
    { name: "a stale hello", status: 401, code: "SessionStale", send: () => post(url, gatewayRoutes.hello, hello({ timestamp: stale() })) },
    { name: "a hello whose ephemeral key is not on the curve", status: 400, code: "SessionMalformed", send: () => postHello(url, hello({ ephemeralPublicKey: `0x02${"00".repeat(32)}` }).clientHello) },
    { name: "a hello with a forged cookie", status: 400, code: "HandshakeCookieInvalid", send: () => post(url, gatewayRoutes.hello, { ...hello(), cookie: `0x${"ff".repeat(8)}${"00".repeat(32)}` }) },
    {
      name: "a hello with the cookie of another hello",
      status: 400,
      code: "HandshakeCookieInvalid",
      async send() {
        const { cookie } = (await (await fetch(`${url}${gatewayRoutes.hello}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(hello()) })).json()) as { cookie: string };
        return post(url, gatewayRoutes.hello, { ...hello(), cookie });
      },
    },
    {
      name: "a hello answered once, sent again",
      status: 409,
      code: "HelloReplayed",
      async send() {
        const { clientHello } = hello();
        const first = await postHello(url, clientHello);
        expect(first.body).to.have.property("serverHello");
        return postHello(url, clientHello);
      },
    },
    { name: "a hello from a revoked device", status: 403, code: "DeviceRevoked", sealed: false, send: () => postHello(url, hello({}, devices.revoked).clientHello) },
    { name: "a finish for an unknown handshake", status: 404, code: "HandshakeUnknown", send: () => post(url, gatewayRoutes.finish, { handshakeId: `0x${"00".repeat(16)}`, clientFinish: { signature: `0x${"11".repeat(65)}` } }) },
    {
      name: "a finish signed by another key than the device's",
      status: 401,
      code: "SessionBadSignature",
      async send() {
        const { clientHello, state } = createClientHello({ account: devices.good.account, master: harness.master.address, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid } });
        const answer = (await postHello(url, clientHello)).body as unknown as { handshakeId: string; serverHello: never };
        const impostor = privateKeyToAccount(generatePrivateKey());
        const { clientFinish } = await completeHandshake({ account: { address: devices.good.account.address, signMessage: impostor.signMessage }, state, serverHello: answer.serverHello });
        return post(url, gatewayRoutes.finish, { handshakeId: answer.handshakeId, clientFinish });
      },
    },
    {
      name: "a session for a device neither enrolled nor a member",
      status: 403,
      code: "DeviceNotAdmitted",
      async send() {
        const error = (await rejection(harness.device("nobody").client(url).keySession())) as { status: number; code: string; message: string; authenticated: boolean };
        return { status: error.status, body: { error }, sealed: error.authenticated };
      },
    },
    { name: "a sealed request for an unknown session", status: 401, code: "SessionUnknown", send: () => post(url, gatewayRoutes.data, { sessionId: `0x${"00".repeat(32)}`, record: { seq: 0, ciphertext: `0x${"00".repeat(32)}` } }) },
    { name: "a sealed request on an expired session", status: 401, code: "SessionExpired", target: () => shortLived, send: async () => postSealed(shortLived.url, clients.expired, gatewayRoutes.data, { messages: [await wire(devices.good, goodNonce)] }) },
    { name: "a tampered ciphertext", status: 400, code: "SessionTampered", send: async () => postSealed(url, clients.good, gatewayRoutes.data, { messages: [await wire(devices.good, goodNonce)] }, { tamper: true }) },
    {
      name: "a replayed record",
      status: 409,
      code: "SessionReplay",
      async send() {
        const session = clients.victim.session!;
        const record = sealRecord(session, { plaintext: new TextEncoder().encode("{}"), aad: requestAad(gatewayRoutes.proof) });
        const first = await post(url, gatewayRoutes.proof, { sessionId: session.id, record });
        expect(first.status, JSON.stringify(first.body)).to.equal(200);
        expect(first.body.record, "the first use of the record is answered, sealed").to.have.keys(["seq", "ciphertext"]);
        return post(url, gatewayRoutes.proof, { sessionId: session.id, record });
      },
    },
    { name: "a record sealed for another route", status: 400, code: "SessionTampered", send: async () => postSealed(url, clients.good, gatewayRoutes.data, { messages: [await wire(devices.good, goodNonce)] }, { sealedFor: gatewayRoutes.ticket }) },
    { name: "a record whose plaintext is not JSON", status: 400, code: "RecordNotJson", send: () => postSealed(url, clients.good, gatewayRoutes.data, undefined, { raw: new TextEncoder().encode("not json") }) },
    { name: "an envelope whose seq is a string", status: 400, code: "RequestInvalid", send: () => post(url, gatewayRoutes.data, { sessionId: clients.good.session!.id, record: { seq: "1", ciphertext: `0x${"00".repeat(32)}` } }) },
    // data
    { name: "messages that are not an array", status: 400, code: "RequestInvalid", sealed: true, send: () => postSealed(url, clients.good, gatewayRoutes.data, { messages: "all of them" }) },
    { name: "an empty list of messages", status: 400, code: "RequestInvalid", sealed: true, send: () => postSealed(url, clients.good, gatewayRoutes.data, { messages: [] }) },
    { name: "more messages than one request may carry", status: 400, code: "RequestInvalid", sealed: true, send: async () => postSealed(url, clients.good, gatewayRoutes.data, { messages: await Promise.all(Array.from({ length: 9 }, (_, i) => wire(devices.good, goodNonce + BigInt(i)))) }) },
    { name: "a message with an unknown field", status: 400, code: "RequestInvalid", sealed: true, send: async () => { const m = await wire(devices.good, goodNonce); return postSealed(url, clients.good, gatewayRoutes.data, { messages: [{ ...m, message: { ...m.message, priority: "high" } }] }); } },
    { name: "a nonce written in hex", status: 400, code: "RequestInvalid", sealed: true, send: async () => { const m = await wire(devices.good, goodNonce); return postSealed(url, clients.good, gatewayRoutes.data, { messages: [{ ...m, message: { ...m.message, nonce: "0x1" } }] }); } },
    { name: "a message signed by another key", status: 401, code: "SignatureMismatch", send: async () => { const m = await wire(devices.good, goodNonce); const forged = await wire(devices.other, goodNonce, { oid: devices.good.oid }); return postSealed(url, clients.good, gatewayRoutes.data, { messages: [{ ...m, signature: forged.signature }] }); } },
    { name: "a malleable (high-s) signature", status: 400, code: "SignatureInvalid", send: async () => { const m = await wire(devices.good, goodNonce); return postSealed(url, clients.good, gatewayRoutes.data, { messages: [{ ...m, signature: toHighS(m.signature) }] }); } },
    { name: "a message under another device's oid", status: 403, code: "OidNotOwned", send: async () => postSealed(url, clients.victim, gatewayRoutes.data, { messages: [await wire(devices.victim, 3n, { oid: devices.other.oid })] }) },
    { name: "a message under an oid nobody registered", status: 403, code: "DeviceNotMember", send: async () => postSealed(url, clients.victim, gatewayRoutes.data, { messages: [await wire(devices.victim, 3n, { oid: `0x${"12".repeat(32)}` })] }) },
    { name: "a message for another group than the session's", status: 403, code: "GroupMismatch", send: async () => postSealed(url, clients.victim, gatewayRoutes.data, { messages: [await wire(devices.victim, 3n, { gid: `0x${"34".repeat(32)}` })] }) },
    { name: "a used nonce with other content", status: 409, code: "NonceReplayed", send: async () => postSealed(url, clients.victim, gatewayRoutes.data, { messages: [await wire(devices.victim, 1n, { payload: "a different reading" })] }) },
    { name: "a nonce that skips ahead", status: 409, code: "NonceOutOfOrder", send: async () => postSealed(url, clients.victim, gatewayRoutes.data, { messages: [await wire(devices.victim, 7n)] }) },
    { name: "a message past its deadline", status: 400, code: "MessageExpired", send: async () => postSealed(url, clients.victim, gatewayRoutes.data, { messages: [await wire(devices.victim, 3n, { timestamp: BigInt(stale()), deadline: BigInt(stale() + 60) })] }) },
    { name: "a timestamp from the future", status: 400, code: "MessageFromFuture", send: async () => postSealed(url, clients.victim, gatewayRoutes.data, { messages: [await wire(devices.victim, 3n, { timestamp: soon() + 86_400n, deadline: soon() + 90_000n })] }) },
    { name: "a payload that does not match its commitment", status: 400, code: "PayloadMismatch", send: async () => { const m = await wire(devices.victim, 3n); return postSealed(url, clients.victim, gatewayRoutes.data, { messages: [{ ...m, payload: "0xdeadbeef" }] }); } },
    { name: "a payload under another salt than its commitment's", status: 400, code: "PayloadMismatch", send: async () => { const m = await wire(devices.victim, 3n); return postSealed(url, clients.victim, gatewayRoutes.data, { messages: [{ ...m, salt: `0x${"00".repeat(32)}` }] }); } },
    { name: "a payload without its salt", status: 400, code: "RequestInvalid", sealed: true, send: async () => { const { salt: _salt, ...m } = await wire(devices.victim, 3n); return postSealed(url, clients.victim, gatewayRoutes.data, { messages: [m] }); } },
    { name: "a salt without its payload", status: 400, code: "RequestInvalid", sealed: true, send: async () => { const { payload: _payload, ...m } = await wire(devices.victim, 3n); return postSealed(url, clients.victim, gatewayRoutes.data, { messages: [m] }); } },
    { name: "a payload over the size limit", status: 400, code: "RequestInvalid", sealed: true, send: async () => postSealed(url, clients.victim, gatewayRoutes.data, { messages: [await wire(devices.victim, 3n, { payload: "x".repeat(65) })] }) },
    { name: "data from a revoked device", status: 403, code: "DeviceRevoked", sealed: true, send: async () => postSealed(url, clients.revoked, gatewayRoutes.data, { messages: [await wire(devices.revoked, 1n)] }) },
    { name: "a batch with one forged message among good ones", status: 401, code: "SignatureMismatch", send: async () => { const good = await wire(devices.victim, 3n); const next = await wire(devices.victim, 4n); return postSealed(url, clients.victim, gatewayRoutes.data, { messages: [good, { ...next, signature: (await wire(devices.other, 4n, { oid: devices.victim.oid })).signature }] }); } },
    { name: "data from a device that has not associated", status: 403, code: "DeviceNotMember", send: async () => postSealed(url, clients.fresh, gatewayRoutes.data, { messages: [await wire(devices.fresh, 1n)] }) },
    // ticket, assoc, proof
    { name: "a ticket for a member that was never enrolled here", status: 403, code: "DeviceNotEnrolled", send: () => postSealed(url, clients.member, gatewayRoutes.ticket, {}) },
    { name: "a ticket without the enrolment secret", status: 401, code: "EnrolmentSecretRequired", send: () => postSealed(url, clients.secretive, gatewayRoutes.ticket, {}) },
    { name: "a ticket with a wrong enrolment secret", status: 401, code: "EnrolmentSecretWrong", send: () => postSealed(url, clients.secretive, gatewayRoutes.ticket, { secret: "guess" }) },
    { name: "a ticket request with an unknown field", status: 400, code: "RequestInvalid", sealed: true, send: () => postSealed(url, clients.secretive, gatewayRoutes.ticket, { secret: "s3cret-pin", admin: true }) },
    {
      name: "an association with a token another key signed",
      status: 400,
      code: "TokenInvalid",
      async send() {
        const token = await issueToken(privateKeyToAccount(generatePrivateKey()), { gid: harness.gid, oid: devices.fresh.oid, device: devices.fresh.account.address });
        const signed = await signAssociation(devices.fresh.account, { domain: harness.domain, token, deadline: soon() });
        return postSealed(url, clients.fresh, gatewayRoutes.assoc, { association: { request: { ...signed.request, nonce: "0", deadline: signed.request.deadline.toString() }, signature: signed.signature, token: signed.token } });
      },
    },
    ...(
      [
        ["an association naming another device", 403, "AssociationForAnotherDevice", { device: "other" }],
        ["an association past its deadline", 400, "AssociationExpired", { deadline: 1n }],
        ["an association with a nonce other than 0", 400, "AssociationNonceInvalid", { nonce: 1n }],
        ["an association signed by another key", 401, "SignatureMismatch", { signer: "other" }],
      ] as const
    ).map(([name, status, code, change]) => ({
      name,
      status,
      code,
      async send() {
        const device = "device" in change ? devices.other : devices.fresh;
        const token = await issueToken(harness.master, { gid: harness.gid, oid: devices.fresh.oid, device: device.account.address });
        const signer = "signer" in change ? devices.other.account : device.account;
        const signed = await signAssociation({ address: device.account.address, signTypedData: signer.signTypedData }, { domain: harness.domain, token, deadline: "deadline" in change ? change.deadline : soon(), nonce: "nonce" in change ? change.nonce : 0n });
        const { request } = signed;
        return postSealed(url, clients.fresh, gatewayRoutes.assoc, { association: { request: { ...request, nonce: request.nonce.toString(), deadline: request.deadline.toString() }, signature: signed.signature, token: signed.token } });
      },
    })),
    { name: "an association status before any association", status: 404, code: "AssociationUnknown", send: () => postSealed(url, clients.fresh, gatewayRoutes.assoc, {}) },
    { name: "a proof before the device associated", status: 404, code: "DeviceNotAssociated", send: () => postSealed(url, clients.fresh, gatewayRoutes.proof, {}) },
    // verify, inclusion, nonce
    { name: "a malformed AuthTable path", status: 400, code: "PathMalformed", send: () => postSealed(url, clients.good, gatewayRoutes.verify, { path: "0x0102" }) },
    { name: "a path that is not hex", status: 400, code: "RequestInvalid", sealed: true, send: () => postSealed(url, clients.good, gatewayRoutes.verify, { path: "path" }) },
    { name: "an inclusion request by a digest that is not hex", status: 400, code: "RequestInvalid", sealed: true, send: () => postSealed(url, clients.good, gatewayRoutes.inclusion, { digest: "not-a-digest", nonce: "1" }) },
    { name: "an inclusion request without the message's nonce", status: 400, code: "RequestInvalid", sealed: true, send: () => postSealed(url, clients.good, gatewayRoutes.inclusion, { digest: `0x${"aa".repeat(32)}` }) },
    { name: "an inclusion request by a nonce that is not a decimal", status: 400, code: "RequestInvalid", sealed: true, send: () => postSealed(url, clients.good, gatewayRoutes.inclusion, { digest: `0x${"aa".repeat(32)}`, nonce: "0x01" }) },
    { name: "an inclusion request by an unknown digest", status: 404, code: "MessageUnknown", send: () => postSealed(url, clients.good, gatewayRoutes.inclusion, { digest: `0x${"aa".repeat(32)}`, nonce: "1" }) },
    { name: "a nonce request with a field", status: 400, code: "RequestInvalid", sealed: true, send: () => postSealed(url, clients.good, gatewayRoutes.nonce, { from: 1 }) },
    { name: "a nonce request before the device associated", status: 403, code: "DeviceNotMember", send: () => postSealed(url, clients.fresh, gatewayRoutes.nonce, {}) },
    // routes of protocol v1, and others
    { name: "the public message lookup of protocol v1", status: 404, code: "NotFound", send: () => get(url, `/v1/messages/0x${"aa".repeat(32)}`) },
    { name: "an unknown route", status: 404, code: "NotFound", send: () => post(url, "/v1/admin", {}) },
    {
      name: "more requests per minute from one address than the limit",
      status: 429,
      code: "RateLimited",
      sealed: false,
      target: () => limited,
      async send() {
        let answer = await post(limited.url, gatewayRoutes.hello, hello());
        for (let i = 0; i < 3; i++) answer = await post(limited.url, gatewayRoutes.hello, hello());
        return answer;
      },
    },
  ];

  for (const { name, status, code, sealed: sealedCase, target, send } of cases) {
    const isSealed = sealedCase ?? apiErrors[code].sealed === "yes";
    it(`answers ${name} with ${status} ${code}${isSealed ? " (sealed)" : ""}, stores nothing and keeps serving`, async () => {
      const before = snapshot(target?.());
      const answer = await send();
      expectErrorAnswer(answer, status, code);
      expect(apiErrors[code].status).to.equal(status);
      expect(answer.sealed ?? false, "sealed").to.equal(isSealed);
      expect(snapshot(target?.())).to.deep.equal(before);
      const [receipt] = await clients.good.sendData({ messages: [await devices.good.sign(goodNonce)] });
      expect(receipt.nonce).to.equal(String(goodNonce));
      goodNonce++;
    });
  }
});
