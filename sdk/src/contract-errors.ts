// Contract reverts come back as ContractRuleError: the custom error's name (its `code`), its
// decoded arguments and a sentence naming the rule that was broken — never raw revert hex.
import { BaseError, ContractFunctionRevertedError, decodeErrorResult, type Hex } from "viem";
import { IomtError } from "./errors.js";
import { iomtRegistryAbi } from "./generated/abi.js";

/** The name of every custom error the registry declares. */
export type RegistryErrorName = Extract<(typeof iomtRegistryAbi)[number], { type: "error" }>["name"];

/** The rule each custom error stands for; a Record, so a new contract error fails type-checking until it is described here. */
export const registryRules: Record<RegistryErrorName, string> = {
  GroupRegistryZeroId: "gids and oids must not be zero",
  GroupRegistryGidTaken: "the gid is already used by another group",
  GroupRegistryOidTaken: "the oid is already registered (object ids are unique registry-wide)",
  GroupRegistryAddressTaken: "the address already has an identity (one oid per address)",
  GroupRegistryAlreadyMaster: "the address already masters a group (one group per Master)",
  GroupRegistryUnknownGroup: "no group has this gid",
  GroupRegistryGroupInactive: "the group was deactivated",
  GroupRegistryGroupFull: "the group has no leaf index left",
  GroupRegistryHierarchyTooDeep: "the hierarchy cannot grow below this parent (255 levels)",
  GroupRegistryNotParentMember: "only an active member of the parent group may create a child group",
  GroupRegistryMasterOidMismatch: "a child group's masterOid must be its Master's own oid in the parent group",
  GroupRegistryInvalidToken: "the token signature is malformed or has a high s",
  GroupRegistryTokenNotFromMaster: "the token was not signed by the group's current Master",
  GroupRegistryExpiredRequest: "the association request's deadline has passed",
  GroupRegistryInvalidNonce: "the association request's nonce is not the device's next nonce",
  GroupRegistryInvalidSignature: "the device's signature is malformed or has a high s",
  GroupRegistryWrongSigner: "the request was not signed by the device it names",
  GroupRegistryEmptyBatch: "a batch must hold at least one association",
  GroupRegistryNotMaster: "only the group's Master may do this",
  GroupRegistryNotMember: "the oid is not an active member of the group",
  GroupRegistryMemberRevoked: "the member was revoked",
  GroupRegistryIneligibleMaster: "the candidate may not become this group's Master",
  GroupRegistryNotPendingMaster: "only the proposed Master may accept the hand-over",
  DataLedgerEmptyBatch: "a batch must hold at least one message",
  DataLedgerExpired: "the message's deadline has passed",
  DataLedgerInvalidNonce: "the message's nonce is not the device's next nonce",
  DataLedgerInvalidSignature: "the device's signature is malformed or has a high s",
  DataLedgerWrongSigner: "the message was not signed by the device registered under its (gid, oid)",
  DataLedgerWrongSender: "a direct message must be sent by the device registered under its (gid, oid)",
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
