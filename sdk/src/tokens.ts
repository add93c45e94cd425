// Master-signed association tokens (Elhachmi & Kobbane): {gid, oid, pubAddr, signature}, where the Master
// signs keccak256(gid ‖ oid ‖ pubAddr) as an EIP-191 personal message. Issuing needs only the
// Master's key; verifying needs only the Master's address — no RPC either way.
import { bytesToHex, concat, encodePacked, getAddress, hashMessage, hexToBytes, isHex, keccak256, type Address, type Hex } from "viem";
import { IomtError } from "./errors.js";
import { assertId, type Id } from "./ids.js";
import { InvalidSignatureError, isSignedBy, normalizeSignature, recoverSigner } from "./signature.js";

/** A Master-signed association token: it entitles `device` to join group `gid` under `oid`. */
export interface Token {
  gid: Id;
  oid: Id;
  /** The device's address (Elhachmi & Kobbane's pubAddr). */
  device: Address;
  /** The Master's 65-byte EIP-191 signature over `tokenDigest`; longer for a contract Master (its ERC-1271 approval, e.g. a multisig's owners' signatures). */
  signature: Hex;
}

/** Anything that signs an EIP-191 message: a viem LocalAccount, or a WalletClient with an account. */
export interface MessageSigner {
  signMessage(parameters: { message: { raw: Hex } }): Promise<Hex>;
}

/** Thrown by `parseToken` for a serialized token that is malformed; `code` says how. */
export class InvalidTokenError extends IomtError {}

/** Length of a serialized token of a key Master: gid (32) ‖ oid (32) ‖ device (20) ‖ signature (65). A contract Master's token is longer. */
export const SERIALIZED_TOKEN_BYTES = 149;

/**
 * A token's signature in the form the registry takes: a Master key's signature (65 bytes, or
 * EIP-2098 compact 64) strictly normalised; anything longer is a contract Master's ERC-1271
 * approval (e.g. a multisig's owners' signatures) and is passed on as it is, since only the
 * wallet can judge it (the registry asks it).
 */
export function normalizeTokenSignature(signature: Hex): Hex {
  if (typeof signature === "string" && isHex(signature, { strict: true }) && signature.length > 2 + 2 * 65) return signature.toLowerCase() as Hex;
  return normalizeSignature(signature);
}

export type TokenDigestParameters = Pick<Token, "gid" | "oid" | "device">;

/** `keccak256(abi.encodePacked(gid, oid, device))`, the registry's `tokenDigest`. */
export function tokenDigest({ gid, oid, device }: TokenDigestParameters): Hex {
  return keccak256(encodePacked(["bytes32", "bytes32", "address"], [gid, oid, device]));
}

export type IssueTokenParameters = TokenDigestParameters;
export type IssueTokenReturnType = Token;

/** The Master signs a token for `device` to join `gid` as `oid`. */
export async function issueToken(master: MessageSigner, parameters: IssueTokenParameters): Promise<IssueTokenReturnType> {
  const gid = assertId(parameters.gid, "gid");
  const oid = assertId(parameters.oid, "oid");
  const device = getAddress(parameters.device);
  const signature = await master.signMessage({ message: { raw: tokenDigest({ gid, oid, device }) } });
  return { gid, oid, device, signature: normalizeSignature(signature) };
}

/** The address that signed the token (throws `InvalidSignatureError` for a malformed or high-s signature). */
export function recoverTokenSigner(token: Token): Address {
  return recoverSigner(hashMessage({ raw: tokenDigest(token) }), token.signature);
}

export interface VerifyTokenParameters {
  token: Token;
  /** The group's current Master (from `getGroup`, or known to the verifier). */
  master: Address;
}

/** True when the token was signed by `master`; false for another signer or an unusable signature. */
export function verifyToken({ token, master }: VerifyTokenParameters): boolean {
  return isSignedBy(hashMessage({ raw: tokenDigest(token) }), token.signature, master);
}

/**
 * The compact transport form: gid ‖ oid ‖ device ‖ signature, as lower-case hex: 149 bytes for a
 * key Master's token, more for a contract Master's (its approval, passed as it is).
 */
export function serializeToken(token: Token): Hex {
  const device = getAddress(token.device).toLowerCase() as Address;
  return concat([assertId(token.gid, "gid"), assertId(token.oid, "oid"), device, normalizeTokenSignature(token.signature)]);
}

/**
 * Parses a serialized token strictly. Throws `InvalidTokenError` with code `TokenInvalidHex`,
 * `TokenInvalidLength` (under 149 bytes), `TokenZeroId`, or the signature's own code (`SignatureHighS`,
 * `SignatureInvalidV`, `SignatureOutOfRange`). Past 149 bytes the signature is a contract Master's
 * approval (ERC-1271), kept as it is: only the wallet can judge it. A parsed token is not yet
 * verified: call `verifyToken` (a key Master), or ask the wallet (a contract Master).
 */
export function parseToken(serialized: string): Token {
  if (typeof serialized !== "string" || !isHex(serialized, { strict: true })) {
    throw new InvalidTokenError("TokenInvalidHex", "a serialized token is 0x-prefixed hex");
  }
  const bytes = hexToBytes(serialized);
  if (bytes.length < SERIALIZED_TOKEN_BYTES) {
    throw new InvalidTokenError("TokenInvalidLength", `a serialized token has at least ${SERIALIZED_TOKEN_BYTES} bytes, got ${bytes.length}`);
  }
  const gid = bytesToHex(bytes.subarray(0, 32));
  const oid = bytesToHex(bytes.subarray(32, 64));
  if (BigInt(gid) === 0n || BigInt(oid) === 0n) throw new InvalidTokenError("TokenZeroId", "the token's gid or oid is zero");
  let signature: Hex;
  try {
    signature = normalizeTokenSignature(bytesToHex(bytes.subarray(84)));
  } catch (cause) {
    if (cause instanceof InvalidSignatureError) throw new InvalidTokenError(cause.code, `token signature: ${cause.message}`, { cause });
    throw cause;
  }
  return { gid, oid, device: getAddress(bytesToHex(bytes.subarray(64, 84))), signature };
}
