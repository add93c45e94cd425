// AuthTable paths against the chain: the state an offline verifier needs, read at one block, and
// the registry's own `verifyAuthPath`.
import { getBlockNumber } from "viem/actions";
import { authPathStatuses, type AuthPathStep, type TrustedState, type VerifyAuthPathReturnType } from "../authtable.js";
import { assertId, type Id } from "../ids.js";
import { getGroupState } from "./groups.js";
import { readRegistry, type ReadClient, type RegistryParameter } from "./internal.js";

export interface FetchTrustedStateParameters extends RegistryParameter {
  /** The groups a path may cross (for a path: `path.map(step => step.gid)`). */
  gids: readonly Id[];
  /** The root groups the verifier trusts. */
  trustedRoots: readonly Id[];
}

/**
 * Reads, at one block, the state of each group that `verifyAuthPath` needs offline. Groups that do
 * not exist are left out (a path through them then fails with `UnknownGroup`).
 */
export async function fetchTrustedState(client: ReadClient, { registry, gids, trustedRoots }: FetchTrustedStateParameters): Promise<TrustedState> {
  const blockNumber = await getBlockNumber(client, { cacheTime: 0 });
  const unique = [...new Set(gids.map((gid) => assertId(gid, "gid")))];
  const states = await Promise.all(unique.map((gid) => getGroupState(client, { registry, gid, blockNumber })));
  return { trustedRoots: trustedRoots.map((root) => assertId(root, "trusted root")), groups: states.filter((state) => state.exists) };
}

export interface VerifyAuthPathOnChainParameters extends RegistryParameter {
  path: readonly AuthPathStep[];
  trustedRootGid: Id;
}

/** The registry checks the path against its current state (a view call: no gas, no transaction). */
export async function verifyAuthPathOnChain(client: ReadClient, { registry, path, trustedRootGid }: VerifyAuthPathOnChainParameters): Promise<VerifyAuthPathReturnType> {
  const steps = path.map(({ gid, entry, leafCount, proof, consistency = [] }) => ({
    gid,
    entry: { ...entry, index: BigInt(entry.index) },
    leafCount: BigInt(leafCount),
    proof,
    consistency,
  }));
  const [status, failedStep] = await readRegistry(client, registry, "verifyAuthPath", [steps, assertId(trustedRootGid, "trustedRootGid")]);
  return { status: authPathStatuses[status], failedStep: Number(failedStep) };
}
