// AuthTable paths built off chain from the registry's events: a group's table from its
// DeviceAssociated logs, and a device's path up through each cluster head to a root group.
// (The SDK's indexer replaces this with paged, resumable log queries.)
import type { ContractReturnType } from "@nomicfoundation/hardhat-viem/types";
import type { Address, Hex } from "viem";
import { authLeaf, treeProof, type AuthEntry } from "./authtable.js";

type Registry = ContractReturnType<"IomtRegistry">;

export interface AuthPathStep {
  gid: Hex;
  entry: AuthEntry;
  proof: Hex[];
}

/** A group's AuthTable rebuilt from DeviceAssociated events alone, in leaf order. */
export async function authTableFromEvents(registry: Registry, gid: Hex): Promise<AuthEntry[]> {
  const logs = await registry.getEvents.DeviceAssociated({ gid }, { fromBlock: 0n });
  return logs.map((log) => ({
    device: log.args.device!,
    master: log.args.master!,
    index: BigInt(log.args.index!),
    blockHash: log.args.blockHash!,
  }));
}

/** The AuthTable path of `device`: its entry in its group, then each Master's entry in the parent group. */
export async function authPath(registry: Registry, device: Address): Promise<AuthPathStep[]> {
  const path: AuthPathStep[] = [];
  for (let account = device; ; ) {
    const member = await registry.read.memberByAddress([account]);
    if (!member.isMember) return path;
    const table = await authTableFromEvents(registry, member.gid);
    path.push({ gid: member.gid, entry: table[member.leafIndex], proof: treeProof(table.map(authLeaf), member.leafIndex) });
    account = (await registry.read.groupInfo([member.gid])).master;
  }
}
