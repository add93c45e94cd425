// The gateway tests' shared fixture: anvil with a deployed registry and a group whose Master key
// the gateway holds (in a 0600 key file, as in production), a temp folder for the SQLite file and
// config, and simulated devices that talk to the gateway through the SDK's gateway client over
// real HTTP. The group is a root group, or (`hierarchy: true`) a child group of a hospital's root
// group whose Master is a member of it — a cluster head, which the hospital can revoke. Devices
// hold a secp256k1 key (`device`) or a P-256 key as a secure element would (`p256Device`).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, defineChain, http, parseEther, type Address, type Chain, type Hex, type PublicClient, type Transport } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import {
  associateBySig,
  p256Account,
  privateKeyToP256Signer,
  createDataMessage,
  createGatewayClient,
  createGroup,
  issueToken,
  randomSalt,
  signAssociation,
  registryDomain,
  signDataMessage,
  toId,
  type GatewayClient,
  type GatewayClientAccount,
  type GetInclusionParameters,
  type InclusionResponse,
  type P256Account,
  type P256Signer,
  type MessageStatus,
  type Receipt,
  type RegistryDomain,
  type SignedDataMessage,
  type WriteClient,
} from "@iomt-auth/sdk";
import { deployRegistry } from "@iomt-auth/sdk/deploy";
import { createPepperFile, enrolDevice, resolveConfig, startGateway, type GatewayStore, type MessageRow, type RawSettings, type RunningGateway } from "../../src/index.js";
import { startAnvilNode, type AnvilNode, type StartAnvilNodeParameters } from "../../../sdk/test/support/anvil.js";

/** A device's key as the SDK's clients take it: a viem account (secp256k1) or a `P256Account`. */
export type DeviceAccount = GatewayClientAccount;

export type Device<Account extends DeviceAccount = PrivateKeyAccount> = {
  name: string;
  oid: Hex;
  account: Account;
  /** The device key (secp256k1, or P-256 for a `p256Device` over a raw key), for benchmarks that sign with another library. */
  privateKey: Account extends PrivateKeyAccount ? Hex : Hex | undefined;
  /** A gateway client for this device (new session state per call). */
  client(url: string): GatewayClient;
  /** A signed data message with this nonce; its payload is `reading <nonce>` unless given, committed to with a fresh salt. */
  sign(nonce: bigint, options?: { payload?: string; salt?: Hex; deadline?: bigint; timestamp?: bigint; gid?: Hex; oid?: Hex; domain?: RegistryDomain }): Promise<SignedDataMessage & { payload: Hex; salt: Hex }>;
};

export type Harness = {
  anvil: AnvilNode;
  publicClient: PublicClient<Transport, Chain>;
  chain: Chain;
  registry: Address;
  deployBlock: bigint;
  domain: RegistryDomain;
  /** The served group, created by `master` with `label`. */
  gid: Hex;
  label: string;
  master: PrivateKeyAccount;
  masterWallet: WriteClient;
  /** With `hierarchy: true`: the hospital's root group, of which `master` is member `masterOid`. */
  root?: { gid: Hex; master: PrivateKeyAccount; wallet: WriteClient; masterOid: Hex };
  /** A fresh funded key with a wallet, e.g. a third party relaying a signed request first. */
  fundedWallet(): Promise<WriteClient>;
  dir: string;
  keyFile: string;
  /** Settings for a gateway on this chain (a fresh database file unless `databasePath` is given; the harness's pepper file). */
  settings(overrides?: RawSettings): RawSettings;
  /** Starts a gateway in this process; its database is created when no file exists yet (as `init` does). */
  start(overrides?: RawSettings): Promise<RunningGateway>;
  device(name: string): Device;
  /**
   * A device whose key is P-256, named by its `p256Address`: a fresh raw key, or `signer` (e.g. a
   * non-extractable WebCrypto key, as a secure element holds it).
   */
  p256Device(name: string, signer?: P256Signer): Device<P256Account>;
  /** Enrols, keys a session, gets the ticket, associates and waits for the AuthTable entry. */
  onboard(gateway: RunningGateway, device: Device<DeviceAccount>): Promise<GatewayClient>;
  close(): Promise<void>;
};

