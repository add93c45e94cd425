// Session crypto between a device and its Master (sdk/src/session.ts). Every handshake message
// goes through JSON as it would over the gateway's HTTP API, and clocks are pinned with `now`.
import { gcm } from "@noble/ciphers/aes";
import { secp256k1 } from "@noble/curves/secp256k1";
import { sha256 } from "@noble/hashes/sha2";
import { expect } from "chai";
import {
  bytesToHex,
  concat,
  encodeAbiParameters,
  hexToBytes,
  keccak256,
  numberToHex,
  parseAbiParameters,
  parseSignature,
  recoverMessageAddress,
  stringToBytes,
  toHex,
  type Hex,
  type LocalAccount,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  acceptClientHello,
  completeHandshake,
  createClientHello,
  finishHandshake,
  nobleKeyAgreement,
  openRecord,
  sealRecord,
  SESSION_RECORD_LIMIT,
  SessionError,
  type ClientHello,
  type ServerHello,
  type Session,
  type SessionContext,
  type SessionErrorCode,
} from "../src/session.js";
import { bindingOf, openRequest, openRequestRecord, requestAad, sealRequest } from "../src/gateway-protocol.js";
import { expectFailure } from "./support/expect.js";
import { toHighS } from "./support/signatures.js";

const NOW = 1_750_000_000;

const context: SessionContext = {
  chainId: 31337,
  registry: privateKeyToAccount(generatePrivateKey()).address,
  gid: keccak256(stringToBytes("ward-3")),
};

function newAccount(): LocalAccount {
  return privateKeyToAccount(generatePrivateKey());
}

/** A JSON round trip, as between device and gateway. */
function overTheWire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** `action` throws, or returns a promise that rejects, with a SessionError of this code. */
const expectSessionError = (action: () => unknown, code: SessionErrorCode): Promise<SessionError> => expectFailure(action, SessionError, code);

/** A byte-flipped copy of a hex string, at byte `index` (negative counts from the end). */
function flipByte(value: Hex, index: number): Hex {
  const bytes = hexToBytes(value);
  const at = index < 0 ? bytes.length + index : index;
  bytes[at]! ^= 0x01;
  return bytesToHex(bytes);
}

/** The transcript as the protocol documents it, rebuilt independently of the implementation. */
function documentedTranscriptHash(clientHello: ClientHello, serverHello: ServerHello): Uint8Array {
  const encoded = encodeAbiParameters(
    parseAbiParameters(
      "string, uint16, address, bytes, bytes32, uint64, uint256, address, bytes32, uint16, address, bytes, bytes32, uint64",
    ),
    [
      "iomt-auth/session/v2",
      clientHello.version,
      clientHello.device,
      clientHello.ephemeralPublicKey,
      clientHello.nonce,
      BigInt(clientHello.timestamp),
      BigInt(clientHello.context.chainId),
      clientHello.context.registry,
      clientHello.context.gid,
      serverHello.version,
      serverHello.master,
      serverHello.ephemeralPublicKey,
      serverHello.nonce,
      BigInt(serverHello.timestamp),
    ],
  );
  return sha256(hexToBytes(encoded));
}

/** The EIP-191 raw message each side signs: role label ‖ transcript hash. */
function signedMessage(role: "device" | "master", clientHello: ClientHello, serverHello: ServerHello): Hex {
  return concat([toHex(stringToBytes(`iomt-auth/session/v2 ${role}`)), bytesToHex(documentedTranscriptHash(clientHello, serverHello))]);
}

async function startHandshake(device = newAccount(), master = newAccount()) {
  const { clientHello, state: deviceState } = createClientHello({
    account: device,
    master: master.address,
    context,
    now: NOW,
  });
  const { serverHello, state: masterState } = await acceptClientHello({
    account: master,
    clientHello: overTheWire(clientHello),
    context,
    now: NOW,
  });
  return { device, master, clientHello, deviceState, serverHello: overTheWire(serverHello), masterState };
}

async function establish(device = newAccount(), master = newAccount()) {
  const started = await startHandshake(device, master);
  const { clientFinish, session: deviceSession } = await completeHandshake({
    account: device,
    state: started.deviceState,
    serverHello: started.serverHello,
    now: NOW,
  });
  const masterSession = await finishHandshake({
    state: started.masterState,
    clientFinish: overTheWire(clientFinish),
    now: NOW,
  });
  return { device, master, deviceSession, masterSession };
}

