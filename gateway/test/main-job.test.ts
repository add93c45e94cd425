// The main job (`./iomt demo`, scripts/demo.ts) against a real JSON-RPC node: anvil as a PoA-like
// chain (chain id 1337, zero gas price, 1 s blocks) with `--rpc`, and a random field of devices
// with `--devices`. CI runs the default mode (in-process, paper 003's scenario) separately.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startAnvilNode, type AnvilNode } from "../../sdk/test/support/anvil.js";

const run = promisify(execFile);

/** The numbers `pattern` captures in `text`; fails, naming the line, when the line is missing. */
function numbers(text: string, pattern: RegExp): number[] {
  const match = text.match(pattern);
  expect(match, `no line matches ${pattern}`).to.not.equal(null);
  return match!.slice(1).map(Number);
}

describe("the main job against a JSON-RPC node", function () {
  this.timeout(300_000);
  let anvil: AnvilNode;
  let out: string;
  let stdout: string;

  before(async () => {
    anvil = await startAnvilNode({ chainId: 1337, blockTime: 1, zeroGasPrice: true });
    out = mkdtempSync(join(tmpdir(), "iomt-main-job-"));
    ({ stdout } = await run(process.execPath, [join("node_modules", "tsx", "dist", "cli.mjs"), "scripts/demo.ts", "--rpc", anvil.url, "--devices", "24", "--seed", "5", "--messages", "4", "--out", out], {
      maxBuffer: 16 * 1024 * 1024,
    }));
  });

  after(async () => {
    await anvil?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("plans a random field, runs every device over HTTP and anchors every message", () => {
    expect(stdout).to.match(/Plan \(paper 003, Algorithm 1; 24 devices/);
    const [enrolled, total, associated] = numbers(stdout, /devices enrolled (\d+)\/(\d+) · associated (\d+)\//);
    expect(enrolled).to.equal(total).and.be.greaterThan(0);
    expect(associated).to.equal(total);
    const [sent, acknowledged, anchoredCount, batches] = numbers(stdout, /messages sent (\d+) \(acknowledged (\d+)\) · anchored (\d+) in (\d+) batches/);
    expect(sent).to.equal(4 * total);
    expect(acknowledged).to.equal(sent);
    expect(anchoredCount).to.equal(sent);
    expect(batches).to.be.greaterThan(0);
  });

  it("shows peers' paths valid, then exactly the revoked head's members failing, and its gateway cut off by the registry", () => {
    const [valid, all] = numbers(stdout, /checked offline by peers: (\d+)\/(\d+) Valid/);
    expect(all).to.be.greaterThan(0);
    expect(valid).to.equal(all);
    expect(stdout).to.match(/its \d+ members' paths now Revoked at step 1; the other \d+ still Valid/);
    expect(stdout).to.include("Its gateway's /health/ready: GroupRegistryMasterRevoked");
  });

  it("writes the summary as Markdown with SVG charts", () => {
    const summary = readFileSync(join(out, "summary.md"), "utf8");
    expect(summary).to.include("Everything checked out.");
    expect(summary).to.include(`Chain: ${anvil.url} (chain id 1337)`);
    expect(summary).to.match(/\| device association relayed by its gateway \(per device\) \| \d+ \| [\d,]+ \|/);
    for (const chart of ["gas.svg", "auth-time.svg", "path-size.svg"]) {
      expect(existsSync(join(out, chart)), chart).to.equal(true);
      expect(readFileSync(join(out, chart), "utf8")).to.match(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    }
  });
});
