// P-256 device keys (sdk/src/p256.ts): raw keys and non-extractable WebCrypto keys, the 128-byte
// signature form, strict verification off chain (as the registry verifies on chain), and the
// account wrapper used for typed data and the gateway handshake.
import { p256 } from "@noble/curves/p256";
import { sha256 } from "@noble/hashes/sha2";
import { expect } from "chai";
import { concat, hexToBigInt, hexToBytes, keccak256, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  P256Error,
  P256_ADDRESS_TAG,
  acceptClientHello,
  assertP256PublicKey,
  completeHandshake,
  createClientHello,
  createDataMessage,
  encodeP256Signature,
  finishHandshake,
  generateWebCryptoP256Signer,
  normalizeSignature,
  p256Account,
  p256Address,
  privateKeyToP256Signer,
  recoverP256Signer,
  recoverSigner,
  registryDomain,
  signDataMessage,
  SessionError,
  verifyDataMessage,
  InvalidSignatureError,
  type P256Signer,
} from "../src/index.js";
import { expectCode, expectRejection } from "./support/expect.js";
import { toHighS } from "./support/signatures.js";

const N = p256.CURVE.n;
const key = (label: string): Hex => keccak256(toHex(`p256 sdk test: ${label}`));
const digest = keccak256(toHex("a 32-byte digest"));

