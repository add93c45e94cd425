// Enrolment: the Master's list of devices it will issue tokens to, each an oid bound to the
// address the device's key must have, optionally with a one-time secret the device must show in
// getTicket (proof that the device was set up by someone the operator gave the secret to).
//
// How a secret is kept and checked:
// - Strength: at least 16 characters; the CLI generates 20 base32 characters (100 bits) unless
//   given one, and reads a given one from a file or stdin, never from argv.
// - Stored as `scrypt(HMAC-SHA256(pepper, secret), salt)`. The pepper is 32 random bytes in a
//   0600 file named in the configuration and kept apart from the database, so a stolen database
//   alone allows no offline guessing.
// - The KDF runs on libuv's thread pool (async `crypto.scrypt`): a guess never stalls the event
//   loop, so other devices' requests go on while it runs.
// - Attempts are counted in the database before the secret is checked (so concurrent guesses, and
//   restarts, are counted too): after FREE_ATTEMPTS wrong ones each attempt waits twice as long
//   as the previous one (1 s, 2 s, 4 s …), and after MAX_FAILURES the secret is locked until the
//   operator sets a new one (`iomt-gateway renew-secret`).
// - Single use: the secret is cleared in the same commit that issues the ticket; later ticket
//   requests get `EnrolmentSecretUsed`.
import { createHmac, randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { ContractFunctionRevertedError, BaseError, getAddress, hashMessage, isAddress, parseAbi, type Address, type Hex } from "viem";
import { getCode, readContract } from "viem/actions";
import { getGroup, InvalidTokenError, IomtError, parseToken, serializeToken, toId, tokenDigest, verifyToken, type ReadClient } from "@iomt-auth/sdk";
import { ApiError, GatewayConfigError } from "./errors.js";
import type { EnrolmentRow, GatewayStore } from "./store.js";

const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;
/** The shortest secret accepted. */
export const MIN_SECRET_LENGTH = 16;
/** Longest secret accepted (the ticket request's schema allows 256). */
export const MAX_SECRET_LENGTH = 256;
/** Characters of a generated secret (RFC 4648 base32: 5 bits each, 100 bits in all). */
export const GENERATED_SECRET_LENGTH = 20;
/** Wrong attempts allowed before back-off starts. */
export const FREE_ATTEMPTS = 3;
/** Wrong attempts after which the secret is locked until the operator sets a new one. */
export const MAX_FAILURES = 10;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 3_600_000;
const PEPPER_BYTES = 32;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// ----------------------------------------------------------------------------- pepper

/** Reads the pepper file: 32 bytes as 64 hex digits on one line, readable by its owner only. */
export function readPepperFile(path: string): Uint8Array {
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) throw new GatewayConfigError(`pepper file ${path} is readable by group or others; chmod 600 it`);
    text = readFileSync(path, "utf8").trim();
  } catch (cause) {
    if (cause instanceof GatewayConfigError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code ?? "error";
    throw new GatewayConfigError(`cannot read pepper file ${path}: ${code}${code === "ENOENT" ? " (`iomt-gateway init` creates it)" : ""}`);
  }
  if (!/^[0-9a-f]{64}$/i.test(text)) throw new GatewayConfigError(`pepper file ${path} must hold 32 bytes as 64 hex digits`);
  return Buffer.from(text, "hex");
}