function text(value: string): Uint8Array {
  return stringToBytes(value);
}

describe("session handshake", () => {
  it("gives both sides the same keys and session id, and records round-trip both ways", async () => {
    const { deviceSession, masterSession } = await establish();
    expect(deviceSession.id).to.equal(masterSession.id);
    expect(deviceSession.send).to.deep.equal(masterSession.receive);
    expect(deviceSession.receive).to.deep.equal(masterSession.send);
    expect(bytesToHex(deviceSession.send.key)).to.not.equal(bytesToHex(deviceSession.receive.key));

    const reading = openRecord(masterSession, { record: overTheWire(sealRecord(deviceSession, { plaintext: text("spo2=97") })) });
    expect(reading).to.deep.equal(text("spo2=97"));
    const ack = openRecord(deviceSession, { record: overTheWire(sealRecord(masterSession, { plaintext: text("ack") })) });
    expect(ack).to.deep.equal(text("ack"));
  });

  it("records the authenticated device, Master and context in both sessions", async () => {
    const { device, master, deviceSession, masterSession } = await establish();
    for (const session of [deviceSession, masterSession]) {
      expect(session.device).to.equal(device.address);
      expect(session.master).to.equal(master.address);
      expect(session.context).to.deep.equal(context);
    }
    expect(deviceSession.role).to.equal("device");
    expect(masterSession.role).to.equal("master");
  });

  it("gives two sessions between the same peers different keys and ids", async () => {
    const device = newAccount();
    const master = newAccount();
    const first = (await establish(device, master)).deviceSession;
    const second = (await establish(device, master)).deviceSession;
    expect(second.id).to.not.equal(first.id);
    expect(bytesToHex(second.send.key)).to.not.equal(bytesToHex(first.send.key));
    expect(bytesToHex(second.receive.key)).to.not.equal(bytesToHex(first.receive.key));
    expect(bytesToHex(second.send.iv)).to.not.equal(bytesToHex(first.send.iv));
  });

  it("lets the Master accept any device when it names none, and reports which one", async () => {
    const { device, masterSession } = await establish();
    expect(masterSession.device).to.equal(device.address);
  });

  it("refuses to complete the device's handshake state twice", async () => {
    const { device, deviceState, serverHello } = await startHandshake();
    await completeHandshake({ account: device, state: deviceState, serverHello, now: NOW });
    await expectSessionError(() => completeHandshake({ account: device, state: deviceState, serverHello, now: NOW }), "SessionReplay");
  });

  it("refuses to finish the Master's handshake state twice", async () => {
    const { device, deviceState, serverHello, masterState } = await startHandshake();
    const { clientFinish } = await completeHandshake({ account: device, state: deviceState, serverHello, now: NOW });
    await finishHandshake({ state: masterState, clientFinish, now: NOW });
    await expectSessionError(() => finishHandshake({ state: masterState, clientFinish, now: NOW }), "SessionReplay");
  });

  it("ends the device's handshake after a failed ServerHello, so it cannot be retried", async () => {
    const { device, deviceState, serverHello } = await startHandshake();
    await expectSessionError(
      () => completeHandshake({ account: device, state: deviceState, serverHello: { ...serverHello, nonce: flipByte(serverHello.nonce, 0) }, now: NOW }),
      "SessionBadSignature",
    );
    await expectSessionError(() => completeHandshake({ account: device, state: deviceState, serverHello, now: NOW }), "SessionReplay");
  });
});

