// A gateway for a group whose Master is a contract wallet (the test 2-of-3 multisig): the wallet
// cannot sign the handshake (a ServerHello must recover to one key), so the gateway runs on an
// operator key the wallet authorised with `setAnchorer`, and devices are provisioned to expect that
// key. What that serves, and what it does not (tickets: a token must come from the wallet), as
// docs/hardware-keys.md states it. Real anvil, real HTTP, secp256k1 and P-256 devices.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { zeroHash, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type LocalAccount } from "viem/accounts";
import { associateBySig, createGatewayClient, groupId, SessionError, signAssociation, toId, type GatewayClient } from "@iomt-auth/sdk";
import { enrolDevice, type RunningGateway } from "../src/index.js";
import { deployMultisig, type Multisig } from "../../scripts/lib/multisig.js";
import { expectRejection } from "./support/expect.js";
import { createHarness, inclusionWith, type Device, type DeviceAccount, type Harness } from "./support/harness.js";

describe("gateway: a group whose Master is a multisig, served on an operator key the wallet authorised", function () {
  this.timeout(180_000);
  let harness: Harness;
  let multisig: Multisig;
  let gid: Hex;
  let operator: Address;
  let gateway: RunningGateway;

  /** A gateway client for `device` in the wallet's group, expecting `master` to answer the handshake. */
  const clientOf = (device: Device<DeviceAccount>, master: Address): GatewayClient =>
    createGatewayClient({ url: gateway.url, account: device.account, master, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid } });

  /** Associates `device` on chain with a token the wallet's owners approved, relayed by some funded key (not the gateway). */
  async function associateWithWalletToken(device: Device<DeviceAccount>): Promise<void> {
    const token = await multisig.token({ gid, oid: device.oid, device: device.account.address });
    const association = await signAssociation(device.account, { domain: harness.domain, token, deadline: BigInt(Math.floor(Date.now() / 1000) + 600) });
    const receipt = await harness.publicClient.waitForTransactionReceipt({ hash: await associateBySig(await harness.fundedWallet(), { registry: harness.registry, association }) });
    expect(receipt.status).to.equal("success");
  }

  before(async () => {
    harness = await createHarness({ hardfork: "osaka" });
    const sender = await harness.fundedWallet();
    const owners = [0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey())) as [LocalAccount, LocalAccount, LocalAccount];
    multisig = await deployMultisig(sender, harness.publicClient, owners);
    const mined = async (hash: Promise<Hex>) => expect((await harness.publicClient.waitForTransactionReceipt({ hash: await hash })).status).to.equal("success");
    await mined(multisig.callRegistry(sender, harness.registry, "createGroup", [toId("hospital"), toId("oid:hospital"), zeroHash]));
    gid = groupId({ chainId: harness.anvil.chainId, registry: harness.registry, creator: multisig.address, label: "hospital" });
    // The operator key: the wallet authorises it to anchor for its group; the gateway holds it.
    const operatorKey = generatePrivateKey();
    operator = privateKeyToAccount(operatorKey).address;
    await mined(multisig.callRegistry(sender, harness.registry, "setAnchorer", [gid, operator, true]));
    const keyFile = join(harness.dir, "operator.key");
    writeFileSync(keyFile, `${operatorKey}\n`);
    chmodSync(keyFile, 0o600);
    await harness.publicClient.request({ method: "anvil_setBalance" as never, params: [operator, "0x3635c9adc5dea00000"] as never });
    // By gid: a label names a group the gateway's own key created.
    gateway = await harness.start({ keyFile, groups: gid });
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("serves sessions, data and anchoring to the group's secp256k1 and P-256 devices, which expect the operator key", async () => {
    for (const device of [harness.device("monitor"), harness.p256Device("pump")] as Device<DeviceAccount>[]) {
      await associateWithWalletToken(device);
      const client = clientOf(device, operator);
      await client.keySession();
      const [receipt] = await client.sendData({ messages: [await device.sign(1n, { gid })] });
      expect(receipt.device).to.equal(device.account.address);
      const inclusion = await inclusionWith(client, receipt.digest, "anchored");
      expect((await harness.publicClient.getTransactionReceipt({ hash: inclusion.batch!.txHash! })).from).to.equal(operator.toLowerCase());
    }
  });

  it("is refused by a device that expects the wallet itself to answer the handshake (SessionWrongPeer): the wallet holds no key", async () => {
    const device = harness.device("strict");
    await associateWithWalletToken(device);
    await expectRejection(clientOf(device, multisig.address).keySession(), SessionError, "SessionWrongPeer");
  });

  it("issues no token the registry accepts: a ticket is signed by the operator key, and its association is rejected on chain", async () => {
    const device = harness.p256Device("new");
    enrolDevice(gateway.store, { gid, oid: device.oid, address: device.account.address });
    const client = clientOf(device, operator);
    await client.keySession();
    await client.associate({ token: await client.getTicket() });
    const status = await client.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 });
    expect(status).to.deep.include({ status: "rejected" });
    expect(status.error?.code).to.equal("GroupRegistryTokenNotFromMaster");
  });
});
