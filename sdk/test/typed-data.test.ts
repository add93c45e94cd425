import { expect } from "chai";
import { bytesToHex, concat, encodeAbiParameters, keccak256 } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "viem";
import { getRegistryDomain } from "../src/actions/domain.js";
import { InvalidIdError, toId } from "../src/ids.js";
import { recoverSigner } from "../src/signature.js";
import { issueToken } from "../src/tokens.js";
import type { Token } from "../src/tokens.js";
import {
  InvalidRequestError,
  createDataMessage,
  createExchange,
  createNonceCounter,
  hashAssociation,
  hashDataMessage,
  hashExchange,
  commitPayload,
  randomSalt,
  registryDomain,
  signAssociation,
  signDataMessage,
  signExchange,
  verifyDataMessage,
  verifyExchange,
} from "../src/typed-data.js";
import type { AssociationRequest, DataMessage, Exchange, RegistryDomain, SignedDataMessage, SignedExchange } from "../src/typed-data.js";
import { deployTestRegistry, iomtRegistryAbi } from "./support/registry.js";
import type { TestRegistry } from "./support/registry.js";
import { expectCode, expectError, expectRejection, rejection } from "./support/expect.js";
import { toHighS } from "./support/signatures.js";

/** A fixed commitment salt, so expected digests are stable. */
const SALT = keccak256(new TextEncoder().encode("typed-data test salt"));

const U64_MAX = (1n << 64n) - 1n;

const expectInvalidField = (fn: () => unknown): void => void expectCode(fn, InvalidRequestError, "RequestInvalidField");

const utf8Hash = (text: string): Hex => keccak256(new Uint8Array(Buffer.from(text, "utf8")));


