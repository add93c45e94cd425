// The EIP-712 requests a device signs and a relayer submits: relayed association, data messages
// and device-to-device exchanges. Types mirror the registry's type strings exactly (a mismatch
// makes the contract revert with a wrong-signer error). Signing with a LocalAccount and every
// hash/verify function here are pure: no RPC.
import { randomBytes } from "@noble/hashes/utils";
import { bytesToHex, concat, domainSeparator, getAddress, hashTypedData, hexToBytes, isAddress, isHex, keccak256, stringToBytes, toHex, type Address, type Hex } from "viem";
import { putHex, toHex as bytesToLowerHex } from "./bytes.js";
import { IomtError } from "./errors.js";
import { assertId, type Id } from "./ids.js";
import { keccak256Bytes, keccak256Into } from "./keccak.js";
import { isDigestSigner, type DigestSigner } from "./secp256k1.js";
import { isSignedBy, normalizeSignature } from "./signature.js";
import { normalizeTokenSignature, type Token } from "./tokens.js";

/** The registry's EIP-712 domain: name "iomt-auth", version "2", the chain and the registry address. */
export interface RegistryDomain {
  name: "iomt-auth";
  version: "2";
  chainId: number;
  verifyingContract: Address;
}

export interface RegistryDomainParameters {
  chainId: number;
  registry: Address;
}

/**
 * Builds the registry's domain without RPC (the device knows its chain id and registry address).
 * @throws {InvalidRequestError} `RequestInvalidField` for a chain id that is not a positive safe integer or a registry that is not an address.
 */
export function registryDomain({ chainId, registry }: RegistryDomainParameters): RegistryDomain {
  if (!Number.isSafeInteger(chainId) || chainId < 1) throw new InvalidRequestError("RequestInvalidField", `chainId must be a positive safe integer, got ${String(chainId)}`);
  if (typeof registry !== "string" || !isAddress(registry, { strict: false })) throw new InvalidRequestError("RequestInvalidField", `registry must be an address, got ${String(registry)}`);
  return { name: "iomt-auth", version: "2", chainId, verifyingContract: getAddress(registry) };
}

/** Anything that signs EIP-712 typed data: a viem LocalAccount, or a WalletClient with an account. */
export interface TypedDataSigner {
  address: Address;
  signTypedData(parameters: {
    domain: RegistryDomain;
    types: Record<string, readonly { name: string; type: string }[]>;
    primaryType: string;
    message: Record<string, unknown>;
  }): Promise<Hex>;
}