/** Creates a pepper file of 32 random bytes (0600); refuses to overwrite one. */
export function createPepperFile(path: string): void {
  try {
    writeFileSync(path, `${randomBytes(PEPPER_BYTES).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (cause) {
    throw new GatewayConfigError(`cannot create pepper file ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
}

/** A short public tag of the pepper, stored with each hash so that a wrong pepper file is told apart from a wrong secret. */
function pepperId(pepper: Uint8Array): string {
  return createHmac("sha256", pepper).update("iomt-auth/gateway pepper id").digest("hex").slice(0, 16);
}

// ----------------------------------------------------------------------------- secrets

/** A new secret: 20 base32 characters from the system's CSPRNG (100 bits). */
export function generateEnrolmentSecret(): string {
  let secret = "";
  for (let i = 0; i < GENERATED_SECRET_LENGTH; i++) secret += BASE32[randomInt(BASE32.length)];
  return secret;
}

/** Refuses a secret under 16 or over 256 characters, or with surrounding white space, with `EnrolmentSecretWeak`. */
export function checkSecretStrength(secret: string): void {
  if (secret !== secret.trim()) throw new ApiError(400, "EnrolmentSecretWeak", "the secret starts or ends with white space");
  const length = [...secret].length;
  if (length < MIN_SECRET_LENGTH) throw new ApiError(400, "EnrolmentSecretWeak", `the secret has ${length} characters; at least ${MIN_SECRET_LENGTH} are required (leave it out to have one generated)`);
  if (length > MAX_SECRET_LENGTH) throw new ApiError(400, "EnrolmentSecretWeak", `the secret has ${length} characters; at most ${MAX_SECRET_LENGTH} are accepted`);
}

function scryptAsync(input: Uint8Array, salt: Uint8Array, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(input, salt, length, options, (error, key) => (error === null ? resolve(key) : reject(error))));
}

const peppered = (pepper: Uint8Array, secret: string) => createHmac("sha256", pepper).update(secret, "utf8").digest();

/** `scrypt-hmac$N$r$p$pepperId$salt$hash`; the KDF runs off the event loop. Checks the secret's strength first. */
export async function hashEnrolmentSecret(secret: string, pepper: Uint8Array): Promise<string> {
  checkSecretStrength(secret);
  const salt = randomBytes(16);
  const hash = await scryptAsync(peppered(pepper, secret), salt, 32, SCRYPT);
  return ["scrypt-hmac", SCRYPT.N, SCRYPT.r, SCRYPT.p, pepperId(pepper), salt.toString("hex"), hash.toString("hex")].join("$");
}

/**
 * True when `secret` matches `stored`. Also reads the unpeppered `scrypt$N$salt$hash` of schema
 * version 2. Throws `GatewayConfigInvalid` when the hash was made under another pepper.
 */
export async function verifyEnrolmentSecret(secret: string, stored: string, pepper: Uint8Array | undefined): Promise<boolean> {
  const parts = stored.split("$");
  let input: Uint8Array;
  let options: ScryptOptions;
  let salt: string;
  let hash: string;
  if (parts[0] === "scrypt-hmac" && parts.length === 7) {
    // The gateway refuses to start in this case (checkStoredSecrets); a CLI run under another
    // configuration could still store one, hence a fault (500), not the device's error.
    if (pepper === undefined || pepperId(pepper) !== parts[4]) throw new Error("this enrolment secret was stored under another pepper than the configured one");
    input = peppered(pepper, secret);
    options = { N: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]) };
    [salt, hash] = [parts[5], parts[6]];
  } else if (parts[0] === "scrypt" && parts.length === 4) {
    input = Buffer.from(secret, "utf8");
    options = { ...SCRYPT, N: Number(parts[1]) };
    [salt, hash] = [parts[2], parts[3]];
  } else {
    throw new Error("unknown enrolment secret hash format");
  }
  const expected = Buffer.from(hash, "hex");
  const actual = await scryptAsync(input, Buffer.from(salt, "hex"), expected.length, options);
  return timingSafeEqual(actual, expected);
}

/**
 * Refuses (at start) a configuration under which stored secrets cannot be checked: secrets stored
 * under a pepper while no pepperFile is configured, or under another pepper than the configured one.
 */
export function checkStoredSecrets(store: GatewayStore, pepper: Uint8Array | undefined): void {
  const ids = new Set(store.enrolments().flatMap((row) => (row.secret_hash?.startsWith("scrypt-hmac$") ? [row.secret_hash.split("$")[4]] : [])));
  if (ids.size === 0) return;
  if (pepper === undefined) throw new GatewayConfigError(`${ids.size === 1 ? "an enrolment secret is" : "enrolment secrets are"} stored under a pepper, but no pepperFile is configured`);
  if (ids.size > 1 || !ids.has(pepperId(pepper))) {
    throw new GatewayConfigError("enrolment secrets are stored under another pepper than the configured pepperFile: configure the pepper file they were set with, or set new secrets (renew-secret)");
  }
}

/** The wait after `failures` wrong attempts: none for the first FREE_ATTEMPTS - 1, then 1 s doubling to 1 h. */
export function secretBackoffMs(failures: number): number {
  if (failures < FREE_ATTEMPTS) return 0;
  return Math.min(BACKOFF_BASE_MS * 2 ** (failures - FREE_ATTEMPTS), BACKOFF_MAX_MS);
}

/** What the ticket route gets back from a secret that matched (or from an enrolment without one). */
export type SecretClaim = {
  /**
   * Clears the secret (single use); call it inside the commit that issues the ticket. Throws
   * `EnrolmentSecretUsed` when another request used it first.
   */
  consume(): void;
};

export type EnrolmentSecretsParameters = {
  store: GatewayStore;
  /** From the configured `pepperFile`; undefined when none is configured (then only secret-less enrolments work). */
  pepper: Uint8Array | undefined;
  /** Milliseconds; for tests. */
  now?: () => number;
};

