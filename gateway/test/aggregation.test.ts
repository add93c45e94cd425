// Hierarchical anchoring between real gateways on anvil (aggregation.ts): the paper's three levels
// (a hospital root group, a middle cluster whose head is a member of it, a leaf cluster below that),
// each served by its own gateway with its own Master key. A leaf device's message is anchored by
// the root gateway alone, through one aggregate, and proves on chain through the AggregateVerifier;
// the parent refuses strangers, conflicts, oversized and excess hand-overs; a child whose parent is
// down anchors for itself after the deadline; a child restarted from its database loses nothing;
// a parent restored from an old backup is handed the roots again; nothing acknowledged while the
// chain is away is lost.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { createWalletClient, http, parseEther, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import {
  associateBySig,
  createDataMessage,
  createGatewayClient,
  createGroup,
  hashDataMessage,
  issueToken,
  randomSalt,
  signAssociation,
  signDataMessage,
  toId,
  verifyAggregatePath,
  verifyAggregatedMessageOnChain,
  type DataMessage,
  type GatewayClient,
  type InclusionResponse,
  type WriteClient,
} from "@iomt-auth/sdk";
import { deployAggregateVerifier } from "@iomt-auth/sdk/deploy";
import type { AggregationHealth } from "../src/aggregation.js";
import { enrolDevice, type RawSettings, type RunningGateway } from "../src/index.js";
import { metricsOf, metricValue, readinessOf, samples } from "./support/admin.js";
import { expectGatewayError } from "./support/expect.js";
import { createHarness, eventually, type Harness } from "./support/harness.js";

/** A cluster head: a key that is a member of `parentGid` and Master of its own group below it, with its key file. */
type Head = { account: PrivateKeyAccount; wallet: WriteClient; oid: Hex; gid: Hex; keyFile: string };

async function clusterHead(harness: Harness, parentMaster: PrivateKeyAccount, parentGid: Hex, label: string): Promise<Head> {
  const key = generatePrivateKey();
  const account = privateKeyToAccount(key);
  await harness.publicClient.request({ method: "anvil_setBalance" as never, params: [account.address, `0x${parseEther("100").toString(16)}`] as never });
  const wallet = createWalletClient({ chain: harness.chain, transport: http(harness.anvil.url, { retryCount: 0 }), account, pollingInterval: 50 }) as WriteClient;
  const oid = toId(`head:${label}`);
  const token = await issueToken(parentMaster, { gid: parentGid, oid, device: account.address });
  const association = await signAssociation(account, { domain: harness.domain, token, deadline: BigInt(Math.floor(Date.now() / 1000) + 600) });
  const relayer = await harness.fundedWallet();
  await harness.publicClient.waitForTransactionReceipt({ hash: await associateBySig(relayer, { registry: harness.registry, association }) });
  const created = await createGroup(wallet, { registry: harness.registry, label, masterOid: oid, parentGid });
  await harness.publicClient.waitForTransactionReceipt({ hash: created.hash });
  const keyFile = join(harness.dir, `${label}.key`);
  writeFileSync(keyFile, `${key}\n`);
  chmodSync(keyFile, 0o600);
  return { account, wallet, oid, gid: created.gid, keyFile };
}

/** A gateway for `head`'s group with aggregation on (a parent when `parentUrl` is given). */
const startFor = (harness: Harness, head: Head, overrides: RawSettings = {}) =>
  harness.start({ keyFile: head.keyFile, groups: head.gid, aggregation: "on", aggregateIntervalMs: "300", ...overrides });

/** A device of `head`'s group, onboarded through `gateway`: enrolled, ticket, association. */
async function onboardDevice(harness: Harness, gateway: RunningGateway, head: Head, name: string) {
  const account = privateKeyToAccount(generatePrivateKey());
  const oid = toId(`device:${name}`);
  await enrolDevice(gateway.store, { gid: head.gid, oid, address: account.address });
  const clientFor = (url: string) => createGatewayClient({ url, account, master: head.account.address, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: head.gid } });
  const client = clientFor(gateway.url);
  await client.keySession();
  await client.associate({ token: await client.getTicket() });
  expect((await client.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 })).status).to.equal("associated");
  let nonce = await client.getNextNonce();
  return {
    client,
    /** A client of the same device for the gateway at `url` (e.g. after a restart on another port). */
    clientFor,
    /** Sends `count` signed messages; returns them with their digests. */
    async send(count: number): Promise<{ message: DataMessage; digest: Hex }[]> {
      const signed = [];
      for (let i = 0; i < count; i++) {
        const message = createDataMessage({ gid: head.gid, oid, nonce: nonce++, payload: Buffer.from(`${name} ${nonce}`), salt: randomSalt() });
        signed.push(await signDataMessage(account, { domain: harness.domain, message }));
      }
      await client.sendData({ messages: signed });
      return signed.map(({ message }) => ({ message, digest: hashDataMessage(harness.domain, message) }));
    },
  };
}

