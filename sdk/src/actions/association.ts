// Association (paper 000 Algorithm 1, Slave branch; paper 003 AuthReq): the device sends it
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

export interface AssociateForParameters extends RegistryParameter {
  /** The device's signed request and its token, from `signAssociation`. */
  association: SignedAssociation;
}

/** A relayer (the Master or its gateway) submits a device's signed association and pays the gas. */
export async function associateFor(client: WriteClient, { registry, association }: AssociateForParameters): Promise<Hash> {
  return writeRegistry(client, registry, "associateFor", [association.request, association.signature, association.token]);
}

export interface AssociateBatchParameters extends RegistryParameter {
  associations: readonly SignedAssociation[];
}

/**
 * Relays many associations in one transaction. All or nothing: the first invalid item reverts the
 * batch with that item's error (a ContractRuleError naming its oid or device).
 */
export async function associateBatch(client: WriteClient, { registry, associations }: AssociateBatchParameters): Promise<Hash> {
  return writeRegistry(client, registry, "associateBatch", [associations.map(({ request, signature, token }) => ({ request, signature, token }))]);
}
