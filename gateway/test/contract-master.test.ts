// A gateway for a group whose Master is a contract wallet (the test 2-of-3 multisig): the wallet
// cannot sign the handshake (a ServerHello must recover to one key), so the gateway runs on an
// operator key the wallet authorised with `setAnchorer`, and devices are provisioned to expect that
// key. What that serves, as docs/hardware-keys.md states it: sessions, data, anchoring, and tickets
// from tokens the wallet's owners approved offline, stored at enrolment (`enrol --token-file`,
// checked on chain by ERC-1271) and relayed by the operator key; a ticket without such a token is
// refused. Real anvil, real HTTP, the real CLI, secp256k1 and P-256 devices.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { hashMessage, zeroHash, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type LocalAccount } from "viem/accounts";
import { associateBySig, createGatewayClient, groupId, serializeToken, SessionError, signAssociation, toId, tokenDigest, type GatewayClient, type Token } from "@iomt-auth/sdk";
import { enrolDevice, type RunningGateway } from "../src/index.js";
import { deployMultisig, type Multisig } from "../../scripts/lib/multisig.js";
import { expectCliFailure, runCli } from "./support/cli.js";
import { expectGatewayError, expectRejection } from "./support/expect.js";
import { configFile, createHarness, inclusionWith, type Device, type DeviceAccount, type Harness } from "./support/harness.js";

describe("gateway: a group whose Master is a multisig, served on an operator key the wallet authorised", function () {
  this.timeout(180_000);
  let harness: Harness;
  let multisig: Multisig;
  let owners: [LocalAccount, LocalAccount, LocalAccount];
  let gid: Hex;
  let operator: Address;
  let keyFile: string;
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
    owners = [0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey())) as [LocalAccount, LocalAccount, LocalAccount];
    multisig = await deployMultisig(sender, harness.publicClient, owners);
    const mined = async (hash: Promise<Hex>) => expect((await harness.publicClient.waitForTransactionReceipt({ hash: await hash })).status).to.equal("success");
    await mined(multisig.callRegistry(sender, harness.registry, "createGroup", [toId("hospital"), toId("oid:hospital"), zeroHash]));
    gid = groupId({ chainId: harness.anvil.chainId, registry: harness.registry, creator: multisig.address, label: "hospital" });
    // The operator key: the wallet authorises it to anchor for its group; the gateway holds it.
    const operatorKey = generatePrivateKey();
    operator = privateKeyToAccount(operatorKey).address;
    await mined(multisig.callRegistry(sender, harness.registry, "setAnchorer", [gid, operator, true]));
    keyFile = join(harness.dir, "operator.key");
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
      const inclusion = await inclusionWith(client, receipt, "anchored");
      expect((await harness.publicClient.getTransactionReceipt({ hash: inclusion.batch!.txHash! })).from).to.equal(operator.toLowerCase());
    }
  });

  it("is refused by a device that expects the wallet itself to answer the handshake (SessionWrongPeer): the wallet holds no key", async () => {
    const device = harness.device("strict");
    await associateWithWalletToken(device);
    await expectRejection(clientOf(device, multisig.address).keySession(), SessionError, "SessionWrongPeer");
  });

  describe("tickets: a token the wallet's owners approved offline, stored at enrolment with --token-file", () => {
    let files = 0;

    /** Runs `iomt-gateway enrol --token-file` (no secret) for `device` against the running gateway's database, the token file holding `token`. */
    function enrolWithToken(device: Device<DeviceAccount>, token: Token) {
      const tokenFile = join(harness.dir, `token-${++files}.hex`);
      writeFileSync(tokenFile, `${serializeToken(token)}\n`);
      const config = configFile(harness, `wallet-${files}`, { keyFile, groups: gid, databasePath: gateway.store.path, publicUrl: gateway.url });
      return runCli(["enrol", "--config", config, "--oid", device.oid, "--address", device.account.address, "--no-secret", "--token-file", tokenFile]);
    }

    it("serves the stored token as the ticket; the device associates through the gateway (relayed by the operator key, the token checked on chain by the wallet) and its reading is anchored", async () => {
      for (const device of [harness.device("ventilator"), harness.p256Device("infusion")] as Device<DeviceAccount>[]) {
        const approved = await multisig.token({ gid, oid: device.oid, device: device.account.address });
        const enrolled = await enrolWithToken(device, approved);
        expect(enrolled.code, enrolled.stderr).to.equal(0);
        expect(gateway.store.enrolmentByAddress(device.account.address)?.token).to.equal(serializeToken(approved));
        const client = clientOf(device, operator);
        await client.keySession();
        const ticket = await client.getTicket();
        expect(serializeToken(ticket)).to.equal(serializeToken(approved));
        await client.associate({ token: ticket });
        const status = await client.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 });
        expect(status, JSON.stringify(status)).to.deep.include({ status: "associated" });
        expect((await harness.publicClient.getTransactionReceipt({ hash: status.txHash! })).from).to.equal(operator.toLowerCase());
        const [receipt] = await client.sendData({ messages: [await device.sign(1n, { gid })] });
        const inclusion = await inclusionWith(client, receipt, "anchored");
        expect((await harness.publicClient.getTransactionReceipt({ hash: inclusion.batch!.txHash! })).from).to.equal(operator.toLowerCase());
      }
    });

    it("refuses at enrol, with EnrolmentInvalid and nothing stored, the wallet's token for another device or another oid, and a token one owner signed alone (the wallet needs two of three)", async () => {
      const device = harness.device("refused");
      const other = harness.device("other");
      const alone = hashMessage({ raw: tokenDigest({ gid, oid: device.oid, device: device.account.address }) });
      const refused: [Token, RegExp][] = [
        [await multisig.token({ gid, oid: device.oid, device: other.account.address }), /not for this enrolment/],
        [await multisig.token({ gid, oid: other.oid, device: device.account.address }), /not for this enrolment/],
        [{ gid, oid: device.oid, device: device.account.address, signature: await owners[0].sign!({ hash: alone }) }, /not approved by the group's Master, the contract wallet .*ERC-1271/],
      ];
      for (const [token, why] of refused) {
        expect(expectCliFailure(await enrolWithToken(device, token), 2, "EnrolmentInvalid")).to.match(why);
        expect(gateway.store.enrolmentByAddress(device.account.address)).to.equal(undefined);
      }
    });

    it("refuses a ticket, with TicketUnavailable, to a device enrolled without a token: the operator key is not the wallet, so a token it signed would be refused on chain", async () => {
      const device = harness.p256Device("new");
      await enrolDevice(gateway.store, { gid, oid: device.oid, address: device.account.address });
      const client = clientOf(device, operator);
      await client.keySession();
      await expectGatewayError(client.getTicket(), 409, "TicketUnavailable", { authenticated: true });
      expect(gateway.store.enrolmentByAddress(device.account.address)?.ticket_issued_at).to.equal(null);
    });
  });
});
