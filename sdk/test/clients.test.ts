// What the SDK refuses about the clients it is given, and a deployment that fails on chain:
// `iomtWalletActions` on a wallet client without a chain (no EIP-712 domain to sign under), and
// `deployRegistry` when the node mines the deployment but it reverts — here anvil, reached
// through a transport that under-reports the node's gas figure, so the deployment runs out of gas
// in the code deposit and its receipt says reverted.
import { expect } from "chai";
import { createPublicClient, createWalletClient, custom, http, numberToHex, recoverTypedDataAddress, type Hash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { deployRegistry } from "../src/deploy.js";
import { createDataMessage, dataMessageTypes, iomtWalletActions, IomtError, issueToken, randomSalt, registryDomain, toId, type WriteClient } from "../src/index.js";
import { startAnvil, type TestChain } from "./support/chain.js";
import { expectRejection, rejection } from "./support/expect.js";
import { freePort } from "./support/ports.js";

describe("wallet clients without a chain", () => {
  it("refuse to sign under iomtWalletActions (ClientWithoutChain) before any request, and sign once the client has a chain", async () => {
    const registry = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    const account = privateKeyToAccount(generatePrivateKey());
    let requests = 0;
    const transport = custom({
      request: async () => {
        requests++;
        throw new Error("no request is expected");
      },
    });
    const message = createDataMessage({ gid: toId("ward-1"), oid: toId("ward-1/ecg"), nonce: 1n, payload: "x", salt: randomSalt(), timestamp: 10n });
    const chainless = createWalletClient({ account, transport }).extend(iomtWalletActions({ registry }));
    await expectRejection(chainless.signDataMessage(message), IomtError, "ClientWithoutChain");
    await expectRejection(chainless.signExchange({ ...message, receiverGid: toId("ward-2"), receiverOid: toId("ward-2/pump") }), IomtError, "ClientWithoutChain");
    const token = await issueToken(account, { gid: toId("ward-1"), oid: toId("ward-1/ecg"), device: account.address });
    await expectRejection(chainless.signAssociation({ token, deadline: 100n }), IomtError, "ClientWithoutChain");
    expect(requests).to.equal(0);

    const chain = { id: 31337, name: "local", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: ["http://127.0.0.1"] } } } as const;
    const signed = await createWalletClient({ account, chain, transport }).extend(iomtWalletActions({ registry })).signDataMessage(message);
    const domain = registryDomain({ chainId: 31337, registry });
    expect(await recoverTypedDataAddress({ domain, types: dataMessageTypes, primaryType: "DataMessage", message, signature: signed.signature })).to.equal(account.address);
  });
});

describe("deployRegistry on a node where the deployment reverts", function () {
  this.timeout(120_000);
  let anvil: TestChain;

  before(async () => {
    anvil = await startAnvil();
  });

  after(async () => {
    await anvil?.stop();
  });

  it("throws DeploymentFailed naming the transaction, whose receipt on chain says reverted", async () => {
    const account = await anvil.fundedAccount();
    const node = createPublicClient({ transport: http(anvil.rpcUrl!, { retryCount: 0 }) });
    // Half the node's own gas figure (viem fills the transaction with eth_fillTransaction, or
    // estimates it): more than the intrinsic gas, too little for the code deposit.
    const underestimating = custom({
      request: async ({ method, params }: { method: string; params?: unknown }) => {
        const result = await node.request({ method, params } as never);
        if (method === "eth_estimateGas") return numberToHex(BigInt(result as string) / 2n);
        if (method === "eth_fillTransaction") {
          const filled = result as { tx: { gas: string } };
          return { ...filled, tx: { ...filled.tx, gas: numberToHex(BigInt(filled.tx.gas) / 2n) } };
        }
        return result;
      },
    });
    const wallet = createWalletClient({ account, chain: anvil.chain, transport: underestimating }) as WriteClient;
    const error = await expectRejection(deployRegistry(wallet), IomtError, "DeploymentFailed");
    const hash = error.message.match(/0x[0-9a-f]{64}/)?.[0] as Hash | undefined;
    expect(hash, error.message).to.be.a("string");
    const receipt = await anvil.publicClient.getTransactionReceipt({ hash: hash! });
    expect(receipt.status).to.equal("reverted");
    if (receipt.contractAddress) expect(await anvil.publicClient.getCode({ address: receipt.contractAddress }), "no code was deployed").to.equal(undefined);
    const sent = await anvil.publicClient.getTransaction({ hash: hash! });
    expect(receipt.gasUsed, "out of gas: every unit of the limit was spent").to.equal(sent.gas);

    const deployed = await deployRegistry(anvil.walletClient(account));
    expect(await anvil.publicClient.getCode({ address: deployed.address })).to.match(/^0x[0-9a-f]{100,}/);
  });

  it("is not reached for a node nothing listens on: the transport's error passes through", async () => {
    const account = await anvil.fundedAccount();
    const wallet = createWalletClient({ account, chain: anvil.chain, transport: http(`http://127.0.0.1:${await freePort()}`, { retryCount: 0 }) }) as WriteClient;
    const error = await rejection(deployRegistry(wallet));
    expect(error).not.to.be.instanceOf(IomtError);
  });
});
