// The main job (`./iomt demo`, scripts/demo.ts) against a real JSON-RPC node: anvil as a PoA-like
// chain (chain id 1337, zero gas price, 1 s blocks) with `--rpc`, and a random field of devices
// with `--devices`; then with half the fleet on P-256 keys and the root group mastered by the test
// multisig (`--p256-share`, `--multisig-root`) on a chain with the P256VERIFY precompile (Osaka);
// then hierarchical anchoring across the three levels (`--hierarchical`).
// CI runs the default mode (in-process, Al Ahmed et al.'s scenario) separately.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createPublicClient, http, type Address } from "viem";
import { getGroup, groupId } from "@iomt-auth/sdk";
import { startAnvilNode, type AnvilNode } from "../../sdk/test/support/anvil.js";
import { rejection } from "./support/expect.js";

const run = promisify(execFile);
/** Runs the demo with `args` as its own process; resolves with its output, rejects (with `code`, `stderr`) when it exits non-zero. */
const demo = (...args: string[]) => run(process.execPath, [join("node_modules", "tsx", "dist", "cli.mjs"), "scripts/demo.ts", ...args], { maxBuffer: 16 * 1024 * 1024 });

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
    ({ stdout } = await demo("--rpc", anvil.url, "--devices", "24", "--seed", "5", "--messages", "4", "--out", out));
  });

  after(async () => {
    await anvil?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("plans a random field, runs every device over HTTP and anchors every message", () => {
    expect(stdout).to.match(/Plan \(Al Ahmed et al., Algorithm 1; 24 devices/);
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

describe("the main job with P-256 devices and a multisig root Master", function () {
  this.timeout(300_000);
  let anvil: AnvilNode;
  let out: string;
  let stdout: string;

  before(async () => {
    anvil = await startAnvilNode({ chainId: 1337, blockTime: 1, zeroGasPrice: true, hardfork: "osaka" });
    out = mkdtempSync(join(tmpdir(), "iomt-main-job-p256-"));
    ({ stdout } = await demo("--rpc", anvil.url, "--devices", "16", "--seed", "7", "--messages", "2", "--p256-share", "0.5", "--multisig-root", "--out", out));
  });

  after(async () => {
    await anvil?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("gives ⌊N × 0.5⌋ devices a P-256 key and runs every device over HTTP, anchoring every message", () => {
    const [p256, devices] = numbers(stdout, /(\d+) of (\d+) with a P-256 key/);
    expect(p256).to.equal(Math.floor(devices * 0.5)).and.be.greaterThan(0);
    const [enrolled, total, associated] = numbers(stdout, /devices enrolled (\d+)\/(\d+) · associated (\d+)\//);
    expect([enrolled, associated]).to.deep.equal([total, total]);
    expect(total).to.equal(devices);
    const [sent, acknowledged, anchoredCount] = numbers(stdout, /messages sent (\d+) \(acknowledged (\d+)\) · anchored (\d+)/);
    expect([acknowledged, anchoredCount]).to.deep.equal([sent, sent]);
    expect(sent).to.equal(2 * total);
  });

  it("has the multisig master the root group on chain, approve the cluster heads' tokens and revoke one, cutting exactly its members' paths", async () => {
    const [multisig] = stdout.match(/Root group of (\S+) mastered by the 2-of-3 multisig (0x[0-9a-fA-F]{40})/)!.slice(2) as [Address];
    const [registry] = stdout.match(/registry (0x[0-9a-fA-F]{40})/)!.slice(1) as [Address];
    const root = stdout.match(/Root group of (\S+) mastered/)![1];
    const client = createPublicClient({ transport: http(anvil.url) });
    const group = await getGroup(client, { registry, gid: groupId({ chainId: 1337, registry, creator: multisig, label: `cluster:${root}` }) });
    expect(group).to.deep.include({ exists: true, master: multisig, active: true });
    const [valid, all] = numbers(stdout, /checked offline by peers: (\d+)\/(\d+) Valid/);
    expect(valid).to.equal(all);
    expect(stdout).to.match(/its \d+ members' paths now Revoked at step 1; the other \d+ still Valid/);
    expect(stdout).to.include("Its gateway's /health/ready: GroupRegistryMasterRevoked");
    const summary = readFileSync(join(out, "summary.md"), "utf8");
    expect(summary).to.include("Everything checked out.");
    for (const row of ["createGroup (root cluster, by the multisig)", "associate a cluster head (token approved by the multisig, ERC-1271)", "revoke a cluster head (by the multisig)"]) expect(summary).to.include(`| ${row} | `);
  });

  it("refuses a --p256-share outside 0 … 1 with exit code 2, before touching any chain", async () => {
    const failure = (await rejection(demo("--rpc", "http://127.0.0.1:9", "--p256-share", "1.5"))) as { code: number; stderr: string };
    expect(failure.code).to.equal(2);
    expect(failure.stderr).to.include("--p256-share takes a fraction from 0 to 1, got 1.5");
  });
});

describe("the main job with hierarchical anchoring across the paper's three levels", function () {
  this.timeout(300_000);
  let anvil: AnvilNode;
  let out: string;
  let stdout: string;

  before(async () => {
    anvil = await startAnvilNode({ chainId: 1337, blockTime: 1, zeroGasPrice: true });
    out = mkdtempSync(join(tmpdir(), "iomt-main-job-hierarchical-"));
    ({ stdout } = await demo("--rpc", anvil.url, "--devices", "24", "--seed", "5", "--messages", "2", "--hierarchical", "--out", out));
  });

  after(async () => {
    await anvil?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("anchors every message through the root groups' aggregates only, each two-part proof checking out", async () => {
    const [sent, acknowledged, anchoredCount] = numbers(stdout, /messages sent (\d+) \(acknowledged (\d+)\) · anchored (\d+)/);
    expect([acknowledged, anchoredCount]).to.deep.equal([sent, sent]);
    const summary = readFileSync(join(out, "summary.md"), "utf8");
    expect(summary).to.include("Everything checked out.");
    const [all, transactions, valid, of] = numbers(summary, /all (\d+) messages anchored on chain in (\d+) transactions of the root groups' gateways .*?; (\d+) of (\d+) two-part proofs/);
    expect([all, valid, of]).to.deep.equal([sent, sent, sent]);
    expect(transactions).to.be.greaterThan(0);
    expect(summary).to.match(/\| anchorBatch \(a root group's gateway anchors an aggregate\) \| \d+ \| [\d,]+ \|/);
    expect(summary).to.not.include("anchorBatch (a gateway anchors a batch)");
  });

  it("refuses --hierarchical with --multisig-root with exit code 2, before touching any chain", async () => {
    const failure = (await rejection(demo("--rpc", "http://127.0.0.1:9", "--hierarchical", "--multisig-root"))) as { code: number; stderr: string };
    expect(failure.code).to.equal(2);
    expect(failure.stderr).to.include("--hierarchical and --multisig-root do not go together");
  });
});
