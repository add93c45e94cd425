// Hierarchical anchoring on chain: the registry's companion `AggregateVerifier` checks a message
// anchored through an aggregate (its batch proof, then its batch's proof in the aggregate, the
// aggregate anchored under the message's group or an ancestor). Offline: `verifyAggregatePath`.
import { readContract } from "viem/actions";
import type { Address } from "viem";
import type { AggregatePath } from "../aggregate-tree.js";
import { toRegistryError } from "../contract-errors.js";
import { aggregateVerifierAbi } from "../generated/abi.js";
import type { DataMessage } from "../typed-data.js";
import type { ReadClient } from "./internal.js";

export type VerifyAggregatedMessageOnChainParameters = {
  /** The `AggregateVerifier` deployed for the registry (see `deployAggregateVerifier`). */
  verifier: Address;
  message: DataMessage;
  /** The message's batch proof and its batch's proof in the aggregate (see `buildAggregateTree`). */
  path: AggregatePath;
};

/**
 * True when the verifier finds the message in its batch, the batch in an aggregate anchored (with
 * `anchorBatch`) under the message's group or an ancestor of it, by the two proofs. As
 * `verifyAnchoredMessageOnChain`, proof that an authorised key anchored it, not that the device signed it.
 *
 * @example
 * const ok = await verifyAggregatedMessageOnChain(publicClient, { verifier, message, path: inclusion.aggregate });
 */
export async function verifyAggregatedMessageOnChain(client: ReadClient, { verifier, message, path }: VerifyAggregatedMessageOnChainParameters): Promise<boolean> {
  try {
    return await readContract(client, {
      address: verifier,
      abi: aggregateVerifierAbi,
      functionName: "verifyAggregatedMessage",
      args: [message, { ...path, batchProof: [...path.batchProof], aggregateProof: [...path.aggregateProof] }],
    });
  } catch (error) {
    throw toRegistryError(error);
  }
}
