// Contract reverts come back as ContractRuleError: the custom error's name (its `code`), its
// decoded arguments and a sentence naming the rule that was broken — never raw revert hex.
import { BaseError, ContractFunctionRevertedError, decodeErrorResult, getAddress, parseEventLogs, type Address, type Hex, type Log } from "viem";
import { IomtError } from "./errors.js";
import { iomtRegistryAbi } from "./generated/abi.js";

/** The name of every custom error the registry declares. */
export type RegistryErrorName = Extract<(typeof iomtRegistryAbi)[number], { type: "error" }>["name"];

/** The rule each custom error stands for; a Record, so a new contract error fails type-checking until it is described here. */
export const registryRules: Record<RegistryErrorName, string> = {
  RequestExpired: "the signed request's deadline has passed",
  RequestInvalidNonce: "the signed request's nonce is not the device's next nonce (an association request always carries 0)",
  RequestInvalidSignature: "the device's signature is malformed, has a high s or recovers to no address",
  RequestWrongSigner: "the request was not signed by the device it names (or was signed over other fields or another domain)",
  BatchEmpty: "a batch must hold at least one item",
  GroupRegistryZeroId: "oids and masterOids must not be zero",
  GroupRegistryGidTaken: "the creator already created a group with this label",
  GroupRegistryOidTaken: "another identity of the group already holds this oid",
  GroupRegistryAddressTaken: "the address already has an identity (one per address, for good)",
  GroupRegistryAlreadyAssociated: "the device is already this member of the group: the association took effect before",
  GroupRegistryAlreadyMaster: "the address already masters a group (one group per Master)",
  GroupRegistryUnknownGroup: "no group has this gid",
  GroupRegistryGroupInactive: "the group was deactivated",
  GroupRegistryGroupFull: "the group has no leaf index left",
  GroupRegistryHierarchyTooDeep: "the hierarchy cannot grow below this parent (255 levels)",
  GroupRegistryNotParentMember: "only an active member of the parent group may create a child group",
  GroupRegistryMasterOidMismatch: "a child group's masterOid must be its Master's own oid in the parent group",
  GroupRegistryInvalidToken: "the token signature is malformed or has a high s",
  GroupRegistryTokenNotFromMaster: "the token was not signed by the group's current Master",
  GroupRegistryNotMaster: "only the group's Master may do this",
  GroupRegistryNotMember: "the oid is not a member of the group",
  GroupRegistryMemberRevoked: "the member was revoked",
  GroupRegistryMasterRevoked: "the group's Master was revoked in the parent group and has lost its powers until the parent's Master takes the group over",
  GroupRegistryParentInactive: "the parent group was deactivated, so the group's Master has lost its powers",
  GroupRegistryIneligibleMaster: "the candidate may not become this group's Master",
  GroupRegistryNotPendingMaster: "only the proposed Master may accept the hand-over",
  GroupRegistryRootGroup: "a root group has no parent whose Master could take it over",
  GroupRegistryMasterNotRevoked: "the parent's Master may act on a child group only after revoking its Master",
  GroupRegistryEpochsExhausted: "the group has had 2^48 - 1 hand-overs",
  GroupRegistryWordRangeOverflow: "the requested revocation-word range does not fit a uint256",
  DataLedgerWrongSender: "a direct message must be sent by the device registered under its (gid, oid)",
  DataLedgerNonceUsed: "the device already used this nonce: the request it signed with it has taken effect",
  DataLedgerNotAnchorer: "only the group's Master or a gateway key it authorised may anchor batches",
  DataLedgerZeroRoot: "a batch root must not be zero",
  DataLedgerEmptyAnchor: "an anchored batch must hold at least one message",
  DataLedgerRootAlreadyAnchored: "this batch root is already anchored for the group",
  DataLedgerSelfExchange: "a device cannot exchange with itself",
  DataLedgerNoncesExhausted: "the device's nonces are exhausted; re-enrol under a new key",
  InvalidShortString: "an EIP-712 domain string is malformed (deployment only)",
  StringTooLong: "an EIP-712 domain string is too long (deployment only)",
};