/**
 * Checks enrolment secrets for the ticket route. Refusals (all `ApiError`):
 * - `EnrolmentSecretRequired` (401): the enrolment has a secret and the request has none (not counted);
 * - `EnrolmentSecretWrong` (401): wrong; `details`: `attemptsLeft`, `retryAfter` (seconds before the next attempt is taken);
 * - `EnrolmentLocked` (429): too many wrong attempts; `details.retryAfter` in seconds, or null when
 *   only a new secret (`iomt-gateway renew-secret`) unlocks it;
 * - `EnrolmentSecretUsed` (409): the secret was already used for a ticket.
 */
export class EnrolmentSecrets {
  private readonly p: EnrolmentSecretsParameters;
  private readonly now: () => number;

  constructor(parameters: EnrolmentSecretsParameters) {
    this.p = parameters;
    this.now = parameters.now ?? Date.now;
  }

  /**
   * Checks `secret` against the enrolment's. The attempt is counted (durably) before the KDF runs,
   * and the KDF runs off the event loop. Resolves with a claim whose `consume` clears the secret.
   */
  async check(enrolment: Pick<EnrolmentRow, "gid" | "oid">, secret: string | undefined): Promise<SecretClaim> {
    const { store } = this.p;
    const { gid, oid } = enrolment;
    const current = store.enrolment(gid, oid);
    if (current === undefined) throw new ApiError(403, "DeviceNotEnrolled", "this device is not enrolled");
    if (current.secret_hash === null) {
      if (current.secret_used_at !== null) throw used();
      return { consume: () => {} };
    }
    if (secret === undefined) throw new ApiError(401, "EnrolmentSecretRequired", "this device was enrolled with a secret; send it as `secret`");
    // Count the attempt before checking it, in one commit: concurrent guesses each see the one
    // before, and a crash or restart never gives an attempt back.
    const { hash, failures } = await store.commit(() => {
      const row = store.enrolment(gid, oid);
      if (row === undefined) throw new ApiError(403, "DeviceNotEnrolled", "this device is not enrolled");
      if (row.secret_hash === null) throw row.secret_used_at !== null ? used() : new ApiError(409, "EnrolmentSecretUsed", "the secret was removed");
      const now = this.now();
      if (row.secret_failures >= MAX_FAILURES) throw locked(null, row.secret_failures);
      if (row.secret_locked_until !== null && row.secret_locked_until > now) throw locked(row.secret_locked_until - now, row.secret_failures);
      const counted = row.secret_failures + 1;
      const wait = secretBackoffMs(counted);
      store.setSecretAttempt(gid, oid, counted, wait === 0 ? null : now + wait);
      return { hash: row.secret_hash, failures: counted };
    });
    if (!(await verifyEnrolmentSecret(secret, hash, this.p.pepper))) {
      const left = Math.max(0, MAX_FAILURES - failures);
      const wait = secretBackoffMs(failures);
      throw new ApiError(401, "EnrolmentSecretWrong", `the enrolment secret does not match (${left} attempt${left === 1 ? "" : "s"} left)`, {
        attemptsLeft: left,
        retryAfter: left === 0 ? null : Math.ceil(wait / 1000),
      });
    }
    return {
      consume: () => {
        if (!store.useSecret(gid, oid, hash, this.now())) throw used();
      },
    };
  }
}

const used = () => new ApiError(409, "EnrolmentSecretUsed", "the enrolment secret was already used for a ticket; the operator can set a new one (`iomt-gateway renew-secret`)");

function locked(waitMs: number | null, failures: number): ApiError {
  if (waitMs === null) {
    return new ApiError(429, "EnrolmentLocked", `${failures} wrong secrets: locked until the operator sets a new secret (\`iomt-gateway renew-secret\`)`, { retryAfter: null, failures });
  }
  const seconds = Math.ceil(waitMs / 1000);
  return new ApiError(429, "EnrolmentLocked", `${failures} wrong secrets: the next attempt is taken in ${seconds} s`, { retryAfter: seconds, failures });
}

// ----------------------------------------------------------------------------- approved tokens

const erc1271Abi = parseAbi(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);
/** `isValidSignature`'s answer for a signature the wallet approves (ERC-1271). */
const ERC1271_MAGIC_VALUE = "0x1626ba7e";

export type ApprovedTokenParameters = { registry: Address; gid: Hex; oid: string; address: string; serialized: string };

/**
 * Checks, on chain, a token the group's Master approved offline (`enrol --token-file`), as the
 * registry will when the device associates (`_tryAssociate`): it must be for exactly this gid, oid
 * and device, and either signed by the Master's key or, for a contract Master (a hospital's
 * multisig), approved by the wallet's ERC-1271 `isValidSignature` over the EIP-191 hash of
 * `tokenDigest(gid, oid, device)`. Resolves with the token, serialized; refuses with
 * `EnrolmentInvalid` and stores nothing (the caller stores it only once it checked out).
 */
