import { getChainId } from "viem/actions";
import { registryDomain, type RegistryDomain } from "../typed-data.js";
import type { ReadClient, RegistryParameter } from "./internal.js";

/** The registry's EIP-712 domain, with the chain id asked of the node (`registryDomain` builds it without RPC). */
export async function getRegistryDomain(client: ReadClient, { registry }: RegistryParameter): Promise<RegistryDomain> {
  return registryDomain({ chainId: await getChainId(client), registry });
}