/** Polls the inclusion of a message `send` returned until it is anchored. */
const anchoredInclusion = (client: GatewayClient, { message, digest }: { message: DataMessage; digest: Hex }, timeoutMs = 60_000): Promise<InclusionResponse> =>
  eventually(
    `message ${digest} anchored`,
    async () => {
      const inclusion = await client.getInclusion({ digest, nonce: message.nonce });
      return inclusion.status === "anchored" ? inclusion : undefined;
    },
    timeoutMs,
  );

/** The message's two-part path from its inclusion answer, as the AggregateVerifier takes it. */
function pathOf(inclusion: InclusionResponse) {
  const { batch, aggregate } = inclusion;
  if (batch === undefined || aggregate === undefined) throw new Error(`no aggregate in ${JSON.stringify(inclusion)}`);
  return { batchRoot: batch.root, batchMessageCount: batch.size, batchProof: batch.proof, aggregateGid: aggregate.gid, aggregateRoot: aggregate.root, aggregateProof: aggregate.proof };
}

/** The groups whose gid some BatchAnchored event names, since the registry was deployed. */
async function anchoringGroups(harness: Harness): Promise<Set<string>> {
  const logs = await harness.publicClient.getContractEvents({
    address: harness.registry,
    abi: (await import("@iomt-auth/sdk")).iomtRegistryAbi,
    eventName: "BatchAnchored",
    fromBlock: harness.deployBlock,
  });
  return new Set(logs.map((log) => (log.args.gid as string).toLowerCase()));
}

