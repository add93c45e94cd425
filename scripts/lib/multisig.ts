// The test multisig (contracts/mocks/MultisigMaster.sol, a 2-of-3 wallet of our own) as a root
// group's Master, for the demo's `--multisig-root` and the gateway's tests: deployed from the
// artifact of the registry's build (`./iomt build` compiles both); the registry calls it makes (createGroup, setAnchorer, revoke) approved by two
// owners and sent by any funded key; the tokens it gives approved by two owners and checked on
// chain with ERC-1271.
import { existsSync, readFileSync } from "node:fs";
import { concat, encodeFunctionData, type Abi, getAddress, hashMessage, type Address, type Hash, type Hex, type LocalAccount, type PublicClient } from "viem";
import { deployContract, writeContract } from "viem/actions";
import { iomtRegistryAbi, tokenDigest, type Token, type WriteClient } from "@iomt-auth/sdk";

export type Multisig = {
  address: Address;
  /** Runs `functionName(args)` on the registry from the wallet, approved by the first two owners; `sender` pays the gas. */
  callRegistry(sender: WriteClient, registry: Address, functionName: "createGroup" | "revoke" | "setAnchorer", args: readonly unknown[]): Promise<Hash>;
  /** The wallet's token for (gid, oid, device): two owners' approvals of its EIP-191 hash. */
  token(parameters: Omit<Token, "signature">): Promise<Token>;
};

/** Approvals of `signers` over `hash`: 65-byte signatures in ascending signer order, as the wallet expects. */
async function approvals(hash: Hex, signers: readonly LocalAccount[]): Promise<Hex> {
  const sorted = [...signers].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  return concat(await Promise.all(sorted.map((signer) => signer.sign!({ hash }))));
}

/** Deploys a 2-of-3 wallet of `owners` from `deployer`, compiled for `evmTarget` (default Cancun; `london` for pre-Shanghai chains). */
export async function deployMultisig(deployer: WriteClient, publicClient: PublicClient, owners: readonly [LocalAccount, LocalAccount, LocalAccount], evmTarget: "cancun" | "london" = "cancun"): Promise<Multisig> {
  const folder = evmTarget === "london" ? "artifacts-london" : "artifacts";
  const file = new URL(`../../${folder}/contracts/mocks/MultisigMaster.sol/MultisigMaster.json`, import.meta.url);
  if (!existsSync(file)) throw new Error(`the test multisig is not compiled (${file.pathname}): run ./iomt build first`);
  const { abi, bytecode } = JSON.parse(readFileSync(file, "utf8")) as { abi: Abi; bytecode: Hex };
  const hash = await deployContract(deployer, { abi, bytecode, args: [[owners[0].address, owners[1].address, owners[2].address]], account: deployer.account, chain: deployer.chain });
  const { contractAddress, status } = await publicClient.waitForTransactionReceipt({ hash });
  if (status !== "success" || contractAddress == null) throw new Error("the multisig's deployment reverted");
  const address = getAddress(contractAddress);
  const approvers = owners.slice(0, 2);
  return {
    address,
    async callRegistry(sender, registry, functionName, args) {
      const data = encodeFunctionData({ abi: iomtRegistryAbi, functionName, args } as never);
      const execution = (await publicClient.readContract({ address, abi, functionName: "executionHash", args: [registry, data] })) as Hex;
      return writeContract(sender, { address, abi, functionName: "execute", args: [registry, data, await approvals(hashMessage({ raw: execution }), approvers)], account: sender.account, chain: sender.chain });
    },
    async token({ gid, oid, device }) {
      return { gid, oid, device, signature: await approvals(hashMessage({ raw: tokenDigest({ gid, oid, device }) }), approvers) };
    },
  };
}
