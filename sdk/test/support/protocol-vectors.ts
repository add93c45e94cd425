// The test vectors of docs/protocol.md and docs/contracts.md: fixed keys, nonces and clocks in,
// every intermediate value out. `scripts/generate-protocol-vectors.ts` writes them to
// docs/protocol-vectors.json; sdk/test/protocol-vectors.test.ts recomputes them with the SDK and,
// where Node's crypto has the primitive, independently of it.
import { concat, encodeAbiParameters, keccak256, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  AuthTree,
  FINISH_REQUEST_SEQ,
  acceptClientHello,
  authEntryHash,
  authLeaf,
  bindingOf,
  commitPayload,
  completeHandshake,
  createClientHello,
  encodeAuthPath,
  finishBinding,
  finishHandshake,
  genesisAnchor,
  groupId,
  hashAssociation,
  hashClientHello,
  hashDataMessage,
  issueToken,
  openRequest,
  P256_ADDRESS_TAG,
  p256Account,
  privateKeyToP256Signer,
  registryDomain,
  requestAad,
  responseAad,
  sealAnswer,
  sealRequest,
  signAssociation,
  signDataMessage,
  toId,
  toWireDataMessage,
  tokenDigest,
  transcriptHashOf,
  type ClientHello,
  type ServerHello,
  type Session,
  type SessionContext,
} from "../../src/index.js";

/** The fixed inputs. Keys are keccak256 of a label, so anyone can re-derive them. */
export const vectorInputs = {
  devicePrivateKey: keccak256(toHex("iomt-auth test vector: device key")),
  /** A P-256 device's key (below P-256's order n, as keccak256 outputs are but for a 2⁻³² chance). */
  p256DevicePrivateKey: keccak256(toHex("iomt-auth test vector: P-256 device key")),
  masterPrivateKey: keccak256(toHex("iomt-auth test vector: master key")),
  deviceEphemeralPrivateKey: keccak256(toHex("iomt-auth test vector: device ephemeral key")),
  masterEphemeralPrivateKey: keccak256(toHex("iomt-auth test vector: master ephemeral key")),
  clientNonce: keccak256(toHex("iomt-auth test vector: client nonce")),
  serverNonce: keccak256(toHex("iomt-auth test vector: server nonce")),
  clientTimestamp: 1_767_225_600,
  serverTimestamp: 1_767_225_601,
  chainId: 1337,
  registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address,
  label: "ward-3",
  oid: "infusion-pump-17",
  payload: '{"hr":143}',
  salt: keccak256(toHex("iomt-auth test vector: salt")),
  expiresAt: 1_767_229_201,
} as const;

