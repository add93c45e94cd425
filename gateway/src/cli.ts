#!/usr/bin/env node
// iomt-gateway's entry point. It checks the Node version against the package's `engines` before
// anything else is loaded: better-sqlite3 (and commander) need Node >= 22, and on Node 20 the
// SQLite binding kills the process with a segmentation fault (exit 139) and no message. So this
// file imports only Node's own modules, and loads the commands (commands.ts) once the check passed.
import { readFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string; engines: { node: string } };

/** The refusal when this Node is older than `engines.node` (a `>=major.minor.patch` range), else undefined. */
function unsupportedNode(running: string, range: string): { code: string; message: string } | undefined {
  const wanted = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (wanted === null) throw new Error(`gateway/package.json: engines.node ${range} is not of the form >=X.Y.Z`);
  const have = running.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    if (have[i] > Number(wanted[i + 1])) return undefined;
    if (have[i] < Number(wanted[i + 1])) {
      return { code: "NodeVersionUnsupported", message: `this is Node ${running}; iomt-gateway ${manifest.version} needs Node ${range} (its SQLite binding crashes on older versions): install Node 22 LTS` };
    }
  }
  return undefined;
}

const refusal = unsupportedNode(process.versions.node, manifest.engines.node);
if (refusal !== undefined) {
  console.error(`iomt-gateway: ${refusal.code}: ${refusal.message}`);
  process.exitCode = 2;
} else {
  const { runCli } = await import("./commands.js");
  await runCli(process.argv.slice(2), manifest.version);
}