export async function checkApprovedToken(client: ReadClient, { registry, gid, oid, address, serialized }: ApprovedTokenParameters): Promise<Hex> {
  const invalid = (why: string) => new ApiError(400, "EnrolmentInvalid", `the token file's token ${why}`);
  let token;
  try {
    token = parseToken(serialized);
  } catch (error) {
    if (error instanceof InvalidTokenError) throw invalid(`is malformed (${error.code}): ${error.message}`);
    throw error;
  }
  let oidId: Hex;
  try {
    oidId = toId(oid);
  } catch (error) {
    throw new ApiError(400, "EnrolmentInvalid", (error as Error).message);
  }
  if (!isAddress(address, { strict: false })) throw new ApiError(400, "EnrolmentInvalid", `${address} is not an address`);
  if (token.gid !== gid.toLowerCase() || token.oid !== oidId.toLowerCase() || token.device !== getAddress(address)) {
    throw invalid(`is for gid ${token.gid}, oid ${token.oid}, device ${token.device}, not for this enrolment (gid ${gid}, oid ${oidId}, device ${getAddress(address)})`);
  }
  const { master, exists } = await getGroup(client, { registry, gid });
  if (!exists) throw invalid(`names group ${gid}, which does not exist on chain`);
  if (verifyToken({ token, master })) return serializeToken(token);
  if ((await getCode(client, { address: master })) === undefined) throw invalid(`was not signed by the group's Master ${master}`);
  let answer: Hex;
  try {
    answer = await readContract(client, { address: master, abi: erc1271Abi, functionName: "isValidSignature", args: [hashMessage({ raw: tokenDigest(token) }), token.signature] });
  } catch (error) {
    // A wallet may revert on a signature it does not approve; anything else (the node) is a fault.
    if (error instanceof BaseError && error.walk((cause) => cause instanceof ContractFunctionRevertedError) !== null) answer = "0x00000000";
    else throw error;
  }
  if (answer.toLowerCase() !== ERC1271_MAGIC_VALUE) throw invalid(`is not approved by the group's Master, the contract wallet ${master} (ERC-1271 isValidSignature)`);
  return serializeToken(token);
}

// ----------------------------------------------------------------------------- enrol

export type EnrolParameters = {
  gid: Hex;
  oid: string;
  address: string;
  /** The secret's hash from `hashEnrolmentSecret`, or none: the device then needs no secret. */
  secretHash?: string | undefined;
  /** A token from `checkApprovedToken` (already checked on chain), served as the device's ticket; none: the gateway signs one. */
  token?: Hex | undefined;
};

/**
 * Adds a device to the enrolment list, in the store's group commit (resolves once durable; its WAL
 * sync off the event loop); refuses an oid taken in the group, or a taken address, with `EnrolmentConflict`.
 */
export async function enrolDevice(store: GatewayStore, { gid, oid, address, secretHash, token }: EnrolParameters): Promise<EnrolmentRow> {
  if (!isAddress(address, { strict: false })) throw new ApiError(400, "EnrolmentInvalid", `${address} is not an address`);
  let id: Hex;
  try {
    id = toId(oid);
  } catch (error) {
    throw new ApiError(400, "EnrolmentInvalid", (error as Error).message);
  }
  const device: Address = getAddress(address);
  // The name as given is kept for `devices` (the chain and the rest of the store know only its hash).
  const row = { oid: id, gid, address: device, secret_hash: secretHash ?? null, enrolled_at: Date.now(), oid_name: oid.toLowerCase() === id ? null : oid, token: token ?? null };
  return store.commit(() => {
    const taken = store.enrolment(gid, id) ?? store.enrolmentByAddress(device);
    if (taken !== undefined) throw new ApiError(409, "EnrolmentConflict", `oid ${taken.oid} / address ${taken.address} is already enrolled`);
    store.enrol(row);
    return { ...row, ticket_issued_at: null, secret_failures: 0, secret_locked_until: null, secret_used_at: null };
  });
}

/** Sets a new secret (or none) for an enrolled device, in the group commit: counters and lock-out start afresh. */
export async function renewEnrolmentSecret(store: GatewayStore, { gid, oid, secretHash }: { gid: Hex; oid: string; secretHash: string | null }): Promise<EnrolmentRow> {
  let id: Hex;
  try {
    id = toId(oid);
  } catch (error) {
    throw new ApiError(400, "EnrolmentInvalid", (error as Error).message);
  }
  return store.commit(() => {
    if (!store.setSecret(gid, id, secretHash)) throw new IomtError("EnrolmentUnknown", `no device is enrolled as oid ${id} in group ${gid}`);
    return store.enrolment(gid, id) as EnrolmentRow;
  });
}