let databases = 0;

export async function createHarness(anvilOptions: StartAnvilNodeParameters & { groupLabel?: string; hierarchy?: boolean } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "iomt-gateway-"));
  const anvil = await startAnvilNode({ statePath: anvilOptions.statePath, blockTime: anvilOptions.blockTime, chainId: anvilOptions.chainId, hardfork: anvilOptions.hardfork });
  try {
    const chain = defineChain({ id: anvil.chainId, name: "anvil", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [anvil.url] } } });
    const transport = http(anvil.url, { retryCount: 0 });
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 });
    const fund = async (address: Address) =>
      publicClient.request({ method: "anvil_setBalance" as never, params: [address, `0x${parseEther("1000").toString(16)}`] as never });
    const deployer = privateKeyToAccount(generatePrivateKey());
    await fund(deployer.address);
    const deployment = await deployRegistry(createWalletClient({ chain, transport, account: deployer }));
    const registry = deployment.address;

    const fundedWallet = async (): Promise<WriteClient> => {
      const account = privateKeyToAccount(generatePrivateKey());
      await fund(account.address);
      return createWalletClient({ chain, transport, account, pollingInterval: 50 }) as WriteClient;
    };
    const mined = async (hash: Hex) => {
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
    };
    const domain = registryDomain({ chainId: anvil.chainId, registry });
    const masterKey = generatePrivateKey();
    const master = privateKeyToAccount(masterKey);
    await fund(master.address);
    const masterWallet = createWalletClient({ chain, transport, account: master, pollingInterval: 50 }) as WriteClient;
    const masterOid = toId(`master:${master.address}`);
    const label = anvilOptions.groupLabel ?? "ward-1";

    let root: Harness["root"];
    if (anvilOptions.hierarchy === true) {
      // The hospital's root group; the gateway's Master joins it, then creates its cluster below.
      const rootWallet = await fundedWallet();
      const rootMaster = rootWallet.account as PrivateKeyAccount;
      const created = await createGroup(rootWallet, { registry, label: "hospital", masterOid: toId(`master:${rootMaster.address}`) });
      await mined(created.hash);
      const token = await issueToken(rootMaster, { gid: created.gid, oid: masterOid, device: master.address });
      const association = await signAssociation(master, { domain, token, deadline: BigInt(Math.floor(Date.now() / 1000) + 600) });
      await mined(await associateBySig(rootWallet, { registry, association }));
      root = { gid: created.gid, master: rootMaster, wallet: rootWallet, masterOid };
    }
    const { hash, gid } = await createGroup(masterWallet, { registry, label, masterOid, ...(root === undefined ? {} : { parentGid: root.gid }) });
    await mined(hash);

    const keyFile = join(dir, "master.key");
    writeFileSync(keyFile, `${masterKey}\n`);
    chmodSync(keyFile, 0o600);
    const pepperFile = join(dir, "gateway.pepper");
    createPepperFile(pepperFile);

    function makeDevice<Account extends DeviceAccount>(name: string, account: Account, privateKey: Device<Account>["privateKey"]): Device<Account> {
      const oid = toId(`device:${name}:${account.address}`);
      return {
        name,
        oid,
        account,
        privateKey,
        client: (url) => createGatewayClient({ url, account, master: master.address, context: { chainId: anvil.chainId, registry, gid } }),
        async sign(nonce, options = {}) {
          const payloadText = options.payload ?? `reading ${nonce}`;
          const payload = `0x${Buffer.from(payloadText).toString("hex")}` as Hex;
          const salt = options.salt ?? randomSalt();
          const message = createDataMessage({
            gid: options.gid ?? gid,
            oid: options.oid ?? oid,
            nonce,
            payload: Buffer.from(payloadText),
            salt,
            ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
            ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
          });
          return { ...(await signDataMessage(account, { domain: options.domain ?? domain, message })), payload, salt };
        },
      };
    }

    const harness: Harness = {
      anvil,
      publicClient,
      chain,
      registry,
      deployBlock: deployment.blockNumber,
      domain,
      gid,
      label,
      master,
      masterWallet,
      ...(root === undefined ? {} : { root }),
      fundedWallet,
      dir,
      keyFile,
      settings: (overrides = {}) => ({
        rpcUrl: anvil.url,
        chainId: String(anvil.chainId),
        registry,
        fromBlock: deployment.blockNumber.toString(),
        // By label: the gateway derives the gid from its Master key, as the registry did.
        groups: label,
        keyFile,
        pepperFile,
        databasePath: join(dir, `gateway-${++databases}.db`),
        port: "0",
        adminPort: "0",
        batchMaxAgeMs: "200",
        pollIntervalMs: "50",
        retryBaseMs: "50",
        retryMaxMs: "400",
        logLevel: "error",
        ...overrides,
      }),
      start: (overrides) => startGateway(resolveConfig(harness.settings(overrides)), { createDatabase: true }),
      device(name) {
        const privateKey = generatePrivateKey();
        return makeDevice(name, privateKeyToAccount(privateKey), privateKey);
      },
      p256Device(name, signer) {
        if (signer !== undefined) return makeDevice(name, p256Account(signer), undefined);
        const privateKey = generatePrivateKey(); // 32 random bytes: below P-256's order but for a 2⁻³² chance, which the signer refuses
        return makeDevice(name, p256Account(privateKeyToP256Signer(privateKey)), privateKey);
      },
      async onboard(gateway, device) {
        await enrolDevice(gateway.store, { gid, oid: device.oid, address: device.account.address });
        const client = device.client(gateway.url);
        await client.keySession();
        const token = await client.getTicket();
        await client.associate({ token });
        const status = await client.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 });
        if (status.status !== "associated") throw new Error(`${device.name} did not associate: ${JSON.stringify(status)}`);
        return client;
      },
      async close() {
        await anvil.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return harness;
  } catch (error) {
    await anvil.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Writes the harness's settings (with overrides) as a JSON config file for the CLI; returns its path. */
export function configFile(harness: Harness, name: string, overrides: RawSettings = {}): string {
  const path = join(harness.dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(harness.settings(overrides), null, 2));
  return path;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The row a receipt names in a gateway's store (found as the inclusion route finds it: by device and nonce). */
export function storedMessage(store: GatewayStore, receipt: Receipt): MessageRow | undefined {
  return store.messageByDeviceNonce(receipt.device, Number(receipt.nonce));
}

/** Polls a message's inclusion (named by its receipt) until it has `status` (e.g. "anchored" once its batch is on chain). */
export function inclusionWith(client: GatewayClient, receipt: GetInclusionParameters, status: MessageStatus): Promise<InclusionResponse> {
  return eventually(`message ${receipt.digest} ${status}`, async () => {
    const inclusion = await client.getInclusion(receipt);
    return inclusion.status === status ? inclusion : undefined;
  });
}

/** A harness, a running gateway and two onboarded devices, alice and bob. */
export type TwoDevices = { harness: Harness; gateway: RunningGateway; alice: Device; bob: Device; aliceClient: GatewayClient; bobClient: GatewayClient; close(): Promise<void> };

export async function startWithTwoDevices(overrides?: RawSettings): Promise<TwoDevices> {
  const harness = await createHarness();
  const gateway = await harness.start(overrides);
  const alice = harness.device("alice");
  const bob = harness.device("bob");
  return {
    harness,
    gateway,
    alice,
    bob,
    aliceClient: await harness.onboard(gateway, alice),
    bobClient: await harness.onboard(gateway, bob),
    async close() {
      await gateway.close();
      await harness.close();
    },
  };
}
