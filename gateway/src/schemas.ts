// JSON schemas of every request, outer (validated by Fastify before a handler runs) and inner
// (the decrypted body of a sealed route, validated by the handler). Strict: no coercion, no
// unknown fields, bounded lengths, so a wrong type is a 400 and never a surprise downstream.
const hex32 = { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } as const;
const address = { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" } as const;
/**
 * A Master's signature (a token's): 65 bytes, or a 64-byte EIP-2098 compact one; up to 1 KiB for a
 * contract Master's approval (a multisig's owners' signatures), which only the wallet judges.
 */
const signature = { type: "string", pattern: "^0x(?:[0-9a-fA-F]{2}){64,1024}$" } as const;
/**
 * A device's signature: a secp256k1 key's (65 bytes, or 64 compact), or a P-256 key's 128 bytes
 * r ‖ s ‖ x ‖ y, the registry's form (docs/protocol.md §1). The length tells the key type apart.
 */
const deviceSignature = { type: "string", pattern: "^0x([0-9a-fA-F]{128}|[0-9a-fA-F]{130}|[0-9a-fA-F]{256})$" } as const;
const decimal = (digits: number) => ({ type: "string", pattern: `^(0|[1-9][0-9]{0,${digits - 1}})$` }) as const;

export const sessionIdSchema = hex32;

/** A cookie: uint64be(expiry) ‖ 32-byte HMAC (docs/protocol.md §3.6). */
const cookie = { type: "string", pattern: "^0x[0-9a-fA-F]{80}$" } as const;

export const helloBodySchema = {
  type: "object",
  required: ["clientHello"],
  additionalProperties: false,
  properties: {
    cookie,
    clientHello: {
      type: "object",
      required: ["version", "device", "ephemeralPublicKey", "nonce", "timestamp", "context"],
      additionalProperties: false,
      properties: {
        version: { type: "integer" },
        device: address,
        ephemeralPublicKey: { type: "string", pattern: "^0x[0-9a-fA-F]{66}$" },
        nonce: hex32,
        timestamp: { type: "integer", minimum: 0 },
        context: {
          type: "object",
          required: ["chainId", "registry", "gid"],
          additionalProperties: false,
          properties: { chainId: { type: "integer", minimum: 1 }, registry: address, gid: hex32 },
        },
      },
    },
  },
} as const;

export const finishBodySchema = {
  type: "object",
  required: ["handshakeId", "clientFinish"],
  additionalProperties: false,
  properties: {
    handshakeId: { type: "string", pattern: "^0x[0-9a-f]{32}$" },
    clientFinish: { type: "object", required: ["signature"], additionalProperties: false, properties: { signature: deviceSignature } },
  },
} as const;

export const sealedBodySchema = {
  type: "object",
  required: ["sessionId", "record"],
  additionalProperties: false,
  properties: {
    sessionId: hex32,
    record: {
      type: "object",
      required: ["seq", "ciphertext"],
      additionalProperties: false,
      properties: {
        seq: { type: "integer", minimum: 0, maximum: 4294967295 },
        ciphertext: { type: "string", pattern: "^0x([0-9a-fA-F]{2}){16,}$" },
      },
    },
  },
} as const;

// ------------------------------------------------------------------------- inner bodies

export const verifyRequestSchema = {
  type: "object",
  required: ["path"],
  additionalProperties: false,
  properties: { path: { type: "string", pattern: "^0x([0-9a-fA-F]{2})+$", maxLength: 200_000 }, trustedRootGid: hex32 },
} as const;

export const inclusionRequestSchema = {
  type: "object",
  required: ["digest"],
  additionalProperties: false,
  properties: { digest: hex32 },
} as const;

export const emptySchema = { type: "object", additionalProperties: false, properties: {} } as const;

export const ticketRequestSchema = {
  type: "object",
  additionalProperties: false,
  properties: { secret: { type: "string", minLength: 1, maxLength: 256 } },
} as const;

export const assocRequestSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    association: {
      type: "object",
      required: ["request", "signature", "token"],
      additionalProperties: false,
      properties: {
        request: {
          type: "object",
          required: ["gid", "oid", "device", "nonce", "deadline"],
          additionalProperties: false,
          properties: { gid: hex32, oid: hex32, device: address, nonce: decimal(78), deadline: decimal(78) },
        },
        signature: deviceSignature,
        token: signature,
      },
    },
  },
} as const;

export function dataRequestSchema(maxMessages: number, maxPayloadBytes: number) {
  return {
    type: "object",
    required: ["messages"],
    additionalProperties: false,
    properties: {
      messages: {
        type: "array",
        minItems: 1,
        maxItems: maxMessages,
        items: {
          type: "object",
          required: ["message", "signature"],
          additionalProperties: false,
          // A reading travels with the salt of its commitment, and a salt only with its reading.
          dependencies: { payload: ["salt"], salt: ["payload"] },
          properties: {
            message: {
              type: "object",
              required: ["gid", "oid", "nonce", "payloadHash", "timestamp", "deadline"],
              additionalProperties: false,
              properties: { gid: hex32, oid: hex32, nonce: decimal(78), payloadHash: hex32, timestamp: decimal(20), deadline: decimal(20) },
            },
            signature: deviceSignature,
            payload: { type: "string", pattern: "^0x([0-9a-fA-F]{2})*$", maxLength: 2 + 2 * maxPayloadBytes },
            salt: hex32,
          },
        },
      },
    },
  } as const;
}