describe("session peer identity", () => {
  it("rejects a ServerHello from a Master other than the expected one", async () => {
    const device = newAccount();
    const expectedMaster = newAccount();
    const impostor = newAccount();
    const { clientHello, state } = createClientHello({ account: device, master: expectedMaster.address, context, now: NOW });
    const { serverHello } = await acceptClientHello({ account: impostor, clientHello, context, now: NOW });
    await expectSessionError(() => completeHandshake({ account: device, state, serverHello, now: NOW }), "SessionWrongPeer");
  });

  it("rejects a ServerHello signed by another key in the expected Master's name", async () => {
    const device = newAccount();
    const expectedMaster = newAccount();
    const impostor = newAccount();
    const { clientHello, state } = createClientHello({ account: device, master: expectedMaster.address, context, now: NOW });
    const { serverHello } = await acceptClientHello({ account: impostor, clientHello, context, now: NOW });
    const claimingExpected: ServerHello = { ...serverHello, master: expectedMaster.address };
    await expectSessionError(() => completeHandshake({ account: device, state, serverHello: claimingExpected, now: NOW }), "SessionBadSignature");
  });

  it("rejects a ClientHello from a device other than the expected one", async () => {
    const { clientHello } = createClientHello({ account: newAccount(), master: newAccount().address, context, now: NOW });
    await expectSessionError(
      () => acceptClientHello({ account: newAccount(), clientHello, context, device: newAccount().address, now: NOW }),
      "SessionWrongPeer",
    );
  });

  it("accepts a ClientHello from the expected device", async () => {
    const device = newAccount();
    const { clientHello } = createClientHello({ account: device, master: newAccount().address, context, now: NOW });
    const { state } = await acceptClientHello({ account: newAccount(), clientHello, context, device: device.address, now: NOW });
    expect(state.device).to.equal(device.address);
  });

  for (const [field, other] of [
    ["chain", { ...context, chainId: 1 }],
    ["registry", { ...context, registry: newAccount().address }],
    ["group", { ...context, gid: keccak256(stringToBytes("ward-4")) }],
  ] as const) {
    it(`rejects a ClientHello meant for another ${field}`, async () => {
      const { clientHello } = createClientHello({ account: newAccount(), master: newAccount().address, context: other, now: NOW });
      await expectSessionError(() => acceptClientHello({ account: newAccount(), clientHello, context, now: NOW }), "SessionWrongPeer");
    });
  }

  it("refuses to sign a ClientFinish with an account other than the ClientHello's device", async () => {
    const { deviceState, serverHello } = await startHandshake();
    await expectSessionError(
      () => completeHandshake({ account: newAccount(), state: deviceState, serverHello, now: NOW }),
      "SessionWrongPeer",
    );
  });

  it("rejects a ClientFinish signed by another device over the right transcript", async () => {
    const { clientHello, serverHello, masterState } = await startHandshake();
    const otherDevice = newAccount();
    const signature = await otherDevice.signMessage({ message: { raw: signedMessage("device", clientHello, serverHello) } });
    await expectSessionError(() => finishHandshake({ state: masterState, clientFinish: { signature }, now: NOW }), "SessionBadSignature");
  });

  it("does not accept the Master's signature reflected as the ClientFinish, even when both roles share a key", async () => {
    const shared = newAccount();
    const { serverHello, masterState } = await startHandshake(shared, shared);
    await expectSessionError(
      () => finishHandshake({ state: masterState, clientFinish: { signature: serverHello.signature }, now: NOW }),
      "SessionBadSignature",
    );
  });
});


