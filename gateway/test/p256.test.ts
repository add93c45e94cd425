// P-256 devices — keys in a secure element, a TPM or WebCrypto — through a real gateway and anvil:
// every route a secp256k1 device uses (session, ticket, relayed association, data single and
// batch, anchoring, AuthTable paths), and every refusal it meets, with the same stable codes. On
// the wire a P-256 device signs exactly as on chain: 128 bytes r ‖ s ‖ x ‖ y (docs/protocol.md §1).
// The flow runs on anvil with Osaka's P256VERIFY precompile; association and the relay policy
// also run on Cancun, where the registry verifies in Solidity (OpenZeppelin's P256).
import { expect } from "chai";
import { concat, getAddress, numberToHex, parseEventLogs, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  completeHandshake,
  createClientHello,
  fetchTrustedState,
  gatewayRoutes,
  generateWebCryptoP256Signer,
  getMember,
  getNonce,
  p256Account,
  p256Address,
  privateKeyToP256Signer,
  iomtRegistryAbi,
  registryDomain,
  signAssociation,
  signDataMessage,
  toWireAssociation,
  toWireDataMessage,
  verifyAnchoredMessageOnChain,
  verifyAuthPath,
  verifyAuthPathOnChain,
  verifyBatchProof,
  type ClientFinish,
  type GatewayClient,
  type P256Account,
  type ServerHello,
  type SignedDataMessage,
  type TypedDataSigner,
  type Token,
  type WireSignedDataMessage,
} from "@iomt-auth/sdk";
import { enrolDevice, type RunningGateway } from "../src/index.js";
import { toHighS } from "../../sdk/test/support/signatures.js";
import { expectErrorAnswer, post, postHello, postSealed, type Answer } from "./support/expect.js";
import { createHarness, inclusionWith, storedMessage, type Device, type Harness } from "./support/harness.js";

const soon = () => BigInt(Math.floor(Date.now() / 1000) + 600);

/** The device's signature with its public key replaced by a point off the curve (y + 1). */
const offCurve = (signature: Hex): Hex => concat([signature.slice(0, 194) as Hex, numberToHex(BigInt(`0x${signature.slice(194)}`) + 1n, { size: 32 })]);

/** Another registry's domain on the same chain: a signature made for it is for "the wrong domain". */
const otherDomain = (harness: Harness) => registryDomain({ chainId: harness.anvil.chainId, registry: privateKeyToAccount(generatePrivateKey()).address });

async function wire(device: Device<P256Account>, nonce: bigint, options?: Parameters<Device<P256Account>["sign"]>[1]): Promise<WireSignedDataMessage> {
  const signed = await device.sign(nonce, options);
  return { message: toWireDataMessage(signed.message), signature: signed.signature, payload: signed.payload, salt: signed.salt };
}

