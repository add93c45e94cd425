// Association (Elhachmi & Kobbane, Algorithm 1, Slave branch; Al Ahmed et al., AuthReq): the device sends it
// itself, or signs a request that the Master or a gateway relays, one or many per transaction.
import { getAddress, type Hash } from "viem";
import { IomtError } from "../errors.js";
import { normalizeSignature } from "../signature.js";
import type { Token } from "../tokens.js";
import type { SignedAssociation } from "../typed-data.js";
import { writeRegistry, type RegistryParameter, type WriteClient } from "./internal.js";

export interface AssociateParameters extends RegistryParameter {
  /** The token the Master issued to the sending account. */
  token: Token;
}

/** The device associates itself with its token (it pays the gas). */
export async function associate(client: WriteClient, { registry, token }: AssociateParameters): Promise<Hash> {
  if (getAddress(token.device) !== getAddress(client.account.address)) {
    throw new IomtError("RequestTokenForAnotherDevice", `the token is for ${token.device}, but the client's account is ${client.account.address}`);
  }
  return writeRegistry(client, registry, "associate", [token.gid, token.oid, normalizeSignature(token.signature)]);
}

export interface AssociateBySigParameters extends RegistryParameter {
  /** The device's signed request and its token, from `signAssociation`. */
  association: SignedAssociation;
}

/** A relayer (the Master or its gateway) submits a device's signed association and pays the gas. */
export async function associateBySig(client: WriteClient, { registry, association }: AssociateBySigParameters): Promise<Hash> {
  return writeRegistry(client, registry, "associateBySig", [association.request, association.signature, association.token]);
}

export interface AssociateBatchBySigParameters extends RegistryParameter {
  associations: readonly SignedAssociation[];
}

/**
 * Relays many associations in one transaction. Valid items take effect and the others are skipped
 * (nobody can make the batch fail by submitting one of its items first): read each item's outcome
 * from the receipt with `getBatchItemResults`.
 */
export async function associateBatchBySig(client: WriteClient, { registry, associations }: AssociateBatchBySigParameters): Promise<Hash> {
  return writeRegistry(client, registry, "associateBatchBySig", [associations.map(({ request, signature, token }) => ({ request, signature, token }))]);
}
