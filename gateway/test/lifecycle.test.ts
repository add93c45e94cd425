// `iomt-gateway revoke` and `unenrol` through the CLI binary, against anvil and a gateway running
// as its own process on the same database: revoke cuts a device off on chain (isAuthenticated
// false, the running gateway refuses it with DeviceRevoked) and drops its enrolment; it refuses,
// sending nothing, an oid that is no member, one already revoked, and a key that is not the Master. unenrol removes an enrolment
// so that getTicket is refused, refuses an unknown one, and only warns for a device that got its
// ticket (its token stays valid) or already associated (it stays a member, admitted, until revoked).
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEther, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { GatewayError, isAuthenticated, type GatewayClient } from "@iomt-auth/sdk";
import { GatewayStore } from "../src/store.js";
import { exited, expectCliFailure, runCli, runCliJson, spawnGateway, type GatewayProcess } from "./support/cli.js";
import { expectGatewayError } from "./support/expect.js";
import { createHarness, eventually, type Device, type Harness } from "./support/harness.js";
import { randomPort } from "./support/process.js";

describe("iomt-gateway revoke and unenrol, next to a running gateway", () => {
  let harness: Harness;
  let gateway: GatewayProcess;
  let url: string;
  let config: string;

  /** Enrols `device` through the CLI (no secret) and keys a session; with `associate`, also gets the ticket and associates. */
  async function enrolled(device: Device, { associate }: { associate: boolean }): Promise<GatewayClient> {
    await runCliJson(config, "enrol", "--oid", device.oid, "--address", device.account.address, "--no-secret");
    const client = device.client(url);
    await client.keySession();
    if (!associate) return client;
    await client.associate({ token: await client.getTicket() });
    const status = await client.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 });
    expect(status.status).to.equal("associated");
    return client;
  }

  const member = (device: Device) => isAuthenticated(harness.publicClient, { registry: harness.registry, gid: harness.gid, oid: device.oid, device: device.account.address });
  const devices = async () => (JSON.parse((await runCli(["devices", "--config", config])).stdout) as { address: string }[]).map((row) => row.address);
  const masterNonce = () => harness.publicClient.getTransactionCount({ address: harness.master.address });

  /** Waits until the running gateway refuses a new hello of `device` with `code` (its mirror may lag the chain), then asserts it. */
  async function refusedHello(device: Device, code: string): Promise<void> {
    await eventually(`the gateway to refuse ${device.name} with ${code}`, () =>
      device
        .client(url)
        .keySession()
        .then(
          () => undefined,
          (error) => (error instanceof GatewayError && error.code === code ? true : undefined),
        ),
    );
    await expectGatewayError(device.client(url).keySession(), 403, code, { authenticated: false });
  }

  before(async function () {
    this.timeout(120_000);
    harness = await createHarness();
    const port = await randomPort();
    url = `http://127.0.0.1:${port}`;
    const settings = harness.settings({ port: String(port) });
    config = join(harness.dir, "lifecycle.json");
    writeFileSync(config, JSON.stringify(settings));
    GatewayStore.create(settings.databasePath as string); // as `init` does
    gateway = await spawnGateway(config, url);
  });

  after(async () => {
    if (gateway !== undefined) {
      gateway.child.kill("SIGTERM");
      await exited(gateway.child);
    }
    await harness?.close();
  });

  describe("revoke", () => {
    it("revokes an associated device on chain with the Master key, prints the transaction and its block, drops the enrolment, and the running gateway refuses the device (DeviceRevoked)", async () => {
      const victim = harness.device("victim");
      await enrolled(victim, { associate: true });
      expect(await member(victim)).to.equal(true);

      const { revoked } = (await runCliJson(config, "revoke", "--oid", victim.oid)) as { revoked: { oid: Hex; gid: Hex; txHash: Hex; block: string; enrolment: string } };
      const receipt = await harness.publicClient.getTransactionReceipt({ hash: revoked.txHash });
      expect(receipt.status).to.equal("success");
      expect(revoked).to.deep.equal({ oid: victim.oid, gid: harness.gid, txHash: revoked.txHash, block: receipt.blockNumber.toString(), enrolment: "dropped" });
      expect(await member(victim)).to.equal(false);
      expect(await devices()).not.to.include(victim.account.address);
      await refusedHello(victim, "DeviceRevoked");
      expect(gateway.child.exitCode).to.equal(null);
    });

    it("drops the enrolment itself, also from a database no gateway runs on", async () => {
      const device = harness.device("elsewhere");
      await enrolled(device, { associate: true });
      const idle = join(harness.dir, "idle.json");
      const settings = harness.settings({ publicUrl: url });
      writeFileSync(idle, JSON.stringify(settings));
      GatewayStore.create(settings.databasePath as string);
      await runCliJson(idle, "enrol", "--oid", device.oid, "--address", device.account.address, "--no-secret");
      const { revoked } = (await runCliJson(idle, "revoke", "--oid", device.oid)) as { revoked: { enrolment: string } };
      expect(revoked.enrolment).to.equal("dropped");
      expect(JSON.parse((await runCli(["devices", "--config", idle])).stdout)).to.deep.equal([]);
      expect(await member(device)).to.equal(false);
    });

    it("takes the group by label, and refuses one already revoked (DeviceRevoked) and an oid that is no member (DeviceNotMember), sending no transaction", async () => {
      const device = harness.device("twice");
      await enrolled(device, { associate: true });
      await runCliJson(config, "revoke", "--oid", device.oid, "--group", harness.label);
      const sent = await masterNonce();
      expect(expectCliFailure(await runCli(["revoke", "--config", config, "--oid", device.oid]), 2, "DeviceRevoked")).to.match(/oid 0x[0-9a-f]{64} of group 0x[0-9a-f]{64} was already revoked/);

      const stranger = harness.device("stranger");
      await runCliJson(config, "enrol", "--oid", stranger.oid, "--address", stranger.account.address, "--no-secret");
      expect(expectCliFailure(await runCli(["revoke", "--config", config, "--oid", stranger.oid]), 2, "DeviceNotMember")).to.match(/is not a member of group .* unenrol/);
      expect(expectCliFailure(await runCli(["revoke", "--config", config, "--oid", "never-enrolled"]), 2, "DeviceNotMember")).to.include("is not a member");
      expect(await masterNonce()).to.equal(sent);
      // A refused revoke keeps the enrolment.
      expect(await devices()).to.include(stranger.account.address);
    });

    it("refuses a key that is not the group's Master with the registry's rule (GroupRegistryNotMaster), sending nothing", async () => {
      const device = harness.device("kept");
      await enrolled(device, { associate: true });
      const otherKey = generatePrivateKey();
      const other = privateKeyToAccount(otherKey);
      await harness.publicClient.request({ method: "anvil_setBalance" as never, params: [other.address, `0x${parseEther("1").toString(16)}`] as never });
      const keyFile = join(harness.dir, "other.key");
      writeFileSync(keyFile, `${otherKey}\n`, { mode: 0o600 });
      const otherConfig = join(harness.dir, "other.json");
      writeFileSync(otherConfig, JSON.stringify({ ...JSON.parse(readFileSync(config, "utf8")), keyFile, groups: harness.gid }));
      const refused = await runCli(["revoke", "--config", otherConfig, "--oid", device.oid]);
      expect(expectCliFailure(refused, 2, "GroupRegistryNotMaster")).to.match(new RegExp(`^iomt-gateway: GroupRegistryNotMaster: the registry refused: only the group's Master may do this \\(${harness.gid}, ${other.address}\\)$`));
      expect(await harness.publicClient.getTransactionCount({ address: other.address })).to.equal(0);
      expect(await member(device)).to.equal(true);
    });
  });

  describe("unenrol", () => {
    it("removes an enrolment not used yet: the device's getTicket is refused, and a new hello too", async () => {
      const device = harness.device("unused");
      const client = await enrolled(device, { associate: false });
      const result = await runCli(["unenrol", "--config", config, "--oid", device.oid]);
      expect(result.code, result.stderr).to.equal(0);
      expect(JSON.parse(result.stdout)).to.deep.equal({
        unenrolled: { oid: device.oid, oidName: null, gid: harness.gid, address: device.account.address, ticketIssuedAt: null, association: null },
      });
      expect(await devices()).not.to.include(device.account.address);
      await expectGatewayError(client.getTicket(), 403, "DeviceNotEnrolled", { authenticated: true });
      await expectGatewayError(device.client(url).keySession(), 403, "DeviceNotAdmitted", { authenticated: false });
    });

    it("refuses an oid not enrolled (EnrolmentUnknown), also a second time", async () => {
      const device = harness.device("once");
      await runCliJson(config, "enrol", "--oid", "bed-40/spo2", "--address", device.account.address, "--no-secret");
      const done = await runCliJson(config, "unenrol", "--oid", "bed-40/spo2", "--group", harness.label);
      expect(done).to.have.nested.property("unenrolled.oidName", "bed-40/spo2");
      expect(expectCliFailure(await runCli(["unenrol", "--config", config, "--oid", "bed-40/spo2"]), 2, "EnrolmentUnknown")).to.match(/no device is enrolled as oid 0x[0-9a-f]{64}$/);
      expectCliFailure(await runCli(["unenrol", "--config", config, "--oid", "bed-41/spo2", "--group", harness.gid]), 2, "EnrolmentUnknown");
    });

    it("warns for a device that got its ticket but has not associated: its token still lets it associate", async () => {
      const device = harness.device("ticketed");
      const client = await enrolled(device, { associate: false });
      await client.getTicket();
      const { unenrolled, warning } = (await runCliJson(config, "unenrol", "--oid", device.oid)) as { unenrolled: { ticketIssuedAt: string; association: string | null }; warning: string };
      expect(unenrolled.association).to.equal(null);
      expect(warning).to.equal(
        `the device got its ticket at ${unenrolled.ticketIssuedAt}: unenrol does not revoke, and its token still lets it associate on chain; once it is a member, \`iomt-gateway revoke --oid ${device.oid}\` cuts it off`,
      );
      await expectGatewayError(client.getTicket(), 403, "DeviceNotEnrolled", { authenticated: true });
    });

    it("warns, and does not revoke, for a device that associated: it stays a member and keeps sending until `revoke`", async () => {
      const device = harness.device("associated");
      const client = await enrolled(device, { associate: true });
      const { unenrolled, warning } = (await runCliJson(config, "unenrol", "--oid", device.oid)) as { unenrolled: { ticketIssuedAt: string; association: string }; warning: string };
      expect(unenrolled.association).to.equal("associated");
      expect(unenrolled.ticketIssuedAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(warning).to.match(/unenrol does not revoke.*iomt-gateway revoke --oid 0x/);
      expect(await member(device)).to.equal(true);
      const [receipt] = await client.sendData({ messages: [await device.sign(1n)] });
      expect(receipt.nonce).to.equal("1");

      const { revoked } = (await runCliJson(config, "revoke", "--oid", device.oid)) as { revoked: { enrolment: string } };
      expect(revoked.enrolment).to.equal("none");
      await refusedHello(device, "DeviceRevoked");
    });
  });
});