describe("session transcript integrity", () => {
  it("has the Master sign the documented transcript, and the device too", async () => {
    const { device, master, clientHello, deviceState, serverHello } = await startHandshake();
    const masterSigner = await recoverMessageAddress({
      message: { raw: signedMessage("master", clientHello, serverHello) },
      signature: serverHello.signature,
    });
    expect(masterSigner).to.equal(master.address);
    const { clientFinish } = await completeHandshake({ account: device, state: deviceState, serverHello, now: NOW });
    const deviceSigner = await recoverMessageAddress({
      message: { raw: signedMessage("device", clientHello, serverHello) },
      signature: clientFinish.signature,
    });
    expect(deviceSigner).to.equal(device.address);
  });

  it("rejects a ServerHello whose ephemeral key a man in the middle replaced", async () => {
    const { device, deviceState, serverHello } = await startHandshake();
    const attackerKey = bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomPrivateKey(), true));
    await expectSessionError(
      () => completeHandshake({ account: device, state: deviceState, serverHello: { ...serverHello, ephemeralPublicKey: attackerKey }, now: NOW }),
      "SessionBadSignature",
    );
  });

  it("makes the device reject the handshake when a man in the middle replaced its ephemeral key", async () => {
    const device = newAccount();
    const master = newAccount();
    const { clientHello, state } = createClientHello({ account: device, master: master.address, context, now: NOW });
    const attackerKey = bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomPrivateKey(), true));
    const { serverHello } = await acceptClientHello({
      account: master,
      clientHello: { ...clientHello, ephemeralPublicKey: attackerKey },
      context,
      now: NOW,
    });
    await expectSessionError(() => completeHandshake({ account: device, state, serverHello, now: NOW }), "SessionBadSignature");
  });

  for (const field of ["nonce", "timestamp"] as const) {
    it(`rejects a ServerHello whose ${field} was altered`, async () => {
      const { device, deviceState, serverHello } = await startHandshake();
      const altered: ServerHello =
        field === "nonce" ? { ...serverHello, nonce: flipByte(serverHello.nonce, 0) } : { ...serverHello, timestamp: serverHello.timestamp + 1 };
      await expectSessionError(() => completeHandshake({ account: device, state: deviceState, serverHello: altered, now: NOW }), "SessionBadSignature");
    });
  }

  it("rejects a ClientFinish from another handshake between the same peers", async () => {
    const device = newAccount();
    const master = newAccount();
    const first = await startHandshake(device, master);
    const second = await startHandshake(device, master);
    const { clientFinish } = await completeHandshake({ account: device, state: second.deviceState, serverHello: second.serverHello, now: NOW });
    await expectSessionError(() => finishHandshake({ state: first.masterState, clientFinish, now: NOW }), "SessionBadSignature");
  });
});

describe("session signature malleability", () => {
  it("rejects a high-s ServerHello signature even though it recovers the right Master", async () => {
    const { device, master, clientHello, deviceState, serverHello } = await startHandshake();
    const malleated = toHighS(serverHello.signature);
    const recovered = await recoverMessageAddress({ message: { raw: signedMessage("master", clientHello, serverHello) }, signature: malleated });
    expect(recovered).to.equal(master.address);
    const error = await expectSessionError(
      () => completeHandshake({ account: device, state: deviceState, serverHello: { ...serverHello, signature: malleated }, now: NOW }),
      "SessionBadSignature",
    );
    expect(error.message).to.match(/high s/);
  });

  it("rejects a high-s ClientFinish signature", async () => {
    const { device, deviceState, serverHello, masterState } = await startHandshake();
    const { clientFinish } = await completeHandshake({ account: device, state: deviceState, serverHello, now: NOW });
    const error = await expectSessionError(
      () => finishHandshake({ state: masterState, clientFinish: { signature: toHighS(clientFinish.signature) }, now: NOW }),
      "SessionBadSignature",
    );
    expect(error.message).to.match(/high s/);
  });

  it("rejects a signature whose r is zero", async () => {
    const { device, deviceState, serverHello } = await startHandshake();
    const zeroR = concat([numberToHex(0, { size: 32 }), `0x${serverHello.signature.slice(66)}`]);
    await expectSessionError(
      () => completeHandshake({ account: device, state: deviceState, serverHello: { ...serverHello, signature: zeroR }, now: NOW }),
      "SessionBadSignature",
    );
  });

  it("rejects a signature with a v other than 27 or 28", async () => {
    const { device, deviceState, serverHello } = await startHandshake();
    const { r, s } = parseSignature(serverHello.signature);
    const vZero = concat([r, s, "0x00"]);
    await expectSessionError(
      () => completeHandshake({ account: device, state: deviceState, serverHello: { ...serverHello, signature: vZero }, now: NOW }),
      "SessionMalformed",
    );
  });
});

