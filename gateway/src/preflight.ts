// What `start` checks on chain before it listens: that the node is the configured chain, that the
// registry address holds a contract, and that the key masters (or may anchor for) each served
// group. A misconfiguration is fatal, with its own code; a chain unreachable at start only skips
// the checks (with a warning), so that a gateway restarted during an outage still takes data.
import type { Address, Hex } from "viem";
import { getChainId, getCode } from "viem/actions";
import { ContractRuleError, getGroup, isAnchorer, type ReadClient } from "@iomt-auth/sdk";
import { GatewayConfigError, StartupError } from "./errors.js";

type Log = { warn(object: object, message: string): void };

export type PreflightParameters = { chainId: number; registry: Address; groups: readonly Hex[]; key: Address; log: Log };

/**
 * Refuses to start (`StartupError`) on a node of another chain (`ChainIdMismatch`), a registry
 * address without code (`RegistryNotDeployed`), or a key that neither masters nor may anchor for a
 * served group (`KeyNotAuthorized`); a group the registry refuses to read is `GatewayConfigInvalid`.
 * A key that is the group's Master but has lost its powers (revoked in the parent group, group or
 * parent deactivated) starts anyway: its acknowledged messages stay served and /health reports why
 * nothing is anchored.
 */
export async function checkChain(client: ReadClient, { chainId, registry, groups, key, log }: PreflightParameters): Promise<void> {
  let chain: number;
  let code: Hex | undefined;
  try {
    chain = await getChainId(client);
    code = await getCode(client, { address: registry });
  } catch (error) {
    log.warn({ error: (error as Error).message.split("\n")[0] }, "cannot check the chain at start (unreachable?); continuing");
    return;
  }
  if (chain !== chainId) {
    throw new StartupError("ChainIdMismatch", `the node at rpcUrl is chain ${chain}, but chainId is ${chainId}: sessions and signatures are bound to the chain id, so point rpcUrl at the right node or correct chainId`);
  }
  if (code === undefined || code === "0x") {
    throw new StartupError("RegistryNotDeployed", `there is no contract at registry ${registry} on chain ${chainId}: check the address (and fromBlock) against the deployment`);
  }
  for (const gid of groups) {
    try {
      if (await isAnchorer(client, { registry, gid, anchorer: key })) continue;
      const group = await getGroup(client, { registry, gid });
      if (group.exists && group.master === key) {
        const why = !group.active ? "the group was deactivated" : group.masterRevoked ? "the Master was revoked in the parent group" : "the parent group was deactivated";
        log.warn({ gid, why }, "the key masters this group but has lost its powers: starting without anchoring for it");
        continue;
      }
    } catch (error) {
      if (error instanceof ContractRuleError) throw new GatewayConfigError(`group ${gid}: ${error.message.split("\n")[0]}`);
      log.warn({ gid, error: (error as Error).message.split("\n")[0] }, "cannot check the key's role at start (chain unreachable?); continuing");
      return;
    }
    throw new StartupError("KeyNotAuthorized", `the key ${key} neither masters group ${gid} nor may anchor for it (is the group created, and is the label or gid right?)`);
  }
}
