// The README's "Quickstart: your own chain", walked exactly as written. The test does what the
// section's prose asks of the reader — a chain (an anvil it starts, on a free port and an unusual
// chain id), a funded key in a 0600 file, the four IOMT_* variables, a free port for the gateway —
// then runs the section's fenced blocks in order in one bash, from the repository's root: each
// ```sh block as it is, each ```js block whose info string names a file saved to that file at
// that point (as the reader is told to save it). It checks what the section says the device
// prints, then stops everything the blocks started (the whole process group, the gateway
// included) and removes what they wrote: quickstart/ (a reader's own one is set aside and put
// back) and the deployment's ignition/deployments/chain-<id>/.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "chai";
import { createPublicClient, http, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startAnvilNode, type AnvilNode } from "../../sdk/test/support/anvil.js";
import { freePort } from "../../sdk/test/support/ports.js";

const repo = resolve(import.meta.dirname, "..", "..");
const SECTION = "## Quickstart: your own chain";
/** The heredoc delimiter the harness wraps a saved file in. */
const FILE_END = "IOMT_QUICKSTART_FILE_END";

type Block = { kind: "run"; code: string } | { kind: "save"; path: string; code: string };

/** The section's fenced blocks in order; a block the test would not know how to walk is an error. */
function quickstartBlocks(readme: string): Block[] {
  const start = readme.indexOf(SECTION);
  if (start < 0) throw new Error(`README.md has no "${SECTION}" section`);
  const next = readme.indexOf("\n## ", start + SECTION.length);
  const section = readme.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/^```(\S*)[ \t]*(\S*)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)].map(([, lang, path, code]): Block => {
    if (lang === "sh" && path === "") return { kind: "run", code };
    if (lang !== "sh" && path !== "") return { kind: "save", path, code };
    throw new Error(`a \`\`\`${lang} block in the quickstart neither runs (sh) nor names the file to save it as`);
  });
}

/** One bash script: the blocks in order, each file saved where its block stands. */
function scriptOf(blocks: Block[]): string {
  const lines = ["set -euo pipefail"];
  for (const block of blocks) {
    if (block.kind === "run") lines.push(block.code);
    else {
      if (block.code.includes(FILE_END)) throw new Error(`${block.path} contains the harness's delimiter`);
      lines.push(`cat > '${block.path}' <<'${FILE_END}'\n${block.code}${FILE_END}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

describe("README quickstart: your own chain, walked exactly as written", function () {
  // Building the gateway, deploying through Ignition and a batch's anchoring: a few minutes on a busy machine.
  this.timeout(900_000);

  let anvil: AnvilNode | undefined;
  let dir: string;
  let chainId: number;
  let setAside: string | undefined;
  const quickstartDir = join(repo, "quickstart");

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "iomt-quickstart-"));
    if (existsSync(quickstartDir)) {
      setAside = join(dir, "readers-quickstart");
      renameSync(quickstartDir, setAside);
    }
    // An unusual chain id, so no deployment recorded in ignition/deployments/ is taken for this one.
    chainId = 900_000 + Math.floor(Math.random() * 90_000);
    anvil = await startAnvilNode({ chainId });
  });

  after(async function () {
    await anvil?.stop();
    rmSync(quickstartDir, { recursive: true, force: true });
    if (setAside !== undefined) renameSync(setAside, quickstartDir);
    rmSync(join(repo, "ignition", "deployments", `chain-${chainId}`), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it("deploys, starts a gateway, enrols a device with its bundle, and the device associates and gets its reading anchored", async function () {
    const blocks = quickstartBlocks(readFileSync(join(repo, "README.md"), "utf8"));
    expect(blocks.map((block) => block.kind), "sh blocks and the device's file").to.include.members(["run", "save"]);

    // What the prose asks for: a key that may send transactions, in a 0600 file, and the variables.
    const key = generatePrivateKey();
    const keyFile = join(dir, "master.key");
    writeFileSync(keyFile, `${key}\n`);
    chmodSync(keyFile, 0o600);
    const client = createPublicClient({ transport: http(anvil!.url) });
    await client.request({ method: "anvil_setBalance" as never, params: [privateKeyToAccount(key).address, `0x${parseEther("100").toString(16)}`] as never });
    const port = await freePort();
    // As a reader's shell: nothing of the test runner's own settings (its tsx loader, its IOMT_* and HARDHAT_* variables).
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("IOMT_") && !name.startsWith("HARDHAT_") && name !== "NODE_OPTIONS"));
    const env = { ...inherited, IOMT_RPC_URL: anvil!.url, IOMT_CHAIN_ID: String(chainId), IOMT_DEPLOYER_KEY_FILE: keyFile, IOMT_GATEWAY_PORT: String(port) };

    // Its own process group, so that everything the blocks start in the background is stopped with it.
    const child = spawn("bash", ["-c", scriptOf(blocks)], { cwd: repo, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolveExit) => child.once("exit", (exitCode) => resolveExit(exitCode)));
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // The group is gone already.
    }
    const log = () => `--- stdout\n${stdout.slice(-4_000)}\n--- stderr\n${stderr.slice(-4_000)}\n--- quickstart/gateway.log\n${existsSync(join(quickstartDir, "gateway.log")) ? readFileSync(join(quickstartDir, "gateway.log"), "utf8").slice(-4_000) : "(none)"}`;
    expect(code, log()).to.equal(0);

    // What the section says the device prints.
    expect(stdout, log()).to.contain("association: associated, AuthTable leaf 0");
    expect(stdout, log()).to.match(/^reading: anchored in transaction 0x[0-9a-f]{64}$/m);
    // The bundle enrol wrote: a file only its owner can read.
    expect(statSync(join(quickstartDir, "ecg-1.json")).mode & 0o777).to.equal(0o600);
    expect(JSON.parse(readFileSync(join(quickstartDir, "ecg-1.json"), "utf8"))).to.include({ chainId, gatewayUrl: `http://127.0.0.1:${port}` });
  });
});
