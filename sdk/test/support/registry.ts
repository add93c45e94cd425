// An IomtRegistry deployed on Hardhat's in-process EVM, for tests that cross-check the SDK's pure
// functions against the contract's own views. One chain per call; `stop()` closes it.
import { getAddress, type Address, type Hash, type LocalAccount, type TransactionReceipt } from "viem";
import { deployRegistry } from "../../src/deploy.js";
import { iomtRegistryAbi } from "../../src/generated/abi.js";
import { registryDomain, type RegistryDomain } from "../../src/typed-data.js";
import { startInProcess, type TestChain } from "./chain.js";

export interface TestRegistry {
  chain: TestChain;
  /** The deployed registry's address. */
  registry: Address;
  /** Its EIP-712 domain (chain id from the node). */
  domain: RegistryDomain;
  /** The funded account that deployed it. */
  deployer: LocalAccount;
  /** Waits for the receipt of `hash` and throws unless the transaction succeeded. */
  mined(hash: Promise<Hash> | Hash): Promise<TransactionReceipt>;
  stop(): Promise<void>;
}

export { iomtRegistryAbi };

/** Starts an in-process chain and deploys a fresh registry on it. */
export async function deployTestRegistry(): Promise<TestRegistry> {
  const chain = await startInProcess();
  try {
    const deployer = await chain.fundedAccount();
    const { address } = await deployRegistry(chain.walletClient(deployer));
    const chainId = await chain.publicClient.getChainId();
    return {
      chain,
      registry: getAddress(address),
      domain: registryDomain({ chainId, registry: address }),
      deployer,
      async mined(hash) {
        const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: await hash });
        if (receipt.status !== "success") throw new Error(`transaction ${receipt.transactionHash} reverted`);
        return receipt;
      },
      stop: () => chain.stop(),
    };
  } catch (error) {
    await chain.stop();
    throw error;
  }
}