describe("session freshness", () => {
  for (const [label, offset] of [
    ["older", -61],
    ["newer", 61],
  ] as const) {
    it(`rejects a ClientHello ${label} than the 60-second window`, async () => {
      const { clientHello } = createClientHello({ account: newAccount(), master: newAccount().address, context, now: NOW + offset });
      await expectSessionError(() => acceptClientHello({ account: newAccount(), clientHello, context, now: NOW }), "SessionStale");
    });
  }

  it("accepts a ClientHello exactly at the edge of the window", async () => {
    const { clientHello } = createClientHello({ account: newAccount(), master: newAccount().address, context, now: NOW - 60 });
    const { serverHello } = await acceptClientHello({ account: newAccount(), clientHello, context, now: NOW });
    expect(serverHello.timestamp).to.equal(NOW);
  });

  it("honours a custom freshness window", async () => {
    const { clientHello } = createClientHello({ account: newAccount(), master: newAccount().address, context, now: NOW - 300 });
    await acceptClientHello({ account: newAccount(), clientHello, context, now: NOW, freshnessWindow: 300 });
    await expectSessionError(
      () => acceptClientHello({ account: newAccount(), clientHello, context, now: NOW, freshnessWindow: 299 }),
      "SessionStale",
    );
  });

  it("rejects a ServerHello that reaches the device after the window", async () => {
    const { device, deviceState, serverHello } = await startHandshake();
    await expectSessionError(() => completeHandshake({ account: device, state: deviceState, serverHello, now: NOW + 61 }), "SessionStale");
  });

  it("rejects a ClientFinish that reaches the Master after the half-open handshake expired", async () => {
    const { device, deviceState, serverHello, masterState } = await startHandshake();
    expect(masterState.expiresAt).to.equal(NOW + 60);
    const { clientFinish } = await completeHandshake({ account: device, state: deviceState, serverHello, now: NOW });
    await expectSessionError(() => finishHandshake({ state: masterState, clientFinish, now: NOW + 61 }), "SessionStale");
  });
});

describe("session malformed handshake input", () => {
  async function acceptAltered(alter: (hello: ClientHello) => unknown) {
    const { clientHello } = createClientHello({ account: newAccount(), master: newAccount().address, context, now: NOW });
    return acceptClientHello({ account: newAccount(), clientHello: alter(clientHello) as ClientHello, context, now: NOW });
  }

  const notOnCurve = concat(["0x02", numberToHex(0, { size: 32 })]); // y² = 7 has no root mod p

  for (const [name, alter] of [
    ["a nonce that is not hex", (hello: ClientHello) => ({ ...hello, nonce: `0x${"zz".repeat(32)}` })],
    ["a nonce of the wrong length", (hello: ClientHello) => ({ ...hello, nonce: hello.nonce.slice(0, -2) })],
    ["an odd-length hex string", (hello: ClientHello) => ({ ...hello, nonce: `${hello.nonce}0` })],
    ["an ephemeral key of the wrong length", (hello: ClientHello) => ({ ...hello, ephemeralPublicKey: hello.ephemeralPublicKey.slice(0, -2) })],
    ["an ephemeral key that is not on the curve", (hello: ClientHello) => ({ ...hello, ephemeralPublicKey: notOnCurve })],
    ["an ephemeral key with an uncompressed prefix", (hello: ClientHello) => ({ ...hello, ephemeralPublicKey: `0x04${hello.ephemeralPublicKey.slice(4)}` })],
    ["an unsupported version", (hello: ClientHello) => ({ ...hello, version: 1 })],
    ["a device that is not an address", (hello: ClientHello) => ({ ...hello, device: "0x1234" })],
    ["a timestamp that is not an integer", (hello: ClientHello) => ({ ...hello, timestamp: NOW + 0.5 })],
    ["a missing context", (hello: ClientHello) => ({ ...hello, context: undefined })],
    ["a message that is not an object", () => "hello"],
  ] as const) {
    it(`rejects a ClientHello with ${name}`, async () => {
      await expectSessionError(() => acceptAltered(alter), "SessionMalformed");
    });
  }

  it("rejects a ServerHello whose ephemeral key is not on the curve", async () => {
    const { device, deviceState, serverHello } = await startHandshake();
    await expectSessionError(
      () => completeHandshake({ account: device, state: deviceState, serverHello: { ...serverHello, ephemeralPublicKey: notOnCurve }, now: NOW }),
      "SessionMalformed",
    );
  });

  it("rejects a ServerHello signature of the wrong length", async () => {
    const { device, deviceState, serverHello } = await startHandshake();
    await expectSessionError(
      () => completeHandshake({ account: device, state: deviceState, serverHello: { ...serverHello, signature: serverHello.signature.slice(0, 130) as Hex }, now: NOW }),
      "SessionMalformed",
    );
  });

  it("rejects a ClientFinish that is not hex", async () => {
    const { masterState } = await startHandshake();
    await expectSessionError(() => finishHandshake({ state: masterState, clientFinish: { signature: "0xnothex" as Hex }, now: NOW }), "SessionMalformed");
  });
});

