// Rule: a member known on chain is never refused because the gateway's mirror is catching up
// (issue 12, item 10). The fault run found associated devices refused with 403 DeviceNotMember
// right after a kill -9 restart: the mirror's checkpoint lagged, and the on-demand sync's throttle
// answered concurrent callers "not found". Now a request for a device the mirror does not know
// waits (bounded) for a sync that started after it arrived; when that takes too long the answer
// is a retryable 503 MirrorSyncing (sealed on the sealed routes), which the SDK's client retries
// with back-off.
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { associateBySig, createGatewayClient, GatewayError, issueToken, signAssociation, type GatewayClient } from "@iomt-auth/sdk";
import { enrolDevice, GatewayStore, type RunningGateway } from "../src/index.js";
import { metricValue } from "./support/admin.js";
import { expectGatewayError } from "./support/expect.js";
import { createHarness, type Device, type Harness } from "./support/harness.js";
import { killHard, randomPort, spawnGateway, startDelayingProxy } from "./support/process.js";

/** Associates `device` on chain without any gateway: the Master relays its signed request itself. */
async function associateDirectly(harness: Harness, device: Device): Promise<void> {
  const token = await issueToken(harness.master, { gid: harness.gid, oid: device.oid, device: device.account.address });
  const association = await signAssociation(device.account, { domain: harness.domain, token, deadline: BigInt(Math.floor(Date.now() / 1000) + 600) });
  await harness.publicClient.waitForTransactionReceipt({ hash: await associateBySig(harness.masterWallet, { registry: harness.registry, association }) });
}

const rejections = (gateway: RunningGateway, code: string) => metricValue(gateway, "iomt_gateway_rejections_total", { code }, 0);

describe("rule: a member known on chain is never refused because the mirror is catching up", () => {
  let harness: Harness;

  before(async () => {
    harness = await createHarness();
  });

  after(async () => {
    await harness?.close();
  });

  describe("right after a kill -9 restart", () => {
    let child: ChildProcess | undefined;
    let proxy: Awaited<ReturnType<typeof startDelayingProxy>> | undefined;
    const outcomes: { device: string; error?: string }[] = [];
    let lagAtStart: { indexedBlock: bigint; head: bigint } | undefined;

    before(async function () {
      this.timeout(180_000);
      const port = await randomPort();
      const url = `http://127.0.0.1:${port}`;
      const adminPort = await randomPort();
      const configFile = join(harness.dir, "lag.json");
      // The gateway reaches the chain through a slow link: each log query takes 1.5 s.
      proxy = await startDelayingProxy(harness.anvil.url, { eth_getLogs: 1_500 });
      const settings = harness.settings({ port: String(port), adminPort: String(adminPort), rpcUrl: proxy.url });
      writeFileSync(configFile, JSON.stringify(settings));
      GatewayStore.create(settings.databasePath as string); // as `init` does
      // A gateway that knew the chain up to now, killed.
      child = await spawnGateway(configFile, url);
      const known = harness.device("known");
      const store = GatewayStore.open(settings.databasePath as string);
      await enrolDevice(store, { gid: harness.gid, oid: known.oid, address: known.account.address });
      store.close();
      const knownClient = known.client(url);
      await knownClient.keySession();
      await knownClient.associate({ token: await knownClient.getTicket() });
      expect((await knownClient.waitForAssociation({ pollIntervalMs: 50 })).status).to.equal("associated");
      await killHard(child);

      // While it is down, twelve devices join on chain: the restarted gateway's mirror does not know them.
      const devices = Array.from({ length: 12 }, (_, i) => harness.device(`late-${i}`));
      for (const device of devices) await associateDirectly(harness, device);

      // Start again and, at once, every device keys a session (admission by membership) and sends data.
      child = await spawnGateway(configFile, url);
      const ready = (await (await fetch(`http://127.0.0.1:${adminPort}/health/ready`)).json()) as { chain: { indexedBlock: string } };
      lagAtStart = { indexedBlock: BigInt(ready.chain.indexedBlock), head: await harness.publicClient.getBlockNumber() };
      await Promise.all(
        devices.map(async (device) => {
          const client: GatewayClient = createGatewayClient({
            url,
            account: device.account,
            master: harness.master.address,
            context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid },
            retry: { attempts: 12, baseDelayMs: 100, maxDelayMs: 2_000 },
          });
          try {
            await client.keySession();
            const [receipt] = await client.sendData({ messages: [await device.sign(1n)] });
            if (receipt.nonce !== "1") throw new Error(`receipt for nonce ${receipt.nonce}`);
            outcomes.push({ device: device.name });
          } catch (error) {
            outcomes.push({ device: device.name, error: error instanceof GatewayError ? error.code : String(error) });
          }
        }),
      );
    });

    after(async () => {
      if (child !== undefined) await killHard(child);
      await proxy?.close();
    });

    it("started with a mirror behind the chain", () => {
      expect(lagAtStart!.indexedBlock < lagAtStart!.head, `mirror at ${lagAtStart!.indexedBlock}, chain at ${lagAtStart!.head}`).to.equal(true);
    });

    it("admitted every concurrent member and took its data: none refused with DeviceNotMember or DeviceNotAdmitted", () => {
      expect(outcomes).to.have.length(12);
      expect(outcomes.filter((outcome) => outcome.error !== undefined)).to.deep.equal([]);
    });
  });

  describe("on a sealed route, with a mirror that cannot catch up in the time a request may wait", () => {
    let gateway: RunningGateway;

    before(async () => {
      gateway = await harness.start({ mirrorWaitMs: "0" });
    });

    after(async () => {
      await gateway?.close();
    });

    it("answers a sealed, retryable 503 MirrorSyncing, which the client retries with back-off until the mirror caught up", async () => {
      const device = harness.device("enrolled-first");
      await enrolDevice(gateway.store, { gid: harness.gid, oid: device.oid, address: device.account.address });
      const answers: { status: number; sealed: boolean }[] = [];
      const client = createGatewayClient({
        url: gateway.url,
        account: device.account,
        master: harness.master.address,
        context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid },
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          const text = await response.text();
          if (String(input).endsWith("/v2/nonce")) answers.push({ status: response.status, sealed: "record" in (JSON.parse(text) as object) });
          return new Response(text, { status: response.status });
        },
      });
      await client.keySession();
      // A second device that gives up at the first refusal, to see it as the device's client does.
      const impatient = harness.device("impatient");
      await enrolDevice(gateway.store, { gid: harness.gid, oid: impatient.oid, address: impatient.account.address });
      const impatientClient = createGatewayClient({
        url: gateway.url,
        account: impatient.account,
        master: harness.master.address,
        context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid },
        retry: { attempts: 1 },
      });
      await impatientClient.keySession();
      // Both join on chain while the gateway's worker (its regular mirror sync) is paused.
      await gateway.worker.stop();
      await associateDirectly(harness, impatient);
      await expectGatewayError(impatientClient.getNextNonce(), 503, "MirrorSyncing", { authenticated: true });
      await associateDirectly(harness, device);
      const before = await rejections(gateway, "MirrorSyncing");
      try {
        expect(await client.getNextNonce()).to.equal(1n);
      } finally {
        gateway.worker.start();
      }
      expect(await rejections(gateway, "MirrorSyncing")).to.be.greaterThan(before);
      expect(answers[0]).to.deep.equal({ status: 503, sealed: true });
      expect(answers.at(-1)).to.deep.equal({ status: 200, sealed: true });
    });
  });
});