export const associationTypes = {
  Association: [
    { name: "gid", type: "bytes32" },
    { name: "oid", type: "bytes32" },
    { name: "device", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export const dataMessageTypes = {
  DataMessage: [
    { name: "gid", type: "bytes32" },
    { name: "oid", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "payloadHash", type: "bytes32" },
    { name: "timestamp", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

export const exchangeTypes = {
  Exchange: [
    { name: "gid", type: "bytes32" },
    { name: "oid", type: "bytes32" },
    { name: "receiverGid", type: "bytes32" },
    { name: "receiverOid", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "payloadHash", type: "bytes32" },
    { name: "timestamp", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

/** `Association(bytes32 gid,bytes32 oid,address device,uint256 nonce,uint256 deadline)` */
export interface AssociationRequest {
  gid: Id;
  oid: Id;
  device: Address;
  nonce: bigint;
  deadline: bigint;
}

/** `DataMessage(bytes32 gid,bytes32 oid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)` */
export interface DataMessage {
  gid: Id;
  oid: Id;
  nonce: bigint;
  payloadHash: Hex;
  timestamp: bigint;
  deadline: bigint;
}

/** `Exchange(bytes32 gid,bytes32 oid,bytes32 receiverGid,bytes32 receiverOid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)` */
export interface Exchange {
  gid: Id;
  oid: Id;
  receiverGid: Id;
  receiverOid: Id;
  nonce: bigint;
  payloadHash: Hex;
  timestamp: bigint;
  deadline: bigint;
}

/** A relayed association as `associateBySig` / `associateBatchBySig` take it. */
export interface SignedAssociation {
  request: AssociationRequest;
  /** The device's EIP-712 signature over `request`. */
  signature: Hex;
  /** The Master's token signature. */
  token: Hex;
}

export interface SignedDataMessage {
  message: DataMessage;
  signature: Hex;
}

export interface SignedExchange {
  exchange: Exchange;
  signature: Hex;
}

/** Thrown when a request is built from inconsistent parts (e.g. a token for another device). */
export class InvalidRequestError extends IomtError {}

const U64_MAX = (1n << 64n) - 1n;

function assertUint64(value: bigint, what: string): bigint {
  if (typeof value !== "bigint" || value < 0n || value > U64_MAX) throw new InvalidRequestError("RequestInvalidField", `${what} must be a uint64 bigint`);
  return value;
}

function assertNonce(value: bigint): bigint {
  if (typeof value !== "bigint" || value < 0n || value >= 1n << 256n) throw new InvalidRequestError("RequestInvalidField", "nonce must be a uint256 bigint");
  return value;
}

function assertHash(value: Hex, what: string): Hex {
  if (typeof value !== "string" || value.length !== 66 || !isHex(value, { strict: true })) {
    throw new InvalidRequestError("RequestInvalidField", `${what} must be 32 bytes of hex`);
  }
  return value.toLowerCase() as Hex;
}

// --------------------------------------------------------------------------- association

export interface SignAssociationParameters {
  domain: RegistryDomain;
  /** The token the Master issued to this device. */
  token: Token;
  deadline: bigint;
  /** Always 0: a key associates once (the registry refuses any other nonce). Kept so a test can sign a wrong one. */
  nonce?: bigint;
}

/** The device signs its relayed association request; the result is what a relayer submits. */
export async function signAssociation(device: TypedDataSigner, parameters: SignAssociationParameters): Promise<SignedAssociation> {
  const { domain, token } = parameters;
  if (getAddress(token.device) !== getAddress(device.address)) {
    throw new InvalidRequestError("RequestTokenForAnotherDevice", `the token is for ${token.device}, not for ${device.address}`);
  }
  const request: AssociationRequest = {
    gid: assertId(token.gid, "gid"),
    oid: assertId(token.oid, "oid"),
    device: getAddress(device.address),
    nonce: assertNonce(parameters.nonce ?? 0n),
    deadline: assertUint64(parameters.deadline, "deadline"),
  };
  const signature = await device.signTypedData({ domain, types: associationTypes, primaryType: "Association", message: { ...request } });
  return { request, signature: normalizeSignature(signature), token: normalizeTokenSignature(token.signature) };
}

/** The EIP-712 digest of an association request (the registry's `associationDigest`). */
export function hashAssociation(domain: RegistryDomain, request: AssociationRequest): Hex {
  return hashTypedData({ domain, types: associationTypes, primaryType: "Association", message: request });
}

// --------------------------------------------------------------------------- data messages

export interface CreateDataMessageParameters {
  gid: Id;
  oid: Id;
  nonce: bigint;
  /**
   * The raw reading, with `salt`: only the salted commitment `commitPayload(payload, salt)` goes
   * into the message. Give this (and `salt`) or `payloadHash`.
   */
  payload?: Uint8Array | string;
  /** 32 fresh random bytes per message (`randomSalt()`), kept with the reading and never put on chain. */
  salt?: Hex;
  payloadHash?: Hex;
  /** Seconds since the epoch; defaults to now. */
  timestamp?: bigint;
  /** Seconds the relayer has to submit it; defaults to 600. Ignored when `deadline` is given. */
  validFor?: bigint;
  deadline?: bigint;
}

/** 32 fresh random bytes: the salt of one payload commitment. */
export function randomSalt(): Hex {
  return bytesToHex(randomBytes(32));
}

/**
 * The hiding commitment to a reading: `keccak256(salt ‖ payload)`, payload bytes as they are,
 * strings as UTF-8 (even when they look like hex). Without the salt, a low-entropy reading ("heart
 * rate 143") cannot be recovered from the commitment by trying candidates (`docs/protocol.md` §6.1).
 */
export function commitPayload(payload: Uint8Array | string, salt: Hex): Hex {
  const saltHex = assertHash(salt, "salt");
  const bytes = typeof payload === "string" ? utf8.encode(payload) : payload instanceof Uint8Array ? payload : undefined;
  if (bytes === undefined) return keccak256(concat([saltHex, toHex(payload)]));
  const preimage = new Uint8Array(32 + bytes.length);
  putHex(saltHex, 32, preimage, 0);
  preimage.set(bytes, 32);
  return bytesToLowerHex(keccak256Bytes(preimage));
}

const utf8 = new TextEncoder();

const nowSeconds = (): bigint => BigInt(Math.floor(Date.now() / 1000));

/** Builds a data message (pure): hashes the payload, fills the timestamp and deadline. */
export function createDataMessage(parameters: CreateDataMessageParameters): DataMessage {
  const timestamp = assertUint64(parameters.timestamp ?? nowSeconds(), "timestamp");
  return {
    gid: assertId(parameters.gid, "gid"),
    oid: assertId(parameters.oid, "oid"),
    nonce: assertNonce(parameters.nonce),
    payloadHash: payloadHashOf(parameters),
    timestamp,
    deadline: assertUint64(parameters.deadline ?? timestamp + (parameters.validFor ?? 600n), "deadline"),
  };
}

function payloadHashOf(parameters: { payload?: Uint8Array | string; salt?: Hex; payloadHash?: Hex }): Hex {
  if (parameters.payload !== undefined && parameters.payloadHash !== undefined) {
    throw new InvalidRequestError("RequestInvalidField", "give either payload or payloadHash, not both");
  }
  if (parameters.payload !== undefined) {
    if (parameters.salt === undefined) throw new InvalidRequestError("RequestInvalidField", "a payload needs its salt (randomSalt()): the commitment must be hiding");
    return commitPayload(parameters.payload, parameters.salt);
  }
  if (parameters.payloadHash === undefined) throw new InvalidRequestError("RequestInvalidField", "payload or payloadHash is required");
  return assertHash(parameters.payloadHash, "payloadHash");
}

/**
 * The device signs a data message. A signer that signs digests itself (`privateKeyToSecp256k1Signer`,
 * `p256Account`) gets the digest from `hashDataMessage`; any other (a viem account, a wallet
 * client) signs the typed data. The signature is the same either way.
 */
export async function signDataMessage(device: TypedDataSigner | (TypedDataSigner & DigestSigner), parameters: { domain: RegistryDomain; message: DataMessage }): Promise<SignedDataMessage> {
  const { domain, message } = parameters;
  const signature = isDigestSigner(device)
    ? await device.signDigest(hashDataMessage(domain, message))
    : await device.signTypedData({ domain, types: dataMessageTypes, primaryType: "DataMessage", message: { ...message } });
  return { message, signature: normalizeSignature(signature) };
}

// The data message's EIP-712 digest on bytes: every field of the type is static, so its encoding
// is the type hash and six 32-byte words, and the digest is keccak256(0x1901 ‖ domain separator ‖
// keccak256(encoding)). The domain separator is viem's, computed once per domain. Used only when
// the domain and message are exactly what viem's hashTypedData takes without a question;
// anything else goes through viem, which then hashes or throws as it always did.
const DATA_MESSAGE_TYPEHASH = keccak256Bytes(stringToBytes(`DataMessage(${dataMessageTypes.DataMessage.map(({ type, name }) => `${type} ${name}`).join(",")})`));
const separators = new Map<string, Uint8Array>();
const structBuffer = new Uint8Array(7 * 32);
const envelopeBuffer = new Uint8Array(66);
const U256_MAX = (1n << 256n) - 1n;

function separatorOf(domain: RegistryDomain): Uint8Array | undefined {
  const { name, version, chainId, verifyingContract } = domain;
  if (name !== "iomt-auth" || version !== "2" || !Number.isSafeInteger(chainId) || chainId < 0 || typeof verifyingContract !== "string") return undefined;
  if ((domain as { salt?: unknown }).salt !== undefined) return undefined;
  const key = `${chainId}/${verifyingContract}`;
  let separator = separators.get(key);
  if (separator === undefined) {
    if (!isAddress(verifyingContract)) return undefined;
    if (separators.size >= 64) separators.clear();
    separators.set(key, (separator = hexToBytes(domainSeparator({ domain: { name, version, chainId, verifyingContract } }))));
  }
  return separator;
}

function putUint256(value: unknown, max: bigint, target: Uint8Array, offset: number): boolean {
  if (typeof value !== "bigint" || value < 0n || value > max) return false;
  let rest = value;
  for (let i = offset + 31; i >= offset; i--) {
    target[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return true;
}

/** Writes the digest into `envelopeBuffer`'s hash (returned as new bytes), or undefined when viem must hash it. */
function dataMessageDigestBytes(domain: RegistryDomain, message: DataMessage): Uint8Array | undefined {
  const separator = separatorOf(domain);
  if (separator === undefined) return undefined;
  structBuffer.set(DATA_MESSAGE_TYPEHASH, 0);
  const encoded =
    putHex(message.gid, 32, structBuffer, 32) &&
    putHex(message.oid, 32, structBuffer, 64) &&
    putUint256(message.nonce, U256_MAX, structBuffer, 96) &&
    putHex(message.payloadHash, 32, structBuffer, 128) &&
    putUint256(message.timestamp, U64_MAX, structBuffer, 160) &&
    putUint256(message.deadline, U64_MAX, structBuffer, 192);
  if (!encoded) return undefined;
  envelopeBuffer[0] = 0x19;
  envelopeBuffer[1] = 0x01;
  envelopeBuffer.set(separator, 2);
  keccak256Into(structBuffer, envelopeBuffer, 34);
  return keccak256Bytes(envelopeBuffer);
}

/** The EIP-712 digest of a data message: the registry's `dataMessageDigest`, and a batch tree's leaf. */
export function hashDataMessage(domain: RegistryDomain, message: DataMessage): Hex {
  const digest = dataMessageDigestBytes(domain, message);
  return digest !== undefined ? bytesToLowerHex(digest) : hashTypedData({ domain, types: dataMessageTypes, primaryType: "DataMessage", message });
}

export interface VerifySignedParameters<T> {
  domain: RegistryDomain;
  signed: T;
  /** The address registered under the message's (gid, oid). */
  device: Address;
}

/** True when `device` signed the data message (strict: a high-s or malformed signature is false). */
export function verifyDataMessage({ domain, signed, device }: VerifySignedParameters<SignedDataMessage>): boolean {
  return isSignedBy(hashDataMessage(domain, signed.message), signed.signature, device);
}

// --------------------------------------------------------------------------- exchanges

export interface CreateExchangeParameters extends Omit<CreateDataMessageParameters, "gid" | "oid"> {
  gid: Id;
  oid: Id;
  receiverGid: Id;
  receiverOid: Id;
}

/** Builds a device-to-device exchange (Elhachmi & Kobbane, Algorithm 3); pure. */
export function createExchange(parameters: CreateExchangeParameters): Exchange {
  const { gid, oid, nonce, payloadHash, timestamp, deadline } = createDataMessage(parameters);
  return { gid, oid, receiverGid: assertId(parameters.receiverGid, "receiverGid"), receiverOid: assertId(parameters.receiverOid, "receiverOid"), nonce, payloadHash, timestamp, deadline };
}

/** The sending device signs an exchange. */
export async function signExchange(sender: TypedDataSigner, parameters: { domain: RegistryDomain; exchange: Exchange }): Promise<SignedExchange> {
  const { domain, exchange } = parameters;
  const signature = await sender.signTypedData({ domain, types: exchangeTypes, primaryType: "Exchange", message: { ...exchange } });
  return { exchange, signature: normalizeSignature(signature) };
}

/** The EIP-712 digest of an exchange (the registry's `exchangeDigest`). */
export function hashExchange(domain: RegistryDomain, exchange: Exchange): Hex {
  return hashTypedData({ domain, types: exchangeTypes, primaryType: "Exchange", message: exchange });
}

/** True when `device` signed the exchange. */
export function verifyExchange({ domain, signed, device }: VerifySignedParameters<SignedExchange>): boolean {
  return isSignedBy(hashExchange(domain, signed.exchange), signed.signature, device);
}

// --------------------------------------------------------------------------- nonces

/** A local nonce sequence for a device that signs offline; the caller persists `next` after each use. */
export interface NonceCounter {
  /** The nonce the next message will use. */
  readonly next: bigint;
  /** Returns the next nonce and advances; calls `persist` with the new value first, so a crash never reuses one. */
  take(): bigint;
}

export interface CreateNonceCounterParameters {
  /** The first unused nonce: from `getNonce` once, or from the caller's storage. */
  next: bigint;
  /** Stores the advanced value (synchronously: a nonce must be durable before it is used). */
  persist?: (next: bigint) => void;
}

export function createNonceCounter({ next, persist }: CreateNonceCounterParameters): NonceCounter {
  let current = assertNonce(next);
  return {
    get next() {
      return current;
    },
    take() {
      const taken = current;
      persist?.(taken + 1n);
      current = taken + 1n;
      return taken;
    },
  };
}
