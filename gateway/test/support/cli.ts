// The gateway's CLI (`iomt-gateway`, gateway/dist/cli.js, built by scripts/test-all.mjs before the
// gateway's tests) as an operator runs it: one-shot commands, and `start` as its own process whose
// structured log lines the tests can read.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { expect } from "chai";
import { recordAssertion } from "../../../sdk/test/support/ledger.js";
import { eventually } from "./harness.js";

export const cli = join(import.meta.dirname, "..", "..", "dist", "cli.js");

export type CliResult = { code: number; stdout: string; stderr: string };

/** How to run the CLI: in another folder (`cwd`), or under another Node binary (`node`). */
export type RunCliOptions = { cwd?: string; node?: string };

/** Runs `iomt-gateway …args` to completion (never throws on a non-zero exit). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env, { cwd, node = process.execPath }: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(node, [cli, ...args], { env, cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command that prints JSON with `--config configFile`, expecting success. */
export async function runCliJson(configFile: string, ...args: string[]): Promise<unknown> {
  const result = await runCli([...args, "--config", configFile]);
  expect(result.code, result.stderr).to.equal(0);
  return JSON.parse(result.stdout);
}

/** Asserts a CLI failure: this exit code and `iomt-gateway: <code>: …` on stderr (the code is recorded). */
export function expectCliFailure(result: CliResult, exitCode: number, code: string): string {
  const line = result.stderr.split("\n").find((text) => text.startsWith("iomt-gateway: "));
  expect(line, `stderr: ${result.stderr}`).to.match(new RegExp(`^iomt-gateway: ${code}: .+`));
  expect(result.code, result.stderr).to.equal(exitCode);
  recordAssertion("code", code);
  return line!;
}

/** A gateway process started through the CLI, with its log lines (pino JSON on stdout) and its raw output. */
export type GatewayProcess = { child: ChildProcess; logs: () => Record<string, unknown>[]; stdout: () => string; stderr: () => string };

/** Starts `iomt-gateway start` as its own process and waits until it answers /health/live. */
export async function spawnGateway(configFile: string, url: string, ...flags: string[]): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [cli, "start", "--config", configFile, ...flags], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => (stdout += chunk));
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  await eventually("the gateway process to answer /health/live", async () => {
    if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}: ${stderr}`);
    try {
      return (await fetch(`${url}/health/live`)).ok ? true : undefined;
    } catch {
      return undefined;
    }
  });
  const logs = () =>
    stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, logs, stdout: () => stdout, stderr: () => stderr };
}

export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
