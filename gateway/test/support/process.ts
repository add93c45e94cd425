// The gateway as its own process, started by its CLI as an operator would, for the tests that
// kill it (kill -9) and start it again on the same database.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { eventually } from "./harness.js";

export const cli = join(import.meta.dirname, "..", "..", "dist", "cli.js");

/** Starts `iomt-gateway start` as its own process and waits until it answers /health/live. */
export async function spawnGateway(configFile: string, url: string, ...flags: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cli, "start", "--config", configFile, ...flags], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  await eventually("the gateway process to answer /health/live", async () => {
    if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}: ${stderr}`);
    try {
      return (await fetch(`${url}/health/live`)).ok ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return child;
}

export const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));

/** kill -9, and wait until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  await exited(child);
}

/** A free-looking port for a gateway process (the tests' range). */
export const randomPort = () => 20_000 + Math.floor(Math.random() * 20_000);
