// The gateway protocol's JSON bodies (docs/protocol.md §6) as TypeBox schemas: the one source of
// the wire. The SDK's wire types (gateway-wire.ts) are `Static<…>` of these, imported as types
// only, so a device's bundle carries none of this module; the gateway validates requests with
// these schemas (Fastify for the outer bodies, ajv for the opened bodies of sealed routes) and
// declares its answers with them, and its OpenAPI document is generated from them. Strict: no
// coercion, no unknown fields, bounded lengths, so a wrong type is a 400 and never a surprise
// downstream. Published as `@iomt-auth/sdk/wire-schemas`.
import { Type, type Static, type TSchema } from "typebox";
import type { Address, Hex } from "viem";

// ------------------------------------------------------------------------------ primitives

const hexString = (pattern: string, description?: string, bounds: { maxLength?: number } = {}) =>
  Type.Unsafe<Hex>({ type: "string", pattern, ...bounds, ...(description === undefined ? {} : { description }) });
const Hex32 = hexString("^0x[0-9a-fA-F]{64}$", "32 bytes, hex");
const AddressString = Type.Unsafe<Address>({ type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "a 20-byte address, hex" });
/**
 * A Master's signature (a token's): 65 bytes, or a 64-byte EIP-2098 compact one; up to 1 KiB for a
 * contract Master's approval (a multisig's owners' signatures), which only the wallet judges.
 */
const MasterSignature = hexString("^0x(?:[0-9a-fA-F]{2}){64,1024}$", "a Master's signature: 64 or 65 bytes, up to 1 KiB for a contract Master");
/**
 * A device's signature: a secp256k1 key's (65 bytes, or 64 compact), or a P-256 key's 128 bytes
 * r ‖ s ‖ x ‖ y, the registry's form (docs/protocol.md §1). The length tells the key type apart.
 */
const DeviceSignature = hexString("^0x(?:[0-9a-fA-F]{128}|[0-9a-fA-F]{130}|[0-9a-fA-F]{256})$", "a device's signature: secp256k1 (64 or 65 bytes) or P-256 r‖s‖x‖y (128 bytes)");
/** A non-negative integer of at most `digits` digits as a decimal string (a bigint on the wire). */
const decimal = (digits: number) => Type.String({ pattern: `^(0|[1-9][0-9]{0,${digits - 1}})$`, description: `a decimal integer, at most ${digits} digits` });
/** A cookie: uint64be(expiry) ‖ 32-byte HMAC (docs/protocol.md §3.6). */
const Cookie = hexString("^0x[0-9a-fA-F]{80}$", "uint64be(expiry) ‖ 32-byte HMAC");
const CompressedPoint = hexString("^0x[0-9a-fA-F]{66}$", "a 33-byte compressed secp256k1 point");
const BlockNumber = decimal(20);
const strict = { additionalProperties: false } as const;

export const SessionIdSchema = Hex32;
export const HandshakeIdSchema = Type.String({ pattern: "^0x[0-9a-f]{32}$" });

// ----------------------------------------------------------------------------- handshake

export const SessionContextSchema = Type.Object({ chainId: Type.Integer({ minimum: 1 }), registry: AddressString, gid: Hex32 }, strict);
export const ClientHelloSchema = Type.Object(
  {
    version: Type.Integer(),
    device: AddressString,
    ephemeralPublicKey: CompressedPoint,
    nonce: Hex32,
    timestamp: Type.Integer({ minimum: 0, description: "Unix seconds" }),
    context: SessionContextSchema,
  },
  strict,
);
export const ServerHelloSchema = Type.Object(
  {
    version: Type.Integer(),
    master: AddressString,
    ephemeralPublicKey: CompressedPoint,
    nonce: Hex32,
    timestamp: Type.Integer({ minimum: 0, description: "Unix seconds" }),
    signature: hexString("^0x[0-9a-fA-F]{130}$", "the Master's 65-byte signature over the transcript"),
  },
  strict,
);
export const ClientFinishSchema = Type.Object({ signature: DeviceSignature }, strict);
export const SessionRecordSchema = Type.Object(
  {
    seq: Type.Integer({ minimum: 0, maximum: 4294967295 }),
    ciphertext: hexString("^0x(?:[0-9a-fA-F]{2}){16,}$", "AES-256-GCM ciphertext followed by its 16-byte tag"),
  },
  strict,
);

