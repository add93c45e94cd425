// The whole device flow through the SDK against a running gateway and anvil: keySession,
// getTicket, assoc, data, receipts, anchoring, inclusion proofs, AuthTable paths, revocation.
import { expect } from "chai";
import { getAddress, type Hex } from "viem";
import {
  associateBySig,
  commitPayload,
  createAuthTableIndexer,
  fetchTrustedState,
  issueToken,
  signAssociation,
  revoke,
  verifyAnchoredMessageOnChain,
  verifyAuthPath,
  verifyAuthPathOnChain,
  verifyBatchProof,
  type GatewayClient,
} from "@iomt-auth/sdk";
import { enrolDevice, type RunningGateway } from "../src/index.js";
import { metricsOf, metricValue, samples } from "./support/admin.js";
import { expectGatewayError } from "./support/expect.js";
import { eventually, inclusionWith, storedMessage, startWithTwoDevices, type Device, type Harness, type TwoDevices } from "./support/harness.js";

describe("gateway: the device flow over HTTP against anvil", () => {
  let harness: Harness;
  let gateway: RunningGateway;
  let alice: Device;
  let bob: Device;
  let aliceClient: GatewayClient;
  let bobClient: GatewayClient;

  let fixture: TwoDevices | undefined;

  before(async () => {
    fixture = await startWithTwoDevices();
    ({ harness, gateway, alice, bob, aliceClient, bobClient } = fixture);
  });

  after(async () => {
    await fixture?.close();
  });

  describe("keySession and getTicket", () => {
    it("proves the Master's key to the device and opens a session with an expiry", async () => {
      const carol = harness.device("carol");
      await enrolDevice(gateway.store, { gid: harness.gid, oid: carol.oid, address: carol.account.address });
      const client = carol.client(gateway.url);
      const { sessionId, expiresAt } = await client.keySession();
      expect(sessionId).to.equal(client.session?.id);
      expect(client.session?.master).to.equal(harness.master.address);
      expect(expiresAt).to.be.greaterThan(Math.floor(Date.now() / 1000));
    });

    it("issues the enrolled device its token, signed by the Master, under the session", async () => {
      const dave = harness.device("dave");
      await gateway.enrol({ oid: dave.oid, address: dave.account.address, secret: "bedside-12 K7QW2MZPHX4R" });
      const client = dave.client(gateway.url);
      await client.keySession();
      const token = await client.getTicket({ secret: "bedside-12 K7QW2MZPHX4R" });
      expect(token.gid).to.equal(harness.gid);
      expect(token.oid).to.equal(dave.oid);
      expect(getAddress(token.device)).to.equal(dave.account.address);
    });

    it("refuses a session to a device that is neither enrolled nor a member", async () => {
      const stranger = harness.device("stranger");
      const error = await expectGatewayError(stranger.client(gateway.url).keySession(), 403, "DeviceNotAdmitted");
      expect(error.authenticated).to.equal(false);
    });
  });

  describe("assoc", () => {
    it("relays the association and reports the AuthTable entry once mined", async () => {
      const status = await aliceClient.associationStatus();
      expect(status.status).to.equal("associated");
      expect(status.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(status.entry?.device).to.equal(alice.account.address);
      expect(status.entry?.master).to.equal(harness.master.address);
      const receipt = await harness.publicClient.getTransactionReceipt({ hash: status.txHash as Hex });
      expect(receipt.status).to.equal("success");
    });

    it("answers a repeated association with the same entry instead of relaying it twice", async () => {
      const before = await aliceClient.associationStatus();
      const again = await aliceClient.associate({ token: await aliceClient.getTicket() });
      expect(again.status).to.equal("associated");
      expect(again.entry).to.deep.equal(before.entry);
      const relayed = gateway.store.db.prepare("SELECT count(*) FROM associations WHERE device = ?").pluck().get(alice.account.address);
      expect(relayed).to.equal(1);
    });

    it("reports the registry rule a relayed association broke, and relays a request sent again", async () => {
      const frank = harness.device("frank");
      await enrolDevice(gateway.store, { gid: harness.gid, oid: frank.oid, address: frank.account.address });
      // Another key takes frank's oid on chain first.
      const squatter = harness.device("squatter");
      const squatterToken = await issueToken(harness.master, { gid: harness.gid, oid: frank.oid, device: squatter.account.address });
      const association = await signAssociation(squatter.account, { domain: harness.domain, token: squatterToken, deadline: BigInt(Math.floor(Date.now() / 1000) + 600) });
      await harness.publicClient.waitForTransactionReceipt({ hash: await associateBySig(harness.masterWallet, { registry: harness.registry, association }) });

      const client = frank.client(gateway.url);
      await client.keySession();
      const token = await client.getTicket();
      await client.associate({ token });
      const rejected = await client.waitForAssociation({ pollIntervalMs: 50 });
      expect(rejected.status).to.equal("rejected");
      expect(rejected.error?.code).to.equal("GroupRegistryOidTaken");

      const laterDeadline = BigInt(Math.floor(Date.now() / 1000) + 1_200);
      await client.associate({ token, deadline: laterDeadline });
      const stored = JSON.parse(gateway.store.association(frank.account.address)!.request) as { request: { deadline: string } };
      expect(stored.request.deadline).to.equal(laterDeadline.toString());
      const again = await client.waitForAssociation({ pollIntervalMs: 50 });
      expect(again.error?.code).to.equal("GroupRegistryOidTaken");
    });
  });

  describe("data", () => {
    it("verifies, stores and acknowledges messages with one receipt each", async () => {
      const messages = [await alice.sign(1n), await alice.sign(2n), await alice.sign(3n)];
      const receipts = await aliceClient.sendData({ messages });
      expect(receipts.map((receipt) => receipt.nonce)).to.deep.equal(["1", "2", "3"]);
      for (const receipt of receipts) expect(receipt.device).to.equal(alice.account.address);
    });

    it("answers a re-sent message with the same receipt and stores it once", async () => {
      const message = await alice.sign(4n);
      const [first] = await aliceClient.sendData({ messages: [message] });
      const [second] = await aliceClient.sendData({ messages: [message] });
      expect(second).to.deep.equal(first);
      const rows = gateway.store.db.prepare("SELECT count(*) FROM messages WHERE device = ? AND nonce = 4").pluck().get(alice.account.address);
      expect(rows).to.equal(1);
    });

    it("keeps the raw reading off chain but stored with the salt of its commitment", async () => {
      const message = await bob.sign(1n, { payload: "spo2=97" });
      const [receipt] = await bobClient.sendData({ messages: [message] });
      const row = storedMessage(gateway.store, receipt);
      expect(row?.payload?.toString()).to.equal("spo2=97");
      expect(`0x${row?.salt?.toString("hex")}`).to.equal(message.salt);
      expect(commitPayload("spo2=97", message.salt)).to.equal(message.message.payloadHash);
    });

    it("tells a device that lost its counter the next nonce it accepts", async () => {
      expect(await bobClient.getNextNonce()).to.equal(2n);
      const [receipt] = await bobClient.sendData({ messages: [await bob.sign(await bobClient.getNextNonce())] });
      expect(receipt.nonce).to.equal("2");
      expect(await bobClient.getNextNonce()).to.equal(3n);
    });

    it("anchors acknowledged messages in a batch whose proofs verify offline and on chain", async () => {
      const message = await bob.sign(3n);
      const [receipt] = await bobClient.sendData({ messages: [message] });
      const inclusion = await inclusionWith(bobClient, receipt, "anchored");
      expect(inclusion.batch?.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(verifyBatchProof({ root: inclusion.batch!.root, leaf: receipt.digest, proof: inclusion.batch!.proof })).to.equal(true);
      const onChain = await verifyAnchoredMessageOnChain(harness.publicClient, { registry: harness.registry, message: message.message, root: inclusion.batch!.root, proof: inclusion.batch!.proof });
      expect(onChain).to.equal(true);
    });
  });

  describe("proof and verify", () => {
    it("gives a device its AuthTable path, which verifies offline against chain state", async () => {
      const path = await aliceClient.getAuthPath();
      expect(path[0].entry.device).to.equal(alice.account.address);
      const trusted = await fetchTrustedState(harness.publicClient, { registry: harness.registry, gids: [harness.gid], trustedRoots: [harness.gid] });
      expect(verifyAuthPath(path, trusted).status).to.equal("Valid");
    });

    it("keeps a saved path verifiable after more devices join: offline by the mirror's earlier roots, on chain with a consistency proof", async () => {
      const saved = await bobClient.getAuthPath();
      const builtFor = saved[0].leafCount;
      const grace = harness.device("grace");
      await harness.onboard(gateway, grace);

      // The gateway's verifier holds newer state, and the roots it had at every earlier size.
      const verdict = await aliceClient.verifyPath({ path: saved });
      expect(verdict).to.deep.include({ valid: true, status: "Valid" });
      // A verifier with only the chain's current state calls it Stale, never InvalidProof …
      const trusted = await fetchTrustedState(harness.publicClient, { registry: harness.registry, gids: [harness.gid], trustedRoots: [harness.gid] });
      const leafCount = [...(trusted.groups as Iterable<{ leafCount: number }>)][0].leafCount;
      expect(leafCount).to.be.greaterThan(builtFor);
      expect(verifyAuthPath(saved, trusted).status).to.equal("Stale");
      expect((await verifyAuthPathOnChain(harness.publicClient, { registry: harness.registry, path: saved, trustedRootGid: harness.gid })).status).to.equal("Stale");
      // … and Valid once the step carries an RFC 9162 consistency proof to the current size.
      const indexer = createAuthTableIndexer(harness.publicClient, { registry: harness.registry, fromBlock: harness.deployBlock });
      await indexer.sync();
      const tree = indexer.group(harness.gid)!.tree;
      expect(tree.size).to.equal(leafCount);
      const refreshed = [{ ...saved[0], consistency: tree.consistencyProof(builtFor, leafCount) }];
      expect(verifyAuthPath(refreshed, trusted).status).to.equal("Valid");
      expect((await verifyAuthPathOnChain(harness.publicClient, { registry: harness.registry, path: refreshed, trustedRootGid: harness.gid })).status).to.equal("Valid");
    });

    it("checks a path a peer presented", async () => {
      const peerPath = await bobClient.getAuthPath();
      const verdict = await aliceClient.verifyPath({ path: peerPath });
      expect(verdict).to.deep.include({ valid: true, status: "Valid", device: bob.account.address });
    });

    it("reports a revoked peer's path as revoked and refuses its data", async () => {
      const erin = harness.device("erin");
      const erinClient = await harness.onboard(gateway, erin);
      const path = await erinClient.getAuthPath();
      await harness.publicClient.waitForTransactionReceipt({ hash: await revoke(harness.masterWallet, { registry: harness.registry, gid: harness.gid, oid: erin.oid }) });
      const verdict = await eventually("the mirror to see the revocation", async () => {
        const answer = await aliceClient.verifyPath({ path });
        return answer.valid ? undefined : answer;
      });
      expect(verdict.status).to.equal("Revoked");
      await expectGatewayError(erinClient.sendData({ messages: [await erin.sign(1n)] }), 403, "DeviceRevoked");
    });
  });

  describe("operations", () => {
    it("reports liveness and readiness to devices, and readiness details and Prometheus metrics on the admin listener", async () => {
      const live = await fetch(`${gateway.url}/health/live`);
      expect(live.status).to.equal(200);
      expect(await live.json()).to.deep.equal({ status: "live" });
      const ready = await fetch(`${gateway.url}/health/ready`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({ status: "ok" });
      const details = await fetch(`${gateway.adminUrl}/health/ready`);
      expect(details.status).to.equal(200);
      const health = (await details.json()) as { status: string; chain: { up: boolean }; store: { ok: boolean } };
      expect(health.status).to.equal("ok");
      expect(health.chain.up).to.equal(true);
      expect(health.store.ok).to.equal(true);
      expect(await metricValue(gateway, "iomt_gateway_messages_accepted_total")).to.be.at.least(0);
      expect(await metricValue(gateway, "iomt_gateway_batches_anchored_total")).to.be.at.least(1);
    });

    it("times each data request's signature checks and each sealed request's commit, in one histogram each", async () => {
      const counts = async () => {
        const metrics = await metricsOf(gateway);
        const count = (name: string) => samples(metrics, `${name}_count`)[0]?.value;
        return { verify: count("iomt_gateway_verify_seconds"), commit: count("iomt_gateway_commit_seconds") };
      };
      const next = await bobClient.getNextNonce();
      const before = await counts();
      await bobClient.sendData({ messages: [await bob.sign(next), await bob.sign(next + 1n)] });
      // One data request: one verification (of both its messages) and one commit.
      expect(await counts()).to.deep.equal({ verify: before.verify + 1, commit: before.commit + 1 });
    });
  });
});