/** A registry call reverted: `code` is the custom error's name, `args` its decoded arguments. */
export class ContractRuleError extends IomtError {
  declare readonly code: RegistryErrorName | "UnknownRevert";
  /** The custom error's arguments, decoded. */
  readonly args: readonly unknown[];
  /** The broken rule in words. */
  readonly rule: string;

  constructor(code: RegistryErrorName | "UnknownRevert", args: readonly unknown[], rule: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${rule}${args.length ? ` (${args.map(String).join(", ")})` : ""}`, options);
    this.args = args;
    this.rule = rule;
  }
}

/** Decodes revert data of the registry into a ContractRuleError. */
export function decodeRegistryError(data: Hex, cause?: unknown): ContractRuleError {
  try {
    const { errorName, args } = decodeErrorResult({ abi: iomtRegistryAbi, data });
    // viem also decodes Solidity's built-in Error(string) and Panic(uint256): not registry rules.
    if (errorName in registryRules) return new ContractRuleError(errorName as RegistryErrorName, args ?? [], registryRules[errorName as RegistryErrorName], { cause });
  } catch {
    // not decodable with the registry's ABI: an unknown revert
  }
  return new ContractRuleError("UnknownRevert", [data], "the call reverted with data the registry's ABI does not describe", { cause });
}

/**
 * Turns a viem error from a registry call into a ContractRuleError when it is a revert (custom
 * error, panic or plain revert); any other error (network, nonce, funds) is returned unchanged.
 */
export function toRegistryError(error: unknown): unknown {
  if (!(error instanceof BaseError)) return error;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) return error;
  const name = reverted.data?.errorName;
  if (name !== undefined && name in registryRules) {
    return new ContractRuleError(name as RegistryErrorName, reverted.data?.args ?? [], registryRules[name as RegistryErrorName], { cause: error });
  }
  const detail = reverted.reason ?? reverted.signature ?? reverted.raw ?? "no data";
  return new ContractRuleError("UnknownRevert", [detail], `the call reverted: ${reverted.shortMessage}`, { cause: error });
}

// ---------------------------------------------------------------------------- batch outcomes

/** The registry's `BatchItemStatus`, in its enum order. */
export const batchItemStatuses = ["Applied", "AlreadyApplied", "Rejected"] as const;
export type BatchItemStatus = (typeof batchItemStatuses)[number];

/** What became of one item of an `associateBatchBySig` or `recordDataBatchBySig` transaction. */
export interface BatchItemResult {
  index: number;
  status: BatchItemStatus;
  /** For a skipped item: the rule, decoded (`GroupRegistryAlreadyAssociated` or `DataLedgerNonceUsed` when already applied). */
  error?: ContractRuleError;
}

export interface GetBatchItemResultsParameters {
  /** The transaction receipt's logs. */
  logs: readonly Log[];
  registry: Address;
  /** How many items the batch held. */
  itemCount: number;
}

/**
 * The per-item outcome of a batch transaction, from its `BatchItemSkipped` logs: every item without
 * such a log was applied. A batch never reverts for a bad item, so this is how a relayer learns
 * which items took effect.
 */
export function getBatchItemResults({ logs, registry, itemCount }: GetBatchItemResultsParameters): BatchItemResult[] {
  const results: BatchItemResult[] = Array.from({ length: itemCount }, (_, index) => ({ index, status: "Applied" }));
  const skipped = parseEventLogs({ abi: iomtRegistryAbi, eventName: "BatchItemSkipped", logs: logs as Log[], strict: true });
  for (const log of skipped) {
    if (getAddress(log.address) !== getAddress(registry)) continue;
    const index = Number(log.args.index);
    if (index >= itemCount) throw new IomtError("BatchResultOutOfRange", `a BatchItemSkipped log names item ${index} of a batch of ${itemCount}`);
    results[index] = { index, status: batchItemStatuses[log.args.status], error: decodeRegistryError(log.args.reason) };
  }
  return results;
}