/** Every value the specifications name, computed by the SDK from {@link vectorInputs}. */
export async function computeVectors() {
  const input = vectorInputs;
  const device = privateKeyToAccount(input.devicePrivateKey);
  const master = privateKeyToAccount(input.masterPrivateKey);

  // ---------------------------------------------------------------- on-chain encodings
  const gid = groupId({ chainId: input.chainId, registry: input.registry, creator: master.address, label: input.label });
  const oid = toId(input.oid);
  const token = await issueToken(master, { gid, oid, device: device.address });
  const domain = registryDomain({ chainId: input.chainId, registry: input.registry });
  const association = await signAssociation(device, { domain, token, deadline: 1_767_226_200n });
  const salt = input.salt;
  const payloadHash = commitPayload(input.payload, salt);
  const message = { gid, oid, nonce: 1n, payloadHash, timestamp: BigInt(input.clientTimestamp), deadline: BigInt(input.clientTimestamp + 300) };
  const signedMessage = await signDataMessage(device, { domain, message });
  const genesis = genesisAnchor(`0x${"00".repeat(32)}`, `0x${"00".repeat(32)}`, gid, master.address);
  const tree = new AuthTree();
  let head = genesis;
  const entries = [];
  for (let index = 0; index < 5; index++) {
    const member = index === 2 ? device.address : privateKeyToAccount(keccak256(toHex(`iomt-auth test vector: member ${index}`))).address;
    const memberOid = index === 2 ? oid : toId(`member-${index}`);
    head = authEntryHash(head, index, member, master.address, memberOid);
    const entry = { device: member, master: master.address, index, entryHash: head };
    entries.push({ ...entry, oid: memberOid, leaf: authLeaf(entry) });
    tree.append(authLeaf(entry));
  }
  const step = { gid, entry: { device: device.address, master: master.address, index: 2, entryHash: entries[2]!.entryHash }, leafCount: 3, proof: tree.proof(2, 3), consistency: tree.consistencyProof(3) };

  // ---------------------------------------------------------------- handshake
  const context: SessionContext = { chainId: input.chainId, registry: input.registry, gid };
  const { clientHello, state: deviceState } = createClientHello({
    account: device,
    master: master.address,
    context,
    now: input.clientTimestamp,
    testVectorRandomness: { ephemeralPrivateKey: input.deviceEphemeralPrivateKey, nonce: input.clientNonce },
  });
  const { serverHello, state: masterState } = await acceptClientHello({
    account: master,
    clientHello,
    context,
    now: input.serverTimestamp,
    testVectorRandomness: { ephemeralPrivateKey: input.masterEphemeralPrivateKey, nonce: input.serverNonce },
  });
  const { clientFinish, session: deviceSession } = await completeHandshake({ account: device, state: deviceState, serverHello, now: input.serverTimestamp });
  const masterSession = await finishHandshake({ state: masterState, clientFinish, now: input.serverTimestamp });
  const transcriptHash = transcriptHashOf(clientHello, serverHello);
  const transcript = encodeTranscript(clientHello, serverHello);

  // ---------------------------------------------------------------- a P-256 device
  // The same group, Master and clocks; its own oid, messages and handshake (the transcript names the device).
  const p256Device = p256Account(privateKeyToP256Signer(input.p256DevicePrivateKey));
  const p256Oid = toId(`${input.oid}/p256`);
  const p256Token = await issueToken(master, { gid, oid: p256Oid, device: p256Device.address });
  const p256Association = await signAssociation(p256Device, { domain, token: p256Token, deadline: 1_767_226_200n });
  const p256Message = { ...message, oid: p256Oid };
  const p256SignedMessage = await signDataMessage(p256Device, { domain, message: p256Message });
  const p256Hello = createClientHello({
    account: p256Device,
    master: master.address,
    context,
    now: input.clientTimestamp,
    testVectorRandomness: { ephemeralPrivateKey: input.deviceEphemeralPrivateKey, nonce: input.clientNonce },
  });
  const p256Accepted = await acceptClientHello({
    account: master,
    clientHello: p256Hello.clientHello,
    context,
    now: input.serverTimestamp,
    testVectorRandomness: { ephemeralPrivateKey: input.masterEphemeralPrivateKey, nonce: input.serverNonce },
  });
  const p256Finish = await completeHandshake({ account: p256Device, state: p256Hello.state, serverHello: p256Accepted.serverHello, now: input.serverTimestamp });
  await finishHandshake({ state: p256Accepted.state, clientFinish: p256Finish.clientFinish, now: input.serverTimestamp });

  // ---------------------------------------------------------------- records
  const finish = finishBinding("/v2/session/finish", clientFinish.signature);
  const finishRecord = sealAnswer(masterSession, finish, { ok: true, result: { expiresAt: input.expiresAt } });
  const route = "/v2/data";
  const request = { messages: [{ message: toWireDataMessage(message), signature: signedMessage.signature, payload: toHex(input.payload), salt }] };
  const { record: requestRecord } = sealRequest(deviceSession, route, request);
  openRequest(masterSession, route, requestRecord);
  const requestBinding = bindingOf(route, requestRecord);
  const digest = hashDataMessage(domain, message);
  const answer = { ok: true as const, result: { receipts: [{ digest, device: device.address, nonce: "1", acceptedAt: 1_767_225_601_000 }] } };
  const answerRecord = sealAnswer(masterSession, requestBinding, answer);

  return {
    description:
      "Test vectors of iomt-auth: docs/contracts.md (encodings) and docs/protocol.md (handshake, key schedule, records). " +
      "Inputs are fixed; every other value is derived from them. Hex is lower-case; byte strings are 0x-prefixed.",
    inputs: input,
    identities: { device: device.address, master: master.address },
    onChain: {
      gid,
      oid,
      tokenDigest: tokenDigest({ gid, oid, device: device.address }),
      tokenSignature: token.signature,
      domain,
      associationRequest: { ...association.request, nonce: association.request.nonce.toString(), deadline: association.request.deadline.toString() },
      associationDigest: hashAssociation(domain, association.request),
      associationSignature: association.signature,
      payloadCommitment: { payload: input.payload, salt, payloadHash },
      dataMessage: toWireDataMessage(message),
      dataMessageDigest: digest,
      dataMessageSignature: signedMessage.signature,
      genesis,
      entries: entries.map((entry) => ({ ...entry })),
      rootAt3: tree.rootAt(3),
      rootAt5: tree.root,
      inclusionProofOfLeaf2At3: step.proof,
      consistencyProof3to5: step.consistency,
      encodedPath: encodeAuthPath([step]),
    },
    p256Device: {
      publicKey: p256Device.publicKey,
      addressTag: P256_ADDRESS_TAG,
      address: p256Device.address,
      oid: p256Oid,
      tokenSignature: p256Token.signature,
      associationRequest: { ...p256Association.request, nonce: p256Association.request.nonce.toString(), deadline: p256Association.request.deadline.toString() },
      associationDigest: hashAssociation(domain, p256Association.request),
      associationSignature: p256Association.signature,
      dataMessage: toWireDataMessage(p256Message),
      dataMessageDigest: hashDataMessage(domain, p256Message),
      dataMessageSignature: p256SignedMessage.signature,
      clientHello: p256Hello.clientHello,
      serverHello: p256Accepted.serverHello,
      transcriptHash: transcriptHashOf(p256Hello.clientHello, p256Accepted.serverHello),
      clientFinish: p256Finish.clientFinish,
    },
    handshake: {
      clientHello,
      helloDigest: hashClientHello(clientHello),
      serverHello,
      transcript,
      transcriptHash,
      clientFinish,
      sessionId: deviceSession.id,
    },
    keySchedule: keySchedule(transcriptHash, deviceSession, masterSession),
    records: {
      finish: {
        plaintext: JSON.stringify({ ok: true, result: { expiresAt: input.expiresAt } }),
        requestSeq: FINISH_REQUEST_SEQ.toString(),
        requestHash: toHex(finish.hash),
        aad: toHex(responseAad(finish)),
        record: finishRecord,
      },
      request: { route, plaintext: JSON.stringify(request), aad: toHex(requestAad(route)), record: requestRecord },
      answer: {
        plaintext: JSON.stringify(answer),
        requestSeq: requestBinding.seq.toString(),
        requestHash: toHex(requestBinding.hash),
        aad: toHex(responseAad(requestBinding)),
        record: answerRecord,
      },
    },
  };
}