describe("session records", () => {
  it("follows the documented nonce and additional-data construction", async () => {
    const { deviceSession } = await establish();
    sealRecord(deviceSession, { plaintext: text("first") });
    const record = sealRecord(deviceSession, { plaintext: text("second"), aad: text("/data") });
    const { id, send } = deviceSession;
    const nonce = send.iv.slice();
    nonce[11]! ^= record.seq;
    const additionalData = concat([toHex(stringToBytes("iomt-auth/session/v2 record")), id, "0x01", numberToHex(record.seq, { size: 8 }), toHex(text("/data"))]);
    const plaintext = gcm(send.key, nonce, hexToBytes(additionalData)).decrypt(hexToBytes(record.ciphertext));
    expect(plaintext).to.deep.equal(text("second"));
  });

  it("never repeats a nonce: the same plaintext seals to different ciphertexts", async () => {
    const { deviceSession } = await establish();
    const first = sealRecord(deviceSession, { plaintext: text("same") });
    const second = sealRecord(deviceSession, { plaintext: text("same") });
    expect([first.seq, second.seq]).to.deep.equal([0, 1]);
    expect(second.ciphertext).to.not.equal(first.ciphertext);
  });

  it("authenticates the aad", async () => {
    const { deviceSession, masterSession } = await establish();
    const record = sealRecord(deviceSession, { plaintext: text("hr=72"), aad: text("/data/hr") });
    await expectSessionError(() => openRecord(masterSession, { record, aad: text("/data/bp") }), "SessionTampered");
    await expectSessionError(() => openRecord(masterSession, { record }), "SessionTampered");
    expect(openRecord(masterSession, { record, aad: text("/data/hr") })).to.deep.equal(text("hr=72"));
  });

  it("rejects a tampered ciphertext or tag", async () => {
    const { deviceSession, masterSession } = await establish();
    const record = sealRecord(deviceSession, { plaintext: text("hr=72") });
    await expectSessionError(() => openRecord(masterSession, { record: { ...record, ciphertext: flipByte(record.ciphertext, 0) } }), "SessionTampered");
    await expectSessionError(() => openRecord(masterSession, { record: { ...record, ciphertext: flipByte(record.ciphertext, -1) } }), "SessionTampered");
  });

  it("rejects a record whose sequence number was changed", async () => {
    const { deviceSession, masterSession } = await establish();
    const record = sealRecord(deviceSession, { plaintext: text("hr=72") });
    await expectSessionError(() => openRecord(masterSession, { record: { ...record, seq: record.seq + 1 } }), "SessionTampered");
  });

  it("does not let a forged record advance the receive counter", async () => {
    const { deviceSession, masterSession } = await establish();
    const record = sealRecord(deviceSession, { plaintext: text("hr=72") });
    await expectSessionError(() => openRecord(masterSession, { record: { ...record, seq: 1_000_000 } }), "SessionTampered");
    expect(openRecord(masterSession, { record })).to.deep.equal(text("hr=72"));
  });

  it("rejects a replayed record", async () => {
    const { deviceSession, masterSession } = await establish();
    const record = sealRecord(deviceSession, { plaintext: text("dose=5mg") });
    openRecord(masterSession, { record });
    await expectSessionError(() => openRecord(masterSession, { record }), "SessionReplay");
  });

  it("rejects a record that arrives after a later one, but tolerates a lost one", async () => {
    const { deviceSession, masterSession } = await establish();
    const first = sealRecord(deviceSession, { plaintext: text("1") });
    const second = sealRecord(deviceSession, { plaintext: text("2") });
    const third = sealRecord(deviceSession, { plaintext: text("3") });
    expect(openRecord(masterSession, { record: second })).to.deep.equal(text("2"));
    await expectSessionError(() => openRecord(masterSession, { record: first }), "SessionReplay");
    expect(openRecord(masterSession, { record: third })).to.deep.equal(text("3"));
  });

  it("does not open a record in the direction it was not sealed for", async () => {
    const { deviceSession, masterSession } = await establish();
    const fromDevice = sealRecord(deviceSession, { plaintext: text("up") });
    await expectSessionError(() => openRecord(deviceSession, { record: fromDevice }), "SessionTampered");
    const fromMaster = sealRecord(masterSession, { plaintext: text("down") });
    await expectSessionError(() => openRecord(masterSession, { record: fromMaster }), "SessionTampered");
  });

  it("does not open a record from another session between the same peers", async () => {
    const device = newAccount();
    const master = newAccount();
    const first = await establish(device, master);
    const second = await establish(device, master);
    const record = sealRecord(first.deviceSession, { plaintext: text("hr=72") });
    await expectSessionError(() => openRecord(second.masterSession, { record }), "SessionTampered");
  });

  for (const [name, record] of [
    ["a negative seq", { seq: -1, ciphertext: `0x${"00".repeat(16)}` }],
    ["a fractional seq", { seq: 0.5, ciphertext: `0x${"00".repeat(16)}` }],
    ["a seq given as a string", { seq: "0", ciphertext: `0x${"00".repeat(16)}` }],
    ["a seq beyond the record limit", { seq: SESSION_RECORD_LIMIT, ciphertext: `0x${"00".repeat(16)}` }],
    ["a ciphertext shorter than the tag", { seq: 0, ciphertext: `0x${"00".repeat(15)}` }],
    ["a ciphertext that is not hex", { seq: 0, ciphertext: "ciphertext" }],
    ["a ciphertext with a non-hex digit after 15 good bytes", { seq: 0, ciphertext: `0x${"00".repeat(15)}0g` }],
    ["a ciphertext of half a byte more than 16", { seq: 0, ciphertext: `0x${"00".repeat(16)}0` }],
    ["a ciphertext without its 0x", { seq: 0, ciphertext: "00".repeat(16) }],
  ] as const) {
    it(`rejects a record with ${name} as malformed`, async () => {
      const { masterSession } = await establish();
      await expectSessionError(() => openRecord(masterSession, { record: record as never }), "SessionMalformed");
    });
  }
});

