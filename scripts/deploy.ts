// Deploys iomt-auth to a private proof-of-authority chain, non-interactively, from the
// environment. Builds the chosen EVM target, checks the node's chain id, runs the Ignition module
// with its parameters file (deployments recorded per chain in ignition/deployments/), then reads
// the result back from the chain. With IomtHospital it prints the root group's gid, which the
// registry derived from the deployer's key and the label: the gid to pin and to configure gateways with.
//
//   IOMT_RPC_URL=http://besu:8545 IOMT_CHAIN_ID=1337 IOMT_DEPLOYER_KEY_FILE=deployer.key ./iomt deploy
//
// Environment:
//   IOMT_RPC_URL              JSON-RPC URL (required)
//   IOMT_CHAIN_ID             the chain id the node must report (required)
//   IOMT_DEPLOYER_KEY         the deployer's private key, or
//   IOMT_DEPLOYER_KEY_FILE    a file holding it (must not be readable by group or others), or
//   IOMT_DEPLOYER_KEYSTORE    an Ethereum V3 keystore (JSON), with IOMT_DEPLOYER_KEYSTORE_PASSWORD
//                             or IOMT_DEPLOYER_KEYSTORE_PASSWORD_FILE
//   IOMT_EVM                  cancun (default) or london (no PUSH0/MCOPY, for pre-Shanghai clients)
//   IOMT_MODULE               IomtHospital (default: registry + root group) or IomtRegistry
//   IOMT_PARAMETERS           Ignition parameters file (default ignition/parameters/hospital.json):
//                             the root group's label and the Master's masterOid (bytes32 each)
//   IOMT_CONFIRMATIONS        confirmations to wait for (default 1: PoA blocks are final when sealed)
//   IOMT_DEPLOYMENT_ID        Ignition deployment id (default chain-<id>, or chain-<id>-london)
//   IOMT_SKIP_BUILD=1         use the build already in artifacts/ (or artifacts-london/)
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { createPublicClient, getAddress, http, isHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { getGroup, groupId, iomtRegistryAbi } from "../sdk/src/index.js";

function fail(message: string): never {
  console.error(`deploy: ${message}`);
  process.exit(2);
}

const env = process.env;
const rpcUrl = env.IOMT_RPC_URL ?? fail("IOMT_RPC_URL is required");
const expectedChainId = Number(env.IOMT_CHAIN_ID ?? fail("IOMT_CHAIN_ID is required"));
if (!Number.isSafeInteger(expectedChainId) || expectedChainId <= 0) fail("IOMT_CHAIN_ID must be a positive integer");
const evm = env.IOMT_EVM === "london" ? "london" : env.IOMT_EVM === undefined || env.IOMT_EVM === "cancun" ? "cancun" : fail("IOMT_EVM must be cancun or london");
const moduleName = env.IOMT_MODULE ?? "IomtHospital";
if (moduleName !== "IomtHospital" && moduleName !== "IomtRegistry") fail("IOMT_MODULE must be IomtHospital or IomtRegistry");
const parameters = env.IOMT_PARAMETERS ?? "ignition/parameters/hospital.json";

async function deployerKey(): Promise<Hex> {
  let key: string;
  if (env.IOMT_DEPLOYER_KEY !== undefined) key = env.IOMT_DEPLOYER_KEY;
  else if (env.IOMT_DEPLOYER_KEY_FILE !== undefined) key = readSecretFile(env.IOMT_DEPLOYER_KEY_FILE);
  else if (env.IOMT_DEPLOYER_KEYSTORE !== undefined) {
    const password =
      env.IOMT_DEPLOYER_KEYSTORE_PASSWORD ??
      (env.IOMT_DEPLOYER_KEYSTORE_PASSWORD_FILE === undefined ? fail("a keystore needs IOMT_DEPLOYER_KEYSTORE_PASSWORD or IOMT_DEPLOYER_KEYSTORE_PASSWORD_FILE") : readSecretFile(env.IOMT_DEPLOYER_KEYSTORE_PASSWORD_FILE));
    try {
      key = (await Wallet.fromEncryptedJson(readFileSync(env.IOMT_DEPLOYER_KEYSTORE, "utf8"), password)).privateKey;
    } catch {
      fail(`cannot decrypt the keystore ${env.IOMT_DEPLOYER_KEYSTORE} (wrong password or not a V3 keystore)`);
    }
  } else fail("give the deployer key: IOMT_DEPLOYER_KEY, IOMT_DEPLOYER_KEY_FILE or IOMT_DEPLOYER_KEYSTORE");
  const trimmed = key.trim();
  const prefixed = (trimmed.startsWith("0x") ? trimmed : `0x${trimmed}`) as Hex;
  if (!isHex(prefixed, { strict: true }) || prefixed.length !== 66) fail("the deployer key must be 32 bytes of hex");
  return prefixed;
}

function readSecretFile(path: string): string {
  try {
    if ((statSync(path).mode & 0o077) !== 0) fail(`${path} is readable by group or others; chmod 600 it`);
    return readFileSync(path, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === undefined) throw error;
    fail(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code}`);
  }
}

function hardhat(args: string[], extraEnv: Record<string, string>): void {
  const result = spawnSync("npx", ["hardhat", ...args], { stdio: "inherit", env: { ...env, IOMT_EVM: evm, ...extraEnv } });
  if (result.status !== 0) fail(`hardhat ${args.slice(0, 2).join(" ")} failed (exit ${result.status})`);
}

const key = await deployerKey();
const deployer = privateKeyToAccount(key);
const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 2 }) });
const chainId = await client.getChainId().catch((error: Error) => fail(`no answer from ${rpcUrl}: ${error.message.split("\n")[0]}`));
if (chainId !== expectedChainId) fail(`the node at ${rpcUrl} reports chain id ${chainId}, not ${expectedChainId}`);
const deploymentId = env.IOMT_DEPLOYMENT_ID ?? (evm === "london" ? `chain-${chainId}-london` : `chain-${chainId}`);
console.log(`deploy: ${moduleName} (${evm} build) to chain ${chainId} at ${rpcUrl} from ${deployer.address}; deployment ${deploymentId}`);

if (env.IOMT_SKIP_BUILD !== "1") hardhat(["build"], {});
const moduleArgs = ["ignition", "deploy", `ignition/modules/${moduleName}.ts`, "--network", "poa", "--deployment-id", deploymentId];
if (moduleName === "IomtHospital") moduleArgs.push("--parameters", parameters);
hardhat(moduleArgs, { IOMT_RPC_URL: rpcUrl, IOMT_CHAIN_ID: String(chainId), IOMT_DEPLOYER_KEY: key, HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "1" });

// Read the result back from the chain.
const deploymentDir = join("ignition", "deployments", deploymentId);
const addresses = JSON.parse(readFileSync(join(deploymentDir, "deployed_addresses.json"), "utf8")) as Record<string, string>;
const registry = getAddress(addresses["IomtRegistry#IomtRegistry"] ?? fail(`${deploymentDir} lists no registry`));
const [, name, version, domainChainId] = await client.readContract({ address: registry, abi: iomtRegistryAbi, functionName: "eip712Domain" });
if (name !== "iomt-auth" || version !== "2" || Number(domainChainId) !== chainId) fail(`the contract at ${registry} is not an iomt-auth v2 registry for chain ${chainId}`);
const aggregateVerifier = addresses["IomtRegistry#AggregateVerifier"] === undefined ? undefined : getAddress(addresses["IomtRegistry#AggregateVerifier"]);
const result: Record<string, unknown> = { chainId, evm, module: moduleName, deploymentId, deploymentDir, deployer: deployer.address, registry, ...(aggregateVerifier === undefined ? {} : { aggregateVerifier }) };
if (moduleName === "IomtHospital") {
  const { label } = (JSON.parse(readFileSync(parameters, "utf8")) as { IomtHospital: { label: Hex } }).IomtHospital;
  const gid = groupId({ chainId, registry, creator: deployer.address, label });
  const group = await getGroup(client, { registry, gid });
  if (!group.exists) fail(`no root group ${gid} (label ${label}) by ${deployer.address} at ${registry}`);
  result.rootGroup = { gid, label, master: group.master, masterOid: group.masterOid, active: group.active };
}
console.log(JSON.stringify(result, null, 2));
