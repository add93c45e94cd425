/**
 * The gateway protocol's sealed request/answer layer (`docs/protocol.md` §5), shared by the
 * device's client and the gateway: a request is sealed with the route as additional data, its
 * answer with the route, the request's sequence number and a hash of the request's record, so an
 * answer can only be opened as the answer to the request it was made for. Pure functions over a
 * {@link Session}; both sides use exactly this code.
 */
import { sha256 } from "@noble/hashes/sha2";
import { concatBytes, hexToBytes as hexDigitsToBytes, utf8ToBytes } from "@noble/hashes/utils";
import { bytesToHex, hexToBytes, type Hex } from "viem";
import type { ByteHash } from "./hash.js";
import { openParsedRecord, openRecord, parseRecord, sealRecord, sealRecordBytes, SessionError, type RecordCipher, type Session, type SessionRecord } from "./session.js";

/** Label of a request's additional data. */
export const REQUEST_AAD_LABEL = "iomt-auth/gateway/v2 request ";
/** Label of an answer's additional data. */
export const RESPONSE_AAD_LABEL = "iomt-auth/gateway/v2 response ";
/** The request sequence number bound into the finish answer, which answers no record. */
export const FINISH_REQUEST_SEQ = 2n ** 64n - 1n;

/** What an answer is bound to: the request's route, sequence number and record hash. */
export type RequestBinding = {
  route: string;
  /** The request record's sequence number (or {@link FINISH_REQUEST_SEQ}). */
  seq: bigint;
  /** sha256 of the request record's ciphertext bytes (or of the ClientFinish signature). */
  hash: Uint8Array;
};

/** The JSON inside a sealed answer. */
export type SealedAnswerBody<T> = { ok: true; result: T } | { ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

const uint64be = (value: bigint): Uint8Array => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value);
  return bytes;
};

/** `utf8("iomt-auth/gateway/v2 request ") ‖ utf8(route)`. */
export function requestAad(route: string): Uint8Array {
  return concatBytes(utf8ToBytes(REQUEST_AAD_LABEL), utf8ToBytes(route));
}

/** `utf8("iomt-auth/gateway/v2 response ") ‖ utf8(route) ‖ uint64be(requestSeq) ‖ requestHash`. */
export function responseAad({ route, seq, hash }: RequestBinding): Uint8Array {
  if (hash.length !== 32) throw new SessionError("SessionMalformed", "a request hash is 32 bytes");
  return concatBytes(utf8ToBytes(RESPONSE_AAD_LABEL), utf8ToBytes(route), uint64be(seq), hash);
}

/**
 * The binding of a request record: its route, sequence number and the sha256 of its ciphertext.
 * `hash` is that SHA-256: noble's by default; a gateway may give Node's (the same bytes, several
 * times faster on a record).
 */
export function bindingOf(route: string, record: SessionRecord, hash: ByteHash = sha256): RequestBinding {
  return { route, seq: BigInt(record.seq), hash: hash(hexDigitsToBytes(record.ciphertext.slice(2))) };
}

/** The binding of the finish answer: the finish route, {@link FINISH_REQUEST_SEQ}, sha256 of the ClientFinish signature. */
export function finishBinding(route: string, clientFinishSignature: Hex): RequestBinding {
  return { route, seq: FINISH_REQUEST_SEQ, hash: sha256(hexToBytes(clientFinishSignature)) };
}

const encodeJson = (value: unknown): Uint8Array => utf8ToBytes(JSON.stringify(value));

function decodeJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new SessionError("SessionMalformed", `the decrypted ${what} is not UTF-8 JSON`, { cause });
  }
}

/**
 * Device: seals a request for `route`; keep the binding to open its answer. `cipher`: see
 * {@link RecordCipher}; `hash`: the binding's SHA-256, as for {@link bindingOf}. The binding is
 * {@link bindingOf}'s, hashed from the ciphertext's bytes as sealed rather than decoded again from
 * the record's hex.
 */
export function sealRequest(session: Session, route: string, request: unknown, cipher?: RecordCipher, hash: ByteHash = sha256): { record: SessionRecord; binding: RequestBinding } {
  const { seq, ciphertext } = sealRecordBytes(session, { plaintext: encodeJson(request), aad: requestAad(route), cipher });
  return { record: { seq, ciphertext: bytesToHex(ciphertext) }, binding: { route, seq: BigInt(seq), hash: hash(ciphertext) } };
}

/** Gateway: opens a request sealed for `route`; answer it with the binding. `cipher`: see {@link RecordCipher}. */
export function openRequest(session: Session, route: string, record: SessionRecord, cipher?: RecordCipher): { body: unknown; binding: RequestBinding } {
  const { plaintext, binding } = openRequestRecord(session, route, record, { cipher });
  return { body: decodeJson(plaintext, "request"), binding };
}

/** Options of {@link openRequestRecord}. */
export type OpenRequestRecordOptions = {
  /** The AES-256-GCM implementation: see {@link RecordCipher}. */
  cipher?: RecordCipher | undefined;
  /** SHA-256 for the binding: see {@link bindingOf}. */
  hash?: ByteHash | undefined;
};

/** Return type of {@link openRequestRecord}: the plaintext, whatever it holds, and the binding to answer with. */
export type OpenRequestRecordReturnType = { plaintext: Uint8Array; binding: RequestBinding };

/**
 * Gateway: {@link openRequest} without reading the plaintext as JSON, for a gateway that answers a
 * plaintext that is not JSON itself (sealed, with the binding). The record's hex is decoded once,
 * for the decryption and the binding (what {@link bindingOf} gives). Refuses as {@link openRecord}.
 */
export function openRequestRecord(session: Session, route: string, record: SessionRecord, { cipher, hash = sha256 }: OpenRequestRecordOptions = {}): OpenRequestRecordReturnType {
  const parsed = parseRecord(record);
  // Hashed before the decryption, which is given the ciphertext bytes and need not leave them as they were.
  const binding: RequestBinding = { route, seq: BigInt(parsed.seq), hash: hash(parsed.ciphertext) };
  return { plaintext: openParsedRecord(session, parsed, requestAad(route), cipher), binding };
}

/** Gateway: seals the answer (a result or an error) to the request with `binding`. `cipher`: see {@link RecordCipher}. */
export function sealAnswer<T>(session: Session, binding: RequestBinding, answer: SealedAnswerBody<T>, cipher?: RecordCipher): SessionRecord {
  return sealRecord(session, { plaintext: encodeJson(answer), aad: responseAad(binding), cipher });
}

/**
 * Device: opens the answer to the request with `binding`. An answer made for another request
 * fails with `SessionTampered`; a body that is not an answer with `SessionMalformed`. `cipher`: see
 * {@link RecordCipher}.
 */
export function openAnswer<T>(session: Session, binding: RequestBinding, record: SessionRecord, cipher?: RecordCipher): SealedAnswerBody<T> {
  const body = decodeJson(openRecord(session, { record, aad: responseAad(binding), cipher }), "answer") as Partial<SealedAnswerBody<T>> | null;
  if (body === null || typeof body !== "object" || (body.ok !== true && body.ok !== false)) {
    throw new SessionError("SessionMalformed", "the decrypted answer is not { ok, result } or { ok, error }");
  }
  if (body.ok === false && (typeof body.error !== "object" || body.error === null || typeof body.error.code !== "string")) {
    throw new SessionError("SessionMalformed", "a sealed error answer must carry { code, message }");
  }
  return body as SealedAnswerBody<T>;
}
