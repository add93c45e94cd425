// Provisioning bundles (gateway/src/provisioning.ts, docs/protocol.md §9) as an operator makes them:
// `iomt-gateway enrol` run through the binary next to a running gateway on anvil, its stdout's
// bundle handed as it is to the SDK's gateway client, which keys a session, gets its ticket with
// the bundle's secret, associates and sends a reading. `--bundle-file` writes a new 0600 file that
// carries the secret and keeps it off stdout; a secret the operator gave is never echoed; the URL
// is the configured publicUrl, or derived from host and port, and without one (port 0) nothing is
// enrolled.
import { expect } from "chai";
import { readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { stringToHex } from "viem";
import { createDataMessage, createGatewayClient, PROVISIONING_FORMAT, randomSalt, signDataMessage, toId, type ProvisioningBundle } from "@iomt-auth/sdk";
import type { RawSettings, RunningGateway } from "../src/index.js";
import { expectCliFailure, runCli } from "./support/cli.js";
import { expectGatewayError } from "./support/expect.js";
import { createHarness, type Harness } from "./support/harness.js";
import { freePort } from "../../sdk/test/support/ports.js";

type EnrolOutput = { enrolled: { oid: string; secret: string }; secret?: string; provisioning?: ProvisioningBundle; bundleFile?: string };

describe("provisioning bundles: what enrol prints is what the device's client takes", function () {
  let h: Harness;
  let gateway: RunningGateway;
  let port: number;
  let settings: RawSettings;
  let configFile: string;

  /** A config file for the CLI on the running gateway's database; `overrides` change settings. */
  function writeConfig(overrides: RawSettings = {}): string {
    const file = join(h.dir, `gateway-${Math.random().toString(16).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ ...settings, ...overrides }));
    return file;
  }

  async function enrol(...args: string[]): Promise<EnrolOutput> {
    const result = await runCli(["enrol", "--config", configFile, ...args]);
    expect(result.code, result.stderr).to.equal(0);
    return JSON.parse(result.stdout) as EnrolOutput;
  }

  before(async function () {
    h = await createHarness();
    port = await freePort();
    // A fixed port and no publicUrl: the bundle's URL is derived, http://127.0.0.1:<port>.
    settings = h.settings({ port: String(port) });
    gateway = await h.start(settings);
    configFile = writeConfig();
  });

  after(async function () {
    await gateway?.close();
    await h?.close();
  });

  describe("on stdout", function () {
    it("prints a bundle the SDK's client takes as it is: the device gets its ticket with the bundle's secret, associates and sends a reading", async function () {
      const device = h.device("ecg-1");
      const printed = await enrol("--oid", "ward-1/ecg-1", "--address", device.account.address);
      expect(printed.secret).to.match(/^[A-Z2-7]{20}$/);
      expect(printed.provisioning).to.deep.equal({
        format: PROVISIONING_FORMAT,
        version: 1,
        gatewayUrl: `http://127.0.0.1:${port}`,
        chainId: h.anvil.chainId,
        registry: h.registry,
        gid: h.gid,
        master: h.master.address,
        oid: toId("ward-1/ecg-1"),
        device: device.account.address,
        secret: printed.secret,
      });
      expect(printed.provisioning!.gatewayUrl).to.equal(gateway.url);

      // Without its secret the ticket is refused: the secret the client sends is the bundle's.
      const { secret: _secret, ...withoutSecret } = printed.provisioning!;
      const bare = createGatewayClient({ provisioning: withoutSecret, account: device.account });
      await bare.keySession();
      await expectGatewayError(bare.getTicket(), 401, "EnrolmentSecretRequired", { authenticated: true });

      const client = createGatewayClient({ provisioning: printed.provisioning!, account: device.account });
      await client.keySession();
      const token = await client.getTicket();
      expect(token.oid).to.equal(toId("ward-1/ecg-1"));
      await client.associate({ token });
      const status = await client.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 60_000 });
      expect(status.status, JSON.stringify(status)).to.equal("associated");

      const reading = '{"hr":72}';
      const salt = randomSalt();
      const message = createDataMessage({ gid: client.context.gid, oid: token.oid, nonce: await client.getNextNonce(), payload: reading, salt });
      const [receipt] = await client.sendData({ messages: [{ ...(await signDataMessage(device.account, { domain: client.domain, message })), payload: stringToHex(reading), salt }] });
      expect(receipt.device).to.equal(device.account.address);
      expect(receipt.nonce).to.equal("1");
    });

    it("leaves a secret the operator gave (--secret-file) out of stdout, bundle included", async function () {
      const device = h.device("spo2-1");
      const secretFile = join(h.dir, "spo2-1.secret");
      writeFileSync(secretFile, "correct horse battery staple\n");
      chmodSync(secretFile, 0o600);
      const result = await runCli(["enrol", "--config", configFile, "--oid", "ward-1/spo2-1", "--address", device.account.address, "--secret-file", secretFile]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).not.to.contain("correct horse");
      const printed = JSON.parse(result.stdout) as EnrolOutput;
      expect(printed.provisioning).to.include({ device: device.account.address, oid: toId("ward-1/spo2-1") });
      expect(printed.provisioning).not.to.have.property("secret");
    });

    it("prints the new secret's bundle on renew-secret", async function () {
      const device = h.device("temp-1");
      await enrol("--oid", "ward-1/temp-1", "--address", device.account.address, "--no-secret");
      const result = await runCli(["renew-secret", "--config", configFile, "--oid", "ward-1/temp-1"]);
      expect(result.code, result.stderr).to.equal(0);
      const printed = JSON.parse(result.stdout) as EnrolOutput & { renewed: unknown };
      expect(printed.provisioning).to.deep.include({ device: device.account.address, oid: toId("ward-1/temp-1"), secret: printed.secret });
    });
  });

  describe("--bundle-file FILE", function () {
    it("writes the bundle, secret included, to a new file only its owner can read, keeps the secret off stdout, and the device reads the file's text as it is", async function () {
      const device = h.device("ecg-2");
      const file = join(h.dir, "ecg-2.bundle.json");
      const result = await runCli(["enrol", "--config", configFile, "--oid", "ward-1/ecg-2", "--address", device.account.address, "--bundle-file", file]);
      expect(result.code, result.stderr).to.equal(0);
      const printed = JSON.parse(result.stdout) as EnrolOutput;
      expect(printed).to.deep.equal({ enrolled: { oid: toId("ward-1/ecg-2"), gid: h.gid, address: device.account.address, secret: "generated" }, bundleFile: file });
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      const text = readFileSync(file, "utf8");
      const bundle = JSON.parse(text) as ProvisioningBundle;
      expect(bundle.secret).to.match(/^[A-Z2-7]{20}$/);
      expect(result.stdout).not.to.contain(bundle.secret!);

      const client = createGatewayClient({ provisioning: text, account: device.account });
      await client.keySession();
      expect((await client.getTicket()).device).to.equal(device.account.address);
    });

    it("refuses an existing file with CliUsage and enrols nothing, leaving the file as it was", async function () {
      const device = h.device("ecg-3");
      const file = join(h.dir, "taken.bundle.json");
      writeFileSync(file, "another device's bundle\n");
      const result = await runCli(["enrol", "--config", configFile, "--oid", "ward-1/ecg-3", "--address", device.account.address, "--bundle-file", file]);
      expect(expectCliFailure(result, 2, "CliUsage")).to.match(/cannot create bundle file .*EEXIST.*never overwritten/);
      expect(readFileSync(file, "utf8")).to.equal("another device's bundle\n");
      expect(gateway.store.enrolment(h.gid, toId("ward-1/ecg-3"))).to.equal(undefined);
    });
  });

  describe("the bundle's URL", function () {
    it("is publicUrl when it is set", async function () {
      const device = h.device("ecg-4");
      configFile = writeConfig({ publicUrl: "https://ward-1.gateway.hospital.example:8443" });
      try {
        const printed = await enrol("--oid", "ward-1/ecg-4", "--address", device.account.address, "--no-secret");
        expect(printed.provisioning!.gatewayUrl).to.equal("https://ward-1.gateway.hospital.example:8443");
      } finally {
        configFile = writeConfig();
      }
    });

    it("cannot be derived with port 0: enrol refuses with GatewayConfigInvalid before it enrols anything", async function () {
      const device = h.device("ecg-5");
      const anyPort = writeConfig({ port: "0" });
      const result = await runCli(["enrol", "--config", anyPort, "--oid", "ward-1/ecg-5", "--address", device.account.address, "--no-secret"]);
      expect(expectCliFailure(result, 2, "GatewayConfigInvalid")).to.match(/set publicUrl/);
      expect(gateway.store.enrolment(h.gid, toId("ward-1/ecg-5"))).to.equal(undefined);
    });
  });
});