describe("request records opened with their binding (gateway protocol, openRequestRecord)", () => {
  const route = "/v2/data";

  it("gives the plaintext and the binding bindingOf gives, hashing the record's bytes once with the hash it is given", async () => {
    const { deviceSession, masterSession } = await establish();
    const { record, binding: sealed } = sealRequest(deviceSession, route, { messages: [] });
    const hashed: Hex[] = [];
    const counting = (data: Uint8Array) => (hashed.push(bytesToHex(data)), sha256(data));
    const { plaintext, binding } = openRequestRecord(masterSession, route, record, { hash: counting });
    expect(new TextDecoder().decode(plaintext)).to.equal('{"messages":[]}');
    expect(binding).to.deep.equal(bindingOf(route, record));
    expect(binding).to.deep.equal(sealed);
    expect(hashed).to.deep.equal([record.ciphertext]);
  });

  it("seals with the binding bindingOf gives the record, hashing the ciphertext's bytes once with the hash it is given, for requests of every size", async () => {
    const { deviceSession, masterSession } = await establish();
    for (const readings of [0, 1, 7, 64]) {
      const request = { messages: Array.from({ length: readings }, (_, i) => ({ reading: `hr=${60 + i}`, pad: "x".repeat(i * 13) })) };
      const hashed: Hex[] = [];
      const counting = (data: Uint8Array) => (hashed.push(bytesToHex(data)), sha256(data));
      const { record, binding } = sealRequest(deviceSession, route, request, undefined, counting);
      expect(binding).to.deep.equal(bindingOf(route, record));
      expect(hashed).to.deep.equal([record.ciphertext]);
      // The gateway opens it and answers to the same binding.
      expect(openRequestRecord(masterSession, route, record).binding).to.deep.equal(binding);
    }
  });

  it("refuses a record sealed for another route, a replay and a malformed record as openRecord does, without moving the counter", async () => {
    const { deviceSession, masterSession } = await establish();
    const { record } = sealRequest(deviceSession, route, { messages: [] });
    await expectSessionError(() => openRequestRecord(masterSession, "/v2/nonce", record), "SessionTampered");
    await expectSessionError(() => openRequestRecord(masterSession, route, { ...record, ciphertext: "0x00" }), "SessionMalformed");
    expect(masterSession.receive.nextSeq).to.equal(0);
    openRequestRecord(masterSession, route, record);
    await expectSessionError(() => openRequestRecord(masterSession, route, record), "SessionReplay");
  });

  it("is public, and the record parser it shares with openRecord is not, nor sealRecord's bytes", async () => {
    const sdk = await import("../src/index.js");
    expect(sdk.openRequestRecord).to.equal(openRequestRecord);
    expect(Object.keys(sdk)).to.not.include.members(["parseRecord"]).and.not.include.members(["openParsedRecord"]).and.not.include.members(["sealRecordBytes"]);
  });

  it("opens a plaintext that is not JSON, which openRequest refuses as malformed", async () => {
    const { deviceSession, masterSession } = await establish();
    const notJson = () => sealRecord(deviceSession, { plaintext: text("not json"), aad: requestAad(route) });
    expect(new TextDecoder().decode(openRequestRecord(masterSession, route, notJson()).plaintext)).to.equal("not json");
    await expectSessionError(() => openRequest(masterSession, route, notJson()), "SessionMalformed");
  });
});

