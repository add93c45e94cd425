// Deploying the registry (subpath `@iomt-auth/sdk/deploy`, so device firmware does not carry the
// bytecode). Two builds: Cancun (default) and london for pre-Shanghai PoA clients.
import { getAddress, type Address, type Hash } from "viem";
import { deployContract, waitForTransactionReceipt } from "viem/actions";
import type { ReadClient, WriteClient } from "./actions/internal.js";
import { IomtError } from "./errors.js";
import { aggregateVerifierAbi, iomtRegistryAbi } from "./generated/abi.js";
import { aggregateVerifierBytecode, aggregateVerifierBytecodeLondon, iomtRegistryBytecode, iomtRegistryBytecodeLondon } from "./generated/bytecode.js";

export { aggregateVerifierBytecode, aggregateVerifierBytecodeLondon, iomtRegistryBytecode, iomtRegistryBytecodeLondon };

export interface DeployRegistryParameters {
  /** `cancun` (default) or `london` (no PUSH0/MCOPY, for older Besu, GoQuorum and geth Clique). */
  evmTarget?: "cancun" | "london";
}

export interface DeployRegistryReturnType {
  address: Address;
  hash: Hash;
  blockNumber: bigint;
}

/** Deploys an `IomtRegistry` (no constructor arguments, no owner) and waits for its receipt. */
export async function deployRegistry(client: WriteClient, { evmTarget = "cancun" }: DeployRegistryParameters = {}): Promise<DeployRegistryReturnType> {
  const hash = await deployContract(client, {
    abi: iomtRegistryAbi,
    bytecode: evmTarget === "london" ? iomtRegistryBytecodeLondon : iomtRegistryBytecode,
    account: client.account,
    chain: client.chain ?? null,
  });
  return deployed(client, hash, "registry");
}

/** Waits for a deployment's receipt: its address and block, or `DeploymentFailed`. */
async function deployed(client: WriteClient, hash: Hash, what: string): Promise<DeployRegistryReturnType> {
  const receipt = await waitForTransactionReceipt(client as ReadClient, { hash });
  if (receipt.status !== "success" || receipt.contractAddress == null) {
    throw new IomtError("DeploymentFailed", `the ${what} deployment ${hash} reverted`);
  }
  return { address: getAddress(receipt.contractAddress), hash, blockNumber: receipt.blockNumber };
}

export interface DeployAggregateVerifierParameters extends DeployRegistryParameters {
  /** The registry whose anchors and hierarchy the verifier reads. */
  registry: Address;
}

/** Deploys the registry's companion `AggregateVerifier` (hierarchical anchoring's on-chain check; no owner) and waits for its receipt. */
export async function deployAggregateVerifier(client: WriteClient, { registry, evmTarget = "cancun" }: DeployAggregateVerifierParameters): Promise<DeployRegistryReturnType> {
  const hash = await deployContract(client, {
    abi: aggregateVerifierAbi,
    bytecode: evmTarget === "london" ? aggregateVerifierBytecodeLondon : aggregateVerifierBytecode,
    args: [getAddress(registry)],
    account: client.account,
    chain: client.chain ?? null,
  });
  return deployed(client, hash, "AggregateVerifier");
}
