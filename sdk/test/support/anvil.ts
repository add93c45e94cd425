// anvil as a real JSON-RPC node for the SDK's and the gateway's tests, started on 127.0.0.1 by
// the test and stopped after it. It can also stop and start again on the same port with its state
// kept (`--state`), which is how the gateway's tests take the chain away from a running gateway.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createPublicClient, http } from "viem";
import { freePort } from "./ports.js";

export type AnvilNode = {
  url: string;
  chainId: number;
  /** Stops the node (SIGTERM: it writes its state file first). */
  stop(): Promise<void>;
  /** Starts it again on the same port from its state file. */
  restart(): Promise<void>;
};

export type StartAnvilNodeParameters = {
  chainId?: number;
  /** Keep state across stop/restart in this file. */
  statePath?: string;
  /** Seconds per block (default: mine on every transaction). */
  blockTime?: number;
  /** EVM rules; `osaka` has the EIP-7951 P256VERIFY precompile at 0x100. */
  hardfork?: "cancun" | "london" | "osaka";
  /** Gas price and base fee 0, as on a private PoA chain where gas is free. */
  zeroGasPrice?: boolean;
};

export async function startAnvilNode({ chainId = 1337, statePath, blockTime, hardfork = "cancun", zeroGasPrice = false }: StartAnvilNodeParameters = {}): Promise<AnvilNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const bin = createRequire(import.meta.url).resolve("@foundry-rs/anvil/bin.mjs");
  const args = [bin, "--host", "127.0.0.1", "--port", String(port), "--chain-id", String(chainId), "--hardfork", hardfork, "--silent"];
  if (statePath !== undefined) args.push("--state", statePath);
  if (blockTime !== undefined) args.push("--block-time", String(blockTime));
  if (zeroGasPrice) args.push("--gas-price", "0", "--base-fee", "0");
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const process_ = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    child = process_;
    let stderr = "";
    process_.stderr?.on("data", (chunk) => (stderr += chunk));
    const probe = createPublicClient({ transport: http(url, { retryCount: 0 }) });
    for (let attempt = 0; ; attempt++) {
      try {
        await probe.getChainId();
        return;
      } catch {
        if (process_.exitCode !== null || attempt > 300) {
          process_.kill("SIGKILL");
          throw new Error(`anvil did not start on ${url}: ${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  await start();
  return {
    url,
    chainId,
    stop: () =>
      new Promise<void>((resolve) => {
        const running = child;
        if (running === undefined || running.exitCode !== null) return resolve();
        running.once("exit", () => resolve());
        running.kill("SIGTERM");
      }),
    restart: start,
  };
}
