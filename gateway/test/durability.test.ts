// Nothing acknowledged is lost: messages acknowledged before a `kill -9` of the gateway process are
// anchored after it restarts, and messages acknowledged while the chain is down are anchored once
// it is back. The devices go on after the restart through a new handshake (sessions live in the
// gateway's memory only). Also drives the CLI (start, enrol, devices, pending, status) as an
// operator would.
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAbiItem, type Hex } from "viem";
import { getAnchor, verifyBatchProof, type GatewayClient, type Receipt } from "@iomt-auth/sdk";
import type { RunningGateway } from "../src/index.js";
import { freePort } from "../../sdk/test/support/ports.js";
import { exited, runCliJson as runCli, spawnGateway } from "./support/cli.js";
import { createHarness, eventually, inclusionWith, type Device, type Harness } from "./support/harness.js";

/**
 * Waits until every receipt is anchored, then checks each proof offline and each root on chain.
 * Each device asks for its own messages (the gateway answers no one else about them).
 */
async function expectAllAnchored(harness: Harness, clients: readonly GatewayClient[], receipts: readonly Receipt[]): Promise<void> {
  const roots = new Set<Hex>();
  const clientOf = (receipt: Receipt) => clients.find((client) => client.session?.device.toLowerCase() === receipt.device.toLowerCase()) as GatewayClient;
  for (const receipt of receipts) {
    const inclusion = await inclusionWith(clientOf(receipt), receipt, "anchored");
    expect(verifyBatchProof({ root: inclusion.batch!.root, leaf: receipt.digest, proof: inclusion.batch!.proof })).to.equal(true);
    roots.add(inclusion.batch!.root);
  }
  for (const root of roots) {
    expect((await getAnchor(harness.publicClient, { registry: harness.registry, gid: harness.gid, root })).anchored).to.equal(true);
  }
}

async function sendMessages(device: Device, client: GatewayClient, fromNonce: bigint, count: number, perRequest: number): Promise<Receipt[]> {
  const receipts: Receipt[] = [];
  for (let nonce = fromNonce; nonce < fromNonce + BigInt(count); nonce += BigInt(perRequest)) {
    const messages = [];
    for (let i = 0n; i < BigInt(perRequest) && nonce + i < fromNonce + BigInt(count); i++) messages.push(await device.sign(nonce + i));
    receipts.push(...(await client.sendData({ messages })));
  }
  return receipts;
}

describe("gateway: restart survival (kill -9) and the CLI", () => {
  let harness: Harness;
  let child: ChildProcess | undefined;

  before(async () => {
    harness = await createHarness();
  });

  after(async () => {
    child?.kill("SIGKILL");
    await harness?.close();
  });

  it("anchors after a restart every message acknowledged before kill -9, and its devices go on through a new handshake", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const configFile = join(harness.dir, "gateway.json");
    // Batches only by size, and never reached: nothing is anchored before the kill.
    writeFileSync(configFile, JSON.stringify(harness.settings({ port: String(port), batchMaxMessages: "10000", batchMaxAgeMs: "3600000" }), null, 2));
    await runCli(configFile, "init");
    child = (await spawnGateway(configFile, url)).child;

    const devices = [harness.device("p1"), harness.device("p2"), harness.device("p3")];
    for (const device of devices) {
      const enrolled = (await runCli(configFile, "enrol", "--oid", device.oid, "--address", device.account.address, "--no-secret")) as { enrolled: { oid: Hex } };
      expect(enrolled.enrolled.oid).to.equal(device.oid);
    }
    const clients = [];
    const receipts: Receipt[] = [];
    for (const device of devices) {
      const client = device.client(url);
      await client.keySession();
      await client.associate({ token: await client.getTicket() });
      expect((await client.waitForAssociation({ pollIntervalMs: 50 })).status).to.equal("associated");
      receipts.push(...(await sendMessages(device, client, 1n, 10, 4)));
      clients.push(client);
    }
    expect(receipts).to.have.length(30);
    const pending = (await runCli(configFile, "pending")) as { messages: { count: number }[] };
    expect(pending.messages.reduce((sum, row) => sum + row.count, 0)).to.equal(30);

    const before = clients[0].session!.id;
    child.kill("SIGKILL");
    await exited(child);
    const anchoredBefore = await harness.publicClient.getLogs({ address: harness.registry, event: parseAbiItem("event BatchAnchored(bytes32 indexed gid, bytes32 indexed root, address indexed anchorer, uint32 messageCount)"), fromBlock: 0n });
    expect(anchoredBefore).to.have.length(0);

    child = (await spawnGateway(configFile, url, "--batchMaxAgeMs", "100")).child;
    await expectAllAnchored(harness, clients, receipts);

    // The sessions did not survive the kill (they live in memory only): the same client runs a
    // new handshake by itself and goes on with its next nonce.
    const [next] = await clients[0].sendData({ messages: [await devices[0].sign(11n)] });
    expect(next.nonce).to.equal("11");
    expect(clients[0].session!.id).to.not.equal(before);

    const status = (await runCli(configFile, "status")) as { enrolments: number; associations: Record<string, number> };
    expect(status.enrolments).to.equal(3);
    expect(status.associations.associated).to.equal(3);
    const listed = (await runCli(configFile, "devices")) as { address: string; association: string; messages: number }[];
    expect(listed.map((row) => row.association)).to.deep.equal(["associated", "associated", "associated"]);
    expect(listed.find((row) => row.address === devices[0].account.address)?.messages).to.equal(11);

    child.kill("SIGTERM");
    await exited(child);
    expect(child.exitCode).to.equal(0);
  });
});

describe("gateway: chain outage", () => {
  let harness: Harness;
  let gateway: RunningGateway;

  before(async () => {
    harness = await createHarness({ statePath: join(process.env.TMPDIR ?? "/tmp", `iomt-anvil-${process.pid}-${Date.now()}.json`) });
    gateway = await harness.start();
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("acknowledges messages while the chain is down and anchors all of them once it is back", async () => {
    const devices = [harness.device("o1"), harness.device("o2")];
    const clients = [];
    for (const device of devices) {
      const client = await harness.onboard(gateway, device);
      await expectAllAnchored(harness, [client], await sendMessages(device, client, 1n, 1, 1));
      clients.push(client);
    }

    await harness.anvil.stop();
    const receipts: Receipt[] = [];
    for (const [i, device] of devices.entries()) receipts.push(...(await sendMessages(device, clients[i], 2n, 10, 3)));
    expect(receipts).to.have.length(20);
    const health = await eventually("readiness to report the chain down", async () => {
      const response = await fetch(`${gateway.adminUrl}/health/ready`);
      const answer = (await response.json()) as { status: string; chain: { up: boolean } };
      return answer.chain.up ? undefined : { ...answer, httpStatus: response.status };
    });
    expect(health.httpStatus).to.equal(503);
    expect(health.status).to.equal("unready");
    expect((await fetch(`${gateway.url}/health/live`)).status).to.equal(200);
    expect(gateway.store.counts().batches.anchored?.messages ?? 0).to.equal(2);

    await harness.anvil.restart();
    await expectAllAnchored(harness, clients, receipts);
    const ready = await fetch(`${gateway.url}/health/ready`);
    expect(ready.status).to.equal(200);
    expect(((await ready.json()) as { status: string }).status).to.equal("ok");
  });
});
