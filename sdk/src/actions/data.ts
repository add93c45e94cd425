// The data plane (Elhachmi & Kobbane, steps iv–vii and Algorithm 3): signed data messages relayed one by
// one or in batches, sent by the device itself, device-to-device exchanges, and batch anchoring.
import { getAddress, type Address, type Hash, type Hex } from "viem";
import { assertId, type Id } from "../ids.js";
import type { DataMessage, SignedDataMessage, SignedExchange } from "../typed-data.js";
import { readRegistry, writeRegistry, type ReadClient, type RegistryParameter, type WriteClient } from "./internal.js";

export interface RecordDataBySigParameters extends RegistryParameter {
  signed: SignedDataMessage;
}

/** Relays one device-signed data message (anyone may relay; the device's nonce is consumed). */
export async function recordDataBySig(client: WriteClient, { registry, signed }: RecordDataBySigParameters): Promise<Hash> {
  return writeRegistry(client, registry, "recordDataBySig", [signed.message, signed.signature]);
}

export interface RecordDataBatchBySigParameters extends RegistryParameter {
  messages: readonly SignedDataMessage[];
}

/**
 * Relays many data messages in one transaction. Valid messages are recorded and the others skipped
 * (nobody can make the batch fail by submitting one of its messages first): read each message's
 * outcome from the receipt with `getBatchItemResults`.
 */
export async function recordDataBatchBySig(client: WriteClient, { registry, messages }: RecordDataBatchBySigParameters): Promise<Hash> {
  return writeRegistry(client, registry, "recordDataBatchBySig", [messages.map(({ message, signature }) => ({ message, signature }))]);
}

export interface RecordDataParameters extends RegistryParameter {
  gid: Id;
  oid: Id;
  payloadHash: Hex;
  /** Seconds since the epoch; defaults to now. */
  timestamp?: bigint;
}

/** The device records a data message itself: its transaction authenticates it, no nonce is used. */
export async function recordData(client: WriteClient, { registry, gid, oid, payloadHash, timestamp }: RecordDataParameters): Promise<Hash> {
  const at = timestamp ?? BigInt(Math.floor(Date.now() / 1000));
  return writeRegistry(client, registry, "recordData", [assertId(gid, "gid"), assertId(oid, "oid"), payloadHash, at]);
}

export interface RecordExchangeBySigParameters extends RegistryParameter {
  signed: SignedExchange;
}

/** Relays a device-to-device exchange (both devices registered, the sender's signature valid). */
export async function recordExchangeBySig(client: WriteClient, { registry, signed }: RecordExchangeBySigParameters): Promise<Hash> {
  return writeRegistry(client, registry, "recordExchangeBySig", [signed.exchange, signed.signature]);
}

export interface SetAnchorerParameters extends RegistryParameter {
  gid: Id;
  anchorer: Address;
  allowed: boolean;
}

/** The Master authorises (or withdraws) a gateway key to anchor batches; authorisations lapse on hand-over. */
export async function setAnchorer(client: WriteClient, { registry, gid, anchorer, allowed }: SetAnchorerParameters): Promise<Hash> {
  return writeRegistry(client, registry, "setAnchorer", [assertId(gid, "gid"), getAddress(anchorer), allowed]);
}

export interface AnchorBatchParameters extends RegistryParameter {
  gid: Id;
  /** The root of `buildBatchTree` over the messages' digests. */
  root: Hex;
  messageCount: number;
}

/** The Master or an authorised gateway key anchors the root of a batch it verified off chain. */
export async function anchorBatch(client: WriteClient, { registry, gid, root, messageCount }: AnchorBatchParameters): Promise<Hash> {
  return writeRegistry(client, registry, "anchorBatch", [assertId(gid, "gid"), root, messageCount]);
}

export interface GetAnchorReturnType {
  /** False when the root was never anchored for the group. */
  anchored: boolean;
  anchorer: Address;
  anchoredAt: bigint;
  messageCount: number;
}

/** Who anchored a batch root for a group, when, and how many messages it holds. */
export async function getAnchor(client: ReadClient, { registry, gid, root }: RegistryParameter & { gid: Id; root: Hex }): Promise<GetAnchorReturnType> {
  const anchor = await readRegistry(client, registry, "anchorOf", [assertId(gid, "gid"), root]);
  return { anchored: anchor.anchoredAt !== 0n, ...anchor };
}

/** True when `anchorer` may anchor batches for the group (its Master, or a key the current Master authorised). */
export async function isAnchorer(client: ReadClient, { registry, gid, anchorer }: RegistryParameter & { gid: Id; anchorer: Address }): Promise<boolean> {
  return readRegistry(client, registry, "isAnchorer", [assertId(gid, "gid"), getAddress(anchorer)]);
}

export interface VerifyAnchoredMessageOnChainParameters extends RegistryParameter {
  message: DataMessage;
  root: Hex;
  proof: readonly Hex[];
}

/**
 * The registry checks that the message's digest is in an anchored batch of its group: proof that an
 * authorised key anchored it, not that the device signed it (see `verifyAnchoredSignedMessageOnChain`).
 */
export async function verifyAnchoredMessageOnChain(client: ReadClient, { registry, message, root, proof }: VerifyAnchoredMessageOnChainParameters): Promise<boolean> {
  return readRegistry(client, registry, "verifyAnchoredMessage", [message, root, proof]);
}

export interface VerifyAnchoredSignedMessageOnChainParameters extends VerifyAnchoredMessageOnChainParameters {
  /** The device's signature over the message. */
  signature: Hex;
}

/** The registry checks the anchored batch and that the member registered under (gid, oid) signed the message. */
export async function verifyAnchoredSignedMessageOnChain(
  client: ReadClient,
  { registry, message, signature, root, proof }: VerifyAnchoredSignedMessageOnChainParameters,
): Promise<boolean> {
  return readRegistry(client, registry, "verifyAnchoredSignedMessage", [message, signature, root, proof]);
}