export const HelloRequestSchema = Type.Object({ cookie: Type.Optional(Cookie), clientHello: ClientHelloSchema }, strict);
export const HelloResponseSchema = Type.Union([
  Type.Object({ cookie: Cookie }, { ...strict, description: "send the same ClientHello again with this cookie" }),
  Type.Object({ handshakeId: HandshakeIdSchema, serverHello: ServerHelloSchema }, strict),
]);
export const FinishRequestSchema = Type.Object({ handshakeId: HandshakeIdSchema, clientFinish: ClientFinishSchema }, strict);
export const FinishResponseSchema = Type.Object(
  { sessionId: Hex32, record: SessionRecordSchema },
  { ...strict, description: "`record`: sealed by the Master (sequence 0) over FinishAnswer, bound to the ClientFinish" },
);
export const FinishAnswerSchema = Type.Object({ expiresAt: Type.Integer({ description: "Unix seconds" }) }, strict);

// ------------------------------------------------------------------------- sealed envelope

export const SealedEnvelopeSchema = Type.Object({ sessionId: Hex32, record: SessionRecordSchema }, strict);
export const SealedAnswerSchema = Type.Object({ record: SessionRecordSchema }, strict);
export const ErrorSchema = Type.Object(
  { code: Type.String(), message: Type.String(), details: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
  strict,
);
export const GatewayErrorBodySchema = Type.Object({ error: ErrorSchema }, strict);
/** The JSON inside a sealed answer: `{ ok: true, result }` or `{ ok: false, error }`. */
export const sealedAnswerBodySchema = <T extends TSchema>(result: T) =>
  Type.Union([Type.Object({ ok: Type.Literal(true), result }, strict), Type.Object({ ok: Type.Literal(false), error: ErrorSchema }, strict)]);

// ------------------------------------------------------------------- sealed routes' bodies

export const EmptyRequestSchema = Type.Object({}, strict);

export const TicketRequestSchema = Type.Object({ secret: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) }, strict);
export const TicketResponseSchema = Type.Object({ token: hexString("^0x(?:[0-9a-fA-F]{2})+$", "the serialized token") }, strict);

export const WireDataMessageSchema = Type.Object(
  { gid: Hex32, oid: Hex32, nonce: decimal(78), payloadHash: Hex32, timestamp: decimal(20), deadline: decimal(20) },
  strict,
);
/** The data request, with the configured bounds: messages per request and bytes per payload. */
export const dataRequestSchema = (maxMessages: number, maxPayloadBytes: number) =>
  Type.Object(
    {
      messages: Type.Array(
        Type.Object(
          {
            message: WireDataMessageSchema,
            signature: DeviceSignature,
            payload: Type.Optional(hexString("^0x(?:[0-9a-fA-F]{2})*$", "the raw reading; keccak256(salt ‖ payload) must be payloadHash", { maxLength: 2 + 2 * maxPayloadBytes })),
            salt: Type.Optional(Hex32),
          },
          // A reading travels with the salt of its commitment, and a salt only with its reading.
          { ...strict, dependencies: { payload: ["salt"], salt: ["payload"] } },
        ),
        { minItems: 1, maxItems: maxMessages },
      ),
    },
    strict,
  );
export type DataRequestSchema = ReturnType<typeof dataRequestSchema>;
export const MessageStatusSchema = Type.Union([Type.Literal("pending"), Type.Literal("anchored"), Type.Literal("relayed")]);
export const ReceiptSchema = Type.Object(
  { digest: Hex32, device: AddressString, nonce: decimal(78), acceptedAt: Type.Integer({ description: "Unix milliseconds when the gateway stored the message" }) },
  strict,
);
export const DataResponseSchema = Type.Object({ receipts: Type.Array(ReceiptSchema) }, strict);

export const NonceResponseSchema = Type.Object({ next: decimal(78) }, strict);

export const WireAssociationSchema = Type.Object(
  {
    request: Type.Object({ gid: Hex32, oid: Hex32, device: AddressString, nonce: decimal(78), deadline: decimal(78) }, strict),
    signature: DeviceSignature,
    token: MasterSignature,
  },
  strict,
);
export const AssocRequestSchema = Type.Object({ association: Type.Optional(WireAssociationSchema) }, { ...strict, description: "an empty body asks for the status of the association already sent" });
export const AssociationStatusSchema = Type.Union([Type.Literal("queued"), Type.Literal("submitted"), Type.Literal("associated"), Type.Literal("rejected")]);
export const AssocResponseSchema = Type.Object(
  {
    status: AssociationStatusSchema,
    txHash: Type.Optional(Hex32),
    entry: Type.Optional(
      Type.Object({ gid: Hex32, oid: Hex32, device: AddressString, master: AddressString, index: Type.Integer({ minimum: 0 }), entryHash: Hex32 }, strict),
    ),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, strict)),
  },
  strict,
);

export const ProofResponseSchema = Type.Object({ path: hexString("^0x(?:[0-9a-fA-F]{2})+$", "encodeAuthPath's form, version 2"), size: Type.Integer({ minimum: 0 }) }, strict);

