// The landed gateway `./iomt bench:gateway` compares with: this repository at a revision (by default
// LANDED_GATEWAY, main just before the first change made for the gateway's throughput — the OpenSSL
// record cipher, then the verifier pool), exported with `git archive`, installed with `npm ci` and
// built with its own `gateway:build`, once, into <tmpdir>/iomt-bench-baselines/<revision> (outside
// any node_modules, where TypeScript would take its own sources for a dependency's). It runs
// from its own CLI on its own database, with its own SQLite binding; devices are enrolled through
// its own store. Its wire protocol and registry are this one's (nothing on the wire or on chain
// changed since), so the same devices, sessions and pre-signed messages load it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Address, Hex } from "viem";

/** main at "Console docs: the API's schemas" (2026-12-01 21:09), before eb48770 (OpenSSL records) and dfb7301 (the verifier pool). */
export const LANDED_GATEWAY = "ce81027eb91bed47bb8f2340e42206cf26dd8261";

/** A device to enrol: its group, id and address. */
export type Enrolment = { gid: Hex; oid: Hex; address: Address };

/** The part of a gateway's `dist/index.js` (this one's or the landed one's) that enrols devices. */
export type EnrolmentModule<Store extends { close(): void }> = {
  GatewayStore: { open(path: string): Store };
  enrolDevice(store: Store, parameters: Enrolment): unknown;
};

/**
 * Enrols `devices` in the database at `databasePath` through `module`'s own store, closed even when
 * an enrolment throws (a landed gateway's `enrolDevice` returns the row, this one's a promise of it).
 */
export async function enrolAll<Store extends { close(): void }>({ GatewayStore, enrolDevice }: EnrolmentModule<Store>, databasePath: string, devices: readonly Enrolment[]): Promise<void> {
  const store = GatewayStore.open(databasePath);
  try {
    await Promise.all(devices.map((device) => enrolDevice(store, device)));
  } finally {
    store.close();
  }
}

export type BaselineGateway = {
  revision: string;
  /** The built CLI (`node <cli> init|start --config …`). */
  cli: string;
  /** Enrols devices in a database its `init` created. */
  enrol(databasePath: string, devices: readonly Enrolment[]): Promise<void>;
};

/** Builds `revision` of this repository (cached) and returns its gateway. `log` reports the build's steps. */
export function buildBaseline(revision: string, log: (line: string) => void): BaselineGateway {
  const root = join(import.meta.dirname, "..", "..");
  const full = execFileSync("git", ["rev-parse", "--verify", `${revision}^{commit}`], { cwd: root, encoding: "utf8" }).trim();
  const dir = join(tmpdir(), "iomt-bench-baselines", full);
  const cli = join(dir, "gateway", "dist", "cli.js");
  // Written last: a build that failed half-way is redone, not used.
  const built = join(dir, ".built");
  if (!existsSync(built)) {
    log(`building the landed gateway ${full.slice(0, 10)} into ${dir} (once)`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // The build's output goes to stderr, so that a failure says why.
    execFileSync("bash", ["-c", `git archive ${full} | tar -x -C "${dir}"`], { cwd: root, stdio: ["ignore", 2, 2] });
    // The same npm and Node as this run (./iomt puts Node 22 first on PATH): the SQLite binding is built for it.
    execFileSync("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel", "error"], { cwd: dir, stdio: ["ignore", 2, 2] });
    execFileSync("npm", ["run", "--silent", "gateway:build"], { cwd: dir, stdio: ["ignore", 2, 2] });
    writeFileSync(built, `${new Date().toISOString()}\n`);
  }
  return {
    revision: full,
    cli,
    async enrol(databasePath, devices) {
      await enrolAll((await import(pathToFileURL(join(dir, "gateway", "dist", "index.js")).href)) as EnrolmentModule<{ close(): void }>, databasePath, devices);
    },
  };
}
