// Group ids (gid) and object ids (oid) are bytes32 on chain. These rules are part of the SDK's
// stable interface: the same name or number gives the same id in every release.
import { encodeAbiParameters, getAddress, isAddress, isHex, keccak256, numberToHex, stringToBytes, type Address, type Hex } from "viem";
import { IomtError } from "./errors.js";

/** A gid or oid: 32 bytes, non-zero, lower-case hex. */
export type Id = Hex;

/** Thrown for an id that cannot be derived or is not a valid bytes32 id. */
export class InvalidIdError extends IomtError {
  constructor(message: string) {
    super("InvalidId", message);
  }
}

const MAX_UINT256 = (1n << 256n) - 1n;

/**
 * Derives a gid or oid.
 *
 * - a 32-byte hex string (`0x` + 64 hex digits) is taken as the id itself (lower-cased);
 * - any other string is a name: the id is `keccak256(utf8(name))`, like OpenZeppelin role ids;
 *   `"0x..."` strings of another length are rejected rather than hashed, to catch truncated ids;
 * - a number or bigint is the id as a 256-bit big-endian integer (`1` → `0x00…01`).
 *
 * Zero is never an id (the registry rejects it), nor is the empty name.
 */
export function toId(value: string | number | bigint): Id {
  if (typeof value === "string") {
    if (value.length === 0) throw new InvalidIdError("an id name must not be empty");
    if (value.startsWith("0x") || value.startsWith("0X")) {
      const id = `0x${value.slice(2).toLowerCase()}` as Hex;
      if (id.length !== 66 || !isHex(id, { strict: true })) {
        throw new InvalidIdError(`"${value}" starts with 0x but is not 32 bytes of hex`);
      }
      if (BigInt(id) === 0n) throw new InvalidIdError("the zero id is reserved");
      return id;
    }
    return keccak256(stringToBytes(value));
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new InvalidIdError(`${value} is not a safe integer; pass a bigint`);
  }
  const number = BigInt(value);
  if (number <= 0n || number > MAX_UINT256) throw new InvalidIdError(`${value} is outside 1 … 2^256 − 1`);
  return numberToHex(number, { size: 32 });
}

/** Checks that `value` is a valid id as it appears on chain (32 bytes, non-zero) and returns it lower-cased. */
export function assertId(value: Hex, what = "id"): Id {
  if (typeof value !== "string" || value.length !== 66 || !isHex(value, { strict: true })) {
    throw new InvalidIdError(`${what} must be 32 bytes of hex, got ${String(value)}`);
  }
  if (BigInt(value) === 0n) throw new InvalidIdError(`${what} must not be zero`);
  return value.toLowerCase() as Id;
}

export interface GroupIdParameters {
  /** The chain the registry runs on. */
  chainId: number;
  /** The registry's address. */
  registry: Address;
  /** The key that creates the group (its first Master). */
  creator: Address;
  /** The creator's label for the group: a name, a number or a bytes32, as `toId` takes it. */
  label: string | number | bigint;
}

/**
 * The gid the registry derives when `creator` calls `createGroup(label, …)`:
 * `keccak256(abi.encode(uint256 chainId, address registry, address creator, bytes32 toId(label)))`.
 * Nobody else can create this gid, and a token signed for it is valid on this registry and chain only.
 */
export function groupId({ chainId, registry, creator, label }: GroupIdParameters): Id {
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new InvalidIdError(`chain id ${chainId} is not a positive safe integer`);
  for (const [what, value] of [["registry", registry], ["creator", creator]] as const) {
    if (!isAddress(value, { strict: false })) throw new InvalidIdError(`the ${what} ${String(value)} is not an address`);
  }
  return keccak256(
    encodeAbiParameters(
      [{ type: "uint256" }, { type: "address" }, { type: "address" }, { type: "bytes32" }],
      [BigInt(chainId), getAddress(registry), getAddress(creator), toId(label)],
    ),
  );
}
