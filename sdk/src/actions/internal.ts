// Shared plumbing of the actions: every registry read and write goes through here, so every
// revert surfaces as a ContractRuleError and every write uses the client's own account and chain.
import type { Account, Address, Chain, Client, ContractFunctionArgs, ContractFunctionName, ContractFunctionReturnType, Hash, Transport } from "viem";
import { readContract, writeContract } from "viem/actions";
import { toRegistryError } from "../contract-errors.js";
import { iomtRegistryAbi } from "../generated/abi.js";

type Abi = typeof iomtRegistryAbi;
export type ReadName = ContractFunctionName<Abi, "pure" | "view">;
export type WriteName = ContractFunctionName<Abi, "nonpayable">;

/** A client that can read the registry (a PublicClient, or any client with a transport). */
export type ReadClient = Client<Transport, Chain | undefined>;
/** A client that signs and sends transactions: a WalletClient with an account. */
export type WriteClient = Client<Transport, Chain | undefined, Account>;

/** Every action names the registry it talks to; the decorators fill it in. */
export interface RegistryParameter {
  registry: Address;
}

export async function readRegistry<name extends ReadName>(
  client: ReadClient,
  registry: Address,
  functionName: name,
  args: ContractFunctionArgs<Abi, "pure" | "view", name>,
  blockNumber?: bigint,
): Promise<ContractFunctionReturnType<Abi, "pure" | "view", name>> {
  try {
    // viem's generic inference cannot follow a name that is itself generic; the call is checked at our signature.
    const result = await readContract(client, { address: registry, abi: iomtRegistryAbi, functionName, args, blockNumber } as never);
    return result as ContractFunctionReturnType<Abi, "pure" | "view", name>;
  } catch (error) {
    throw toRegistryError(error);
  }
}

export async function writeRegistry<name extends WriteName>(
  client: WriteClient,
  registry: Address,
  functionName: name,
  args: ContractFunctionArgs<Abi, "nonpayable", name>,
): Promise<Hash> {
  try {
    return await writeContract(client, {
      address: registry,
      abi: iomtRegistryAbi,
      functionName,
      args,
      account: client.account,
      chain: client.chain ?? null,
    } as never);
  } catch (error) {
    throw toRegistryError(error);
  }
}
