// The documented deployment path (`./iomt deploy`, i.e. scripts/deploy.ts) against anvil run as a
// PoA-like chain: chain id 1337, zero gas price and base fee, 2 s blocks. The contract tests run
// once per EVM target, so this deploys the default build to anvil's Cancun and the london build
// to anvil `--hardfork london`.
import { expect } from "chai";
import { encryptKeystoreJson } from "ethers";
import hre from "hardhat";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createPublicClient, http, parseAbi, type Address, type Hex } from "viem";
import { groupId } from "@iomt-auth/sdk";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startAnvilNode, type AnvilNode } from "../sdk/test/support/anvil.js";
import { expectOpcodesOfTarget } from "./support/bytecode.js";

const run = promisify(execFile);
const target = process.env.IOMT_EVM === "london" ? "london" : "cancun";

/** The bytecode with every immutable's bytes zeroed. */
function maskImmutables(code: Hex, references: readonly { start: number; length: number }[]): string {
  const bytes = Buffer.from(code.slice(2), "hex");
  for (const { start, length } of references) bytes.fill(0, start, start + length);
  return bytes.toString("hex");
}

type DeployResult = { chainId: number; evm: string; registry: Address; aggregateVerifier: Address; deployer: Address; deploymentDir: string; rootGroup: { gid: Hex; label: Hex; master: Address; masterOid: Hex; active: boolean } };
const parameters = JSON.parse(readFileSync("ignition/parameters/hospital.json", "utf8")) as { IomtHospital: { label: Hex; masterOid: Hex } };

describe(`Deployment to a PoA-like chain (anvil: chain id 1337, zero gas price, 2 s blocks, ${target} build)`, function () {
  this.timeout(240_000);
  let anvil: AnvilNode;
  const deploymentId = `test-poa-${target}-${process.pid}`;
  const deployerKey = generatePrivateKey();
  const deployer = privateKeyToAccount(deployerKey);

  /**
   * Runs the deploy script as an operator's shell would: with only the given IOMT_* settings, and
   * without the HARDHAT_* options of this test run (under `--coverage` they would make the child
   * compile instrumented contracts).
   */
  async function deploy(env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("IOMT_") && !name.startsWith("HARDHAT_")));
    return run(process.execPath, [join("node_modules", "tsx", "dist", "cli.mjs"), "scripts/deploy.ts"], {
      env: { ...inherited, IOMT_EVM: target, IOMT_SKIP_BUILD: "1", IOMT_DEPLOYMENT_ID: deploymentId, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  const lastJson = (stdout: string): DeployResult => JSON.parse(stdout.slice(stdout.lastIndexOf("\n{") + 1)) as DeployResult;

  before(async () => {
    anvil = await startAnvilNode({ chainId: 1337, blockTime: 2, hardfork: target, zeroGasPrice: true });
  });

  after(async () => {
    await anvil?.stop();
    rmSync(join("ignition", "deployments", deploymentId), { recursive: true, force: true });
  });

  const client = () => createPublicClient({ transport: http(anvil.url, { retryCount: 0 }) });

  it("deploys the registry and the hospital's root group from the environment, with a key that holds no ether", async () => {
    const { stdout } = await deploy({ IOMT_RPC_URL: anvil.url, IOMT_CHAIN_ID: "1337", IOMT_DEPLOYER_KEY: deployerKey });
    const result = lastJson(stdout);
    expect(result).to.deep.include({ chainId: 1337, evm: target, deployer: deployer.address });
    expect(result.rootGroup.master).to.equal(deployer.address);
    expect(result.rootGroup.active).to.equal(true);
    // The gid the registry derived from the deployer's key and the label: nobody else could create it.
    const { label, masterOid } = parameters.IomtHospital;
    expect(result.rootGroup).to.deep.include({ label, masterOid, gid: groupId({ chainId: 1337, registry: result.registry, creator: deployer.address, label }) });
    const journal = readFileSync(join(result.deploymentDir, "journal.jsonl"), "utf8");
    expect(journal).to.include(result.rootGroup.gid);
    expect(await client().getBalance({ address: deployer.address })).to.equal(0n);
    // The registry, its AggregateVerifier (bound to it) and the root group: three transactions.
    expect(await client().getTransactionCount({ address: deployer.address })).to.equal(3);
    expect(result.aggregateVerifier).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(await client().readContract({ address: result.aggregateVerifier, abi: parseAbi(["function registry() view returns (address)"]), functionName: "registry" })).to.equal(result.registry);

    const code = (await client().getCode({ address: result.registry })) as Hex;
    // Exactly the bytecode the tests measured (this target's build), but for the immutables the constructor filled in.
    const artifact = await hre.artifacts.readArtifact("IomtRegistry");
    const immutables = Object.values((artifact as unknown as { immutableReferences: Record<string, { start: number; length: number }[]> }).immutableReferences).flat();
    expect(maskImmutables(code, immutables)).to.equal(maskImmutables(artifact.deployedBytecode as Hex, immutables));
    expectOpcodesOfTarget(code, target);
  });

  it("records the deployment per chain and sends nothing when run again, here with the key from a V3 keystore", async () => {
    const dir = mkdtempSync(join(tmpdir(), "iomt-keystore-"));
    try {
      const keystore = join(dir, "deployer.json");
      const passwordFile = join(dir, "password");
      writeFileSync(keystore, await encryptKeystoreJson({ address: deployer.address, privateKey: deployerKey }, "correct horse", { scrypt: { N: 1024 } }));
      writeFileSync(passwordFile, "correct horse\n", { mode: 0o600 });
      const { stdout } = await deploy({ IOMT_RPC_URL: anvil.url, IOMT_CHAIN_ID: "1337", IOMT_DEPLOYER_KEYSTORE: keystore, IOMT_DEPLOYER_KEYSTORE_PASSWORD_FILE: passwordFile });
      const result = lastJson(stdout);
      expect(result.deployer).to.equal(deployer.address);
      expect(result.deploymentDir).to.equal(join("ignition", "deployments", deploymentId));
      expect(await client().getTransactionCount({ address: deployer.address })).to.equal(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a node whose chain id is not the one configured, before sending anything", async () => {
    const otherKey = generatePrivateKey();
    const other = privateKeyToAccount(otherKey);
    const error = (await deploy({ IOMT_RPC_URL: anvil.url, IOMT_CHAIN_ID: "1338", IOMT_DEPLOYER_KEY: otherKey }).catch((caught: unknown) => caught)) as { code: number; stderr: string };
    expect(error.code).to.equal(2);
    expect(error.stderr).to.include("reports chain id 1337, not 1338");
    expect(await client().getTransactionCount({ address: other.address })).to.equal(0);
  });

  it("refuses to run without a deployer key", async () => {
    const error = (await deploy({ IOMT_RPC_URL: anvil.url, IOMT_CHAIN_ID: "1337" }).catch((caught: unknown) => caught)) as { code: number; stderr: string };
    expect(error.code).to.equal(2);
    expect(error.stderr).to.include("give the deployer key");
  });
});