const domain = registryDomain({ chainId: 31337, registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3" });
const gid = toId("ward-3");
const oid = toId("ward-3/ecg-1");
const receiverGid = toId("ward-4");
const receiverOid = toId("ward-4/pump-2");

describe("typed data", () => {
  const device = privateKeyToAccount(generatePrivateKey());
  const stranger = privateKeyToAccount(generatePrivateKey());
  const master = privateKeyToAccount(generatePrivateKey());

  describe("registryDomain", () => {
    it("names the domain iomt-auth version 2 and checksums the registry address", () => {
      expect(domain).to.deep.equal({
        name: "iomt-auth",
        version: "2",
        chainId: 31337,
        verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      });
    });

    it("rejects a registry that is not an address and a chain id that is not a positive integer", () => {
      expectInvalidField(() => registryDomain({ chainId: 1, registry: "0x1234" }));
      expectInvalidField(() => registryDomain({ chainId: 0, registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3" }));
      expectInvalidField(() => registryDomain({ chainId: 1.5, registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3" }));
    });
  });

  describe("signAssociation", () => {
    let token: Token;

    before(async () => {
      token = await issueToken(master, { gid, oid, device: device.address });
    });

    it("builds the request from the token, with nonce 0 by default", async () => {
      const signed = await signAssociation(device, { domain, token, deadline: 1_000n });
      expect(signed.request).to.deep.equal({ gid, oid, device: device.address, nonce: 0n, deadline: 1_000n });
      expect(signed.token).to.equal(token.signature);
    });

    it("is signed by the device over hashAssociation", async () => {
      const signed = await signAssociation(device, { domain, token, deadline: 1_000n });
      expect(recoverSigner(hashAssociation(domain, signed.request), signed.signature)).to.equal(device.address);
    });

    it("uses an explicit nonce", async () => {
      const signed = await signAssociation(device, { domain, token, deadline: 1_000n, nonce: 3n });
      expect(signed.request.nonce).to.equal(3n);
      expect(recoverSigner(hashAssociation(domain, signed.request), signed.signature)).to.equal(device.address);
    });

    it("accepts a token naming the device in lower case", async () => {
      const signed = await signAssociation(device, { domain, token: { ...token, device: device.address.toLowerCase() as Address }, deadline: 1_000n });
      expect(signed.request.device).to.equal(device.address);
    });

    it("rejects a token issued for another device", async () => {
      const error = await rejection(signAssociation(stranger, { domain, token, deadline: 1_000n }));
      expectError(error, InvalidRequestError, "RequestTokenForAnotherDevice");
    });

    it("rejects a deadline or nonce out of range", async () => {
      expectError(await rejection(signAssociation(device, { domain, token, deadline: -1n })), InvalidRequestError, "RequestInvalidField");
      expectError(await rejection(signAssociation(device, { domain, token, deadline: U64_MAX + 1n })), InvalidRequestError, "RequestInvalidField");
      expectError(await rejection(signAssociation(device, { domain, token, deadline: 1n, nonce: -1n })), InvalidRequestError, "RequestInvalidField");
    });

    it("rejects a token with a zero gid", async () => {
      await expectRejection(signAssociation(device, { domain, token: { ...token, gid: `0x${"00".repeat(32)}` }, deadline: 1n }), InvalidIdError, "InvalidId");
    });
  });

  describe("commitPayload: the salted, hiding commitment keccak256(salt ‖ payload)", () => {
    it("commits to a string as its UTF-8 bytes behind the salt", () => {
      const text = '{"hr":72,"unit":"bpm","note":"ñ"}';
      expect(commitPayload(text, SALT)).to.equal(keccak256(concat([SALT, bytesToHex(new TextEncoder().encode(text))])));
    });

    it("commits to a string that looks like hex as text, not as the bytes it spells", () => {
      expect(commitPayload("0x1234", SALT)).to.equal(keccak256(concat([SALT, bytesToHex(new TextEncoder().encode("0x1234"))])));
      expect(commitPayload("0x", SALT)).to.equal(keccak256(concat([SALT, bytesToHex(new TextEncoder().encode("0x"))])));
    });

    it("commits to bytes as they are", () => {
      expect(commitPayload(new Uint8Array([0x00, 0xff, 0x10, 0x80]), SALT)).to.equal(keccak256(concat([SALT, "0x00ff1080"])));
    });

    it("gives another commitment for another salt, so equal readings are unlinkable", () => {
      expect(commitPayload("heart-rate 143", SALT)).to.not.equal(commitPayload("heart-rate 143", randomSalt()));
    });

    it("refuses a salt that is not 32 bytes", () => {
      expectInvalidField(() => commitPayload("x", "0x1234"));
    });

    it("cannot be reversed by a dictionary of readings without the salt (the review's attack)", () => {
      const reading = "heart-rate 143";
      const commitment = commitPayload(reading, randomSalt());
      const dictionary: string[] = [];
      for (const kind of ["heart-rate", "spo2", "resp-rate", "temp-c", "bp-sys", "bp-dia"]) {
        for (let value = 0; value <= 405; value++) dictionary.push(`${kind} ${value}`);
      }
      expect(dictionary.length).to.be.greaterThan(2_434);
      expect(dictionary).to.include(reading);
      // The attacker tries every candidate, unsalted and with a guessed (zero) salt: none matches.
      const recovered = dictionary.filter(
        (candidate) => keccak256(bytesToHex(new TextEncoder().encode(candidate))) === commitment || commitPayload(candidate, `0x${"00".repeat(32)}`) === commitment,
      );
      expect(recovered).to.deep.equal([]);
    });
  });

  describe("createDataMessage", () => {
    it("commits to a payload with its salt: a string as UTF-8, bytes raw", () => {
      expect(createDataMessage({ gid, oid, nonce: 1n, payload: '{"hr":72}', salt: SALT, timestamp: 5n }).payloadHash).to.equal(commitPayload('{"hr":72}', SALT));
      expect(createDataMessage({ gid, oid, nonce: 1n, payload: new Uint8Array([0xab, 0xcd]), salt: SALT, timestamp: 5n }).payloadHash).to.equal(keccak256(concat([SALT, "0xabcd"])));
    });

    it("refuses a payload without its salt: an unsalted commitment could be reversed by a dictionary", () => {
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n, payload: '{"hr":72}', timestamp: 5n }));
    });

    it("takes a given payloadHash as it is, lower-cased", () => {
      const hash = utf8Hash("reading");
      const upper = `0x${hash.slice(2).toUpperCase()}` as Hex;
      expect(createDataMessage({ gid, oid, nonce: 1n, payloadHash: upper, timestamp: 5n }).payloadHash).to.equal(hash);
    });

    it("defaults the timestamp to now and the deadline to ten minutes later", () => {
      const before = BigInt(Math.floor(Date.now() / 1000));
      const message = createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT });
      const after = BigInt(Math.floor(Date.now() / 1000));
      expect(message.timestamp >= before && message.timestamp <= after).to.equal(true);
      expect(message.deadline).to.equal(message.timestamp + 600n);
    });

    it("sets the deadline validFor seconds after the timestamp", () => {
      expect(createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT, timestamp: 1_000n, validFor: 30n }).deadline).to.equal(1_030n);
    });

    it("uses an explicit deadline over validFor", () => {
      expect(createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT, timestamp: 1_000n, validFor: 30n, deadline: 5_000n }).deadline).to.equal(5_000n);
    });

    it("keeps the ids (lower-cased) and the nonce", () => {
      const message = createDataMessage({ gid: gid.toUpperCase().replace("0X", "0x") as Hex, oid, nonce: 9n, payload: "x", salt: SALT, timestamp: 1n });
      expect(message).to.include({ gid, oid, nonce: 9n, timestamp: 1n, deadline: 601n });
    });

    it("rejects both payload and payloadHash, and neither", () => {
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT, payloadHash: utf8Hash("x") }));
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n }));
    });

    it("rejects a payloadHash that is not 32 bytes of hex", () => {
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n, payloadHash: "0x1234" }));
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n, payloadHash: `0x${"zz".repeat(32)}` as Hex }));
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n, payloadHash: `${"ab".repeat(33)}` as Hex }));
    });

    it("rejects a negative timestamp and one above uint64", () => {
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT, timestamp: -1n }));
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT, timestamp: U64_MAX + 1n }));
    });

    it("accepts the largest uint64 timestamp with an explicit deadline, and rejects a default deadline past uint64", () => {
      expect(createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT, timestamp: U64_MAX, deadline: U64_MAX }).timestamp).to.equal(U64_MAX);
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT, timestamp: U64_MAX }));
    });

    it("rejects a deadline above uint64 and a timestamp that is not a bigint", () => {
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT, timestamp: 1n, deadline: U64_MAX + 1n }));
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT, timestamp: 5 as unknown as bigint }));
    });

    it("rejects a negative nonce, one of 2^256 and a nonce that is not a bigint", () => {
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: -1n, payload: "x", salt: SALT }));
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1n << 256n, payload: "x", salt: SALT }));
      expectInvalidField(() => createDataMessage({ gid, oid, nonce: 1 as unknown as bigint, payload: "x", salt: SALT }));
    });

    it("rejects a zero oid", () => {
      expectCode(() => createDataMessage({ gid, oid: `0x${"00".repeat(32)}`, nonce: 1n, payload: "x" }), InvalidIdError, "InvalidId");
    });
  });

  describe("signDataMessage and verifyDataMessage", () => {
    const message = createDataMessage({ gid, oid, nonce: 4n, payload: '{"spo2":97}', salt: SALT, timestamp: 1_700_000_000n });
    let signed: SignedDataMessage;

    before(async () => {
      signed = await signDataMessage(device, { domain, message });
    });

    it("signs hashDataMessage with the device's key", () => {
      expect(signed.message).to.equal(message);
      expect(recoverSigner(hashDataMessage(domain, message), signed.signature)).to.equal(device.address);
    });

    it("verifies for the device that signed", () => {
      expect(verifyDataMessage({ domain, signed, device: device.address })).to.equal(true);
    });

    it("does not verify for another device", () => {
      expect(verifyDataMessage({ domain, signed, device: stranger.address })).to.equal(false);
    });

    it("does not verify once any field is changed", () => {
      const changes: Partial<DataMessage>[] = [
        { gid: receiverGid },
        { oid: receiverOid },
        { nonce: 5n },
        { payloadHash: utf8Hash("forged") },
        { timestamp: message.timestamp + 1n },
        { deadline: message.deadline + 1n },
      ];
      for (const change of changes) {
        expect(verifyDataMessage({ domain, signed: { ...signed, message: { ...message, ...change } }, device: device.address }), JSON.stringify(Object.keys(change))).to.equal(false);
      }
    });

    it("does not verify under another chain id or registry", () => {
      expect(verifyDataMessage({ domain: { ...domain, chainId: 1 }, signed, device: device.address })).to.equal(false);
      expect(verifyDataMessage({ domain: registryDomain({ chainId: 31337, registry: stranger.address }), signed, device: device.address })).to.equal(false);
    });

    it("is false, not a throw, for the high-s twin and for a malformed signature", () => {
      expect(verifyDataMessage({ domain, signed: { ...signed, signature: toHighS(signed.signature) }, device: device.address })).to.equal(false);
      expect(verifyDataMessage({ domain, signed: { ...signed, signature: "0xdead" }, device: device.address })).to.equal(false);
    });
  });

  describe("createExchange, signExchange and verifyExchange", () => {
    const exchange = createExchange({ gid, oid, receiverGid, receiverOid, nonce: 2n, payload: "dose 5ml", salt: SALT, timestamp: 1_700_000_000n, validFor: 60n });
    let signed: SignedExchange;

    before(async () => {
      signed = await signExchange(device, { domain, exchange });
    });

    it("builds the exchange like a data message plus the receiver", () => {
      expect(exchange).to.deep.equal({
        gid,
        oid,
        receiverGid,
        receiverOid,
        nonce: 2n,
        payloadHash: commitPayload("dose 5ml", SALT),
        timestamp: 1_700_000_000n,
        deadline: 1_700_000_060n,
      });
    });

    it("defaults the timestamp to now and the deadline ten minutes later", () => {
      const before = BigInt(Math.floor(Date.now() / 1000));
      const defaulted = createExchange({ gid, oid, receiverGid, receiverOid, nonce: 0n, payloadHash: utf8Hash("x") });
      const after = BigInt(Math.floor(Date.now() / 1000));
      expect(defaulted.timestamp >= before && defaulted.timestamp <= after, `${defaulted.timestamp} within [${before}, ${after}]`).to.equal(true);
      expect(defaulted.deadline - defaulted.timestamp).to.equal(600n);
    });

    it("rejects a zero or malformed receiver id", () => {
      expectCode(() => createExchange({ gid, oid, receiverGid: `0x${"00".repeat(32)}`, receiverOid, nonce: 0n, payload: "x", salt: SALT }), InvalidIdError, "InvalidId");
      expectCode(() => createExchange({ gid, oid, receiverGid, receiverOid: "0x01", nonce: 0n, payload: "x", salt: SALT }), InvalidIdError, "InvalidId");
    });

    it("rejects the same bad inputs as a data message", () => {
      expectInvalidField(() => createExchange({ gid, oid, receiverGid, receiverOid, nonce: 0n }));
      expectInvalidField(() => createExchange({ gid, oid, receiverGid, receiverOid, nonce: 0n, payload: "x", salt: SALT, timestamp: -5n }));
    });

    it("signs hashExchange with the sender's key and verifies for the sender only", () => {
      expect(recoverSigner(hashExchange(domain, exchange), signed.signature)).to.equal(device.address);
      expect(verifyExchange({ domain, signed, device: device.address })).to.equal(true);
      expect(verifyExchange({ domain, signed, device: stranger.address })).to.equal(false);
    });

    it("does not verify once any field is changed", () => {
      const changes: Partial<Exchange>[] = [
        { gid: receiverGid },
        { oid: receiverOid },
        { receiverGid: gid },
        { receiverOid: oid },
        { nonce: 3n },
        { payloadHash: utf8Hash("forged") },
        { timestamp: 1n },
        { deadline: 1n },
      ];
      for (const change of changes) {
        expect(verifyExchange({ domain, signed: { ...signed, exchange: { ...exchange, ...change } }, device: device.address }), JSON.stringify(Object.keys(change))).to.equal(false);
      }
    });

    it("is false for the high-s twin of the sender's signature", () => {
      expect(verifyExchange({ domain, signed: { ...signed, signature: toHighS(signed.signature) }, device: device.address })).to.equal(false);
    });

    it("is not interchangeable with a data message of the same fields", async () => {
      const asMessage: DataMessage = { gid, oid, nonce: exchange.nonce, payloadHash: exchange.payloadHash, timestamp: exchange.timestamp, deadline: exchange.deadline };
      expect(verifyDataMessage({ domain, signed: { message: asMessage, signature: signed.signature }, device: device.address })).to.equal(false);
    });
  });

  describe("createNonceCounter", () => {
    it("hands out nonces in sequence starting at next", () => {
      const counter = createNonceCounter({ next: 7n });
      expect(counter.next).to.equal(7n);
      expect([counter.take(), counter.take(), counter.take()]).to.deep.equal([7n, 8n, 9n]);
      expect(counter.next).to.equal(10n);
    });

    it("persists the advanced value before it hands the nonce out", () => {
      const events: string[] = [];
      const counter = createNonceCounter({
        next: 0n,
        persist: (next) => events.push(`persist ${next} while next = ${counter.next}`),
      });
      const taken = counter.take();
      events.push(`took ${taken}`);
      expect(events).to.deep.equal(["persist 1 while next = 0", "took 0"]);
    });

    it("neither hands out a nonce nor advances when persist throws", () => {
      let failing = true;
      const stored: bigint[] = [];
      const counter = createNonceCounter({
        next: 4n,
        persist: (next) => {
          if (failing) throw new Error("disk full");
          stored.push(next);
        },
      });
      expect(() => counter.take()).to.throw("disk full");
      expect(counter.next).to.equal(4n);
      failing = false;
      expect(counter.take()).to.equal(4n);
      expect(stored).to.deep.equal([5n]);
    });

    it("rejects a starting value that is not a uint256 bigint", () => {
      expectInvalidField(() => createNonceCounter({ next: -1n }));
      expectInvalidField(() => createNonceCounter({ next: 1n << 256n }));
      expectInvalidField(() => createNonceCounter({ next: 0 as unknown as bigint }));
    });
  });

  describe("digests against a deployed registry", () => {
    let deployed: TestRegistry;
    let onChainDomain: RegistryDomain;

    before(async () => {
      deployed = await deployTestRegistry();
      onChainDomain = deployed.domain;
    });

    after(async () => {
      await deployed?.stop();
    });

    const read = <T>(functionName: "associationDigest" | "dataMessageDigest" | "exchangeDigest", arg: unknown): Promise<T> =>
      deployed.chain.publicClient.readContract({ address: deployed.registry, abi: iomtRegistryAbi, functionName, args: [arg] } as never) as Promise<T>;

    it("registryDomain equals the registry's EIP-5267 domain and getRegistryDomain", async () => {
      const [, name, version, chainId, verifyingContract] = await deployed.chain.publicClient.readContract({
        address: deployed.registry,
        abi: iomtRegistryAbi,
        functionName: "eip712Domain",
      });
      expect(onChainDomain).to.deep.equal({ name, version, chainId: Number(chainId), verifyingContract });
      expect(await getRegistryDomain(deployed.chain.publicClient, { registry: deployed.registry })).to.deep.equal(onChainDomain);
    });

    it("hashAssociation equals associationDigest", async () => {
      const requests: AssociationRequest[] = [
        { gid, oid, device: device.address, nonce: 0n, deadline: 1_700_000_600n },
        { gid: toId(1), oid: toId((1n << 256n) - 1n), device: stranger.address, nonce: (1n << 256n) - 1n, deadline: U64_MAX },
      ];
      for (const request of requests) expect(hashAssociation(onChainDomain, request)).to.equal(await read<Hex>("associationDigest", request));
    });

    it("hashDataMessage equals dataMessageDigest", async () => {
      const messages: DataMessage[] = [
        createDataMessage({ gid, oid, nonce: 1n, payload: '{"hr":72}', salt: SALT, timestamp: 1_700_000_000n }),
        createDataMessage({ gid: toId(2), oid: toId(3), nonce: (1n << 256n) - 1n, payloadHash: `0x${"ff".repeat(32)}`, timestamp: U64_MAX, deadline: U64_MAX }),
      ];
      for (const message of messages) expect(hashDataMessage(onChainDomain, message)).to.equal(await read<Hex>("dataMessageDigest", message));
    });

    it("hashExchange equals exchangeDigest", async () => {
      const exchanges: Exchange[] = [
        createExchange({ gid, oid, receiverGid, receiverOid, nonce: 2n, payload: "dose 5ml", salt: SALT, timestamp: 1_700_000_000n }),
        createExchange({ gid: toId(9), oid: toId(8), receiverGid: toId(7), receiverOid: toId(6), nonce: 0n, payloadHash: `0x${"01".repeat(32)}`, timestamp: 0n, deadline: U64_MAX }),
      ];
      for (const exchange of exchanges) expect(hashExchange(onChainDomain, exchange)).to.equal(await read<Hex>("exchangeDigest", exchange));
    });

    it("the digests differ from the same fields under another chain id", async () => {
      const message = createDataMessage({ gid, oid, nonce: 1n, payload: "x", salt: SALT, timestamp: 1n });
      expect(hashDataMessage({ ...onChainDomain, chainId: onChainDomain.chainId + 1 }, message)).to.not.equal(await read<Hex>("dataMessageDigest", message));
    });

    it("the type strings hash to the registry's type hashes (checked through an independent EIP-712 encoding)", async () => {
      const message = createDataMessage({ gid, oid, nonce: 11n, payload: "independent", salt: SALT, timestamp: 42n, deadline: 43n });
      const typeHash = utf8Hash("DataMessage(bytes32 gid,bytes32 oid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)");
      const structHash = keccak256(
        encodeAbiParameters(
          [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "bytes32" }, { type: "uint64" }, { type: "uint64" }],
          [typeHash, message.gid, message.oid, message.nonce, message.payloadHash, message.timestamp, message.deadline],
        ),
      );
      const domainSeparator = keccak256(
        encodeAbiParameters(
          [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "address" }],
          [
            utf8Hash("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
            utf8Hash("iomt-auth"),
            utf8Hash("2"),
            BigInt(onChainDomain.chainId),
            deployed.registry,
          ],
        ),
      );
      const digest = keccak256(concat(["0x1901", domainSeparator, structHash]));
      expect(await read<Hex>("dataMessageDigest", message)).to.equal(digest);
      expect(hashDataMessage(onChainDomain, message)).to.equal(digest);
    });
  });
});
