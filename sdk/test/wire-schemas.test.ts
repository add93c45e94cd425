// The wire schemas (wire-schemas.ts), the one source of the gateway protocol's JSON: the SDK's
// wire types are their static types, and the types the SDK keeps elsewhere (the handshake's and
// records' in session.ts, the sealed answer in gateway-protocol.ts, AuthPathStatus) must equal
// theirs — checked at compile time below (`./iomt typecheck` fails on a divergence) — and what the
// SDK builds must validate against them at run time.
import { expect } from "chai";
import { Value } from "typebox/value";
import type { Static, TSchema } from "typebox";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  acceptClientHello,
  authPathStatuses,
  completeHandshake,
  createClientHello,
  sealRecord,
  toWireAssociation,
  toWireDataMessage,
  type AuthPathStatus,
  type ClientFinish,
  type ClientHello,
  type SealedAnswerBody,
  type ServerHello,
  type SessionContext,
  type SessionRecord,
} from "../src/index.js";
import * as schemas from "../src/wire-schemas.js";

/** True when A and B are the same type (not merely assignable one way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only for `true`: a divergence between a schema and a type is a type error here. */
const same = <T extends true>(): T => true as T;

describe("wire schemas: the SDK's own types equal the schemas' static types", () => {
  it("agrees on the handshake, records, sealed answers and path statuses (a compile-time check)", () => {
    const checks = [
      same<Equal<Static<typeof schemas.ClientHelloSchema>, ClientHello>>(),
      same<Equal<Static<typeof schemas.ServerHelloSchema>, ServerHello>>(),
      same<Equal<Static<typeof schemas.ClientFinishSchema>, ClientFinish>>(),
      same<Equal<Static<typeof schemas.SessionContextSchema>, SessionContext>>(),
      same<Equal<Static<typeof schemas.SessionRecordSchema>, SessionRecord>>(),
      same<Equal<Static<typeof schemas.AuthPathStatusSchema>, AuthPathStatus>>(),
      same<Equal<Static<ReturnType<typeof schemas.sealedAnswerBodySchema<typeof schemas.NonceResponseSchema>>>, SealedAnswerBody<Static<typeof schemas.NonceResponseSchema>>>>(),
    ];
    expect(checks.every(Boolean)).to.equal(true);
  });

  it("lists the registry's path statuses in its enum order", () => {
    expect(schemas.AuthPathStatusSchema.anyOf.map((literal) => literal.const)).to.deep.equal([...authPathStatuses]);
  });
});

describe("wire schemas: what the SDK builds validates", () => {
  const account = privateKeyToAccount(generatePrivateKey());
  const id = (byte: string) => `0x${byte.repeat(32)}` as const;
  const check = (schema: TSchema, value: unknown) => expect(Value.Check(schema, value), JSON.stringify([...Value.Errors(schema, value)].slice(0, 2))).to.equal(true);

  it("accepts a ClientHello as createClientHello makes it, and refuses an unknown field", () => {
    const { clientHello } = createClientHello({ account, master: account.address, context: { chainId: 31337, registry: account.address, gid: id("11") } });
    check(schemas.HelloRequestSchema, { clientHello });
    expect(Value.Check(schemas.HelloRequestSchema, { clientHello: { ...clientHello, extra: 1 } })).to.equal(false);
  });

  it("accepts a data message and an association in their wire form, and refuses a number where a decimal string goes", () => {
    const message = toWireDataMessage({ gid: id("11"), oid: id("22"), nonce: 7n, payloadHash: id("33"), timestamp: 1_700_000_000n, deadline: 1_700_000_600n });
    check(schemas.dataRequestSchema(4, 16), { messages: [{ message, signature: `0x${"ab".repeat(65)}` }] });
    expect(Value.Check(schemas.dataRequestSchema(4, 16), { messages: [{ message: { ...message, nonce: 7 }, signature: `0x${"ab".repeat(65)}` }] })).to.equal(false);
    const association = toWireAssociation({ request: { gid: id("11"), oid: id("22"), device: account.address, nonce: 0n, deadline: 9n }, signature: `0x${"cd".repeat(65)}`, token: `0x${"ef".repeat(65)}` });
    check(schemas.AssocRequestSchema, { association });
  });

  it("bounds a data request by the configured message count and payload size", () => {
    const message = toWireDataMessage({ gid: id("11"), oid: id("22"), nonce: 7n, payloadHash: id("33"), timestamp: 1n, deadline: 2n });
    const signed = { message, signature: `0x${"ab".repeat(65)}`, payload: `0x${"00".repeat(17)}`, salt: id("44") };
    expect(Value.Check(schemas.dataRequestSchema(4, 16), { messages: [signed] })).to.equal(false);
    expect(Value.Check(schemas.dataRequestSchema(4, 17), { messages: [signed] })).to.equal(true);
    expect(Value.Check(schemas.dataRequestSchema(1, 17), { messages: [signed, signed] })).to.equal(false);
  });

  it("accepts a real handshake's ServerHello, ClientFinish and sealed record; a record is seq then ciphertext, nothing else (the envelope's serializer writes just these)", async () => {
    const master = privateKeyToAccount(generatePrivateKey());
    const context = { chainId: 31337, registry: master.address, gid: id("11") };
    const { clientHello, state } = createClientHello({ account, master: master.address, context });
    const accepted = await acceptClientHello({ account: master, clientHello, context });
    check(schemas.HelloResponseSchema, { handshakeId: `0x${"0a".repeat(16)}`, serverHello: accepted.serverHello });
    const { clientFinish, session } = await completeHandshake({ account, state, serverHello: accepted.serverHello });
    check(schemas.FinishRequestSchema, { handshakeId: `0x${"0a".repeat(16)}`, clientFinish });
    const record = sealRecord(session, { plaintext: new TextEncoder().encode("{}"), aad: new Uint8Array() });
    check(schemas.SealedEnvelopeSchema, { sessionId: session.id, record });
    expect(Object.keys(record)).to.deep.equal(Object.keys(schemas.SessionRecordSchema.properties));
  });
});
