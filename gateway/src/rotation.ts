// `rotate-key`: hands the served group the gateway's key masters over to a new key, on chain
// (the registry's proposeMaster with the current key, then acceptMaster with the new one), with
// the gateway stopped. Everything is checked before the first transaction, so a refusal changes
// nothing: the store's lock (a running gateway would go on signing tickets and anchoring with a key
// that lapses), the new key's eligibility (a root group's next Master is a key with no identity on
// chain; a child group's, an active member of the parent group that masters no group), its funds,
// every other served group's anchoring right for the new key, and that no association the gateway
// acknowledged still waits to be mined (its token is the current Master's: the registry would
// refuse it once the Master changed, and an acknowledged association would be lost).
// A rerun after a failure finishes what the first run left: a proposal already made is accepted,
// a group already handed over is skipped. Sessions are in memory and keyed per process, so the
// restart with the new key drops them cleanly (devices run a new handshake); enrolments, their
// secrets (peppered, not keyed by the Master) and the messages not yet anchored stay, and the new
// key anchors the backlog. Tokens the previous Master approved and the store kept (`enrol
// --token-file`) are dropped: the registry checks a token against the current Master.
import type { Address, Hex, PublicClient } from "viem";
import { getBalance, getGasPrice, simulateContract, waitForTransactionReceipt } from "viem/actions";
import { acceptMaster, ContractRuleError, getGroup, type GetGroupReturnType, iomtRegistryAbi, IomtError, isAnchorer, proposeMaster, toRegistryError, type ReadClient } from "@iomt-auth/sdk";
import { chainClients } from "./chain.js";
import type { KeyFile, LoadedConfig } from "./config.js";
import type { GatewayStore } from "./store.js";

/** Gas the new key must be able to pay for its acceptMaster (measured about 60k; with headroom). */
const ACCEPT_GAS_ALLOWANCE = 150_000n;

export type RotatedGroup = {
  gid: Hex;
  previous: Address;
  master: Address;
  /** `handed-over` by this run; `already` when a previous run (or another hand) finished it. */
  state: "handed-over" | "already";
  proposeTx: Hex | null;
  acceptTx: Hex | null;
  block: string | null;
};

export type RotateKeyResult = {
  rotated: RotatedGroup;
  /** Stored tokens the previous Master approved (`enrol --token-file`), dropped: no longer valid. */
  droppedTokens: number;
  /** Devices that got a ticket (the previous Master's token) and are not associated: `renew-secret`, then a new ticket. */
  ticketsToRenew: { gid: Hex; oid: Hex; address: string }[];
};

/**
 * Hands the served group `loaded.account` masters over to `next`. The store must be opened with its
 * lock (no gateway running). Refusals before any transaction: `CliUsage` (the same key),
 * `KeyNotAuthorized` (the key masters no served group, or the new key may not anchor for a served
 * group the current key only anchors for), `MasterIneligible`, `MasterKeyUnfunded`,
 * `RotationBlocked` (associations acknowledged and not mined yet).
 */