/** The registry's `AuthPathStatus`, in its enum order (authtable.ts `authPathStatuses`). */
export const AuthPathStatusSchema = Type.Union([
  Type.Literal("Valid"),
  Type.Literal("EmptyPath"),
  Type.Literal("UnknownGroup"),
  Type.Literal("InactiveGroup"),
  Type.Literal("IndexOutOfRange"),
  Type.Literal("InvalidProof"),
  Type.Literal("Revoked"),
  Type.Literal("NotParentGroup"),
  Type.Literal("NotGroupMaster"),
  Type.Literal("UntrustedRoot"),
  Type.Literal("Stale"),
]);
export const VerifyRequestSchema = Type.Object({ path: hexString("^0x(?:[0-9a-fA-F]{2})+$", "encodeAuthPath's form", { maxLength: 200_000 }), trustedRootGid: Type.Optional(Hex32) }, strict);
export const VerifyResponseSchema = Type.Object({ valid: Type.Boolean(), status: AuthPathStatusSchema, failedStep: Type.Integer({ minimum: 0 }), device: AddressString }, strict);

/** One of the device's messages, as its receipt names it: the digest and the nonce. */
export const InclusionRequestSchema = Type.Object({ digest: Hex32, nonce: decimal(78) }, strict);
/**
 * With hierarchical anchoring, where a batch root was anchored through an aggregate: the anchoring
 * group (the message's group or an ancestor), the aggregate root, the batch's leaf proof in it, and
 * its transaction. Then the inclusion's `batch.txHash` is absent: the batch root is not on chain.
 */
export const AggregateAnchorSchema = Type.Object(
  { gid: Hex32, root: Hex32, proof: Type.Array(Hex32), txHash: Type.Optional(Hex32), blockNumber: Type.Optional(BlockNumber) },
  strict,
);
export const InclusionResponseSchema = Type.Object(
  {
    digest: Hex32,
    status: MessageStatusSchema,
    gid: Hex32,
    device: AddressString,
    nonce: decimal(78),
    acceptedAt: Type.Integer(),
    batch: Type.Optional(
      Type.Object(
        { root: Hex32, index: Type.Integer({ minimum: 0 }), size: Type.Integer({ minimum: 1 }), proof: Type.Array(Hex32), txHash: Type.Optional(Hex32), blockNumber: Type.Optional(BlockNumber) },
        strict,
      ),
    ),
    aggregate: Type.Optional(AggregateAnchorSchema),
    relay: Type.Optional(Type.Object({ txHash: Hex32, blockNumber: Type.Optional(BlockNumber) }, strict)),
  },
  strict,
);

// ------------------------------------------------------------------ hierarchical anchoring
// Between gateways: a child group's gateway (its Master key, a member of the parent's group) hands
// up batch roots, its own and those its own children handed it (docs/protocol.md, gateway README).

/** A batch's message count: a batch holds at most 65,536 messages. */
const MessageCount = Type.Integer({ minimum: 1, maximum: 65_536 });
export const HandoverRootSchema = Type.Object({ gid: Hex32, batchRoot: Hex32 }, strict);
export const HandoverEntrySchema = Type.Object({ gid: Hex32, batchRoot: Hex32, messageCount: MessageCount }, strict);
/** Up to `maxRoots` roots (the parent's `maxRootsPerHandover`) per request. */
export const handoverRequestSchema = (maxRoots: number) => Type.Object({ entries: Type.Array(HandoverEntrySchema, { minItems: 1, maxItems: maxRoots }) }, strict);
export type HandoverRequestSchema = ReturnType<typeof handoverRequestSchema>;
export const handoverStatusRequestSchema = (maxRoots: number) => Type.Object({ roots: Type.Array(HandoverRootSchema, { minItems: 1, maxItems: maxRoots }) }, strict);
export type HandoverStatusRequestSchema = ReturnType<typeof handoverStatusRequestSchema>;
/** `waiting`: kept, not anchored yet; `anchored`: in an aggregate on chain (`aggregate`); `unknown`: never handed here (or by another child). */
export const HandoverStateSchema = Type.Object(
  {
    gid: Hex32,
    batchRoot: Hex32,
    status: Type.Union([Type.Literal("waiting"), Type.Literal("anchored"), Type.Literal("unknown")]),
    aggregate: Type.Optional(AggregateAnchorSchema),
  },
  strict,
);
export const HandoverResponseSchema = Type.Object({ entries: Type.Array(HandoverStateSchema) }, strict);
export const HandoverStatusResponseSchema = HandoverResponseSchema;

// ------------------------------------------------------------------------------- health

export const LivenessSchema = Type.Object({ status: Type.Literal("live") }, strict);
export const ReadinessStatusSchema = Type.Union([Type.Literal("ok"), Type.Literal("degraded"), Type.Literal("unready"), Type.Literal("failing")]);
/** What the device-facing listener says of readiness: the status alone. */
export const DeviceReadinessSchema = Type.Object({ status: ReadinessStatusSchema }, strict);

export type { Static };
