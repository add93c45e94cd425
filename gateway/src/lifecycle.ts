// `revoke` and `unenrol`: taking a device away, on chain or only here.
// - revoke: the group's Master revokes the member on chain (the registry's `revoke`), for good:
//   every gateway refuses it from then on (`DeviceRevoked`), and this gateway's enrolment of it is
//   dropped, as the running gateway's mirror also does once it sees the revocation.
// - unenrol: removes the enrolment from this gateway's list only, so the device gets no ticket
//   here. Nothing changes on chain: a device that got its ticket holds a Master-signed token it can
//   still associate with, and an associated device stays a member, admitted by every gateway of
//   the group, until it is revoked. The answer says so when the store shows a ticket or an
//   association.
import type { Address, Hex, PublicClient } from "viem";
import { waitForTransactionReceipt } from "viem/actions";
import { ContractRuleError, IomtError, revoke, toId } from "@iomt-auth/sdk";
import { chainClients } from "./chain.js";
import type { LoadedConfig } from "./config.js";
import { apiError } from "./errors.js";
import type { EnrolmentRow, GatewayStore } from "./store.js";

/** `enrolment`: "dropped" when the database held one for the device (by this command, or by a running gateway's mirror first), else "none". */
export type RevokeResult = { oid: Hex; gid: Hex; txHash: Hex; block: string; enrolment: "dropped" | "none" };

/**
 * Revokes member `oid` of group `gid` on chain with the Master key, waits for the receipt, and
 * drops the device's enrolment from `store`. The registry's refusals, decoded by the SDK, come back
 * as the codes devices get for the same state: `DeviceNotMember` (no member under this oid) and
 * `DeviceRevoked` (revoked before); others (e.g. `GroupRegistryNotMaster`) are thrown as the SDK's
 * `ContractRuleError`, which the CLI prints with the rule in words.
 */
export async function revokeDevice(loaded: LoadedConfig, store: GatewayStore, { gid, oid }: { gid: Hex; oid: Hex }): Promise<RevokeResult> {
  const { publicClient, walletClient } = chainClients(loaded);
  // Looked up before: a running gateway's mirror may see the revocation, and drop the enrolment, first.
  const enrolled = store.enrolment(gid, oid);
  let hash: Hex;
  try {
    hash = await revoke(walletClient, { registry: loaded.config.registry, gid, oid });
  } catch (error) {
    if (error instanceof ContractRuleError && error.code === "GroupRegistryNotMember") {
      throw apiError("DeviceNotMember", `oid ${oid} is not a member of group ${gid} on chain (not associated yet? \`iomt-gateway unenrol\` removes an enrolment not used yet)`);
    }
    if (error instanceof ContractRuleError && error.code === "GroupRegistryMemberRevoked") throw apiError("DeviceRevoked", `oid ${oid} of group ${gid} was already revoked`);
    // Any other rule (e.g. GroupRegistryNotMaster) goes out as the SDK decoded it.
    throw error;
  }
  const receipt = await waitForTransactionReceipt(publicClient as PublicClient, { hash, pollingInterval: 1_000 });
  // Only when the chain changed between the gas estimate (which checks the rules) and the block.
  if (receipt.status !== "success") throw new Error(`the revocation ${hash} reverted in block ${receipt.blockNumber}`);
  if (enrolled !== undefined) await store.commit(() => store.dropEnrolment(enrolled.address as Address));
  return { oid, gid, txHash: hash, block: receipt.blockNumber.toString(), enrolment: enrolled === undefined ? "none" : "dropped" };
}

export type UnenrolResult = {
  oid: Hex;
  oidName: string | null;
  gid: Hex;
  address: string;
  ticketIssuedAt: string | null;
  /** The association's state in this store (`queued`, `submitted`, `associated`, `failed`), or null. */
  association: string | null;
};

/**
 * Removes the enrolment of `oid` (in `gid`, or in the one group it is enrolled in), refusing an
 * unknown one with `EnrolmentUnknown`, or an oid enrolled in several groups without `gid` with
 * `CliUsage`, in the store's group commit. Returns what was removed, and a warning when the device
 * got a ticket or associated: unenrol does not revoke.
 */
export async function unenrolDevice(store: GatewayStore, { gid, oid }: { gid: Hex | undefined; oid: string }): Promise<{ unenrolled: UnenrolResult; warning?: string }> {
  let id: Hex;
  try {
    id = toId(oid);
  } catch (error) {
    throw apiError("EnrolmentInvalid", (error as Error).message);
  }
  const row = await store.commit(() => {
    const found: EnrolmentRow[] = gid === undefined ? store.enrolments().filter((enrolment) => enrolment.oid === id) : [store.enrolment(gid, id)].filter((enrolment) => enrolment !== undefined);
    if (found.length === 0) throw new IomtError("EnrolmentUnknown", `no device is enrolled as oid ${id}${gid === undefined ? "" : ` in group ${gid}`}`);
    if (found.length > 1) throw new IomtError("CliUsage", `oid ${id} is enrolled in ${found.length} groups (${found.map((enrolment) => enrolment.gid).join(", ")}): name one with --group`);
    store.dropEnrolment(found[0].address as Address);
    return found[0];
  });
  const association = store.association(row.address as Address)?.status ?? null;
  const unenrolled: UnenrolResult = {
    oid: row.oid,
    oidName: row.oid_name,
    gid: row.gid,
    address: row.address,
    ticketIssuedAt: row.ticket_issued_at === null ? null : new Date(row.ticket_issued_at).toISOString(),
    association,
  };
  if (row.ticket_issued_at === null && association === null) return { unenrolled };
  const revokeIt = `\`iomt-gateway revoke --oid ${row.oid}\` cuts it off`;
  return {
    unenrolled,
    warning:
      association === null
        ? `the device got its ticket at ${unenrolled.ticketIssuedAt}: unenrol does not revoke, and its token still lets it associate on chain; once it is a member, ${revokeIt}`
        : `the device has an association (${association}): unenrol does not revoke, and as a member it stays admitted; ${revokeIt}`,
  };
}