describe("sessions live in memory only", () => {
  it("offers no way to export or import a session", async () => {
    const sdk = await import("../src/index.js");
    expect(sdk).to.not.have.property("exportSession");
    expect(sdk).to.not.have.property("importSession");
  });

  it("cannot be resumed by a copy: a copy's records are refused as replays or fail to open", async () => {
    const { deviceSession, masterSession } = await establish();
    const copy: Session = { ...deviceSession, send: { ...deviceSession.send }, receive: { ...deviceSession.receive } };
    const original = sealRecord(deviceSession, { plaintext: text("1") });
    openRecord(masterSession, { record: original });
    // The copy seals under the sequence number the original already used: the peer refuses it.
    const fromCopy = sealRecord(copy, { plaintext: text("other") });
    expect(fromCopy.seq).to.equal(original.seq);
    await expectSessionError(() => openRecord(masterSession, { record: fromCopy }), "SessionReplay");
  });
});

describe("session key agreement", () => {
  it("gives the same session whichever key agreement each side uses, when both compute the same ECDH", async () => {
    const device = newAccount();
    const master = newAccount();
    let calls = 0;
    const counting = {
      generateKeyPair: () => (calls++, nobleKeyAgreement.generateKeyPair()),
      publicKeyOf: nobleKeyAgreement.publicKeyOf,
      sharedSecret: (privateKey: Uint8Array, publicKey: Uint8Array) => (calls++, nobleKeyAgreement.sharedSecret(privateKey, publicKey)),
    };
    const { clientHello, state } = createClientHello({ account: device, master: master.address, context, now: NOW });
    const accepted = await acceptClientHello({ account: master, clientHello, context, now: NOW, keyAgreement: counting });
    expect(calls).to.equal(2);
    const { clientFinish, session } = await completeHandshake({ account: device, state, serverHello: accepted.serverHello, now: NOW });
    const masterSession = await finishHandshake({ state: accepted.state, clientFinish, now: NOW });
    expect(openRecord(masterSession, { record: sealRecord(session, { plaintext: text("hr=72") }) })).to.deep.equal(text("hr=72"));
  });

  it("uses the recovery it is given for the ClientFinish signature", async () => {
    const { device, deviceState, serverHello, masterState } = await startHandshake();
    const { clientFinish } = await completeHandshake({ account: device, state: deviceState, serverHello, now: NOW });
    const impostor = newAccount().address;
    await expectSessionError(() => finishHandshake({ state: masterState, clientFinish, now: NOW, recover: () => impostor }), "SessionBadSignature");
  });
});

describe("session counter exhaustion", () => {
  it("seals the last allowed record, then refuses with SessionExhausted", async () => {
    const { deviceSession, masterSession } = await establish();
    const nearlyExhausted = deviceSession;
    nearlyExhausted.send.nextSeq = SESSION_RECORD_LIMIT - 1;
    const last = sealRecord(nearlyExhausted, { plaintext: text("last") });
    expect(last.seq).to.equal(SESSION_RECORD_LIMIT - 1);
    expect(openRecord(masterSession, { record: last })).to.deep.equal(text("last"));

    await expectSessionError(() => sealRecord(nearlyExhausted, { plaintext: text("one too many") }), "SessionExhausted");
    expect(nearlyExhausted.send.nextSeq).to.equal(SESSION_RECORD_LIMIT);
  });
});
