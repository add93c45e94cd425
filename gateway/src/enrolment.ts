// Enrolment: the Master's list of devices it will issue tokens to, each an oid bound to the
// address the device's key must have, optionally with a one-time secret the device must show in
// getTicket. Secrets are stored as scrypt hashes (they may be short, typed at a bedside).
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { toId } from "@iomt-auth/sdk";
import { ApiError } from "./errors.js";
import type { EnrolmentRow, GatewayStore } from "./store.js";

const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;

export function hashEnrolmentSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${salt.toString("hex")}$${hash.toString("hex")}`;
}

export function checkEnrolmentSecret(secret: string, stored: string): boolean {
  const [scheme, n, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, "hex");
  const actual = scryptSync(secret, Buffer.from(salt, "hex"), expected.length, { ...SCRYPT, N: Number(n) });
  return timingSafeEqual(actual, expected);
}

export type EnrolParameters = { gid: Hex; oid: string; address: string; secret?: string | undefined };

/** Adds a device to the enrolment list; refuses an oid taken in the group, or a taken address, with `EnrolmentConflict`. */
export function enrolDevice(store: GatewayStore, { gid, oid, address, secret }: EnrolParameters): EnrolmentRow {
  if (!isAddress(address, { strict: false })) throw new ApiError(400, "EnrolmentInvalid", `${address} is not an address`);
  let id: Hex;
  try {
    id = toId(oid);
  } catch (error) {
    throw new ApiError(400, "EnrolmentInvalid", (error as Error).message);
  }
  const device: Address = getAddress(address);
  const row = { oid: id, gid, address: device, secret_hash: secret === undefined || secret === "" ? null : hashEnrolmentSecret(secret), enrolled_at: Date.now() };
  return store.transaction(() => {
    const taken = store.enrolment(gid, id) ?? store.enrolmentByAddress(device);
    if (taken !== undefined) throw new ApiError(409, "EnrolmentConflict", `oid ${taken.oid} / address ${taken.address} is already enrolled`);
    store.enrol(row);
    return { ...row, ticket_issued_at: null };
  });
}
