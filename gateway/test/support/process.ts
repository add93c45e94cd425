// The gateway as its own process, for the tests that kill it (kill -9) and start it again on the
// same database (through support/cli.ts), and a slow JSON-RPC link for the tests of a lagging mirror.
import type { ChildProcess } from "node:child_process";
import { freePort } from "../../../sdk/test/support/ports.js";
import { exited, spawnGateway as spawnCliGateway } from "./cli.js";

export { cli, exited } from "./cli.js";

/** Starts `iomt-gateway start` as its own process (support/cli.ts) and returns the child process. */
export async function spawnGateway(configFile: string, url: string, ...flags: string[]): Promise<ChildProcess> {
  return (await spawnCliGateway(configFile, url, ...flags)).child;
}

/** kill -9, and wait until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  await exited(child);
}

/** A free port for a gateway process. */
export const randomPort = freePort;

/**
 * A JSON-RPC proxy in front of `target` that holds each call of the named methods for the given
 * milliseconds: a slow or distant node, for the tests of a mirror that lags.
 */
export async function startDelayingProxy(target: string, delays: Record<string, number>): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import("node:http");
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let method = "";
      try {
        method = (JSON.parse(body) as { method?: string }).method ?? "";
      } catch {
        // forwarded as it is
      }
      const delay = delays[method] ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        const answer = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
        response.writeHead(answer.status, { "content-type": "application/json" });
        response.end(await answer.text());
      } catch {
        response.writeHead(502);
        response.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
