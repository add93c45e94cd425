// `start` checks the chain before it listens (src/preflight.ts), through the CLI binary against a
// real anvil with a deployed registry: a chainId other than the node's, a registry address without
// code and a key that neither masters nor may anchor for a served group are each fatal, with their
// own code, and nothing listens; before these checks each of the first two started and served.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { freePort } from "../../sdk/test/support/ports.js";
import { expectCliFailure, runCli, runCliJson } from "./support/cli.js";
import { configFile, createHarness, type Harness } from "./support/harness.js";

describe("gateway start: a configuration the chain contradicts is refused before listening", function () {
  this.timeout(120_000);
  let harness: Harness;
  let configs = 0;

  before(async () => {
    harness = await createHarness();
  });

  after(async () => {
    await harness?.close();
  });

  /** Starts the gateway through the CLI with these settings (on a new database) and expects it to be refused. */
  async function refusedStart(overrides: Parameters<Harness["settings"]>[0], code: string): Promise<string> {
    const port = await freePort();
    const config = configFile(harness, `preflight-${++configs}`, { databasePath: join(harness.dir, `preflight-${configs}.db`), port: String(port), logLevel: "warn", ...overrides });
    await runCliJson(config, "init");
    const line = expectCliFailure(await runCli(["start", "--config", config]), 2, code);
    await fetch(`http://127.0.0.1:${port}/health/live`).then(
      () => expect.fail("the refused gateway answers HTTP"),
      (error: Error) => expect(error.message).to.equal("fetch failed"),
    );
    return line;
  }

  it("refuses a chainId other than the node's with ChainIdMismatch, naming both", async () => {
    expect(await refusedStart({ chainId: "1" }, "ChainIdMismatch")).to.match(new RegExp(`the node at rpcUrl is chain ${harness.anvil.chainId}, but chainId is 1: .*point rpcUrl at the right node or correct chainId`));
  });

  it("refuses a registry address without code with RegistryNotDeployed", async () => {
    const nowhere = privateKeyToAccount(generatePrivateKey()).address;
    expect(await refusedStart({ registry: nowhere }, "RegistryNotDeployed")).to.include(`there is no contract at registry ${nowhere} on chain ${harness.anvil.chainId}`);
  });

  it("refuses a key that neither masters nor may anchor for a served group with KeyNotAuthorized", async () => {
    const keyFile = join(harness.dir, "stranger.key");
    const stranger = generatePrivateKey();
    writeFileSync(keyFile, `${stranger}\n`);
    chmodSync(keyFile, 0o600);
    // By gid: the harness's group, which the stranger's key did not create.
    expect(await refusedStart({ keyFile, groups: harness.gid }, "KeyNotAuthorized")).to.include(`the key ${privateKeyToAccount(stranger).address} neither masters group ${harness.gid} nor may anchor for it`);
  });
});