export type ProtocolVectors = Awaited<ReturnType<typeof computeVectors>>;

function encodeTranscript(clientHello: ClientHello, serverHello: ServerHello): Hex {
  return encodeAbiParameters(
    [
      { type: "string" },
      { type: "uint16" },
      { type: "address" },
      { type: "bytes" },
      { type: "bytes32" },
      { type: "uint64" },
      { type: "uint256" },
      { type: "address" },
      { type: "bytes32" },
      { type: "uint16" },
      { type: "address" },
      { type: "bytes" },
      { type: "bytes32" },
      { type: "uint64" },
    ],
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
}

/** The session keys as both sides derived them (they must agree). */
function keySchedule(transcriptHash: Hex, device: Session, master: Session) {
  if (toHex(device.send.key) !== toHex(master.receive.key) || toHex(device.receive.key) !== toHex(master.send.key)) {
    throw new Error("the two sides derived different keys");
  }
  return {
    hkdfSalt: transcriptHash,
    hkdfInfo: "iomt-auth/session/v2 keys",
    deviceToMasterKey: toHex(device.send.key),
    deviceToMasterIv: toHex(device.send.iv),
    masterToDeviceKey: toHex(device.receive.key),
    masterToDeviceIv: toHex(device.receive.iv),
    sessionId: device.id,
    okm: concat([toHex(device.send.key), toHex(device.send.iv), toHex(device.receive.key), toHex(device.receive.iv), device.id]),
  };
}
