// `iomt-gateway rotate-key` through the CLI binary, against anvil and a gateway run as its own
// process: the hand-over is refused, with nothing sent, while the gateway runs, for a key that may
// not master the group or cannot pay for its acceptance, and while an acknowledged association
// waits to be mined; it hands the group over on chain, reruns as a no-op, and the gateway restarted
// with the new key anchors the messages acknowledged before, issues tickets under the new key and
// keeps its associated devices, while the old key is refused at start and cannot anchor.
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEther, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  anchorBatch,
  associateBySig,
  ContractRuleError,
  createGatewayClient,
  getGroup,
  issueToken,
  proposeMaster,
  SessionError,
  signAssociation,
  toId,
  type GatewayClient,
  type Receipt,
} from "@iomt-auth/sdk";
import { GatewayStore } from "../src/store.js";
import { exited, expectCliFailure, runCli, runCliJson, spawnGateway, type GatewayProcess } from "./support/cli.js";
import { expectGatewayError } from "./support/expect.js";
import { createHarness, eventually, inclusionWith, type Device, type Harness } from "./support/harness.js";
import { randomPort } from "./support/process.js";

type Rotation = {
  rotated: { gid: Hex; previous: Address; master: Address; state: string; proposeTx: Hex | null; acceptTx: Hex | null; block: string | null };
  droppedTokens: number;
  ticketsToRenew: { gid: Hex; oid: Hex; address: string }[];
  next: string;
};