export async function rotateMasterKey(loaded: LoadedConfig, store: GatewayStore, next: KeyFile): Promise<RotateKeyResult> {
  const { config, account } = loaded;
  const { registry } = config;
  const newKey = next.account.address;
  if (newKey === account.address) throw new IomtError("CliUsage", `--new-key-file holds the current key ${newKey}: give the new Master's key`);
  const { publicClient, walletClient } = chainClients(loaded);
  const { walletClient: newWallet } = chainClients({ config, account: next.account });

  const group = await masteredGroup(publicClient, loaded, newKey);
  const { gid } = group;
  if (group.master === newKey) return { rotated: { gid, previous: account.address, master: newKey, state: "already", proposeTx: null, acceptTx: null, block: null }, droppedTokens: store.dropApprovedTokens(gid), ticketsToRenew: ticketsToRenew(store, gid) };

  const pending = store.pendingAssociations(gid);
  if (pending > 0) {
    throw new IomtError(
      "RotationBlocked",
      `${pending} association(s) of group ${gid} were acknowledged and are not mined yet; their tokens are the current Master's, which the registry refuses once the Master changed: start the gateway until \`iomt-gateway pending\` shows none, then rotate`,
    );
  }
  // The proposal's rules, the new key's eligibility among them, checked without sending anything.
  if (group.pendingMaster !== newKey) await simulated(publicClient, { registry, master: account.address, gid, candidate: newKey });
  const [balance, gasPrice] = await Promise.all([getBalance(publicClient, { address: newKey }), getGasPrice(publicClient)]);
  if (balance < gasPrice * ACCEPT_GAS_ALLOWANCE) {
    throw new IomtError("MasterKeyUnfunded", `the new key ${newKey} holds ${balance} wei, under the ${gasPrice * ACCEPT_GAS_ALLOWANCE} wei its acceptMaster may cost at the node's gas price: fund it first`);
  }

  let proposeTx: Hex | null = null;
  if (group.pendingMaster !== newKey) {
    proposeTx = await proposeMaster(walletClient, { registry, gid, candidate: newKey });
    await mined(publicClient, proposeTx, "proposal");
  }
  const acceptTx = await acceptMaster(newWallet, { registry, gid });
  const block = await mined(publicClient, acceptTx, "acceptance");
  return {
    rotated: { gid, previous: account.address, master: newKey, state: "handed-over", proposeTx, acceptTx, block: block.toString() },
    droppedTokens: store.dropApprovedTokens(gid),
    ticketsToRenew: ticketsToRenew(store, gid),
  };
}

/**
 * The one served group the current key masters (or the new key already does: a rerun after the
 * acceptance). A key masters one group at most (a root Master's key has one identity; a child
 * Master masters one child group). Every other served group must already let the new key anchor.
 */
async function masteredGroup(client: ReadClient, { config, account }: LoadedConfig, newKey: Address): Promise<GetGroupReturnType> {
  let mastered: GetGroupReturnType | undefined;
  for (const gid of config.groups) {
    const group = await getGroup(client, { registry: config.registry, gid });
    if (group.master === account.address || group.master === newKey) {
      mastered = group;
      continue;
    }
    if (!(await isAnchorer(client, { registry: config.registry, gid, anchorer: newKey }))) {
      throw new IomtError("KeyNotAuthorized", `the new key ${newKey} may not anchor for served group ${gid}, which the current key only anchors for: its Master must allow it (setAnchorer) before the rotation`);
    }
  }
  if (mastered === undefined) throw new IomtError("KeyNotAuthorized", `the key ${account.address} masters none of the served groups: there is nothing to hand over`);
  return mastered;
}

/** Runs the proposal as a call; the registry's refusal comes back decoded, `MasterIneligible` for an ineligible candidate. */
async function simulated(client: ReadClient, { registry, master, gid, candidate }: { registry: Address; master: Address; gid: Hex; candidate: Address }): Promise<void> {
  try {
    await simulateContract(client, { address: registry, abi: iomtRegistryAbi, functionName: "proposeMaster", args: [gid, candidate], account: master });
  } catch (error) {
    const decoded = toRegistryError(error);
    if (decoded instanceof ContractRuleError && decoded.code === "GroupRegistryIneligibleMaster") {
      throw new IomtError(
        "MasterIneligible",
        `the new key ${candidate} may not master group ${gid}: a root group's next Master must be a key with no identity on chain yet; a child group's, an active member of the parent group that masters no group (the parent's Master enrols it and it associates there first)`,
      );
    }
    throw decoded;
  }
}

/** Waits for `hash`'s receipt; a transaction that reverted after its estimate passed is an error naming it. */
async function mined(client: ReadClient, hash: Hex, what: string): Promise<bigint> {
  const receipt = await waitForTransactionReceipt(client as PublicClient, { hash, pollingInterval: 1_000 });
  if (receipt.status !== "success") throw new Error(`the ${what} ${hash} reverted in block ${receipt.blockNumber}`);
  return receipt.blockNumber;
}

function ticketsToRenew(store: GatewayStore, gid: Hex): RotateKeyResult["ticketsToRenew"] {
  return store
    .enrolments()
    .filter((row) => row.gid === gid && row.ticket_issued_at !== null && store.association(row.address as Address)?.status !== "associated")
    .map((row) => ({ gid: row.gid, oid: row.oid, address: row.address }));
}