describe("P-256 device keys", () => {
  describe("identity", () => {
    it("names a device keccak256(tag ‖ x ‖ y)'s last 20 bytes, the tag being keccak256(\"iomt-auth/p256-device\")", () => {
      const { publicKey } = privateKeyToP256Signer(key("device"));
      expect(P256_ADDRESS_TAG).to.equal(keccak256(toHex("iomt-auth/p256-device")));
      expect(p256Address(publicKey).toLowerCase()).to.equal(`0x${keccak256(concat([P256_ADDRESS_TAG, publicKey.x, publicKey.y])).slice(-40)}`);
    });

    it("refuses a public key off the curve or of the wrong length", () => {
      const { publicKey } = privateKeyToP256Signer(key("device"));
      expectCode(() => assertP256PublicKey({ ...publicKey, y: toHex(hexToBigInt(publicKey.y) ^ 1n, { size: 32 }) }), P256Error, "P256InvalidKey");
      expectCode(() => assertP256PublicKey({ ...publicKey, x: "0x1234" }), P256Error, "P256Malformed");
    });
  });

  describe("signatures: 128 bytes r ‖ s ‖ x ‖ y, ECDSA-P256-SHA256 over the digest, low s", () => {
    it("verifies a raw-key signature exactly as ECDSA P-256 over sha256(digest)", async () => {
      const signer = privateKeyToP256Signer(key("device"));
      const account = p256Account(signer);
      const signature = await account.signDigest(digest);
      expect(hexToBytes(signature)).to.have.length(128);
      const point = concat(["0x04", signer.publicKey.x, signer.publicKey.y]);
      expect(p256.verify(new p256.Signature(hexToBigInt(`0x${signature.slice(2, 66)}`), hexToBigInt(`0x${signature.slice(66, 130)}`)), sha256(hexToBytes(digest)), hexToBytes(point))).to.equal(true);
      expect(recoverP256Signer(digest, signature)).to.equal(account.address);
      expect(recoverSigner(digest, signature)).to.equal(account.address);
    });

    it("signs with a non-extractable WebCrypto key and normalises a high s", async () => {
      const signer = await generateWebCryptoP256Signer();
      const account = p256Account(signer);
      for (let i = 0; i < 8; i++) {
        const signature = await account.signDigest(keccak256(toHex(`digest ${i}`)));
        expect(hexToBigInt(`0x${signature.slice(66, 130)}`) <= N >> 1n).to.equal(true);
        expect(recoverP256Signer(keccak256(toHex(`digest ${i}`)), signature)).to.equal(account.address);
      }
      const raw = await signer.sign(hexToBytes(digest));
      const normalised = encodeP256Signature({ r: raw.r, s: toHex(N - hexToBigInt(raw.s), { size: 32 }) }, signer.publicKey);
      expect(recoverP256Signer(digest, normalised)).to.equal(account.address);
    });

    it("refuses a high s, another digest, another key, a key off the curve and a wrong length", async () => {
      const account = p256Account(privateKeyToP256Signer(key("device")));
      const other = p256Account(privateKeyToP256Signer(key("other")));
      const signature = await account.signDigest(digest);
      expect(recoverP256Signer(digest, toHighS(signature))).to.equal(undefined);
      expect(recoverP256Signer(keccak256(toHex("another")), signature)).to.equal(undefined);
      expect(recoverP256Signer(digest, concat([`0x${signature.slice(2, 130)}`, other.publicKey.x, other.publicKey.y]))).to.equal(undefined);
      expect(recoverP256Signer(digest, concat([`0x${signature.slice(2, 194)}`, toHex(hexToBigInt(account.publicKey.y) ^ 1n, { size: 32 })]))).to.equal(undefined);
      expect(recoverP256Signer(digest, signature.slice(0, -2) as Hex)).to.equal(undefined);
      expectCode(() => normalizeSignature(toHighS(signature)), InvalidSignatureError, "SignatureHighS");
      expectCode(() => recoverSigner(keccak256(toHex("another")), signature), InvalidSignatureError, "SignatureUnrecoverable");
    });

    it("refuses a signer whose signature does not verify for the public key it announced", async () => {
      const honest = privateKeyToP256Signer(key("device"));
      const liar: P256Signer = { publicKey: honest.publicKey, sign: privateKeyToP256Signer(key("other")).sign };
      const error = await p256Account(liar).signDigest(digest).then(() => undefined, (reason: unknown) => reason);
      expect(error).to.be.instanceOf(P256Error);
      expect((error as P256Error).code).to.equal("P256BadSigner");
    });
  });

  describe("as a device account", () => {
    const domain = registryDomain({ chainId: 1337, registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" });

    it("signs EIP-712 data messages that verifyDataMessage accepts for its address only", async () => {
      const account = p256Account(privateKeyToP256Signer(key("device")));
      const message = createDataMessage({ gid: key("gid"), oid: key("oid"), nonce: 1n, payload: "x", salt: key("salt"), timestamp: 1n, deadline: 2n });
      const signed = await signDataMessage(account, { domain, message });
      expect(verifyDataMessage({ domain, signed, device: account.address })).to.equal(true);
      expect(verifyDataMessage({ domain, signed, device: p256Account(privateKeyToP256Signer(key("other"))).address })).to.equal(false);
    });

    it("holds a session with a Master: the handshake accepts its 128-byte ClientFinish", async () => {
      const device = p256Account(privateKeyToP256Signer(key("device")));
      const master = privateKeyToAccount(key("master"));
      const context = { chainId: 1337, registry: domain.verifyingContract, gid: key("gid") };
      const { clientHello, state } = createClientHello({ account: device, master: master.address, context });
      const accepted = await acceptClientHello({ account: master, clientHello, context });
      const { clientFinish, session } = await completeHandshake({ account: device, state, serverHello: accepted.serverHello });
      const masterSession = await finishHandshake({ state: accepted.state, clientFinish });
      expect(masterSession.device).to.equal(device.address);
      expect(masterSession.id).to.equal(session.id);
    });

    it("refuses a signer whose signature does not verify for the public key it presents, with P256BadSigner, before anything leaves", async () => {
      // A misconfigured secure element: it presents one key and signs with another.
      const presented = privateKeyToP256Signer(key("presented"));
      const signing = privateKeyToP256Signer(key("signing"));
      const account = p256Account({ publicKey: presented.publicKey, sign: (bytes) => signing.sign(bytes) });
      const message = createDataMessage({ gid: key("gid"), oid: key("oid"), nonce: 1n, payload: "x", salt: key("salt"), timestamp: 1n, deadline: 2n });
      await expectRejection(signDataMessage(account, { domain, message }), P256Error, "P256BadSigner");
      await expectRejection(account.signDigest(digest), P256Error, "P256BadSigner");
    });

    it("refuses to make a WebCrypto signer in a runtime without WebCrypto, with P256NoWebCrypto", async () => {
      const descriptor = Object.getOwnPropertyDescriptor(globalThis, "crypto");
      expect(descriptor?.configurable, "Node defines globalThis.crypto as configurable").to.equal(true);
      Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true });
      try {
        const error = await expectRejection(generateWebCryptoP256Signer(), P256Error, "P256NoWebCrypto");
        expect(error.message).to.match(/no WebCrypto/);
      } finally {
        Object.defineProperty(globalThis, "crypto", descriptor!);
      }
      expect(globalThis.crypto.subtle, "WebCrypto is back for the other tests").to.not.equal(undefined);
    });

    it("refuses a ClientFinish signed by another P-256 key with SessionBadSignature", async () => {
      const device = p256Account(privateKeyToP256Signer(key("device")));
      const impostor = p256Account(privateKeyToP256Signer(key("impostor")));
      const master = privateKeyToAccount(key("master"));
      const context = { chainId: 1337, registry: domain.verifyingContract, gid: key("gid") };
      const { clientHello, state } = createClientHello({ account: device, master: master.address, context });
      const accepted = await acceptClientHello({ account: master, clientHello, context });
      const { clientFinish } = await completeHandshake({ account: { ...impostor, address: device.address }, state, serverHello: accepted.serverHello });
      const error = await finishHandshake({ state: accepted.state, clientFinish }).then(() => undefined, (reason: unknown) => reason);
      expect(error).to.be.instanceOf(SessionError);
      expect((error as SessionError).code).to.equal("SessionBadSignature");
    });
  });
});