describe("gateway: P-256 devices on every route (anvil on Osaka, the P256VERIFY precompile)", function () {
  this.timeout(180_000);
  let harness: Harness;
  let gateway: RunningGateway;
  let pat: Device<P256Account>;
  let sam: Device;
  let patClient: GatewayClient;
  let samClient: GatewayClient;

  before(async () => {
    harness = await createHarness({ hardfork: "osaka" });
    gateway = await harness.start();
    pat = harness.p256Device("pat");
    sam = harness.device("sam");
    patClient = await harness.onboard(gateway, pat);
    samClient = await harness.onboard(gateway, sam);
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  describe("session, ticket and relayed association", () => {
    it("keys a session whose ClientFinish is the device's 128-byte P-256 signature, and issues the ticket for its p256Address", async () => {
      const client = pat.client(gateway.url);
      await client.keySession();
      expect(pat.account.address).to.equal(p256Address(pat.account.publicKey));
      expect(client.session?.device).to.equal(pat.account.address);
      expect(gateway.sessions.session(client.session!.id)?.device).to.equal(pat.account.address);
      const token = await client.getTicket();
      expect(getAddress(token.device)).to.equal(pat.account.address);
    });

    it("relays its association (a P-256 key has no account to send from); the AuthTable entry on chain names its p256Address", async () => {
      const status = await patClient.associationStatus();
      expect(status.status).to.equal("associated");
      expect(status.entry?.device).to.equal(pat.account.address);
      expect((await harness.publicClient.getTransactionReceipt({ hash: status.txHash! })).status).to.equal("success");
      const member = await getMember(harness.publicClient, { registry: harness.registry, gid: harness.gid, oid: pat.oid });
      expect(member).to.deep.include({ account: pat.account.address, isMember: true, revoked: false });
    });

    it("serves a non-extractable WebCrypto key the same way: session, ticket, relayed association, data", async () => {
      const wendy = harness.p256Device("wendy", await generateWebCryptoP256Signer());
      expect(wendy.privateKey).to.equal(undefined);
      const client = await harness.onboard(gateway, wendy);
      const [receipt] = await client.sendData({ messages: [await wendy.sign(1n)] });
      expect(receipt.device).to.equal(wendy.account.address);
    });
  });

  describe("data", () => {
    it("acknowledges a single message and a batch, one receipt each, as for a secp256k1 device", async () => {
      const [single] = await patClient.sendData({ messages: [await pat.sign(1n)] });
      expect(single).to.deep.include({ device: pat.account.address, nonce: "1" });
      const batch = await patClient.sendData({ messages: [await pat.sign(2n), await pat.sign(3n), await pat.sign(4n)] });
      expect(batch.map((receipt) => receipt.nonce)).to.deep.equal(["2", "3", "4"]);
      const [theirs] = await samClient.sendData({ messages: [await sam.sign(1n)] });
      expect(theirs.device).to.equal(sam.account.address);
      const stored = storedMessage(gateway.store, single);
      expect(stored?.signature).to.have.length(2 + 2 * 128);
    });

    it("anchors its messages in a batch whose proof verifies offline and on chain", async () => {
      const message = await pat.sign(5n, { payload: "spo2=98" });
      const [receipt] = await patClient.sendData({ messages: [message] });
      const inclusion = await inclusionWith(patClient, receipt, "anchored");
      expect(verifyBatchProof({ root: inclusion.batch!.root, leaf: receipt.digest, proof: inclusion.batch!.proof })).to.equal(true);
      expect(await verifyAnchoredMessageOnChain(harness.publicClient, { registry: harness.registry, message: message.message, root: inclusion.batch!.root, proof: inclusion.batch!.proof })).to.equal(true);
    });
  });

  describe("AuthTable paths", () => {
    it("gives the device its path, which verifies offline, on chain and at the gateway, and a peer's check names its p256Address", async () => {
      const path = await patClient.getAuthPath();
      expect(path[0].entry.device).to.equal(pat.account.address);
      const trusted = await fetchTrustedState(harness.publicClient, { registry: harness.registry, gids: [harness.gid], trustedRoots: [harness.gid] });
      expect(verifyAuthPath(path, trusted).status).to.equal("Valid");
      expect((await verifyAuthPathOnChain(harness.publicClient, { registry: harness.registry, path, trustedRootGid: harness.gid })).status).to.equal("Valid");
      expect(await samClient.verifyPath({ path })).to.deep.include({ valid: true, status: "Valid", device: pat.account.address });
    });
  });

  describe("refusals: each that a secp256k1 device meets, with the same code", () => {
    let fay: Device<P256Account>;
    let fayClient: GatewayClient;
    let fayToken: Token;
    let nextNonce: bigint;

    before(async () => {
      // fay: enrolled, keyed and holding her ticket, not associated.
      fay = harness.p256Device("fay");
      await enrolDevice(gateway.store, { gid: harness.gid, oid: fay.oid, address: fay.account.address });
      fayClient = fay.client(gateway.url);
      await fayClient.keySession();
      fayToken = await fayClient.getTicket();
      nextNonce = await patClient.getNextNonce();
    });

    /** Posts a hello (with its cookie round) for `device`, and completes the handshake as `signer` would. */
    async function handshake(device: Device<P256Account>, signer: P256Account = device.account): Promise<{ handshakeId: string; clientFinish: ClientFinish }> {
      const { clientHello, state } = createClientHello({ account: device.account, master: harness.master.address, context: { chainId: harness.anvil.chainId, registry: harness.registry, gid: harness.gid } });
      const { handshakeId, serverHello } = (await postHello(gateway.url, clientHello)).body as unknown as { handshakeId: string; serverHello: ServerHello };
      const { clientFinish } = await completeHandshake({ account: { ...signer, address: device.account.address }, state, serverHello });
      return { handshakeId, clientFinish };
    }

    /** What a refusal must leave unchanged: the stored rows and the devices' next nonces (the worker anchors meanwhile, so not the statuses). */
    const snapshot = () =>
      gateway.store.db
        .prepare(`SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM associations) AS associations, (SELECT group_concat(device || ':' || next_nonce) FROM device_nonces) AS nonces`)
        .get();

    /** Asserts the refusal, that nothing was stored, and that the device is served right after. */
    async function expectRefused(send: () => Promise<Answer>, status: number, code: string, reason?: string): Promise<void> {
      const before = snapshot();
      const sessions = gateway.sessions.size;
      const answer = await send();
      const error = expectErrorAnswer(answer, status, code);
      if (reason !== undefined) expect(error.details?.reason).to.equal(reason);
      expect(snapshot()).to.deep.equal(before);
      expect(gateway.sessions.size).to.equal(sessions);
      const [receipt] = await patClient.sendData({ messages: [await pat.sign(nextNonce)] });
      expect(receipt.nonce).to.equal(String(nextNonce++));
    }

    describe("the handshake", () => {
      it("refuses a ClientFinish signed by another P-256 key with 401 SessionBadSignature", async () => {
        const impostor = p256Account(privateKeyToP256Signer(generatePrivateKey()));
        await expectRefused(async () => post(gateway.url, gatewayRoutes.finish, await handshake(pat, impostor)), 401, "SessionBadSignature");
      });

      it("refuses the high-s twin of a valid ClientFinish with 401 SessionBadSignature", async () => {
        const { handshakeId, clientFinish } = await handshake(pat);
        await expectRefused(() => post(gateway.url, gatewayRoutes.finish, { handshakeId, clientFinish: { signature: toHighS(clientFinish.signature) } }), 401, "SessionBadSignature");
      });

      it("refuses a ClientFinish from another handshake (another transcript) with 401 SessionBadSignature", async () => {
        const earlier = await handshake(pat);
        const { handshakeId } = await handshake(pat);
        await expectRefused(() => post(gateway.url, gatewayRoutes.finish, { handshakeId, clientFinish: earlier.clientFinish }), 401, "SessionBadSignature");
      });

      it("refuses a ClientFinish whose key is off the curve with 401 SessionBadSignature", async () => {
        const { handshakeId, clientFinish } = await handshake(pat);
        await expectRefused(() => post(gateway.url, gatewayRoutes.finish, { handshakeId, clientFinish: { signature: offCurve(clientFinish.signature) } }), 401, "SessionBadSignature");
      });

      it("refuses a P-256 ClientFinish of the wrong length with 400 RequestInvalid", async () => {
        const { handshakeId, clientFinish } = await handshake(pat);
        await expectRefused(() => post(gateway.url, gatewayRoutes.finish, { handshakeId, clientFinish: { signature: clientFinish.signature.slice(0, -2) } }), 400, "RequestInvalid");
      });
    });

    describe("data messages", () => {
      /** Posts pat's next message with `signature(signed)` in place of pat's signature. */
      const forged = (signature: (signed: SignedDataMessage) => Promise<Hex> | Hex) => async () => {
        const signed = await pat.sign(nextNonce);
        const message = { message: toWireDataMessage(signed.message), signature: await signature(signed), payload: signed.payload, salt: signed.salt };
        return postSealed(gateway.url, patClient, gatewayRoutes.data, { messages: [message] });
      };

      it("refuses the high-s twin of a valid signature with 400 SignatureInvalid (SignatureHighS)", async () => {
        await expectRefused(forged((signed) => toHighS(signed.signature)), 400, "SignatureInvalid", "SignatureHighS");
      });

      it("refuses a valid signature by another P-256 key with 401 SignatureMismatch", async () => {
        const other = p256Account(privateKeyToP256Signer(generatePrivateKey()));
        await expectRefused(forged(async (signed) => (await signDataMessage(other, { domain: harness.domain, message: signed.message })).signature), 401, "SignatureMismatch");
      });

      it("refuses a secp256k1 signature over the device's message with 401 SignatureMismatch", async () => {
        const other = privateKeyToAccount(generatePrivateKey());
        await expectRefused(forged(async (signed) => (await signDataMessage(other, { domain: harness.domain, message: signed.message })).signature), 401, "SignatureMismatch");
      });

      it("refuses the device's own signature made for another registry's domain with 400 SignatureInvalid (SignatureUnrecoverable)", async () => {
        await expectRefused(forged(async (signed) => (await signDataMessage(pat.account, { domain: otherDomain(harness), message: signed.message })).signature), 400, "SignatureInvalid", "SignatureUnrecoverable");
      });

      it("refuses a signature whose key is off the curve with 400 SignatureInvalid", async () => {
        await expectRefused(forged((signed) => offCurve(signed.signature)), 400, "SignatureInvalid", "SignatureUnrecoverable");
      });

      it("refuses a used nonce carrying another message with 409 NonceReplayed", async () => {
        await expectRefused(async () => postSealed(gateway.url, patClient, gatewayRoutes.data, { messages: [await wire(pat, 1n, { payload: "a different reading" })] }), 409, "NonceReplayed");
      });

      it("refuses a message past its deadline with 400 MessageExpired", async () => {
        const stale = BigInt(Math.floor(Date.now() / 1000) - 3_600);
        await expectRefused(async () => postSealed(gateway.url, patClient, gatewayRoutes.data, { messages: [await wire(pat, nextNonce, { timestamp: stale, deadline: stale + 60n })] }), 400, "MessageExpired");
      });
    });

    describe("relayed association", () => {
      /** Posts fay's association signed by `signer` under `domain`, with the given deadline and nonce, `signature` applied last. */
      async function associate({ signer = fay.account as TypedDataSigner, domain = harness.domain, deadline = soon(), nonce = 0n, signature = (s: Hex) => s } = {}): Promise<Answer> {
        const signed = await signAssociation({ address: fay.account.address, signTypedData: signer.signTypedData }, { domain, token: fayToken, deadline, nonce });
        return postSealed(gateway.url, fayClient, gatewayRoutes.assoc, { association: toWireAssociation({ ...signed, signature: signature(signed.signature) }) });
      }

      it("refuses a request signed by another P-256 key with 401 SignatureMismatch", async () => {
        await expectRefused(() => associate({ signer: p256Account(privateKeyToP256Signer(generatePrivateKey())) }), 401, "SignatureMismatch");
      });

      it("refuses the high-s twin of the device's signature with 400 SignatureInvalid (SignatureHighS)", async () => {
        await expectRefused(() => associate({ signature: toHighS }), 400, "SignatureInvalid", "SignatureHighS");
      });

      it("refuses the device's signature made for another registry's domain with 400 SignatureInvalid (SignatureUnrecoverable)", async () => {
        await expectRefused(() => associate({ domain: otherDomain(harness) }), 400, "SignatureInvalid", "SignatureUnrecoverable");
      });

      it("refuses a request past its deadline with 400 AssociationExpired", async () => {
        await expectRefused(() => associate({ deadline: 1n }), 400, "AssociationExpired");
      });

      it("refuses a request under a nonce other than the first with 400 AssociationNonceInvalid", async () => {
        await expectRefused(() => associate({ nonce: 1n }), 400, "AssociationNonceInvalid");
      });

      it("relays the device's own request after all of these, and it is associated", async () => {
        await fayClient.associate({ token: fayToken });
        const status = await fayClient.waitForAssociation({ pollIntervalMs: 50, timeoutMs: 30_000 });
        expect(status.status).to.equal("associated");
        expect(status.entry?.device).to.equal(fay.account.address);
      });
    });
  });
});

describe("gateway: P-256 devices on a chain without the precompile (anvil on Cancun, OpenZeppelin's P256 in Solidity), policy relay", function () {
  this.timeout(180_000);
  let harness: Harness;
  let gateway: RunningGateway;

  before(async () => {
    harness = await createHarness({ hardfork: "cancun" });
    gateway = await harness.start({ policy: "relay" });
  });

  after(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("relays the association and the data messages of a P-256 device, which the registry records for its p256Address", async () => {
    const pia = harness.p256Device("pia");
    const client = await harness.onboard(gateway, pia);
    const first = await getNonce(harness.publicClient, { registry: harness.registry, gid: harness.gid, oid: pia.oid });
    const receipts = await client.sendData({ messages: [await pia.sign(first), await pia.sign(first + 1n)] });
    for (const receipt of receipts) {
      const inclusion = await inclusionWith(client, receipt, "relayed");
      const events = parseEventLogs({ abi: iomtRegistryAbi, eventName: "DataMessageRecorded", logs: (await harness.publicClient.getTransactionReceipt({ hash: inclusion.relay!.txHash })).logs });
      expect(events.map((event) => event.args.device)).to.include(pia.account.address);
    }
    expect(await getNonce(harness.publicClient, { registry: harness.registry, gid: harness.gid, oid: pia.oid })).to.equal(first + 2n);
  });
});