describe("hierarchical anchoring between gateways", function () {
  this.timeout(240_000);
  let harness: Harness;
  let middle: Head;
  let leaf: Head;
  let verifier: Hex;

  before(async () => {
    harness = await createHarness();
    middle = await clusterHead(harness, harness.master, harness.gid, "middle");
    leaf = await clusterHead(harness, middle.account, middle.gid, "leaf");
    verifier = (await deployAggregateVerifier(harness.masterWallet, { registry: harness.registry })).address;
  });

  after(async () => {
    await harness?.close();
  });

  describe("across the paper's three levels", () => {
    it("anchors a leaf device's messages in one aggregate of the root group, which proves them on chain and offline", async () => {
      const root = await harness.start({ aggregation: "on", aggregateIntervalMs: "300" });
      const mid = await startFor(harness, middle, { parentUrl: root.url });
      const low = await startFor(harness, leaf, { parentUrl: mid.url });
      try {
        const device = await onboardDevice(harness, low, leaf, "ecg");
        const midDevice = await onboardDevice(harness, mid, middle, "pump");
        // From here no test step writes to a gateway's store (enrolDevice, the CLI's, did above).
        const mainSyncs = () => Promise.all([root, mid, low].map((gateway) => metricValue(gateway, "iomt_gateway_store_wal_fsync_seconds_count", { thread: "main" })));
        const mainSyncsBefore = await mainSyncs();
        const sent = [...(await device.send(3))];
        const midSent = await midDevice.send(2);
        for (const [client, messages] of [[device.client, sent], [midDevice.client, midSent]] as const) {
          for (const { message, digest } of messages) {
            const inclusion = await anchoredInclusion(client, { message, digest });
            const path = pathOf(inclusion);
            // Anchored by the root group's gateway, in the root group.
            expect(path.aggregateGid.toLowerCase()).to.equal(harness.gid.toLowerCase());
            expect(inclusion.batch?.txHash, "the batch root itself is not on chain").to.equal(undefined);
            expect(verifyAggregatePath({ gid: message.gid, digest, path })).to.equal(true);
            expect(await verifyAggregatedMessageOnChain(harness.publicClient, { verifier, message, path })).to.equal(true);
          }
        }
        // Chain load: only the root group anchored; the middle and leaf gateways sent no anchor.
        const groups = await anchoringGroups(harness);
        expect([...groups]).to.deep.equal([harness.gid.toLowerCase()]);
        // Hand-overs, their answers, the aggregate and its anchor were all written in the group
        // commit: no gateway's event loop waited for a WAL sync (event-loop-syncs.test.ts).
        expect(await mainSyncs()).to.deep.equal(mainSyncsBefore);
      } finally {
        await low.close();
        await mid.close();
        await root.close();
      }
    });
  });

  describe("what the parent refuses", () => {
    let root: RunningGateway;
    let child: GatewayClient;
    let member: GatewayClient;

    before(async () => {
      // No aggregate during these tests: what is handed over stays held.
      root = await harness.start({ aggregation: "on", aggregateIntervalMs: "3600000", maxHandoverBacklog: "3", maxRootsPerHandover: "4" });
      child = createGatewayClient({ url: root.url, account: middle.account, master: harness.master.address, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid } });
      await child.keySession();
    });

    after(async () => {
      await root?.close();
    });

    it("refuses a member of its group that masters no group below it with HandoverNotChild (403, sealed)", async () => {
      member = await harness.onboard(root, harness.device("plain-member"));
      await expectGatewayError(member.handOver([{ gid: harness.gid, batchRoot: toId("plain"), messageCount: 1 }]), 403, "HandoverNotChild", { authenticated: true });
    });

    it("refuses a child's Master handing over a root of a group outside its subtree with HandoverNotChild", async () => {
      // The root group itself, and a group that does not exist.
      for (const gid of [harness.gid, toId("nowhere")]) {
        await expectGatewayError(child.handOver([{ gid, batchRoot: toId(`stranger:${gid}`), messageCount: 1 }]), 403, "HandoverNotChild", { authenticated: true });
      }
    });

    it("accepts the child's own and its sub-cluster's roots, answers a repeat with the same state, and refuses another count for a root with HandoverConflict (409)", async () => {
      const entries = [
        { gid: middle.gid, batchRoot: toId("conflict:1"), messageCount: 3 },
        { gid: leaf.gid, batchRoot: toId("conflict:2"), messageCount: 5 },
      ];
      expect((await child.handOver(entries)).map((state) => state.status)).to.deep.equal(["waiting", "waiting"]);
      expect((await child.handOver(entries)).map((state) => state.status)).to.deep.equal(["waiting", "waiting"]);
      await expectGatewayError(child.handOver([{ ...entries[0], messageCount: 4 }]), 409, "HandoverConflict", { authenticated: true });
      expect((await child.handoverStatus(entries)).map((state) => state.status)).to.deep.equal(["waiting", "waiting"]);
      // Anyone else asking about them learns nothing: the status route is no oracle of what a child sent.
      expect((await member.handoverStatus(entries)).map((state) => state.status)).to.deep.equal(["unknown", "unknown"]);
    });

    it("refuses a count no batch holds, or too many roots in one request, with RequestInvalid (400)", async () => {
      await expectGatewayError(child.handOver([{ gid: middle.gid, batchRoot: toId("huge"), messageCount: 65_537 }]), 400, "RequestInvalid", { authenticated: true });
      await expectGatewayError(child.handOver([{ gid: middle.gid, batchRoot: toId("none"), messageCount: 0 }]), 400, "RequestInvalid", { authenticated: true });
      const five = Array.from({ length: 5 }, (_, i) => ({ gid: middle.gid, batchRoot: toId(`five:${i}`), messageCount: 1 }));
      await expectGatewayError(child.handOver(five), 400, "RequestInvalid", { authenticated: true });
    });

    it("refuses roots past maxHandoverBacklog with HandoverBacklogFull (429), keeping what it already holds", async () => {
      // Two held from the test before; the third fits, the fourth does not.
      expect((await child.handOver([{ gid: middle.gid, batchRoot: toId("backlog:1"), messageCount: 1 }]))[0].status).to.equal("waiting");
      const error = await expectGatewayError(child.handOver([{ gid: middle.gid, batchRoot: toId("backlog:2"), messageCount: 1 }]), 429, "HandoverBacklogFull", { authenticated: true });
      expect(error.details?.retryAfterMs).to.be.a("number");
      expect((await child.handoverStatus([{ gid: middle.gid, batchRoot: toId("backlog:2") }]))[0].status).to.equal("unknown");
    });
  });

  describe("a parent that does not anchor, and a child that crashes", () => {
    it("anchors the child's roots itself after handoverDeadlineMs when its parent is down, under its own group", async () => {
      const gone = await harness.start({ aggregation: "on" });
      const goneUrl = gone.url;
      await gone.close();
      const low = await startFor(harness, leaf, { parentUrl: goneUrl, handoverDeadlineMs: "1500" });
      try {
        const device = await onboardDevice(harness, low, leaf, "spo2");
        const [{ message, digest }] = await device.send(1);
        const inclusion = await anchoredInclusion(device.client, { message, digest });
        const path = pathOf(inclusion);
        expect(path.aggregateGid.toLowerCase()).to.equal(leaf.gid.toLowerCase());
        expect(await verifyAggregatedMessageOnChain(harness.publicClient, { verifier, message, path })).to.equal(true);
      } finally {
        await low.close();
      }
    });

    it("keeps every root across a restart of the child from its database, and learns of the anchor once the parent is back; readiness and /metrics show the root held and the parent down (degraded), then nothing held", async () => {
      const low = await startFor(harness, leaf, { parentUrl: "http://127.0.0.1:9", handoverDeadlineMs: "600000" });
      const databasePath = low.store.path;
      const device = await onboardDevice(harness, low, leaf, "temp");
      const sent = await device.send(2);
      await eventually("the batch cut and held", () => ((low.store.db.prepare("SELECT count(*) FROM handovers WHERE status = 'waiting'").pluck().get() as number) > 0 ? true : undefined));
      // What the operator sees meanwhile: the root held, its age, the parent down.
      const held = await eventually("the parent found down", async () => {
        const answer = await readinessOf<{ status: string; aggregation: AggregationHealth }>(low);
        return answer.body.aggregation.parentUp === false ? answer : undefined;
      });
      expect(held.status, "still serving").to.equal(200);
      expect(held.body.status).to.equal("degraded");
      expect(held.body.aggregation).to.deep.include({ parent: "http://127.0.0.1:9", roots: { waiting: 1, handed: 0, aggregated: 0 } });
      expect(held.body.aggregation.oldestOpenMs).to.be.a("number").and.at.least(0);
      const heldMetrics = await metricsOf(low);
      expect(samples(heldMetrics, "iomt_gateway_handover_roots")).to.have.deep.members(["waiting", "handed", "aggregated"].map((status) => ({ labels: { status }, value: status === "waiting" ? 1 : 0 })));
      expect(samples(heldMetrics, "iomt_gateway_parent_up")).to.deep.equal([{ labels: {}, value: 0 }]);
      expect(samples(heldMetrics, "iomt_gateway_handover_oldest_seconds")[0].value).to.be.at.least(0);
      await low.close();

      // The middle gateway comes up, with the root's gateway above it; the leaf restarts from its file.
      const root = await harness.start({ aggregation: "on", aggregateIntervalMs: "300" });
      const mid = await startFor(harness, middle, { parentUrl: root.url });
      const again = await startFor(harness, leaf, { parentUrl: mid.url, handoverDeadlineMs: "600000", databasePath });
      try {
        const client = device.clientFor(again.url);
        await client.keySession();
        for (const { message, digest } of sent) {
          const path = pathOf(await anchoredInclusion(client, { message, digest }));
          expect(path.aggregateGid.toLowerCase()).to.equal(harness.gid.toLowerCase());
          expect(await verifyAggregatedMessageOnChain(harness.publicClient, { verifier, message, path })).to.equal(true);
        }
        // Once anchored: nothing held, the parent up; the root group's gateway has no parent to report.
        const { body: clear } = await readinessOf<{ status: string; aggregation: AggregationHealth }>(again);
        expect(clear).to.deep.include({ status: "ok", aggregation: { parent: mid.url, parentUp: true, roots: { waiting: 0, handed: 0, aggregated: 0 }, oldestOpenMs: null } });
        const clearMetrics = await metricsOf(again);
        expect(samples(clearMetrics, "iomt_gateway_handover_roots").map(({ value }) => value)).to.deep.equal([0, 0, 0]);
        expect(samples(clearMetrics, "iomt_gateway_parent_up")).to.deep.equal([{ labels: {}, value: 1 }]);
        expect(samples(clearMetrics, "iomt_gateway_handover_oldest_seconds")).to.deep.equal([{ labels: {}, value: 0 }]);
        const { body: top } = await readinessOf<{ aggregation: AggregationHealth }>(root);
        expect(top.aggregation).to.deep.include({ parent: null, parentUp: null });
        expect(await metricsOf(root)).not.to.include("iomt_gateway_parent_up");
      } finally {
        await again.close();
        await mid.close();
        await root.close();
      }
    });
  });

  describe("a parent restored from an old backup", () => {
    it("hands its roots again when the parent no longer knows them (unknown), and they are anchored all the same", async () => {
      // A parent that takes the roots but never anchors (its interval is an hour): the child sees them handed.
      const before = await harness.start({ aggregation: "on", aggregateIntervalMs: "3600000" });
      const parentUrl = before.url;
      const mid = await startFor(harness, middle, { parentUrl, handoverDeadlineMs: "600000" });
      try {
        const device = await onboardDevice(harness, mid, middle, "infusion");
        const [sent] = await device.send(1);
        const statusOf = () => mid.store.db.prepare("SELECT status FROM handovers WHERE batch_id IS NOT NULL").pluck().all() as string[];
        await eventually("the root handed to the parent", () => (statusOf().includes("handed") ? true : undefined));
        // The parent comes back on the same address from a database that never saw the root.
        await before.close();
        const restored = await harness.start({ aggregation: "on", aggregateIntervalMs: "300", port: new URL(parentUrl).port });
        try {
          const path = pathOf(await anchoredInclusion(device.client, sent));
          expect(path.aggregateGid.toLowerCase()).to.equal(harness.gid.toLowerCase());
          expect(await verifyAggregatedMessageOnChain(harness.publicClient, { verifier, message: sent.message, path })).to.equal(true);
          expect(statusOf()).to.deep.equal(["anchored"]);
          expect(restored.store.db.prepare("SELECT count(*) FROM handovers WHERE status = 'anchored'").pluck().get(), "handed again to the restored parent, which anchored it").to.equal(1);
        } finally {
          await restored.close();
        }
      } finally {
        await mid.close();
      }
    });
  });

  describe("the chain away", () => {
    let outage: Harness;

    before(async () => {
      outage = await createHarness({ statePath: join(process.env.TMPDIR ?? "/tmp", `iomt-anvil-aggregation-${process.pid}-${Date.now()}.json`) });
    });

    after(async () => {
      await outage?.close();
    });

    it("acknowledges and holds every root while the chain is down, and anchors them all through the root gateway once it is back", async () => {
      const head = await clusterHead(outage, outage.master, outage.gid, "ward");
      const outageVerifier = (await deployAggregateVerifier(outage.masterWallet, { registry: outage.registry })).address;
      const root = await outage.start({ aggregation: "on", aggregateIntervalMs: "300" });
      const mid = await startFor(outage, head, { parentUrl: root.url });
      try {
        const device = await onboardDevice(outage, mid, head, "bp");
        const [first] = await device.send(1);
        await anchoredInclusion(device.client, first);

        await outage.anvil.stop();
        const during = await device.send(3);
        // Acknowledged while the chain is away: kept, not anchored.
        for (const { message, digest } of during) expect((await device.client.getInclusion({ digest, nonce: message.nonce })).status).to.equal("pending");

        await outage.anvil.restart();
        for (const { message, digest } of during) {
          const path = pathOf(await anchoredInclusion(device.client, { message, digest }));
          expect(path.aggregateGid.toLowerCase()).to.equal(outage.gid.toLowerCase());
          expect(await verifyAggregatedMessageOnChain(outage.publicClient, { verifier: outageVerifier, message, path })).to.equal(true);
        }
        expect([...(await anchoringGroups(outage))]).to.deep.equal([outage.gid.toLowerCase()]);
      } finally {
        await mid.close();
        await root.close();
      }
    });
  });
});
