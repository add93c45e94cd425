// Rule: nothing identifying leaks (docs/protocol.md §6.1). The review recovered "heart-rate 143"
// from its commitment by trying 2,434 candidate readings, and read other devices' messages through
// the public `GET /v1/messages/:digest`. Now a commitment is keccak256(salt ‖ payload) with a fresh
// 32-byte salt the chain never sees, the lookup is gone, and `/v2/inclusion` answers a device about
// its own messages only, and about anyone else's exactly as about a digest that does not exist.
import { expect } from "chai";
import { parseAbiItem, stringToBytes, keccak256, type Hex } from "viem";
import { gatewayRoutes, GatewayError, type GatewayClient, type GetInclusionParameters, type Receipt } from "@iomt-auth/sdk";
import { createDataMessageHasher, type RunningGateway } from "../src/index.js";
import { expectErrorAnswer, get } from "./support/expect.js";
import { createHarness, eventually, inclusionWith, storedMessage, type Device, type Harness } from "./support/harness.js";

/** 2,434 candidate readings of the formats a bedside device sends, as the review's dictionary. */
function candidateReadings(): string[] {
  const out: string[] = [];
  const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);
  for (const v of range(20, 250)) out.push(`heart-rate ${v}`);
  for (const v of range(50, 100)) out.push(`spo2 ${v}`);
  for (const v of range(340, 430)) out.push(`temp ${(v / 10).toFixed(1)}`);
  for (const v of range(4, 60)) out.push(`resp-rate ${v}`);
  for (const v of range(40, 400)) out.push(`glucose ${v}`);
  for (const systolic of range(80, 200, 2)) for (const diastolic of range(50, 120, 5)) out.push(`bp ${systolic}/${diastolic}`);
  for (const v of range(20, 250)) out.push(`pulse ${v}`);
  for (const v of range(40, 160)) out.push(`map ${v}`);
  for (const v of range(10, 80)) out.push(`etco2 ${v}`);
  for (const v of range(20, 324)) out.push(`hr=${v}`);
  return out;
}

const readings = ["heart-rate 143", "spo2 97", "temp 38.4", "bp 142/90"];

