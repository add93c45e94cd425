// The operator console (src/console/) as an operator uses it: a real `iomt-gateway start` process on
// anvil with adminTokenFile set, its page opened in headless Chromium (support/browser.ts). In the
// page the operator gives the admin token, enrols a device and takes its provisioning bundle; the
// device (the SDK's client, given the bundle as it is) associates and sends readings; the page shows
// them anchored, with the batch's transaction and block as the chain has them; the page revokes the
// device on chain and the gateway refuses it. Around that: the token (401 AdminUnauthorized, logged;
// a file others can read is refused at start), the page's Content-Security-Policy and no request
// leaving the admin listener, and `iomt-gateway admin-token`. Screenshots land in test/screenshots/.
import { expect } from "chai";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringToHex } from "viem";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createDataMessage, createGatewayClient, isAuthenticated, randomSalt, signDataMessage, toId, type GatewayClient, type ProvisioningBundle } from "@iomt-auth/sdk";
import { CONSOLE_CSP, consoleRoutes } from "../src/console/routes.js";
import { GatewayStore } from "../src/store.js";
import { exited, expectCliFailure, runCli, spawnGateway, type GatewayProcess } from "./support/cli.js";
import { launchChromium, SCREENSHOTS } from "./support/browser.js";
import { expectErrorAnswer, expectGatewayError, type Answer } from "./support/expect.js";
import { createHarness, eventually, type Device, type Harness } from "./support/harness.js";
import { randomPort } from "./support/process.js";

type Overview = { devices: { address: string; member: { revoked: boolean } | null }[] };

