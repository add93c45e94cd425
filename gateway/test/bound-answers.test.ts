// Rule: every answer a device receives is authenticated and bound to the request it answers,
// errors included (docs/protocol.md §5). The attacker sits on the path between a device and a
// real gateway (the client's `fetch`): it can withhold, replay, drop and forge whatever travels in
// clear, but holds no key.
import { expect } from "chai";
import { createGatewayClient, GatewayError, type GatewayClient } from "@iomt-auth/sdk";
import type { RunningGateway } from "../src/index.js";
import { startWithTwoDevices, type Device, type Harness, type TwoDevices } from "./support/harness.js";

/** An on-path attacker: decides per request whether to forward it, and what to answer. */
type OnPath = (request: { path: string; body: string }, forward: () => Promise<Response>) => Promise<Response>;

function clientBehind(harness: Harness, gateway: RunningGateway, device: Device, attacker: { current: OnPath | undefined }): GatewayClient {
  return createGatewayClient({
    url: gateway.url,
    account: device.account,
    master: harness.master.address,
    context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid },
    fetch: async (input, init) => {
      const forward = () => fetch(input, init);
      const onPath = attacker.current;
      return onPath === undefined ? forward() : onPath({ path: new URL(String(input)).pathname, body: String(init?.body ?? "") }, forward);
    },
  });
}

const copy = async (response: Response) => ({ status: response.status, text: await response.text() });
const replay = ({ status, text }: { status: number; text: string }) => new Response(text, { status, headers: { "content-type": "application/json" } });

describe("rule: every answer is bound to the request it answers", () => {
  let fixture: TwoDevices;
  let harness: Harness;
  let gateway: RunningGateway;
  let device: Device;
  let client: GatewayClient;
  const attacker: { current: OnPath | undefined } = { current: undefined };
  let nonce = 1n;

  before(async () => {
    fixture = await startWithTwoDevices();
    ({ harness, gateway, alice: device } = fixture);
    client = clientBehind(harness, gateway, device, attacker);
    await client.keySession();
  });

  afterEach(() => {
    attacker.current = undefined;
  });

  after(async () => {
    await fixture?.close();
  });

  const storedNonces = () => gateway.store.db.prepare("SELECT nonce FROM messages WHERE device = ? ORDER BY nonce").pluck().all(device.account.address) as number[];

  it("refuses an old /v2/data answer served to a later request (the withheld-answer attack): the client throws and holds no receipt", async () => {
    // 1. The attacker lets the first reading through to the gateway but withholds its answer.
    let withheld: { status: number; text: string } | undefined;
    attacker.current = async (_request, forward) => {
      withheld = await copy(await forward());
      throw new TypeError("fetch failed");
    };
    const first = await device.sign(nonce);
    const lost = await client.sendData({ messages: [first] }).catch((error: unknown) => error);
    expect((lost as GatewayError).code).to.equal("GatewayUnreachable");
    expect(withheld?.status).to.equal(200);
    expect(storedNonces()).to.include(Number(nonce));

    // 2. The device sends its next reading; the attacker drops it and serves the withheld answer.
    const second = await device.sign(nonce + 1n);
    let dropped = 0;
    attacker.current = async () => {
      dropped++;
      return replay(withheld!);
    };
    const error = await client.sendData({ messages: [second] }).catch((caught: unknown) => caught);
    expect(dropped).to.equal(1);
    expect(error).to.be.instanceOf(GatewayError);
    expect((error as GatewayError).code).to.equal("SessionTampered");
    // The gateway never saw the second reading, and the device has no receipt that says it did.
    expect(storedNonces()).to.not.include(Number(nonce + 1n));

    // 3. Without the attacker, the device sends the second reading again and gets its own receipt.
    attacker.current = undefined;
    const [receipt] = await client.sendData({ messages: [second] });
    expect(receipt.nonce).to.equal(String(nonce + 1n));
    nonce += 2n;
  });

  it("refuses the answer to another route's request served in its place", async () => {
    let proofAnswer: { status: number; text: string } | undefined;
    attacker.current = async (_request, forward) => {
      proofAnswer = await copy(await forward());
      throw new TypeError("fetch failed");
    };
    await client.getAuthPath().catch(() => undefined);
    expect(proofAnswer?.status).to.equal(200);
    attacker.current = async () => replay(proofAnswer!);
    const error = await client.getNextNonce().catch((caught: unknown) => caught);
    expect((error as GatewayError).code).to.equal("SessionTampered");
  });

  it("seals a refusal made after the request opened: the client marks it authenticated", async () => {
    const error = await client.sendData({ messages: [await device.sign(nonce + 5n)] }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(GatewayError);
    expect(error).to.deep.include({ code: "NonceOutOfOrder", status: 409, authenticated: true });
    expect((error as GatewayError).details).to.deep.include({ expected: Number(nonce) });
  });

  it("throws a forged plain DeviceRevoked as unauthenticated, and the device goes on in its session", async () => {
    const sessionBefore = client.session!.id;
    attacker.current = async () => new Response(JSON.stringify({ error: { code: "DeviceRevoked", message: "this device was revoked by its Master" } }), { status: 403, headers: { "content-type": "application/json" } });
    const reading = await device.sign(nonce);
    const error = await client.sendData({ messages: [reading] }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(GatewayError);
    expect(error).to.deep.include({ code: "DeviceRevoked", status: 403, authenticated: false });
    // Not a sealed refusal: the client kept its session and the reading goes through once the path is clean.
    attacker.current = undefined;
    expect(client.session!.id).to.equal(sessionBefore);
    const [receipt] = await client.sendData({ messages: [reading] });
    expect(receipt.nonce).to.equal(String(nonce));
    nonce++;
  });

  it("does not take a forged plain 200 answer with receipts for a sealed one", async () => {
    const reading = await device.sign(nonce);
    attacker.current = async () =>
      new Response(JSON.stringify({ receipts: [{ digest: `0x${"00".repeat(32)}`, device: device.account.address, nonce: String(nonce), acceptedAt: Date.now() }] }), { status: 200 });
    const error = await client.sendData({ messages: [reading] }).catch((caught: unknown) => caught);
    expect((error as GatewayError).code).to.equal("GatewayBadResponse");
    expect((error as GatewayError).authenticated).to.equal(false);
  });

  it("does not open a finish answer replayed from another handshake", async () => {
    let finishAnswer: { status: number; text: string } | undefined;
    const other = clientBehind(harness, gateway, device, attacker);
    attacker.current = async (request, forward) => {
      const answer = await copy(await forward());
      if (request.path.endsWith("/finish")) finishAnswer = answer;
      return replay(answer);
    };
    await other.keySession();
    attacker.current = async (request, forward) => (request.path.endsWith("/finish") ? replay(finishAnswer!) : forward());
    const error = await other.keySession().catch((caught: unknown) => caught);
    expect((error as GatewayError).code).to.equal("GatewayBadResponse");
  });
});
