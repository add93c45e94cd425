// Provisioning bundles: what `enrol` and `renew-secret` hand the operator for one device's firmware
// (docs/protocol.md §9) — the gateway's public URL, chain, registry, group, Master, the device's oid
// and address, and its enrolment secret. The bundle goes to stdout, or with --bundle-file to a new
// file only its owner can read; it is made through the SDK's own parser, so the gateway never
// writes a bundle the device's client would refuse.
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { IomtError, parseProvisioningBundle, PROVISIONING_FORMAT, PROVISIONING_VERSION, type ProvisioningBundle } from "@iomt-auth/sdk";
import type { GatewayConfig, LoadedConfig } from "./config.js";
import { GatewayConfigError } from "./errors.js";
import type { EnrolmentRow } from "./store.js";

/**
 * The bundle for an enrolled device; `secret` is the one just set, if any. `master` is this
 * gateway's key: the key its handshake proves, which the device checks.
 */
export function provisioningBundle({ config, account }: LoadedConfig, row: Pick<EnrolmentRow, "gid" | "oid" | "address">, secret: string | undefined): ProvisioningBundle {
  return parseProvisioningBundle({
    format: PROVISIONING_FORMAT,
    version: PROVISIONING_VERSION,
    gatewayUrl: requirePublicUrl(config),
    chainId: config.chainId,
    registry: config.registry,
    gid: row.gid,
    master: account.address,
    oid: row.oid,
    device: row.address,
    ...(secret === undefined ? {} : { secret }),
  });
}

/** The configured (or derived) public URL; `GatewayConfigInvalid` when there is none (port 0 and no publicUrl). */
export function requirePublicUrl(config: Pick<GatewayConfig, "publicUrl">): string {
  if (config.publicUrl === undefined) {
    throw new GatewayConfigError("a provisioning bundle needs the URL devices reach the gateway at: set publicUrl (with port 0 it cannot be derived from host and port)");
  }
  return config.publicUrl;
}

/** A bundle file created (empty, 0600) before the enrolment is stored, so a path that cannot be written changes nothing. */
export type BundleFile = {
  path: string;
  /** Writes the bundle and closes the file. */
  write(bundle: ProvisioningBundle): void;
  /** Removes the file (the enrolment failed). */
  discard(): void;
};

/** Creates `path` for a bundle: a new file, readable and writable by its owner only; refuses an existing one. */
export function createBundleFile(path: string): BundleFile {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new IomtError("CliUsage", `cannot create bundle file ${path}: ${code}${code === "EEXIST" ? " (a bundle file is never overwritten: it may be another device's)" : ""}`);
  }
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    path,
    write(bundle) {
      try {
        writeSync(fd, `${JSON.stringify(bundle, null, 2)}\n`);
      } finally {
        close();
      }
    },
    discard() {
      close();
      rmSync(path, { force: true });
    },
  };
}
