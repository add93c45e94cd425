// The two real EVMs the SDK's tests run against, behind one shape: anvil as a JSON-RPC node
// (started on 127.0.0.1 on a free port by the test, stopped after it) and Hardhat's in-process
// network. Either way the SDK talks to it through plain viem clients with local accounts, so the
// same code paths run on both.
import { network } from "hardhat";
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  parseEther,
  type Chain,
  type LocalAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
  type Account,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { startAnvilNode } from "./anvil.js";

export interface TestChain {
  name: "anvil" | "hardhat";
  chain: Chain;
  publicClient: PublicClient<Transport, Chain>;
  /** The node's JSON-RPC URL, for a separate process to reach it (anvil only). */
  rpcUrl?: string;
  /** A wallet client for `account`, which `fund` gave ether. */
  walletClient(account: LocalAccount): WalletClient<Transport, Chain, Account>;
  /** A fresh local account (or the one given) with 1,000 ether. */
  fundedAccount(account?: LocalAccount): Promise<LocalAccount>;
  /** Mines one block with a timestamp `seconds` later. */
  increaseTime(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

async function fromTransport(name: TestChain["name"], transport: Transport, stop: () => Promise<void>, rpcUrl?: string): Promise<TestChain> {
  const probe = createPublicClient({ transport });
  const chain = defineChain({
    id: await probe.getChainId(),
    name,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: ["http://127.0.0.1"] } },
  });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 });
  const request = publicClient.request as (args: { method: string; params: unknown[] }) => Promise<unknown>;
  return {
    name,
    chain,
    publicClient,
    rpcUrl,
    walletClient: (account) => createWalletClient({ account, chain, transport, pollingInterval: 50 }),
    async fundedAccount(account = privateKeyToAccount(generatePrivateKey())) {
      await request({ method: "hardhat_setBalance", params: [account.address, `0x${parseEther("1000").toString(16)}`] });
      return account;
    },
    async increaseTime(seconds) {
      await request({ method: "evm_increaseTime", params: [`0x${seconds.toString(16)}`] });
      await request({ method: "evm_mine", params: [] });
    },
    stop,
  };
}

/** Starts anvil on 127.0.0.1 (free port, automine) and connects to it; `stop()` kills it. */
export async function startAnvil({ hardfork = "cancun" }: { hardfork?: "cancun" | "london" } = {}): Promise<TestChain> {
  const node = await startAnvilNode({ chainId: 31338, hardfork });
  return fromTransport("anvil", http(node.url, { retryCount: 0 }), () => node.stop(), node.url);
}

/** Hardhat's in-process EVM (EDR), reached through its EIP-1193 provider. */
export async function startInProcess(): Promise<TestChain> {
  const connection = await network.create();
  return fromTransport("hardhat", custom(connection.provider, { retryCount: 0 }), () => connection.close());
}