describe("rule: nothing identifying leaks", () => {
  const candidates = candidateReadings();
  /** The attacker's table: unsalted commitment (the old `keccak256(payload)`) → reading. */
  const table = new Map(candidates.map((reading) => [keccak256(stringToBytes(reading)), reading]));
  let harness: Harness;
  let relaying: RunningGateway | undefined;
  let anchoring: RunningGateway;
  let alice: Device;
  let mallory: Device;
  let aliceClient: GatewayClient;
  let malloryClient: GatewayClient;
  /** payloadHash of every DataMessageRecorded event on chain: what anyone can read. */
  let onChain: Hex[];
  /** Alice's message anchored in one batch with Mallory's, and Mallory's receipt. */
  let aliceAnchored: Awaited<ReturnType<Device["sign"]>>;
  let aliceAnchoredReceipt: Receipt;
  let malloryReceipt: Receipt;

  before(async () => {
    harness = await createHarness();
    alice = harness.device("alice");
    mallory = harness.device("mallory");

    // Relayed: each message's commitment goes on chain in a DataMessageRecorded event.
    relaying = await harness.start({ policy: "relay" });
    aliceClient = await harness.onboard(relaying, alice);
    const receipts = await aliceClient.sendData({ messages: await Promise.all(readings.map((payload, i) => alice.sign(BigInt(i + 1), { payload }))) });
    for (const receipt of receipts) await inclusionWith(aliceClient, receipt, "relayed");
    const logs = await harness.publicClient.getLogs({
      address: harness.registry,
      event: parseAbiItem("event DataMessageRecorded(bytes32 indexed gid, address indexed device, bytes32 oid, uint256 nonce, bytes32 payloadHash, uint64 timestamp, uint64 deadline)"),
      fromBlock: harness.deployBlock,
    });
    onChain = logs.map((log) => log.args.payloadHash as Hex);
    await relaying.close();
    relaying = undefined;

    // Anchored: Alice's and Mallory's messages in one batch of two, so Mallory's own inclusion
    // proof carries Alice's digest as its sibling.
    anchoring = await harness.start();
    aliceClient = alice.client(anchoring.url);
    await aliceClient.keySession();
    malloryClient = await harness.onboard(anchoring, mallory);
    await anchoring.worker.stop();
    aliceAnchored = await alice.sign(BigInt(readings.length + 1), { payload: "heart-rate 143" });
    [aliceAnchoredReceipt] = await aliceClient.sendData({ messages: [aliceAnchored] });
    [malloryReceipt] = await malloryClient.sendData({ messages: [await mallory.sign(1n, { payload: "spo2 99" })] });
    anchoring.worker.start();
    await inclusionWith(malloryClient, malloryReceipt, "anchored");
  });

  after(async () => {
    await relaying?.close();
    await anchoring?.close();
    await harness?.close();
  });

  it("has the review's dictionary: 2,434 candidate readings, the sent ones among them", () => {
    expect(candidates).to.have.length(2_434);
    expect(new Set(candidates).size).to.equal(2_434);
    for (const reading of readings) expect(candidates).to.include(reading);
  });

  it("recovers no reading from the commitments on chain by trying the 2,434 candidates", () => {
    expect(onChain).to.have.length(readings.length);
    const recovered = onChain.map((hash) => table.get(hash)).filter((reading) => reading !== undefined);
    expect(recovered).to.deep.equal([]);
    // The same attack against the unsalted commitments of v1 recovers every reading.
    expect(readings.map((reading) => table.get(keccak256(stringToBytes(reading))))).to.deep.equal(readings);
  });

  it("recovers no reading from a sibling digest in another device's inclusion proof, even knowing all of the message but its salt", async () => {
    const inclusion = await malloryClient.getInclusion(malloryReceipt);
    expect(inclusion.batch?.size).to.equal(2);
    // Mallory's proof is Alice's digest: the attacker holds it, and Alice's gid, oid, nonce, timestamp and deadline.
    expect(inclusion.batch?.proof).to.deep.equal([aliceAnchoredReceipt.digest]);
    const hash = createDataMessageHasher(harness.domain);
    const { message } = aliceAnchored;
    const attack = (digest: Hex) => candidates.filter((reading) => hash({ ...message, payloadHash: keccak256(stringToBytes(reading)) }) === digest);
    expect(attack(inclusion.batch!.proof[0])).to.deep.equal([]);
    // Had the commitment been unsalted (v1), the same attack would name the reading.
    expect(attack(hash({ ...message, payloadHash: keccak256(stringToBytes("heart-rate 143")) }))).to.deep.equal(["heart-rate 143"]);
  });

  it("serves no public message lookup", async () => {
    for (const path of [`/v1/messages/${aliceAnchoredReceipt.digest}`, `/v2/messages/${aliceAnchoredReceipt.digest}`, `/v2/inclusion/${aliceAnchoredReceipt.digest}`]) {
      const response = await fetch(`${anchoring.url}${path}`);
      expect(response.status, path).to.equal(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).to.equal("NotFound");
    }
    // The sealed route without a session is refused before anything is looked up.
    const response = await fetch(`${anchoring.url}${gatewayRoutes.inclusion}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ digest: aliceAnchoredReceipt.digest, nonce: aliceAnchoredReceipt.nonce }) });
    expect(response.status).to.equal(400);
  });

  it("answers another device's message exactly as one nobody sent, also under the asker's own nonce: no oracle", async () => {
    const asked = async (receipt: GetInclusionParameters) => {
      const error = (await malloryClient.getInclusion(receipt).catch((caught: unknown) => caught)) as GatewayError;
      expect(error).to.be.instanceOf(GatewayError);
      return { code: error.code, status: error.status, message: error.message, details: error.details, authenticated: error.authenticated };
    };
    const alices = await asked(aliceAnchoredReceipt);
    const nobodys = await asked({ digest: keccak256(stringToBytes("no such message")), nonce: aliceAnchoredReceipt.nonce });
    // Alice's digest under the nonce of one of Mallory's own stored messages: found by (Mallory, nonce), not that digest.
    const underOwnNonce = await asked({ digest: aliceAnchoredReceipt.digest, nonce: malloryReceipt.nonce });
    const beyondAnyNonce = await asked({ digest: aliceAnchoredReceipt.digest, nonce: (2n ** 255n).toString() });
    for (const answer of [nobodys, underOwnNonce, beyondAnyNonce]) expect(answer).to.deep.equal(alices);
    expect(alices).to.deep.include({ code: "MessageUnknown", status: 404, authenticated: true });
    // Alice herself gets hers.
    expect((await aliceClient.getInclusion(aliceAnchoredReceipt)).status).to.equal("anchored");
  });

  it("keeps each reading with its salt, and the salt off chain", async () => {
    const row = storedMessage(anchoring.store, aliceAnchoredReceipt)!;
    expect(row.payload?.toString()).to.equal("heart-rate 143");
    expect(`0x${row.salt!.toString("hex")}`).to.equal(aliceAnchored.salt);
    const chainData = await eventually("the anchoring transaction", async () => {
      const inclusion = await aliceClient.getInclusion(aliceAnchoredReceipt);
      return inclusion.batch?.txHash;
    });
    const tx = await harness.publicClient.getTransaction({ hash: chainData });
    expect(tx.input.toLowerCase()).to.not.include(aliceAnchored.salt.slice(2).toLowerCase());
    expect(tx.input.toLowerCase()).to.not.include(Buffer.from("heart-rate 143").toString("hex"));
  });
});

// The device-facing listener is reachable by every device and anyone on the ward's network. It
// answered /health with the Master's address, the served groups, the chain's last error (the RPC
// endpoint and its failure) and /metrics with the gateway's internals; those are the operator's,
// served on the admin listener (admin.test.ts).
describe("rule: the device-facing listener reveals neither the Master, nor the groups, nor the chain's faults", () => {
  let harness: Harness;
  let gateway: RunningGateway;

  before(async () => {
    harness = await createHarness();
    // A chain that cannot be reached: the worker's last error names the endpoint and its failure.
    gateway = await harness.start({ rpcUrl: "http://127.0.0.1:1" });
    await eventually("the chain worker's first failure", () => gateway.worker.lastError);
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("answers /health, /health/ready and /health/live with their status only", async () => {
    const secrets = [harness.master.address.slice(2), harness.gid.slice(2), harness.label, gateway.worker.lastError as string, "127.0.0.1:1"].map((text) => text.toLowerCase());
    for (const path of ["/health", "/health/ready", "/health/live"]) {
      const response = await fetch(`${gateway.url}${path}`);
      const text = (await response.text()).toLowerCase();
      for (const secret of secrets) expect(text, `${path} reveals ${secret}`).to.not.include(secret);
      expect(Object.keys(JSON.parse(text) as object), path).to.deep.equal(["status"]);
    }
    expect((await fetch(`${gateway.url}/health/ready`)).status).to.equal(503);
  });

  it("serves no /metrics", async () => {
    expectErrorAnswer(await get(gateway.url, "/metrics"), 404, "NotFound");
  });
});

// A web page the browser of anyone on the ward's network opens could otherwise call the gateway
// from its own origin and read the answers. CORS is off: no answer carries an
// Access-Control-Allow-* header, so browsers keep every answer from pages of other origins (a
// preflight gets none either, so a page cannot even send a JSON POST).
describe("rule: CORS is off: a page of another origin reads no answer of either listener", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  const origin = "https://evil.example";

  before(async () => {
    harness = await createHarness();
    gateway = await harness.start();
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  /** The answer's Access-Control-* headers (there should be none). */
  const corsHeaders = (response: Response): string[] => [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));

  it("answers a request with an Origin header without access-control-allow-origin, on the device-facing and the admin listener", async () => {
    for (const url of [`${gateway.url}/health/ready`, `${gateway.url}${gatewayRoutes.hello}`, `${gateway.adminUrl}/health/ready`, `${gateway.adminUrl}/metrics`]) {
      const response = await fetch(url, { headers: { origin } });
      await response.arrayBuffer();
      expect(response.headers.get("access-control-allow-origin"), url).to.equal(null);
      expect(corsHeaders(response), url).to.deep.equal([]);
    }
  });

  it("answers a CORS preflight (OPTIONS) without any Access-Control-Allow header", async () => {
    for (const url of [`${gateway.url}${gatewayRoutes.hello}`, `${gateway.url}${gatewayRoutes.data}`, `${gateway.adminUrl}/health`]) {
      const response = await fetch(url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
      await response.arrayBuffer();
      expect(corsHeaders(response), url).to.deep.equal([]);
      expect(response.status, url).to.be.at.least(400);
    }
  });
});
