// The operator console's admin token: a file of 32 random bytes (hex), 0600, like the key and the
// pepper files; `iomt-gateway admin-token` creates it. The console's JSON API answers a request only
// with `Authorization: Bearer <token>`, compared in constant time (over SHA-256 digests, so that
// neither the token's length nor its first differing byte shows in the time taken).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { GatewayConfigError } from "../errors.js";

const TOKEN_BYTES = 32;
/** A token an operator wrote by hand: at least this long, visible ASCII without spaces. */
const MIN_TOKEN_LENGTH = 32;

/** Reads the admin token file: one line of 32 to 256 visible ASCII characters, readable by its owner only. */
export function readAdminTokenFile(path: string): string {
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) throw new GatewayConfigError(`admin token file ${path} is readable by group or others; chmod 600 it`);
    text = readFileSync(path, "utf8").replace(/\r?\n$/, "");
  } catch (cause) {
    if (cause instanceof GatewayConfigError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code ?? "error";
    throw new GatewayConfigError(`cannot read admin token file ${path}: ${code}${code === "ENOENT" ? " (`iomt-gateway admin-token` creates it)" : ""}`);
  }
  if (text.length < MIN_TOKEN_LENGTH || text.length > 256 || !/^[\x21-\x7e]+$/.test(text)) {
    throw new GatewayConfigError(`admin token file ${path} must hold one line of ${MIN_TOKEN_LENGTH} to 256 visible ASCII characters (\`iomt-gateway admin-token\` writes 64 hex digits)`);
  }
  return text;
}

/** Creates an admin token file of 32 random bytes as hex (0600); refuses to overwrite one. */
export function createAdminTokenFile(path: string): void {
  try {
    writeFileSync(path, `${randomBytes(TOKEN_BYTES).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (cause) {
    throw new GatewayConfigError(`cannot create admin token file ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
}

/** Whether an `Authorization` header carries `token` as a Bearer credential, in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(header ?? "");
  const given = createHash("sha256").update(match?.[1] ?? "").digest();
  const expected = createHash("sha256").update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}
