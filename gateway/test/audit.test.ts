// The gateway's log as an operator and an auditor read it, from a real `iomt-gateway start`
// process at log level info (support/cli.ts): every refusal is one info line with its code, status,
// route and — once a sealed record opened — the authenticated device (an audit trail, HIPAA
// §164.312(b)); no secret ever appears: not the enrolment secret (right or wrong), the token, the
// session keys, the Master key, the pepper or the device's key; every line carries an ISO 8601
// time; and the gateway's last lines at SIGTERM are JSON like the rest.
import { expect } from "chai";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex } from "viem";
import { gatewayRoutes, serializeToken, type GatewayClient, type Token } from "@iomt-auth/sdk";
import { GatewayStore } from "../src/store.js";
import { exited, runCliJson, spawnGateway, type GatewayProcess } from "./support/cli.js";
import { expectErrorAnswer, expectGatewayError, get, post } from "./support/expect.js";
import { createHarness, type Device, type Harness } from "./support/harness.js";
import { randomPort } from "./support/process.js";
import { jsonBody, rawExchange, statusOf } from "./support/raw-http.js";

const SECRET = "correct horse battery staple 7";
const WRONG = "a wrong guess at the secret 42";
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type Line = { level: number; time: string; msg: string } & Record<string, unknown>;

describe("gateway log: an audit trail of refusals, no secret, ISO 8601 times, JSON to the last line", () => {
  let harness: Harness;
  let gateway: GatewayProcess;
  let alice: Device;
  let aliceClient: GatewayClient;
  let token: Token;
  let sessionKeys: Uint8Array[];
  let stranger: Device;
  let exitCode: number | null;
  let lines: Line[];
  let output: string;

  const refusal = (code: string) => {
    const found = lines.filter((line) => line.msg === "request refused" && line.code === code);
    expect(found, `one line for ${code}`).to.have.length(1);
    return found[0];
  };

  before(async function () {
    this.timeout(120_000);
    harness = await createHarness();
    alice = harness.device("alice");
    stranger = harness.device("stranger");
    const port = await randomPort();
    const url = `http://127.0.0.1:${port}`;
    const configFile = join(harness.dir, "audit.json");
    const settings = harness.settings({ port: String(port), logLevel: "info" });
    writeFileSync(configFile, JSON.stringify(settings));
    GatewayStore.create(settings.databasePath as string); // as `init` does
    const secretFile = join(harness.dir, "alice.secret");
    writeFileSync(secretFile, `${SECRET}\n`);
    chmodSync(secretFile, 0o600);
    await runCliJson(configFile, "enrol", "--oid", alice.oid, "--address", alice.account.address, "--secret-file", secretFile);
    gateway = await spawnGateway(configFile, url);

    aliceClient = alice.client(url);
    await aliceClient.keySession();
    sessionKeys = [aliceClient.session!.send.key, aliceClient.session!.receive.key];
    await expectGatewayError(aliceClient.getTicket({ secret: WRONG }), 401, "EnrolmentSecretWrong", { authenticated: true });
    token = await aliceClient.getTicket({ secret: SECRET });
    await expectGatewayError(stranger.client(url).keySession(), 403, "DeviceNotAdmitted", { authenticated: false });
    expectErrorAnswer(await post(url, gatewayRoutes.data, {}), 400, "RequestInvalid");
    expectErrorAnswer(await get(url, "/no/such/route?x=1"), 404, "NotFound");
    // Refused by the HTTP parser, before any request exists.
    const garbage = await rawExchange(url, ["NOT HTTP AT ALL\r\n\r\n"]);
    expectErrorAnswer({ status: statusOf(garbage.response), body: jsonBody(garbage.response) as never }, 400, "MalformedRequest");

    gateway.child.kill("SIGTERM");
    await exited(gateway.child);
    exitCode = gateway.child.exitCode;
    output = gateway.stdout() + gateway.stderr();
    lines = gateway.logs() as Line[];
  });

  after(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) {
      gateway.child.kill("SIGKILL");
      await exited(gateway.child);
    }
    await harness?.close();
  });

  describe("every refusal, one info line", () => {
    it("logs a refusal after the record opened with its code, status, route and the authenticated device", () => {
      expect(refusal("EnrolmentSecretWrong")).to.deep.include({ level: 30, audit: "refusal", status: 401, method: "POST", route: gatewayRoutes.ticket, device: alice.account.address, claimedDevice: null });
    });

    it("logs a refused hello with the device it claims to be, apart from an authenticated one", () => {
      expect(refusal("DeviceNotAdmitted")).to.deep.include({ level: 30, status: 403, route: gatewayRoutes.hello, device: null, claimedDevice: stranger.account.address });
    });

    it("logs a plain refusal of a sealed route, whose device is unknown, and an unserved URL as `unmatched` with the URL asked", () => {
      expect(refusal("RequestInvalid")).to.deep.include({ level: 30, status: 400, route: gatewayRoutes.data, device: null });
      expect(refusal("NotFound")).to.deep.include({ level: 30, status: 404, method: "GET", route: "unmatched", url: "/no/such/route?x=1" });
      for (const code of ["EnrolmentSecretWrong", "DeviceNotAdmitted", "RequestInvalid", "NotFound"]) expect(refusal(code).ip).to.equal("127.0.0.1");
    });

    it("logs a refusal of the HTTP parser, before any request exists, with its code, status and client address", () => {
      expect(refusal("MalformedRequest")).to.deep.include({ level: 30, audit: "refusal", status: 400, ip: "127.0.0.1", device: null });
    });
  });

  describe("no secret", () => {
    it("never writes the enrolment secret (right or wrong), the token, the session keys, the Master key, the pepper or the device's key", () => {
      const hex = (bytes: Uint8Array) => bytesToHex(bytes).slice(2);
      const secrets = {
        secret: SECRET,
        wrongSecret: WRONG,
        tokenSignature: token.signature.slice(2),
        serializedToken: serializeToken(token).slice(2),
        ...Object.fromEntries(sessionKeys.flatMap((key, i) => [[`sessionKey${i}`, hex(key)], [`sessionKey${i}Base64`, Buffer.from(key).toString("base64")]])),
        masterKey: readFileSync(harness.keyFile, "utf8").trim().slice(2),
        pepper: readFileSync(harness.settings().pepperFile as string, "utf8").trim().replace(/^0x/, ""),
        deviceKey: alice.privateKey.slice(2),
      };
      expect(lines.length).to.be.greaterThan(5);
      for (const [name, secret] of Object.entries(secrets)) expect(output.toLowerCase(), name).to.not.include(secret.toLowerCase());
    });
  });

  describe("format", () => {
    it("writes every line as JSON with an ISO 8601 time", () => {
      const stdout = gateway.stdout().trimEnd().split("\n");
      expect(stdout.length).to.equal(lines.length);
      for (const line of lines) expect(line.time, JSON.stringify(line)).to.match(ISO_8601);
    });

    it("ends at SIGTERM with JSON lines, `closing` with the signal and `gateway closed`, nothing on stderr, exit code 0", () => {
      expect(exitCode).to.equal(0);
      expect(gateway.stderr()).to.equal("");
      const closing = lines.findIndex((line) => line.msg === "closing");
      expect(lines[closing]).to.deep.include({ level: 30, signal: "SIGTERM" });
      expect(lines.at(-1)).to.deep.include({ level: 30, msg: "gateway closed" });
      expect(closing).to.be.lessThan(lines.length - 1);
    });
  });
});
