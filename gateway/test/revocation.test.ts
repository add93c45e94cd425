// Rule: revocation cuts off (docs/protocol.md §8). The review found a revoked device still getting
// sessions, fresh Master-signed tokens and its path; only `/v1/data` refused it. Now every route
// refuses a revoked device and a device of a deactivated group: the hello plainly, before any key
// exchange; every sealed route with a sealed refusal the device can trust. The gateway drops the
// enrolment of a device as soon as its mirror sees the revocation, also one made while it was down.
import { expect } from "chai";
import type { Hex } from "viem";
import { deactivateGroup, revoke, type AuthPath, type GatewayClient } from "@iomt-auth/sdk";
import type { RunningGateway } from "../src/index.js";
import { metricValue } from "./support/admin.js";
import { expectGatewayError } from "./support/expect.js";
import { createHarness, eventually, type Device, type Harness } from "./support/harness.js";

const keyExchanges = (gateway: RunningGateway) => metricValue(gateway, "iomt_gateway_key_exchanges_total");

/** Each route's call by the device's client, with what it needs. */
function routeCalls(client: GatewayClient, device: Device, fixture: { digest: Hex; path: AuthPath; nonce: bigint }): [string, () => Promise<unknown>][] {
  return [
    ["ticket", () => client.getTicket()],
    ["assoc", () => client.associationStatus()],
    ["data", async () => client.sendData({ messages: [await device.sign(fixture.nonce)] })],
    ["nonce", () => client.getNextNonce()],
    ["proof", () => client.getAuthPath()],
    ["inclusion", () => client.getInclusion({ digest: fixture.digest, nonce: fixture.nonce })],
    ["verify", () => client.verifyPath({ path: fixture.path })],
  ];
}

/** Runs the cut-off checks for one refusal code: the hello, then every sealed route. */
function refusedEverywhere(code: "DeviceRevoked" | "GroupInactive", context: () => { gateway: RunningGateway; device: Device; client: GatewayClient; digest: Hex; path: AuthPath; nonce: bigint }) {
  it(`refuses its hello with a plain ${code}, before any key exchange`, async () => {
    const { gateway, device } = context();
    const before = await keyExchanges(gateway);
    await expectGatewayError(device.client(gateway.url).keySession(), 403, code, { authenticated: false });
    expect(await keyExchanges(gateway)).to.equal(before);
  });

  for (const route of ["ticket", "assoc", "data", "nonce", "proof", "inclusion", "verify"]) {
    it(`refuses ${route} in a session opened before, with a sealed ${code}`, async () => {
      const { client, device, digest, path, nonce } = context();
      const call = routeCalls(client, device, { digest, path, nonce }).find(([name]) => name === route)![1];
      await expectGatewayError(call(), 403, code, { authenticated: true });
    });
  }
}

describe("rule: a revoked device is refused at every route", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let victim: Device;
  let victimClient: GatewayClient;
  let digest: Hex;
  let path: AuthPath;

  before(async () => {
    harness = await createHarness();
    gateway = await harness.start();
    victim = harness.device("victim");
    victimClient = await harness.onboard(gateway, victim);
    [{ digest }] = await victimClient.sendData({ messages: [await victim.sign(1n)] });
    path = await victimClient.getAuthPath();
    expect(gateway.store.enrolmentByAddress(victim.account.address)).to.not.equal(undefined);
    await harness.publicClient.waitForTransactionReceipt({ hash: await revoke(harness.masterWallet, { registry: harness.registry, gid: harness.gid, oid: victim.oid }) });
    await eventually("the mirror to see the revocation", () => (gateway.store.enrolmentByAddress(victim.account.address) === undefined ? true : undefined));
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("drops the revoked device's enrolment when the mirror sees the revocation", () => {
    expect(gateway.store.enrolmentByAddress(victim.account.address)).to.equal(undefined);
  });

  refusedEverywhere("DeviceRevoked", () => ({ gateway, device: victim, client: victimClient, digest, path, nonce: 2n }));

  it("keeps serving the group's other devices", async () => {
    const other = harness.device("other");
    const client = await harness.onboard(gateway, other);
    const [receipt] = await client.sendData({ messages: [await other.sign(1n)] });
    expect(receipt.nonce).to.equal("1");
  });

  it("drops at start the enrolment of a device revoked while the gateway was down", async () => {
    const late = harness.device("late");
    await harness.onboard(gateway, late);
    const databasePath = gateway.store.db.name;
    await gateway.close();
    await harness.publicClient.waitForTransactionReceipt({ hash: await revoke(harness.masterWallet, { registry: harness.registry, gid: harness.gid, oid: late.oid }) });
    gateway = await harness.start({ databasePath });
    await eventually("the restarted gateway to drop the enrolment", () => (gateway.store.enrolmentByAddress(late.account.address) === undefined ? true : undefined));
    await expectGatewayError(late.client(gateway.url).keySession(), 403, "DeviceRevoked", { authenticated: false });
  });
});

describe("rule: a device of a deactivated group is refused at every route", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let device: Device;
  let client: GatewayClient;
  let digest: Hex;
  let path: AuthPath;

  before(async () => {
    harness = await createHarness();
    gateway = await harness.start();
    device = harness.device("pump");
    client = await harness.onboard(gateway, device);
    [{ digest }] = await client.sendData({ messages: [await device.sign(1n)] });
    path = await client.getAuthPath();
    await harness.publicClient.waitForTransactionReceipt({ hash: await deactivateGroup(harness.masterWallet, { registry: harness.registry, gid: harness.gid }) });
    await eventually("the mirror to see the deactivation", () => (gateway.worker.standings()[0].status === "GroupRegistryGroupInactive" ? true : undefined));
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  refusedEverywhere("GroupInactive", () => ({ gateway, device, client, digest, path, nonce: 2n }));
});
