// The provisioning bundle: everything a device's firmware needs to reach its gateway and get its
// token — the gateway's URL, the chain, the registry, the group and its Master, the device's own
// oid and address, and its enrolment secret — in one JSON document, which `iomt-gateway enrol`
// prints and `createGatewayClient({ provisioning, account })` takes as it is. The format is
// specified normatively in docs/protocol.md §9; this parser is strict, so a bundle that another
// tool wrote wrongly fails here with a code, not later as a refused handshake.
import { getAddress, isAddress, zeroAddress, type Address, type Hex } from "viem";
import { IomtError } from "./errors.js";

/** The value of a bundle's `format` field. */
export const PROVISIONING_FORMAT = "iomt-auth/provisioning";
/** The bundle version this SDK writes and reads. */
export const PROVISIONING_VERSION = 1;

/** A parsed provisioning bundle (version 1): addresses checksummed, ids lower-case. */
export type ProvisioningBundle = {
  format: typeof PROVISIONING_FORMAT;
  version: typeof PROVISIONING_VERSION;
  /** The gateway's base URL, http(s), as the operator configured it (`publicUrl`). */
  gatewayUrl: string;
  /** The chain the registry lives on. */
  chainId: number;
  /** The `IomtRegistry` address. */
  registry: Address;
  /** The device's group. */
  gid: Hex;
  /** The group's Master: the key the gateway must prove it holds in the handshake. */
  master: Address;
  /** The device's object id in the group. */
  oid: Hex;
  /** The address the device's key must have (the enrolment is bound to it). */
  device: Address;
  /** The device's one-time enrolment secret, sent with its ticket request; absent when it needs none. */
  secret?: string;
};

/**
 * - `ProvisioningMalformed`: not JSON, or not a JSON object.
 * - `ProvisioningUnsupported`: `format` is not `iomt-auth/provisioning`, or `version` is not one this SDK reads.
 * - `ProvisioningInvalidField`: a field is missing, of the wrong shape, or unknown (`field` names it).
 * - `ProvisioningWrongDevice`: the account given to the client is not the bundle's `device`.
 * - `ProvisioningConflict`: the client was given a bundle and also `url`, `master` or `context`.
 */
export type ProvisioningErrorCode = "ProvisioningMalformed" | "ProvisioningUnsupported" | "ProvisioningInvalidField" | "ProvisioningWrongDevice" | "ProvisioningConflict";

/** A provisioning bundle that cannot be used; `field` names the offending field, when one does. */
export class ProvisioningError extends IomtError {
  declare readonly code: ProvisioningErrorCode;
  readonly field: string | undefined;

  constructor(code: ProvisioningErrorCode, message: string, options?: { field?: string; cause?: unknown }) {
    super(code, message, options);
    this.field = options?.field;
  }
}

const FIELDS = ["format", "version", "gatewayUrl", "chainId", "registry", "gid", "master", "oid", "device", "secret"] as const;
/** The gateway's bounds on an enrolment secret (characters). */
const SECRET_LENGTH = { min: 16, max: 256 } as const;

const invalid = (field: string, why: string) => new ProvisioningError("ProvisioningInvalidField", `provisioning bundle: ${field} ${why}`, { field });

/**
 * Parses and checks a provisioning bundle: the JSON text `iomt-gateway enrol` printed or wrote, or
 * the object parsed from it. Throws a {@link ProvisioningError} for anything that is not a valid
 * version-1 bundle.
 *
 * @example
 * const provisioning = parseProvisioningBundle(readFileSync("ecg-1.json", "utf8"));
 * const gateway = createGatewayClient({ provisioning, account: privateKeyToAccount(deviceKey) });
 */
export function parseProvisioningBundle(input: unknown): ProvisioningBundle {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (cause) {
      throw new ProvisioningError("ProvisioningMalformed", "provisioning bundle: not JSON", { cause });
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProvisioningError("ProvisioningMalformed", "provisioning bundle: not a JSON object");
  }
  const raw = value as Record<string, unknown>;
  if (raw.format !== PROVISIONING_FORMAT) {
    throw new ProvisioningError("ProvisioningUnsupported", `provisioning bundle: format must be "${PROVISIONING_FORMAT}"`, { field: "format" });
  }
  if (raw.version !== PROVISIONING_VERSION) {
    throw new ProvisioningError("ProvisioningUnsupported", `provisioning bundle: version ${JSON.stringify(raw.version)} is not supported (this SDK reads version ${PROVISIONING_VERSION})`, {
      field: "version",
    });
  }
  const unknown = Object.keys(raw).find((name) => !(FIELDS as readonly string[]).includes(name));
  if (unknown !== undefined) throw invalid(unknown, "is not a field of version 1");
  const bundle: ProvisioningBundle = {
    format: PROVISIONING_FORMAT,
    version: PROVISIONING_VERSION,
    gatewayUrl: gatewayUrl(raw.gatewayUrl),
    chainId: chainId(raw.chainId),
    registry: address(raw.registry, "registry"),
    gid: id(raw.gid, "gid"),
    master: address(raw.master, "master"),
    oid: id(raw.oid, "oid"),
    device: address(raw.device, "device"),
  };
  if (raw.secret !== undefined) bundle.secret = secret(raw.secret);
  return bundle;
}

function gatewayUrl(value: unknown): string {
  if (typeof value !== "string") throw invalid("gatewayUrl", "must be a string");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid("gatewayUrl", "is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalid("gatewayUrl", "must be an http or https URL");
  // Credentials in the URL would travel in every request and end up in logs; a query or fragment
  // would be mangled by the routes the client appends.
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw invalid("gatewayUrl", "must not carry credentials, a query or a fragment");
  }
  return value;
}

function chainId(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) throw invalid("chainId", "must be a positive integer");
  return value;
}

function address(value: unknown, field: string): Address {
  // Strict: a mixed-case address must carry its EIP-55 checksum (a wrong one is a typo); lower case is taken as it is.
  if (typeof value !== "string" || !isAddress(value, { strict: true })) throw invalid(field, "must be an address (EIP-55 checksummed, or lower case)");
  const checksummed = getAddress(value);
  if (checksummed === zeroAddress) throw invalid(field, "must not be the zero address");
  return checksummed;
}

function id(value: unknown, field: string): Hex {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) throw invalid(field, "must be 32 bytes of hex");
  if (/^0x0{64}$/.test(value)) throw invalid(field, "must not be zero");
  return value.toLowerCase() as Hex;
}

function secret(value: unknown): string {
  if (typeof value !== "string") throw invalid("secret", "must be a string");
  const length = [...value].length;
  if (value !== value.trim() || length < SECRET_LENGTH.min || length > SECRET_LENGTH.max) {
    throw invalid("secret", `must have ${SECRET_LENGTH.min} to ${SECRET_LENGTH.max} characters and no surrounding white space`);
  }
  return value;
}