describe("the operator console: a page on the admin listener, behind the admin token, in headless Chromium", function () {
  // A chain, a gateway process and a browser on a shared machine.
  this.timeout(180_000);

  let harness: Harness;
  let gateway: GatewayProcess;
  let browser: Browser;
  let url: string;
  let adminUrl: string;
  let configFile: string;
  let tokenFile: string;
  let token: string;

  /** A console API call with this Authorization header (none when undefined). */
  async function callApi(path: string, authorization: string | undefined, body?: unknown): Promise<Answer & { headers: Headers }> {
    const response = await fetch(`${adminUrl}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { ...(authorization === undefined ? {} : { authorization }), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Answer["body"], headers: response.headers };
  }

  /** A fresh browser context (its own sessionStorage and cookies), recording every URL the page asks for. */
  async function openConsole(): Promise<{ context: BrowserContext; page: Page; requested: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    await page.goto(`${adminUrl}${consoleRoutes.page}`);
    return { context, page, requested };
  }

  async function signIn(page: Page, value: string): Promise<void> {
    await page.getByLabel("Admin token").fill(value);
    await page.getByRole("button", { name: "Open the console" }).click();
  }

  /** Clicks the dialog's confirming button, named `action`. */
  async function confirm(page: Page, action: string): Promise<void> {
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    await dialog.getByRole("button", { name: action, exact: true }).click();
    await dialog.waitFor({ state: "detached" });
  }

  before(async function () {
    harness = await createHarness();
    const [port, adminPort] = [await randomPort(), await randomPort()];
    url = `http://127.0.0.1:${port}`;
    adminUrl = `http://127.0.0.1:${adminPort}`;
    tokenFile = join(harness.dir, "admin.token");
    const settings = harness.settings({ port: String(port), adminPort: String(adminPort), adminTokenFile: tokenFile, logLevel: "info" });
    configFile = join(harness.dir, "console.json");
    writeFileSync(configFile, JSON.stringify(settings));
    GatewayStore.create(settings.databasePath as string); // as `init` does
    const created = await runCli(["admin-token", "--config", configFile]);
    expect(created.code, created.stderr).to.equal(0);
    token = readFileSync(tokenFile, "utf8").trim();
    gateway = await spawnGateway(configFile, url);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (gateway !== undefined && gateway.child.exitCode === null) {
      gateway.child.kill("SIGTERM");
      await exited(gateway.child);
    }
    await harness?.close();
  });

  describe("iomt-gateway admin-token", () => {
    it("created the token file with 32 random bytes as 64 hex digits, mode 0600, and printed its path, not the token", async () => {
      expect(token).to.match(/^[0-9a-f]{64}$/);
      expect(statSync(tokenFile).mode & 0o777).to.equal(0o600);
      const again = await runCli(["admin-token", "--adminTokenFile", join(harness.dir, "second.token")]);
      expect(JSON.parse(again.stdout)).to.deep.equal({ adminTokenFile: join(harness.dir, "second.token") });
      expect(again.stdout).to.not.include(readFileSync(join(harness.dir, "second.token"), "utf8").trim());
    });

    it("never overwrites a token file (GatewayConfigInvalid), and asks for the file's name (CliUsage)", async () => {
      expectCliFailure(await runCli(["admin-token", "--adminTokenFile", tokenFile]), 2, "GatewayConfigInvalid");
      expect(readFileSync(tokenFile, "utf8").trim()).to.equal(token);
      expectCliFailure(await runCli(["admin-token"], { ...process.env, IOMT_GATEWAY_ADMIN_TOKEN_FILE: "" }), 2, "CliUsage");
    });
  });

  describe("the admin token", () => {
    it("refuses the API without a token, with a wrong one, with another scheme and with the token's prefix: 401 AdminUnauthorized with a Bearer challenge", async () => {
      for (const authorization of [undefined, `Bearer ${"0".repeat(64)}`, `Basic ${token}`, `Bearer ${token.slice(0, 32)}`, `Bearer ${token}0`, token]) {
        const answer = await callApi(consoleRoutes.overview, authorization);
        expectErrorAnswer(answer, 401, "AdminUnauthorized");
        expect(answer.headers.get("www-authenticate")).to.match(/^Bearer /);
      }
      for (const route of [consoleRoutes.enrol, consoleRoutes.revoke, consoleRoutes.unenrol]) {
        expectErrorAnswer(await callApi(route, undefined, { oid: "x", address: harness.master.address }), 401, "AdminUnauthorized");
      }
    });

    it("answers the API with the token", async () => {
      const answer = await callApi(consoleRoutes.overview, `Bearer ${token}`);
      expect(answer.status).to.equal(200);
      expect(answer.body).to.have.keys("gateway", "health", "devices", "sessions", "messages", "batches", "backlog");
    });

    it("logs each refusal at info with its code, route and client address (the audit trail), never the token given", () => {
      const refusals = gateway.logs().filter((line) => line.audit === "refusal" && line.code === "AdminUnauthorized");
      expect(refusals.length).to.be.at.least(9);
      expect(refusals[0]).to.deep.include({ level: 30, listener: "admin", status: 401, method: "GET", route: consoleRoutes.overview, ip: "127.0.0.1" });
      expect(gateway.stdout() + gateway.stderr()).to.not.include(token.slice(0, 32));
    });

    it("leaves /metrics and readiness open to scrapers, as before", async () => {
      expect((await fetch(`${adminUrl}/metrics`)).status).to.equal(200);
      expect((await fetch(`${adminUrl}/health/ready`)).status).to.equal(200);
    });

    it("is refused at start when group or others can read the file (GatewayConfigInvalid), as the key and pepper files are", async () => {
      const loose = join(harness.dir, "loose.token");
      writeFileSync(loose, `${"a".repeat(64)}\n`);
      chmodSync(loose, 0o644);
      const other = join(harness.dir, "other.json");
      const settings = harness.settings({ adminTokenFile: loose });
      writeFileSync(other, JSON.stringify(settings));
      GatewayStore.create(settings.databasePath as string);
      const refused = await runCli(["start", "--config", other]);
      expect(expectCliFailure(refused, 2, "GatewayConfigInvalid")).to.match(/admin token file .* readable by group or others; chmod 600/);
      chmodSync(loose, 0o600);
      writeFileSync(loose, "short\n");
      expect(expectCliFailure(await runCli(["start", "--config", other]), 2, "GatewayConfigInvalid")).to.match(/admin token file .* must hold one line/);
    });
  });

  describe("the page", () => {
    it("is served with a Content-Security-Policy allowing only the listener's own script, style and API, and loads nothing from anywhere else", async () => {
      const response = await fetch(`${adminUrl}${consoleRoutes.page}`);
      expect(response.headers.get("content-security-policy")).to.equal(CONSOLE_CSP);
      expect(CONSOLE_CSP).to.include("script-src 'self'").and.not.include("unsafe-inline");
      const html = await response.text();
      expect(html).to.not.match(/<script>(?!<\/script>)/).and.not.match(/(src|href)="(https?:)?\/\//);
      const { context, page, requested } = await openConsole();
      await signIn(page, token);
      await page.getByRole("heading", { name: "Chain health" }).waitFor();
      expect(requested.length).to.be.at.least(4);
      for (const asked of requested) expect(new URL(asked).origin, asked).to.equal(adminUrl);
      await context.close();
    });

    it("asks for the token once and keeps it in sessionStorage, never in a cookie; a wrong token is refused on the page with AdminUnauthorized", async () => {
      const { context, page } = await openConsole();
      await signIn(page, "not-the-admin-token-but-long-enough-0000");
      await page.getByRole("alert").filter({ hasText: "AdminUnauthorized" }).waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, "console-refused-token.png") });
      await signIn(page, token);
      await page.getByRole("heading", { name: "Devices" }).waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem("iomt-console-token"))).to.equal(token);
      expect(await context.cookies()).to.deep.equal([]);
      await page.reload();
      await page.getByRole("heading", { name: "Devices" }).waitFor();
      await context.close();
    });
  });

  describe("enrol in the page → the device associates and sends through the SDK → anchored in the page → revoked in the page → refused", () => {
    let context: BrowserContext;
    let page: Page;
    let device: Device;
    let bundle: ProvisioningBundle;
    let client: GatewayClient;

    before(async () => {
      ({ context, page } = await openConsole());
      await signIn(page, token);
      await page.getByRole("heading", { name: "Devices" }).waitFor();
      device = harness.device("spo2");
    });

    after(async () => {
      await context?.close();
    });

    it("enrols the device after a confirmation and shows its provisioning bundle, with a secret generated for it", async () => {
      await page.getByLabel("oid").fill("ward-1/bed-12/spo2");
      await page.getByLabel("Device address").fill(device.account.address);
      await page.getByRole("button", { name: "Enrol…", exact: true }).click();
      await confirm(page, "Enrol");
      bundle = JSON.parse(await page.locator("[data-test=bundle]").innerText()) as ProvisioningBundle;
      expect(bundle).to.deep.include({ gatewayUrl: url, chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid, master: harness.master.address, oid: toId("ward-1/bed-12/spo2"), device: device.account.address });
      expect(bundle.secret).to.match(/^[A-Z2-7]{20}$/);
      await page.locator(`tr[data-device="${device.account.address.toLowerCase()}"]`).getByText("yes, secret set").waitFor();
      expect(await page.getByLabel("oid").inputValue(), "the form is emptied for the next device").to.equal("");
      await page.screenshot({ path: join(SCREENSHOTS, "console-enrolled.png"), fullPage: true });
    });

    it("refuses the same enrolment again and shows the refusal's code (EnrolmentConflict), changing nothing", async () => {
      await page.getByLabel("oid").fill("ward-1/bed-12/spo2");
      await page.getByLabel("Device address").fill(device.account.address);
      await page.getByRole("button", { name: "Enrol…", exact: true }).click();
      await confirm(page, "Enrol");
      await page.getByRole("alert").filter({ hasText: "EnrolmentConflict" }).waitFor();
      expectErrorAnswer(await callApi(consoleRoutes.enrol, `Bearer ${token}`, { oid: "ward-1/bed-12/spo2", address: device.account.address }), 409, "EnrolmentConflict");
      await page.getByRole("button", { name: "Dismiss" }).first().click();
    });

    it("lets the device associate and send with the bundle as it is; the page shows it associated, its nonce and its readings anchored with the batch's transaction and block", async () => {
      // The operator has loaded the bundle into the device: Done takes it, and its secret, off the screen.
      await page.getByRole("button", { name: "Done" }).click();
      await page.locator("[data-test=bundle]").waitFor({ state: "detached" });
      client = createGatewayClient({ provisioning: bundle, account: device.account });
      await client.keySession();
      const ticket = await client.getTicket();
      await client.associate({ token: ticket });
      expect((await client.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 60_000 })).status).to.equal("associated");
      const first = await client.getNextNonce();
      const messages = await Promise.all(
        ["72", "73"].map(async (reading, index) => {
          const salt = randomSalt();
          const message = createDataMessage({ gid: client.context.gid, oid: ticket.oid, nonce: first + BigInt(index), payload: `{"spo2":9${index},"hr":${reading}}`, salt });
          return { ...(await signDataMessage(device.account, { domain: client.domain, message })), payload: stringToHex(`{"spo2":9${index},"hr":${reading}}`), salt };
        }),
      );
      const receipts = await client.sendData({ messages });
      for (const receipt of receipts) {
        const { digest } = receipt;
        const inclusion = await eventually(`message ${digest} anchored`, async () => {
          const answer = await client.getInclusion(receipt);
          return answer.status === "anchored" ? answer : undefined;
        });
        const row = page.locator(`tr[data-digest="${digest}"]`);
        await row.locator("[data-test=state]").getByText("anchored").waitFor();
        expect(await row.locator("[data-kind=tx]").getAttribute("data-value")).to.equal(inclusion.batch!.txHash);
        expect(await row.locator("[data-test=block]").innerText()).to.equal(inclusion.batch!.blockNumber);
        expect(await row.locator("[data-kind=root]").getAttribute("data-value")).to.equal(inclusion.batch!.root);
        const onChain = await harness.publicClient.getTransactionReceipt({ hash: inclusion.batch!.txHash! });
        expect(onChain.blockNumber.toString()).to.equal(inclusion.batch!.blockNumber);
      }
      const deviceRow = page.locator(`tr[data-device="${device.account.address.toLowerCase()}"]`);
      await deviceRow.getByText("associated", { exact: true }).waitFor();
      await deviceRow.locator("[data-test=member]").getByText(/^member #/).waitFor();
      await deviceRow.getByRole("cell", { name: String(first + 2n), exact: true }).waitFor();
      await deviceRow.getByText(`#${first + 1n} anchored in block ${(await client.getInclusion(receipts[1])).batch!.blockNumber}`).waitFor();
      await page.getByRole("heading", { name: /^Sessions/ }).getByText("1").waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, "console-anchored.png"), fullPage: true });
    });

    it("leaves the device as it was when the operator cancels the revocation", async () => {
      await page.locator(`tr[data-device="${device.account.address.toLowerCase()}"]`).getByRole("button", { name: "Revoke…" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
      expect(await isAuthenticated(harness.publicClient, { registry: harness.registry, gid: harness.gid, oid: bundle.oid, device: device.account.address })).to.equal(true);
    });

    it("revokes the device on chain after a confirmation, shows the transaction's block and the device revoked; the gateway then refuses it (DeviceRevoked)", async () => {
      const deviceRow = page.locator(`tr[data-device="${device.account.address.toLowerCase()}"]`);
      await deviceRow.getByRole("button", { name: "Revoke…" }).click();
      await page.getByRole("dialog").screenshot({ path: join(SCREENSHOTS, "console-confirm-revoke.png") });
      await confirm(page, "Revoke");
      await page.getByRole("status").getByText(/^Revoked ward-1\/bed-12\/spo2 in block \d+/).waitFor();
      expect(await isAuthenticated(harness.publicClient, { registry: harness.registry, gid: harness.gid, oid: bundle.oid, device: device.account.address })).to.equal(false);
      await deviceRow.locator("[data-test=member]").getByText("revoked").waitFor();
      await page.getByText("revoked: every request refused").waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, "console-revoked.png"), fullPage: true });

      await eventually("the gateway to refuse the revoked device", () =>
        createGatewayClient({ provisioning: bundle, account: device.account })
          .keySession()
          .then(
            () => undefined,
            () => true,
          ),
      );
      await expectGatewayError(createGatewayClient({ provisioning: bundle, account: device.account }).keySession(), 403, "DeviceRevoked", { authenticated: false });
      const overview = (await callApi(consoleRoutes.overview, `Bearer ${token}`)).body as unknown as Overview;
      expect(overview.devices.find((row) => row.address === device.account.address)?.member).to.deep.include({ revoked: true });
    });

    it("refuses to revoke it again (DeviceRevoked), sending nothing", async () => {
      expectErrorAnswer(await callApi(consoleRoutes.revoke, `Bearer ${token}`, { oid: bundle.oid }), 403, "DeviceRevoked");
    });

    it("unenrols a device not associated yet after a confirmation; it disappears from the list", async () => {
      const spare = harness.device("spare");
      const enrolled = await callApi(consoleRoutes.enrol, `Bearer ${token}`, { oid: "ward-1/spare", address: spare.account.address, secret: false });
      expect(enrolled.status, JSON.stringify(enrolled.body)).to.equal(200);
      const row = page.locator(`tr[data-device="${spare.account.address.toLowerCase()}"]`);
      await row.getByRole("button", { name: "Unenrol…" }).click();
      await confirm(page, "Unenrol");
      await page.getByRole("status").getByText("Unenrolled ward-1/spare.").waitFor();
      await row.waitFor({ state: "detached" });
      expectErrorAnswer(await callApi(consoleRoutes.unenrol, `Bearer ${token}`, { oid: "ward-1/spare" }), 404, "EnrolmentUnknown");
    });

    it("refuses to revoke an oid that is no member on chain (DeviceNotMember), sending nothing", async () => {
      const nonce = await harness.publicClient.getTransactionCount({ address: harness.master.address });
      expectErrorAnswer(await callApi(consoleRoutes.revoke, `Bearer ${token}`, { oid: "ward-1/never-associated" }), 403, "DeviceNotMember");
      expect(await harness.publicClient.getTransactionCount({ address: harness.master.address })).to.equal(nonce);
    });

    it("refuses a group the gateway does not serve (GroupNotServed) and a malformed body (RequestInvalid)", async () => {
      expectErrorAnswer(await callApi(consoleRoutes.enrol, `Bearer ${token}`, { oid: "x", address: device.account.address, gid: `0x${"ab".repeat(32)}` }), 403, "GroupNotServed");
      expectErrorAnswer(await callApi(consoleRoutes.enrol, `Bearer ${token}`, { oid: "x" }), 400, "RequestInvalid");
      expectErrorAnswer(await callApi(consoleRoutes.enrol, `Bearer ${token}`, { oid: "x", address: "0x1234" }), 400, "EnrolmentInvalid");
    });

    it("logs every action with what it did (audit: console-action)", () => {
      const actions = gateway.logs().filter((line) => line.audit === "console-action");
      expect(actions.map((line) => line.action)).to.deep.equal(["enrol", "revoke", "enrol", "unenrol"]);
      expect(actions[1]).to.deep.include({ level: 30, oid: bundle.oid, gid: harness.gid });
    });
  });

  describe("a gateway that cannot make a bundle or hash a secret", () => {
    it("refuses the enrolment with GatewayConfigInvalid (409) and stores nothing: a secret without pepperFile, a bundle without publicUrl", async () => {
      const other = await harness.start({ adminTokenFile: tokenFile, pepperFile: undefined, port: "0" });
      try {
        const address = harness.device("unprovisioned").account.address;
        const enrol = (body: Record<string, unknown>) =>
          fetch(`${other.adminUrl}${consoleRoutes.enrol}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (response) => ({
            status: response.status,
            body: (await response.json()) as Answer["body"],
          }));
        expect(expectErrorAnswer(await enrol({ oid: "ward-1/x", address }), 409, "GatewayConfigInvalid").message).to.match(/pepperFile/);
        expect(expectErrorAnswer(await enrol({ oid: "ward-1/x", address, secret: false }), 409, "GatewayConfigInvalid").message).to.match(/publicUrl/);
        expect(other.store.enrolments()).to.deep.equal([]);
      } finally {
        await other.close();
      }
    });
  });
});