describe("iomt-gateway rotate-key", () => {
  let harness: Harness;
  let url: string;
  let settings: Record<string, unknown>;
  let oldConfig: string;
  let gateway: GatewayProcess | undefined;
  const newKey = generatePrivateKey();
  const newMaster = privateKeyToAccount(newKey);
  let newKeyFile: string;

  const writeKey = (name: string, key: Hex) => {
    const path = join(harness.dir, name);
    writeFileSync(path, `${key}\n`, { mode: 0o600 });
    return path;
  };
  const writeConfig = (name: string, overrides: Record<string, unknown>) => {
    const path = join(harness.dir, name);
    writeFileSync(path, JSON.stringify({ ...settings, ...overrides }));
    return path;
  };
  const fund = (address: Address, ether: string) =>
    harness.publicClient.request({ method: "anvil_setBalance" as never, params: [address, `0x${parseEther(ether).toString(16)}`] as never });
  const rotate = (config: string, keyFile: string) => runCli(["rotate-key", "--config", config, "--new-key-file", keyFile]);
  const nonceOf = (address: Address) => harness.publicClient.getTransactionCount({ address });
  const stopGateway = async () => {
    gateway?.child.kill("SIGTERM");
    if (gateway !== undefined) await exited(gateway.child);
    gateway = undefined;
  };
  /** A client that expects the new Master in the handshake. */
  const newMasterClient = (device: Device): GatewayClient =>
    createGatewayClient({ url, account: device.account, master: newMaster.address, context: { chainId: harness.chain.id, registry: harness.registry, gid: harness.gid } });

  // Device state carried through the rules, in order: sender sent messages before the rotation;
  // ticketed got the previous Master's token and never associated; waiting never got a ticket.
  let sender: Device;
  let ticketed: Device;
  let waiting: Device;
  let receipts: Receipt[];

  before(async function () {
    this.timeout(120_000);
    harness = await createHarness();
    const port = await randomPort();
    url = `http://127.0.0.1:${port}`;
    // Nothing is anchored before the rotation: batches wait an hour.
    settings = harness.settings({ port: String(port), batchMaxAgeMs: "3600000" });
    oldConfig = writeConfig("old.json", {});
    GatewayStore.create(settings.databasePath as string); // as `init` does
    newKeyFile = writeKey("new.key", newKey);
    gateway = await spawnGateway(oldConfig, url);

    sender = harness.device("sender");
    ticketed = harness.device("ticketed");
    waiting = harness.device("waiting");
    for (const device of [sender, ticketed, waiting]) await runCliJson(oldConfig, "enrol", "--oid", device.oid, "--address", device.account.address, "--no-secret");
    const client = sender.client(url);
    await client.keySession();
    await client.associate({ token: await client.getTicket() });
    expect((await client.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 })).status).to.equal("associated");
    receipts = await client.sendData({ messages: [await sender.sign(1n), await sender.sign(2n)] });
    const ticketedClient = ticketed.client(url);
    await ticketedClient.keySession();
    await ticketedClient.getTicket();
  });

  after(async () => {
    await stopGateway();
    await harness?.close();
  });

  describe("what it refuses, sending nothing", () => {
    it("refuses while a gateway runs on the database (StoreLocked): the running gateway would go on with the old key", async () => {
      await fund(newMaster.address, "1");
      const sent = await nonceOf(harness.master.address);
      expectCliFailure(await rotate(oldConfig, newKeyFile), 3, "StoreLocked");
      expect(await nonceOf(harness.master.address)).to.equal(sent);
      expect((await getGroup(harness.publicClient, { registry: harness.registry, gid: harness.gid })).master).to.equal(harness.master.address);
    });

    it("refuses while an association the gateway acknowledged is not mined (RotationBlocked): its token is the old Master's", async function () {
      this.timeout(120_000);
      const late = harness.device("late");
      await runCliJson(oldConfig, "enrol", "--oid", late.oid, "--address", late.account.address, "--no-secret");
      await harness.publicClient.request({ method: "evm_setAutomine" as never, params: [false] as never });
      try {
        const client = late.client(url);
        await client.keySession();
        await client.associate({ token: await client.getTicket() });
        await eventually("the association to be submitted", async () => ((await client.associationStatus()).status === "submitted" ? true : undefined));
        await stopGateway();
        const sent = await nonceOf(harness.master.address);
        expect(expectCliFailure(await rotate(oldConfig, newKeyFile), 2, "RotationBlocked")).to.include("1 association(s)");
        expect(await nonceOf(harness.master.address)).to.equal(sent);
      } finally {
        await harness.publicClient.request({ method: "evm_setAutomine" as never, params: [true] as never });
        await harness.publicClient.request({ method: "evm_mine" as never, params: [] as never });
      }
      // Restarted, the gateway sees the association mined; then nothing blocks the rotation.
      gateway = await spawnGateway(oldConfig, url);
      const client = late.client(url);
      await client.keySession();
      expect((await client.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 })).status).to.equal("associated");
      await stopGateway();
    });

    it("refuses a new key that may not master a root group, one that already has an identity on chain (MasterIneligible)", async () => {
      const sent = await nonceOf(harness.master.address);
      const line = expectCliFailure(await rotate(oldConfig, writeKey("member.key", sender.privateKey)), 2, "MasterIneligible");
      expect(line).to.include(`the new key ${sender.account.address} may not master group ${harness.gid}`);
      expect(await nonceOf(harness.master.address)).to.equal(sent);
    });

    it("refuses a new key that cannot pay for its acceptance (MasterKeyUnfunded)", async () => {
      const poor = generatePrivateKey();
      const sent = await nonceOf(harness.master.address);
      expect(expectCliFailure(await rotate(oldConfig, writeKey("poor.key", poor)), 2, "MasterKeyUnfunded")).to.include(`the new key ${privateKeyToAccount(poor).address} holds 0 wei`);
      expect(await nonceOf(harness.master.address)).to.equal(sent);
    });

    it("refuses the current key as the new one (CliUsage) and a new key file others may read (GatewayConfigInvalid)", async () => {
      expectCliFailure(await rotate(oldConfig, harness.keyFile), 2, "CliUsage");
      const loose = join(harness.dir, "loose.key");
      writeFileSync(loose, `${generatePrivateKey()}\n`, { mode: 0o644 });
      expect(expectCliFailure(await rotate(oldConfig, loose), 2, "GatewayConfigInvalid")).to.include("readable by others");
    });
  });

  describe("the hand-over", () => {
    let rotation: Rotation;

    it("hands the group over on chain: proposed by the old key, accepted by the new one, the epoch moved on", async () => {
      const before = await getGroup(harness.publicClient, { registry: harness.registry, gid: harness.gid });
      rotation = (await runCliJson(oldConfig, "rotate-key", "--new-key-file", newKeyFile)) as Rotation;
      const after = await getGroup(harness.publicClient, { registry: harness.registry, gid: harness.gid });
      expect(after.master).to.equal(newMaster.address);
      expect(after.masterEpoch).to.equal(before.masterEpoch + 1);
      expect(rotation.rotated).to.include({ gid: harness.gid, previous: harness.master.address, master: newMaster.address, state: "handed-over" });
      const accept = await harness.publicClient.getTransactionReceipt({ hash: rotation.rotated.acceptTx! });
      expect(accept.from.toLowerCase()).to.equal(newMaster.address.toLowerCase());
      expect(rotation.rotated.block).to.equal(accept.blockNumber.toString());
      expect((await harness.publicClient.getTransactionReceipt({ hash: rotation.rotated.proposeTx! })).from.toLowerCase()).to.equal(harness.master.address.toLowerCase());
      // The device that holds the previous Master's token must fetch a new ticket.
      expect(rotation.ticketsToRenew).to.deep.equal([{ gid: harness.gid, oid: ticketed.oid, address: ticketed.account.address }]);
      // The config named the group by label, which derives the gid from the key that created it.
      expect(rotation.next).to.include(`set keyFile to ${newKeyFile}, and name the groups by gid (groups: ["${harness.gid}"])`);
    });

    it("runs again as a no-op that reports the group already handed over", async () => {
      const sent = await nonceOf(newMaster.address);
      const again = (await runCliJson(oldConfig, "rotate-key", "--new-key-file", newKeyFile)) as Rotation;
      expect(again.rotated).to.deep.equal({ gid: harness.gid, previous: harness.master.address, master: newMaster.address, state: "already", proposeTx: null, acceptTx: null, block: null });
      expect(await nonceOf(newMaster.address)).to.equal(sent);
    });

    it("leaves the old key unable to start the gateway (KeyNotAuthorized) or to anchor", async () => {
      const refused = await runCli(["start", "--config", oldConfig]);
      expectCliFailure(refused, 2, "KeyNotAuthorized");
      const root = `0x${"ab".repeat(32)}` as Hex;
      const refusal = await anchorBatch(harness.masterWallet, { registry: harness.registry, gid: harness.gid, root, messageCount: 1 }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(refusal).to.be.instanceOf(ContractRuleError);
      expect((refusal as ContractRuleError).code).to.equal("DataLedgerNotAnchorer");
    });
  });

  describe("the gateway restarted with the new key", () => {
    before(async function () {
      this.timeout(60_000);
      gateway = await spawnGateway(writeConfig("new.json", { keyFile: newKeyFile, groups: [harness.gid], batchMaxAgeMs: "200" }), url);
    });

    it("anchors the messages acknowledged before the rotation, sent by the new key", async function () {
      this.timeout(60_000);
      const client = newMasterClient(sender);
      await client.keySession();
      for (const receipt of receipts) {
        const inclusion = await inclusionWith(client, receipt, "anchored");
        const anchoring = await harness.publicClient.getTransactionReceipt({ hash: inclusion.batch!.txHash! });
        expect(anchoring.from.toLowerCase()).to.equal(newMaster.address.toLowerCase());
      }
    });

    it("keeps its associated devices: a session under the new Master, and data accepted at the next nonce", async () => {
      const client = newMasterClient(sender);
      await client.keySession();
      const [receipt] = await client.sendData({ messages: [await sender.sign(3n)] });
      expect(receipt.nonce).to.equal("3");
    });

    it("is refused by a device that still expects the previous Master (SessionWrongPeer): devices learn the new address", async () => {
      const error = await sender.client(url).keySession().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(SessionError);
      expect((error as SessionError).code).to.equal("SessionWrongPeer");
    });

    it("issues tickets under the new key: a device never ticketed associates, and the old token is refused (TokenInvalid) until a new ticket", async function () {
      this.timeout(60_000);
      const fresh = newMasterClient(waiting);
      await fresh.keySession();
      await fresh.associate({ token: await fresh.getTicket() });
      expect((await fresh.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 })).status).to.equal("associated");

      const stale = newMasterClient(ticketed);
      await stale.keySession();
      const previous = await issueToken(harness.master, { gid: harness.gid, oid: ticketed.oid, device: ticketed.account.address });
      await expectGatewayError(stale.associate({ token: previous }), 400, "TokenInvalid", { authenticated: true });
      await stale.associate({ token: await stale.getTicket() });
      expect((await stale.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 })).status).to.equal("associated");
    });
  });

  describe("a child group's Master (a cluster head)", () => {
    let child: Harness;
    let childConfig: string;
    const candidateKey = generatePrivateKey();
    const candidate = privateKeyToAccount(candidateKey);

    before(async function () {
      this.timeout(120_000);
      child = await createHarness({ hierarchy: true });
      const childSettings = child.settings();
      childConfig = join(child.dir, "child.json");
      writeFileSync(childConfig, JSON.stringify(childSettings));
      GatewayStore.create(childSettings.databasePath as string);
      await child.publicClient.request({ method: "anvil_setBalance" as never, params: [candidate.address, `0x${parseEther("1").toString(16)}`] as never });
    });

    after(async () => {
      await child?.close();
    });

    const candidateFile = () => {
      const path = join(child.dir, "candidate.key");
      writeFileSync(path, `${candidateKey}\n`, { mode: 0o600 });
      return path;
    };

    it("refuses a new key that is no member of the parent group (MasterIneligible), sending nothing", async () => {
      const sent = await child.publicClient.getTransactionCount({ address: child.master.address });
      expect(expectCliFailure(await runCli(["rotate-key", "--config", childConfig, "--new-key-file", candidateFile()]), 2, "MasterIneligible")).to.include("an active member of the parent group");
      expect(await child.publicClient.getTransactionCount({ address: child.master.address })).to.equal(sent);
    });

    it("hands over to a member of the parent group, accepting a proposal an earlier run left without proposing again", async () => {
      const root = child.root!;
      const oid = toId(`master:${candidate.address}`);
      const token = await issueToken(root.master, { gid: root.gid, oid, device: candidate.address });
      const association = await signAssociation(candidate, { domain: child.domain, token, deadline: BigInt(Math.floor(Date.now() / 1000) + 600) });
      await child.publicClient.waitForTransactionReceipt({ hash: await associateBySig(root.wallet, { registry: child.registry, association }) });
      // An earlier run that stopped after its proposal.
      await child.publicClient.waitForTransactionReceipt({ hash: await proposeMaster(child.masterWallet, { registry: child.registry, gid: child.gid, candidate: candidate.address }) });

      const rotation = (await runCliJson(childConfig, "rotate-key", "--new-key-file", candidateFile())) as Rotation;
      expect(rotation.rotated).to.include({ state: "handed-over", proposeTx: null, master: candidate.address });
      const group = await getGroup(child.publicClient, { registry: child.registry, gid: child.gid });
      expect(group.master).to.equal(candidate.address);
      expect(group.masterOid).to.equal(oid);
    });
  });
});
