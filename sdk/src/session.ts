/**
 * Session crypto between a device and its group's Master (the gateway): an authenticated
 * ephemeral key exchange, then AES-256-GCM records with sequence numbers. Protocol version 2;
 * the normative specification, with test vectors, is `docs/protocol.md` (§3 handshake, §4 records).
 *
 * ## Handshake (one round trip plus a final message)
 *
 * ```text
 * device                                                      Master (gateway)
 * ClientHello { version, device, ephemeralPublicKey, nonce, timestamp, context } ──►
 *                 ◄── ServerHello { version, master, ephemeralPublicKey, nonce, timestamp, signature }
 * ClientFinish { signature }                                                   ──►
 * ```
 *
 * - Ephemeral keys are fresh secp256k1 key pairs, sent as 33-byte compressed points and
 *   validated (on the curve, not the identity) before anything else is done with them.
 * - `context` = { chainId, registry, gid }: the deployment and group the device wants a session
 *   with. The Master rejects a context that isn't its own, and because the context is in the
 *   signed transcript the device learns that the Master agreed to it.
 * - **Transcript** = the ABI encoding (viem `encodeAbiParameters`, injective for a fixed type
 *   list) of the protocol label {@link SESSION_PROTOCOL} and every field of both hellos except
 *   the signature; `transcriptHash = sha256(transcript)`. Hex fields enter as their decoded bytes,
 *   so a re-cased hex string cannot change the transcript.
 * - **Signatures**: the Master in ServerHello and the device in ClientFinish sign, with their
 *   identity keys (Ethereum accounts; a device may instead hold a P-256 key, a `P256Account`,
 *   whose 128-byte signature `r ‖ s ‖ x ‖ y` carries its key and is checked against the device's
 *   `p256Address`), the EIP-191 personal message
 *   `raw = utf8("iomt-auth/session/v2 master") ‖ transcriptHash` (resp. `… device`). The role
 *   label stops a signature from one side being reflected as the other's. Signing through
 *   `signMessage` rather than a raw `sign({ hash })` works with every viem `LocalAccount`
 *   (hardware and remote signers included) and can never yield a transaction signature; the
 *   59-byte message also can't collide with a Master's token signature, which is over a 32-byte
 *   digest. Each side verifies by address recovery against the peer it expects, rejecting
 *   high-s (malleable) signatures. Both identities are in both signed transcripts, which rules
 *   out identity-misbinding (unknown key-share) attacks, as in ISO/IEC 9798-3 signed DH.
 * - **Freshness** comes from the nonces and ephemeral keys: every transcript contains a value
 *   the verifier chose itself, so a replayed hello or signature never completes a handshake.
 *   Timestamps (Unix seconds) additionally bound how long a handshake can stay half-open and
 *   reject peers whose clocks are off by more than `freshnessWindow` (default 60 s).
 * - **Key schedule**: `secret = x(ECDH(ephemeral, peer ephemeral))` (32 bytes);
 *   `okm = HKDF-SHA256(ikm = secret, salt = transcriptHash, info = "iomt-auth/session/v2 keys",
 *   L = 120)`, split in order into device→master key (32) and IV (12), master→device key (32)
 *   and IV (12), and the session id (32). Ephemeral private keys are forgotten as soon as the
 *   keys are derived, so a later leak of an identity key does not expose past sessions.
 * - The Master's keys exist from `acceptClientHello` on, but {@link finishHandshake} hands out a
 *   session only after the device's ClientFinish verifies. Half-open handshake states live in
 *   memory, are single-use and expire after the freshness window: a gateway restart mid-handshake
 *   only makes the device start again.
 *
 * ## Records
 *
 * `sealRecord` encrypts with the sender's direction key; the 12-byte GCM nonce is
 * `iv XOR (0x00000000 ‖ uint64be(seq))` as in TLS 1.3, and the GCM additional data is
 * `utf8("iomt-auth/session/v2 record") ‖ sessionId ‖ direction (1 byte) ‖ uint64be(seq) ‖ aad`,
 * so a record cannot be moved to another session, direction or position. Sequence numbers start
 * at 0 per direction; the receiver accepts only sequence numbers strictly greater than the last
 * one it accepted. Strict order rather than a sliding window because a device sends its records
 * one request at a time, so a record older than the last accepted one is a retry or an attack.
 * Gaps are allowed, so a lost request does not break the session; a device retries by sealing
 * again under the next sequence number. The counter only advances after GCM has authenticated the
 * record: a forged record with a huge sequence number cannot lock the session.
 *
 * Sessions live in memory only, on both sides: there is no export. A process that restarts
 * forgets its sessions, so no (key, nonce) pair can be used twice by two processes or after a
 * crash or power loss; the device runs a new handshake.
 *
 * @example
 * // device
 * const { clientHello, state } = createClientHello({ account: device, master, context });
 * // Master (gateway), on receiving clientHello
 * const { serverHello, state: pending } = await acceptClientHello({ account: master, clientHello, context });
 * // device, on receiving serverHello
 * const { clientFinish, session } = await completeHandshake({ account: device, state, serverHello });
 * const record = sealRecord(session, { plaintext });
 * // Master, on receiving clientFinish (then check session.device's membership on chain) and record
 * const masterSession = await finishHandshake({ state: pending, clientFinish });
 * const plaintext = openRecord(masterSession, { record });
 */
import { gcm } from "@noble/ciphers/aes";
import { secp256k1 } from "@noble/curves/secp256k1";
import { hkdf } from "@noble/hashes/hkdf";
import { sha256 } from "@noble/hashes/sha2";
import { concatBytes, hexToBytes as hexDigitsToBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils";
import {
  bytesToHex,
  encodeAbiParameters,
  getAddress,
  hexToBytes,
  isAddress,
  isAddressEqual,
  hashMessage,
  type Address,
  type Hex,
  type LocalAccount,
} from "viem";
import { IomtError } from "./errors.js";
import { InvalidSignatureError, recoverSigner } from "./signature.js";

/** Protocol label that domain-separates every hash, signature and key of this protocol. */
export const SESSION_PROTOCOL = "iomt-auth/session/v2";

/** Version carried in both hellos; any other value is rejected as `SessionMalformed`. */
export const SESSION_VERSION = 2;

/** Default maximum distance, in seconds, between a hello's timestamp and the verifier's clock. */
export const DEFAULT_FRESHNESS_WINDOW = 60;

/**
 * Records per direction and session. AES-GCM's confidentiality bound degrades with the total
 * number of blocks under one key (about σ²/2¹²⁹): 2³² records of up to 16 KiB keep it below
 * 2⁻⁴⁵, and the limit keeps sequence numbers exact as JSON numbers. A new handshake re-keys.
 */
export const SESSION_RECORD_LIMIT = 2 ** 32;

/** Stable codes of {@link SessionError}. */
export type SessionErrorCode =
  | "SessionWrongPeer"
  | "SessionBadSignature"
  | "SessionStale"
  | "SessionMalformed"
  | "SessionTampered"
  | "SessionReplay"
  | "SessionExhausted";

/**
 * Thrown by every function of this module. Codes:
 * - `SessionWrongPeer`: the peer is not the one expected (another Master or device, another
 *   chain, registry or group).
 * - `SessionBadSignature`: a handshake signature does not verify for the claimed identity over
 *   this transcript (forged, made over a modified transcript, or high-s).
 * - `SessionStale`: a hello's timestamp is outside the freshness window, or a half-open
 *   handshake expired.
 * - `SessionMalformed`: bad hex, wrong lengths, unknown version, a point not on the curve.
 * - `SessionTampered`: a record failed GCM authentication (ciphertext, aad, sequence number or
 *   direction changed, or the wrong key).
 * - `SessionReplay`: a record's sequence number is not above the last accepted one, or a
 *   handshake state is used a second time.
 * - `SessionExhausted`: the sending counter reached {@link SESSION_RECORD_LIMIT}.
 */
export class SessionError extends IomtError {
  declare readonly code: SessionErrorCode;

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The deployment and group a session belongs to; bound into the signed transcript. */
export type SessionContext = {
  /** Chain id of the network the registry lives on. */
  chainId: number;
  /** Address of the group registry contract. */
  registry: Address;
  /** The device's group id (`bytes32`). */
  gid: Hex;
};

/**
 * What signs a transcript: any viem account with an address and `signMessage`, e.g.
 * `privateKeyToAccount(key)`; for a device also a `P256Account` (a secure element's P-256 key).
 */
export type SessionAccount = Pick<LocalAccount, "address" | "signMessage">;

/** First handshake message, device → Master. JSON-safe. */
export type ClientHello = {
  /** {@link SESSION_VERSION}. */
  version: number;
  /** The device's address: its identity. */
  device: Address;
  /** 33-byte compressed secp256k1 point. */
  ephemeralPublicKey: Hex;
  /** 32 random bytes. */
  nonce: Hex;
  /** Unix seconds. */
  timestamp: number;
  /** The chain, registry and group the device wants a session with. */
  context: SessionContext;
};

/** Second handshake message, Master → device. JSON-safe. */
export type ServerHello = {
  /** {@link SESSION_VERSION}. */
  version: number;
  /** The Master's address. */
  master: Address;
  /** 33-byte compressed secp256k1 point. */
  ephemeralPublicKey: Hex;
  /** 32 random bytes. */
  nonce: Hex;
  /** Unix seconds. */
  timestamp: number;
  /** The Master's 65-byte signature over the transcript (role `master`). */
  signature: Hex;
};

/** Final handshake message, device → Master. JSON-safe. */
export type ClientFinish = {
  /** The device's 65-byte signature over the transcript (role `device`). */
  signature: Hex;
};

/** Which end of the session this side is. */
export type SessionRole = "device" | "master";

/** Key, IV and sequence counter of one direction. */
export type SessionDirection = {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  /** Next sequence number to seal (sending) or smallest acceptable one (receiving). */
  nextSeq: number;
};

/**
 * An established session. Holds secret keys and mutable counters: {@link sealRecord} and
 * {@link openRecord} advance them in place, so that no copy of a stale counter can ever seal
 * with a used nonce. Keep exactly one live copy per side.
 */
export type Session = {
  readonly version: typeof SESSION_VERSION;
  /** 32-byte session id from the key schedule; public, e.g. a database key. */
  readonly id: Hex;
  readonly role: SessionRole;
  /** The device's address, authenticated by the handshake. */
  readonly device: Address;
  /** The Master's address, authenticated by the handshake. */
  readonly master: Address;
  readonly context: SessionContext;
  /** Unix seconds when this side established the session. */
  readonly establishedAt: number;
  readonly send: SessionDirection;
  readonly receive: SessionDirection;
};

/** A sealed record. JSON-safe. */
export type SessionRecord = {
  seq: number;
  /** GCM ciphertext followed by its 16-byte tag. */
  ciphertext: Hex;
};

/**
 * The device's half-open handshake, from {@link createClientHello}. Its ephemeral private key
 * is held privately by this module; the state can be completed once.
 */
export type DeviceHandshakeState = {
  readonly clientHello: ClientHello;
  /** The Master the device expects. */
  readonly master: Address;
};

/**
 * The Master's half-open handshake, from {@link acceptClientHello}. Its derived keys are held
 * privately by this module; the state can be finished once, before `expiresAt`.
 */
export type MasterHandshakeState = {
  /** The device named in the ClientHello, not yet authenticated. */
  readonly device: Address;
  readonly master: Address;
  readonly context: SessionContext;
  /** Unix seconds after which {@link finishHandshake} fails with `SessionStale`. */
  readonly expiresAt: number;
};

type DeviceHandshakeSecrets = {
  ephemeralPrivateKey: Uint8Array;
  clientHello: ParsedClientHello;
  freshnessWindow: number;
};

type MasterHandshakeSecrets = {
  transcriptHash: Uint8Array;
  session: Session;
};

// Module-private so that the secrets can't be serialised or logged with the state, and so that
// deleting the entry makes each state single-use.
const deviceHandshakes = new WeakMap<DeviceHandshakeState, DeviceHandshakeSecrets>();
const masterHandshakes = new WeakMap<MasterHandshakeState, MasterHandshakeSecrets>();

/**
 * Removes and returns a half-open handshake's secrets. Any outcome ends the handshake, as in TLS:
 * a failed attempt is never retried on the same keys.
 */
function takeHandshake<State extends object, Secrets>(handshakes: WeakMap<State, Secrets>, state: State, madeBy: string): Secrets {
  const secrets = handshakes.get(state);
  if (secrets === undefined) {
    throw new SessionError("SessionReplay", `this handshake state was already used or was not made by ${madeBy}`);
  }
  handshakes.delete(state);
  return secrets;
}

const COMPRESSED_POINT_BYTES = 33;
const NONCE_BYTES = 32;
const SIGNATURE_BYTES = 65;
const P256_SIGNATURE_BYTES = 128;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const SESSION_ID_BYTES = 32;
const GCM_TAG_BYTES = 16;

const DIRECTION_DEVICE_TO_MASTER = 1;
const DIRECTION_MASTER_TO_DEVICE = 2;

const transcriptParameters = [
  { name: "protocol", type: "string" },
  { name: "clientVersion", type: "uint16" },
  { name: "device", type: "address" },
  { name: "clientEphemeralPublicKey", type: "bytes" },
  { name: "clientNonce", type: "bytes32" },
  { name: "clientTimestamp", type: "uint64" },
  { name: "chainId", type: "uint256" },
  { name: "registry", type: "address" },
  { name: "gid", type: "bytes32" },
  { name: "serverVersion", type: "uint16" },
  { name: "master", type: "address" },
  { name: "serverEphemeralPublicKey", type: "bytes" },
  { name: "serverNonce", type: "bytes32" },
  { name: "serverTimestamp", type: "uint64" },
] as const;

// ---------------------------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------------------------

/** Parameters of {@link createClientHello}. */
export type CreateClientHelloParameters = {
  /** The device's identity account (only its address is used here). */
  account: SessionAccount;
  /** The Master the device expects: its group's Master, from the chain or its token. */
  master: Address;
  context: SessionContext;
  /** Unix seconds; defaults to the system clock. */
  now?: number | undefined;
  /** Seconds of clock difference accepted on the ServerHello; default {@link DEFAULT_FRESHNESS_WINDOW}. */
  freshnessWindow?: number | undefined;
  /**
   * Fixed ephemeral key and nonce, for the protocol's test vectors only. Never set them in a
   * device: a repeated ephemeral key or nonce breaks the handshake's freshness.
   */
  testVectorRandomness?: HandshakeRandomness | undefined;
};

/** An ephemeral private key (32 bytes) and a nonce (32 bytes), injected for test vectors only. */
export type HandshakeRandomness = { ephemeralPrivateKey: Hex; nonce: Hex };

/**
 * The ephemeral key exchange of a handshake: fresh key pairs and ECDH on secp256k1. The default is
 * pure JS (noble); a gateway may pass an implementation over a native library (libsecp256k1), which
 * must give exactly the same results (`docs/protocol.md` §3.5).
 */
export type SessionKeyAgreement = {
  /** A fresh ephemeral key pair: a valid 32-byte scalar and its 33-byte compressed public key. */
  generateKeyPair(): { privateKey: Uint8Array; publicKey: Uint8Array };
  /** The 33-byte compressed public key of a 32-byte private key. */
  publicKeyOf(privateKey: Uint8Array): Uint8Array;
  /** The x-coordinate (32 bytes) of `privateKey · publicKey`; `publicKey` is a validated compressed point. */
  sharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
};

/** The default {@link SessionKeyAgreement}: noble's secp256k1. */
export const nobleKeyAgreement: SessionKeyAgreement = {
  generateKeyPair() {
    const privateKey = secp256k1.utils.randomPrivateKey();
    return { privateKey, publicKey: secp256k1.getPublicKey(privateKey, true) };
  },
  publicKeyOf: (privateKey) => secp256k1.getPublicKey(privateKey, true),
  sharedSecret(privateKey, publicKey) {
    const point = secp256k1.getSharedSecret(privateKey, publicKey, true);
    const x = point.slice(1);
    point.fill(0);
    return x;
  },
};

/**
 * Recovers the signer of a 32-byte hash, strictly (65 bytes, v ∈ {27, 28}, low s), throwing
 * {@link InvalidSignatureError} for an unusable signature: the SDK's `recoverSigner`, or a native one.
 */
export type SignerRecoverer = (hash: Hex, signature: Hex) => Address;

/** Return type of {@link createClientHello}. */
export type CreateClientHelloReturnType = {
  /** Send this to the Master. */
  clientHello: ClientHello;
  /** Keep this in memory and pass it to {@link completeHandshake}. */
  state: DeviceHandshakeState;
};

/**
 * Device side, step 1: generates an ephemeral key pair and a nonce and builds the ClientHello.
 *
 * @example
 * const { clientHello, state } = createClientHello({ account: device, master, context });
 */
export function createClientHello(parameters: CreateClientHelloParameters): CreateClientHelloReturnType {
  const master = parseAddress(parameters.master, "expected master");
  const { ephemeralPrivateKey, ephemeralPublicKey, nonce } = handshakeRandomness(parameters.testVectorRandomness, nobleKeyAgreement);
  const clientHello: ClientHello = {
    version: SESSION_VERSION,
    device: parseAddress(parameters.account.address, "account address"),
    ephemeralPublicKey: bytesToHex(ephemeralPublicKey),
    nonce: bytesToHex(nonce),
    timestamp: parameters.now ?? currentTime(),
    context: parseContext(parameters.context),
  };
  const state: DeviceHandshakeState = Object.freeze({ clientHello, master });
  deviceHandshakes.set(state, {
    ephemeralPrivateKey,
    clientHello: parseClientHello(clientHello),
    freshnessWindow: parameters.freshnessWindow ?? DEFAULT_FRESHNESS_WINDOW,
  });
  return { clientHello, state };
}

/** Parameters of {@link acceptClientHello}. */
export type AcceptClientHelloParameters = {
  /** The Master's identity account. */
  account: SessionAccount;
  /** The ClientHello as received (validated here). */
  clientHello: ClientHello;
  /** The Master's own context; a ClientHello for another chain, registry or group is refused. */
  context: SessionContext;
  /**
   * The device expected, if known. Omit to accept any device, then check the authenticated
   * `session.device` (e.g. group membership on chain) after {@link finishHandshake}.
   */
  device?: Address | undefined;
  /** Unix seconds; defaults to the system clock. */
  now?: number | undefined;
  /** Seconds of clock difference accepted, and lifetime of the half-open handshake. */
  freshnessWindow?: number | undefined;
  /** Fixed ephemeral key and nonce, for the protocol's test vectors only (see {@link createClientHello}). */
  testVectorRandomness?: HandshakeRandomness | undefined;
  /** The ephemeral key exchange; default {@link nobleKeyAgreement}. */
  keyAgreement?: SessionKeyAgreement | undefined;
};

/** Return type of {@link acceptClientHello}. */
export type AcceptClientHelloReturnType = {
  /** Send this to the device. */
  serverHello: ServerHello;
  /** Keep this in memory and pass it to {@link finishHandshake}. */
  state: MasterHandshakeState;
};

/**
 * Master side, step 2: validates the ClientHello, generates an ephemeral key pair, derives the
 * session keys and signs the transcript. The session is released only by {@link finishHandshake}.
 *
 * @throws {SessionError} `SessionMalformed`, `SessionWrongPeer`, `SessionStale`.
 */
export async function acceptClientHello(parameters: AcceptClientHelloParameters): Promise<AcceptClientHelloReturnType> {
  const clientHello = parseClientHello(parameters.clientHello);
  const ownContext = parseContext(parameters.context);
  const master = parseAddress(parameters.account.address, "account address");
  const now = parameters.now ?? currentTime();
  const freshnessWindow = parameters.freshnessWindow ?? DEFAULT_FRESHNESS_WINDOW;

  if (!contextsEqual(clientHello.context, ownContext)) {
    throw new SessionError(
      "SessionWrongPeer",
      `ClientHello is for chain ${clientHello.context.chainId}, registry ${clientHello.context.registry}, ` +
        `group ${clientHello.context.gid}; this Master serves chain ${ownContext.chainId}, ` +
        `registry ${ownContext.registry}, group ${ownContext.gid}`,
    );
  }
  if (parameters.device !== undefined) {
    const expectedDevice = parseAddress(parameters.device, "expected device");
    if (!isAddressEqual(clientHello.device, expectedDevice)) {
      throw new SessionError(
        "SessionWrongPeer",
        `ClientHello comes from device ${clientHello.device}, expected ${expectedDevice}`,
      );
    }
  }
  assertFresh("ClientHello", clientHello.timestamp, now, freshnessWindow);

  const keyAgreement = parameters.keyAgreement ?? nobleKeyAgreement;
  const { ephemeralPrivateKey, ephemeralPublicKey, nonce } = handshakeRandomness(parameters.testVectorRandomness, keyAgreement);
  const serverFields: ParsedServerFields = {
    version: SESSION_VERSION,
    master,
    ephemeralPublicKey,
    nonce,
    timestamp: now,
  };
  const transcriptHash = hashTranscript(clientHello, serverFields);
  const keys = deriveKeys(keyAgreement, ephemeralPrivateKey, clientHello.ephemeralPublicKey, transcriptHash);
  ephemeralPrivateKey.fill(0);

  const signature = await signTranscript(parameters.account, "master", transcriptHash);
  const session = buildSession("master", keys, clientHello.device, master, clientHello.context, now);
  const state: MasterHandshakeState = Object.freeze({
    device: clientHello.device,
    master,
    context: clientHello.context,
    expiresAt: now + freshnessWindow,
  });
  masterHandshakes.set(state, { transcriptHash, session });

  return {
    serverHello: {
      version: serverFields.version,
      master,
      ephemeralPublicKey: bytesToHex(serverFields.ephemeralPublicKey),
      nonce: bytesToHex(serverFields.nonce),
      timestamp: serverFields.timestamp,
      signature,
    },
    state,
  };
}

/** Parameters of {@link completeHandshake}. */
export type CompleteHandshakeParameters = {
  /** The device's identity account; must be the one the ClientHello named. */
  account: SessionAccount;
  /** From {@link createClientHello}. Consumed: a second call fails with `SessionReplay`. */
  state: DeviceHandshakeState;
  /** The ServerHello as received (validated here). */
  serverHello: ServerHello;
  /** Unix seconds; defaults to the system clock. */
  now?: number | undefined;
};

/** Return type of {@link completeHandshake}. */
export type CompleteHandshakeReturnType = {
  /** Send this to the Master. */
  clientFinish: ClientFinish;
  /** The device's session, usable at once for {@link sealRecord} / {@link openRecord}. */
  session: Session;
};

/**
 * Device side, step 3: verifies that the ServerHello comes from the expected Master and is
 * signed over this transcript, derives the keys, forgets the ephemeral private key and signs
 * the ClientFinish.
 *
 * @throws {SessionError} `SessionReplay` (state already used), `SessionMalformed`,
 *   `SessionWrongPeer`, `SessionStale`, `SessionBadSignature`.
 */
export async function completeHandshake(parameters: CompleteHandshakeParameters): Promise<CompleteHandshakeReturnType> {
  const secrets = takeHandshake(deviceHandshakes, parameters.state, "createClientHello; start a new handshake");
  try {
    const { clientHello, freshnessWindow } = secrets;
    if (!isAddressEqual(parameters.account.address, clientHello.device)) {
      throw new SessionError(
        "SessionWrongPeer",
        `account ${parameters.account.address} is not the device ${clientHello.device} of the ClientHello`,
      );
    }
    const serverHello = parseServerHello(parameters.serverHello);
    if (!isAddressEqual(serverHello.master, parameters.state.master)) {
      throw new SessionError(
        "SessionWrongPeer",
        `ServerHello comes from Master ${serverHello.master}, expected ${parameters.state.master}`,
      );
    }
    const now = parameters.now ?? currentTime();
    assertFresh("ServerHello", serverHello.timestamp, now, freshnessWindow);

    const transcriptHash = hashTranscript(clientHello, serverHello);
    await verifyTranscriptSignature(serverHello.signature, "master", transcriptHash, serverHello.master);

    const keys = deriveKeys(nobleKeyAgreement, secrets.ephemeralPrivateKey, serverHello.ephemeralPublicKey, transcriptHash);
    const signature = await signTranscript(parameters.account, "device", transcriptHash);
    return {
      clientFinish: { signature },
      session: buildSession("device", keys, clientHello.device, serverHello.master, clientHello.context, now),
    };
  } finally {
    secrets.ephemeralPrivateKey.fill(0);
  }
}

/** Parameters of {@link finishHandshake}. */
export type FinishHandshakeParameters = {
  /** From {@link acceptClientHello}. Consumed: a second call fails with `SessionReplay`. */
  state: MasterHandshakeState;
  /** The ClientFinish as received (validated here). */
  clientFinish: ClientFinish;
  /** Unix seconds; defaults to the system clock. */
  now?: number | undefined;
  /** Recovers the ClientFinish's signer; default the SDK's `recoverSigner` (noble). */
  recover?: SignerRecoverer | undefined;
};

/** Return type of {@link finishHandshake}: the Master's session with the authenticated device. */
export type FinishHandshakeReturnType = Session;

/**
 * Master side, step 4: verifies the device's signature over the transcript and releases the
 * session. `session.device` is then authenticated; check its group membership before serving it.
 *
 * @throws {SessionError} `SessionReplay` (state already used), `SessionStale` (expired),
 *   `SessionMalformed`, `SessionBadSignature`.
 */
export async function finishHandshake(parameters: FinishHandshakeParameters): Promise<FinishHandshakeReturnType> {
  const secrets = takeHandshake(masterHandshakes, parameters.state, "acceptClientHello; the device must start a new handshake");

  const now = parameters.now ?? currentTime();
  if (now > parameters.state.expiresAt) {
    throw new SessionError(
      "SessionStale",
      `handshake expired at ${parameters.state.expiresAt} (now ${now}); the device must start a new handshake`,
    );
  }
  const clientFinish = parseObject(parameters.clientFinish, "ClientFinish");
  await verifyTranscriptSignature(clientFinish.signature, "device", secrets.transcriptHash, parameters.state.device, parameters.recover);
  return secrets.session;
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/**
 * AES-256-GCM as records use it: a 32-byte key, a 12-byte nonce, the additional data; the
 * ciphertext carries its 16-byte tag at the end. {@link nobleRecordCipher} is the default; a
 * gateway may give Node's OpenSSL one (the same bytes, an order of magnitude faster). `decrypt`
 * throws when authentication fails.
 */
export type RecordCipher = {
  encrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  decrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
};

/** AES-256-GCM in pure JS (@noble/ciphers): runs everywhere, devices and browsers included. */
export const nobleRecordCipher: RecordCipher = Object.freeze({
  encrypt: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) => gcm(key, nonce, aad).encrypt(plaintext),
  decrypt: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array) => gcm(key, nonce, aad).decrypt(ciphertext),
});

/** Parameters of {@link sealRecord}. */
export type SealRecordParameters = {
  plaintext: Uint8Array;
  /** Extra data authenticated but not encrypted (e.g. an HTTP route); must be given again to open. */
  aad?: Uint8Array | undefined;
  /** The AES-256-GCM implementation (default {@link nobleRecordCipher}). */
  cipher?: RecordCipher | undefined;
};

/** Return type of {@link sealRecord}. */
export type SealRecordReturnType = SessionRecord;

/**
 * Encrypts and authenticates `plaintext` for the peer and advances the sending counter. The
 * session is the only copy of its counters: never persist or clone it (a second copy could seal
 * under a used nonce).
 *
 * @throws {SessionError} `SessionExhausted` when {@link SESSION_RECORD_LIMIT} records were sealed.
 */
export function sealRecord(session: Session, parameters: SealRecordParameters): SealRecordReturnType {
  const { seq, ciphertext } = sealRecordBytes(session, parameters);
  return { seq, ciphertext: bytesToHex(ciphertext) };
}

/** {@link sealRecord} with the ciphertext as bytes (for the request's binding, hashed from them; not public). */
export function sealRecordBytes(session: Session, parameters: SealRecordParameters): { seq: number; ciphertext: Uint8Array } {
  const seq = session.send.nextSeq;
  if (seq >= SESSION_RECORD_LIMIT) {
    throw new SessionError(
      "SessionExhausted",
      `this session sealed its ${SESSION_RECORD_LIMIT} records in this direction; run a new handshake`,
    );
  }
  // Advanced before encrypting so that no failure path can leave a used nonce behind.
  session.send.nextSeq = seq + 1;
  const direction = sendingDirection(session.role);
  const ciphertext = (parameters.cipher ?? nobleRecordCipher).encrypt(
    session.send.key,
    recordNonce(session.send.iv, seq),
    recordAdditionalData(session.id, direction, seq, parameters.aad),
    parameters.plaintext,
  );
  return { seq, ciphertext };
}

/** Parameters of {@link openRecord}. */
export type OpenRecordParameters = {
  /** The record as received (validated here). */
  record: SessionRecord;
  /** The same extra data that was given to {@link sealRecord}. */
  aad?: Uint8Array | undefined;
  /** The AES-256-GCM implementation (default {@link nobleRecordCipher}). */
  cipher?: RecordCipher | undefined;
};

/** Return type of {@link openRecord}: the plaintext. */
export type OpenRecordReturnType = Uint8Array;

/**
 * Authenticates and decrypts a record from the peer; on success the receiving counter moves
 * past its sequence number.
 *
 * @throws {SessionError} `SessionMalformed`, `SessionReplay` (sequence number not above the
 *   last accepted), `SessionTampered` (authentication failed).
 */
export function openRecord(session: Session, parameters: OpenRecordParameters): OpenRecordReturnType {
  return openParsedRecord(session, parseRecord(parameters.record), parameters.aad, parameters.cipher);
}

/** A received record checked for shape and decoded: its sequence number and ciphertext bytes. Internal. */
export type ParsedRecord = { seq: number; ciphertext: Uint8Array };

/** Checks a received record's shape and decodes its ciphertext, once. Internal (the gateway protocol's request opening). */
export function parseRecord(value: unknown): ParsedRecord {
  const record = parseObject(value, "record");
  const seq = parseCounter(record.seq, SESSION_RECORD_LIMIT - 1, "record seq");
  const ciphertext = parseHexBytes(record.ciphertext, "record ciphertext");
  if (ciphertext.length < GCM_TAG_BYTES) {
    throw new SessionError("SessionMalformed", `record ciphertext is shorter than the ${GCM_TAG_BYTES}-byte GCM tag`);
  }
  return { seq, ciphertext };
}

/** {@link openRecord} on a record {@link parseRecord} decoded. Internal. */
export function openParsedRecord(session: Session, { seq, ciphertext }: ParsedRecord, aad: Uint8Array | undefined, cipher: RecordCipher | undefined): Uint8Array {
  if (seq < session.receive.nextSeq) {
    throw new SessionError(
      "SessionReplay",
      `record seq ${seq} was already used or skipped; the next acceptable seq is ${session.receive.nextSeq}`,
    );
  }
  const direction = receivingDirection(session.role);
  let plaintext: Uint8Array;
  try {
    plaintext = (cipher ?? nobleRecordCipher).decrypt(
      session.receive.key,
      recordNonce(session.receive.iv, seq),
      recordAdditionalData(session.id, direction, seq, aad),
      ciphertext,
    );
  } catch (cause) {
    throw new SessionError(
      "SessionTampered",
      `record seq ${seq} failed authentication: ciphertext, aad, seq or direction was altered, or it belongs to another session`,
      { cause },
    );
  }
  session.receive.nextSeq = seq + 1;
  return plaintext;
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

type ParsedClientHello = {
  version: number;
  device: Address;
  ephemeralPublicKey: Uint8Array;
  nonce: Uint8Array;
  timestamp: number;
  context: SessionContext;
};

type ParsedServerFields = {
  version: number;
  master: Address;
  ephemeralPublicKey: Uint8Array;
  nonce: Uint8Array;
  timestamp: number;
};

type ParsedServerHello = ParsedServerFields & { signature: unknown };

type SessionKeys = {
  deviceToMasterKey: Uint8Array;
  deviceToMasterIv: Uint8Array;
  masterToDeviceKey: Uint8Array;
  masterToDeviceIv: Uint8Array;
  sessionId: Uint8Array;
};

/** Fresh randomness, or the fixed values of a test vector (validated like a peer's input). */
function handshakeRandomness(
  fixed: HandshakeRandomness | undefined,
  keyAgreement: SessionKeyAgreement,
): { ephemeralPrivateKey: Uint8Array; ephemeralPublicKey: Uint8Array; nonce: Uint8Array } {
  if (fixed === undefined) {
    const { privateKey, publicKey } = keyAgreement.generateKeyPair();
    return { ephemeralPrivateKey: privateKey, ephemeralPublicKey: publicKey, nonce: randomBytes(NONCE_BYTES) };
  }
  const ephemeralPrivateKey = parseFixedBytes(fixed.ephemeralPrivateKey, KEY_BYTES, "test-vector ephemeral private key");
  if (!secp256k1.utils.isValidPrivateKey(ephemeralPrivateKey)) {
    throw new SessionError("SessionMalformed", "test-vector ephemeral private key is not a valid secp256k1 scalar");
  }
  return {
    ephemeralPrivateKey,
    ephemeralPublicKey: keyAgreement.publicKeyOf(ephemeralPrivateKey),
    nonce: parseFixedBytes(fixed.nonce, NONCE_BYTES, "test-vector nonce"),
  };
}

/**
 * `sha256(abi.encode(protocol, version, device, ephemeralPublicKey, nonce, timestamp, chainId,
 * registry, gid))`: the ClientHello's half of the transcript, which a gateway binds its stateless
 * cookie to (`docs/protocol.md` §3.6).
 *
 * @throws {SessionError} `SessionMalformed` for a malformed ClientHello.
 */
export function hashClientHello(clientHello: ClientHello): Hex {
  const hello = parseClientHello(clientHello);
  const encoded = encodeAbiParameters(transcriptParameters.slice(0, 9), [
    SESSION_PROTOCOL,
    hello.version,
    hello.device,
    bytesToHex(hello.ephemeralPublicKey),
    bytesToHex(hello.nonce),
    BigInt(hello.timestamp),
    BigInt(hello.context.chainId),
    hello.context.registry,
    hello.context.gid,
  ]);
  return bytesToHex(sha256(hexToBytes(encoded)));
}

/** The handshake's transcript hash (`docs/protocol.md` §3.2), for test vectors and independent checks. */
export function transcriptHashOf(clientHello: ClientHello, serverHello: ServerHello): Hex {
  return bytesToHex(hashTranscript(parseClientHello(clientHello), parseServerHello(serverHello)));
}

function hashTranscript(client: ParsedClientHello, server: ParsedServerFields): Uint8Array {
  const encoded = encodeAbiParameters(transcriptParameters, [
    SESSION_PROTOCOL,
    client.version,
    client.device,
    bytesToHex(client.ephemeralPublicKey),
    bytesToHex(client.nonce),
    BigInt(client.timestamp),
    BigInt(client.context.chainId),
    client.context.registry,
    client.context.gid,
    server.version,
    server.master,
    bytesToHex(server.ephemeralPublicKey),
    bytesToHex(server.nonce),
    BigInt(server.timestamp),
  ]);
  return sha256(hexToBytes(encoded));
}

function transcriptMessage(role: SessionRole, transcriptHash: Uint8Array): Uint8Array {
  return concatBytes(utf8ToBytes(`${SESSION_PROTOCOL} ${role}`), transcriptHash);
}

function signTranscript(account: SessionAccount, role: SessionRole, transcriptHash: Uint8Array): Promise<Hex> {
  return account.signMessage({ message: { raw: transcriptMessage(role, transcriptHash) } });
}

async function verifyTranscriptSignature(
  signature: unknown,
  role: SessionRole,
  transcriptHash: Uint8Array,
  expectedSigner: Address,
  recover: SignerRecoverer = recoverSigner,
): Promise<void> {
  const sender = role === "master" ? "ServerHello" : "ClientFinish";
  // A device may hold a P-256 key (a secure element): its 128-byte signature carries the key and
  // is checked against the device's p256Address. A Master signs with a secp256k1 key.
  const p256 = role === "device" && typeof signature === "string" && signature.length === 2 + 2 * P256_SIGNATURE_BYTES;
  const bytes = parseFixedBytes(signature, p256 ? P256_SIGNATURE_BYTES : SIGNATURE_BYTES, `${sender} signature`);
  const v = bytes[SIGNATURE_BYTES - 1];
  if (!p256 && v !== 27 && v !== 28) {
    throw new SessionError("SessionMalformed", `${sender} signature has v = ${v}; expected 27 or 28`);
  }
  let signer: Address;
  try {
    signer = recover(hashMessage({ raw: transcriptMessage(role, transcriptHash) }), bytesToHex(bytes));
  } catch (cause) {
    if (!(cause instanceof InvalidSignatureError)) throw cause;
    const reason = cause.code === "SignatureHighS" ? "has a high s value (malleable); rejected" : `is unusable: ${cause.message}`;
    throw new SessionError("SessionBadSignature", `${sender} signature ${reason}`, { cause });
  }
  if (!isAddressEqual(signer, expectedSigner)) {
    throw new SessionError(
      "SessionBadSignature",
      `${sender} signature does not verify for the ${role} ${expectedSigner} over this handshake transcript ` +
        `(forged, or the transcript was modified in transit)`,
    );
  }
}

function deriveKeys(
  keyAgreement: SessionKeyAgreement,
  ephemeralPrivateKey: Uint8Array,
  peerEphemeralPublicKey: Uint8Array,
  transcriptHash: Uint8Array,
): SessionKeys {
  const sharedX = keyAgreement.sharedSecret(ephemeralPrivateKey, peerEphemeralPublicKey);
  if (sharedX.length !== KEY_BYTES) throw new SessionError("SessionMalformed", "the key agreement must give a 32-byte x-coordinate");
  const okm = hkdf(
    sha256,
    sharedX,
    transcriptHash,
    utf8ToBytes(`${SESSION_PROTOCOL} keys`),
    2 * (KEY_BYTES + IV_BYTES) + SESSION_ID_BYTES,
  );
  sharedX.fill(0);
  let offset = 0;
  const take = (length: number) => okm.slice(offset, (offset += length));
  return {
    deviceToMasterKey: take(KEY_BYTES),
    deviceToMasterIv: take(IV_BYTES),
    masterToDeviceKey: take(KEY_BYTES),
    masterToDeviceIv: take(IV_BYTES),
    sessionId: take(SESSION_ID_BYTES),
  };
}

function buildSession(
  role: SessionRole,
  keys: SessionKeys,
  device: Address,
  master: Address,
  context: SessionContext,
  establishedAt: number,
): Session {
  const deviceToMaster = { key: keys.deviceToMasterKey, iv: keys.deviceToMasterIv, nextSeq: 0 };
  const masterToDevice = { key: keys.masterToDeviceKey, iv: keys.masterToDeviceIv, nextSeq: 0 };
  return {
    version: SESSION_VERSION,
    id: bytesToHex(keys.sessionId),
    role,
    device,
    master,
    context,
    establishedAt,
    send: role === "device" ? deviceToMaster : masterToDevice,
    receive: role === "device" ? masterToDevice : deviceToMaster,
  };
}

function sendingDirection(role: SessionRole): number {
  return role === "device" ? DIRECTION_DEVICE_TO_MASTER : DIRECTION_MASTER_TO_DEVICE;
}

function receivingDirection(role: SessionRole): number {
  return role === "device" ? DIRECTION_MASTER_TO_DEVICE : DIRECTION_DEVICE_TO_MASTER;
}

function uint64BigEndian(value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value));
  return bytes;
}

function recordNonce(iv: Uint8Array, seq: number): Uint8Array {
  const nonce = iv.slice();
  const seqBytes = uint64BigEndian(seq);
  for (let i = 0; i < seqBytes.length; i++) nonce[IV_BYTES - seqBytes.length + i]! ^= seqBytes[i]!;
  return nonce;
}

function recordAdditionalData(sessionId: Hex, direction: number, seq: number, aad: Uint8Array | undefined): Uint8Array {
  return concatBytes(
    utf8ToBytes(`${SESSION_PROTOCOL} record`),
    hexToBytes(sessionId),
    new Uint8Array([direction]),
    uint64BigEndian(seq),
    aad ?? new Uint8Array(0),
  );
}

function parseClientHello(value: unknown): ParsedClientHello {
  const hello = parseObject(value, "ClientHello");
  return {
    version: parseVersion(hello.version, "ClientHello"),
    device: parseAddress(hello.device, "ClientHello device"),
    ephemeralPublicKey: parsePublicKey(hello.ephemeralPublicKey, "ClientHello ephemeralPublicKey"),
    nonce: parseFixedBytes(hello.nonce, NONCE_BYTES, "ClientHello nonce"),
    timestamp: parseTimestamp(hello.timestamp, "ClientHello timestamp"),
    context: parseContext(hello.context),
  };
}

function parseServerHello(value: unknown): ParsedServerHello {
  const hello = parseObject(value, "ServerHello");
  return {
    version: parseVersion(hello.version, "ServerHello"),
    master: parseAddress(hello.master, "ServerHello master"),
    ephemeralPublicKey: parsePublicKey(hello.ephemeralPublicKey, "ServerHello ephemeralPublicKey"),
    nonce: parseFixedBytes(hello.nonce, NONCE_BYTES, "ServerHello nonce"),
    timestamp: parseTimestamp(hello.timestamp, "ServerHello timestamp"),
    signature: hello.signature,
  };
}

function parseContext(value: unknown): SessionContext {
  const context = parseObject(value, "context");
  const chainId = context.chainId;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId < 1) {
    throw new SessionError("SessionMalformed", "context chainId must be a positive safe integer");
  }
  return {
    chainId,
    registry: parseAddress(context.registry, "context registry"),
    gid: bytesToHex(parseFixedBytes(context.gid, 32, "context gid")),
  };
}

function contextsEqual(a: SessionContext, b: SessionContext): boolean {
  return a.chainId === b.chainId && isAddressEqual(a.registry, b.registry) && a.gid === b.gid;
}

function parseObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SessionError("SessionMalformed", `${field} must be an object`);
  }
  return value as Record<string, unknown>;
}

function parseVersion(value: unknown, message: string): number {
  if (value !== SESSION_VERSION) {
    throw new SessionError("SessionMalformed", `${message} version ${String(value)} is not supported; expected ${SESSION_VERSION}`);
  }
  return value;
}

function parseAddress(value: unknown, field: string): Address {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) {
    throw new SessionError("SessionMalformed", `${field} must be a 20-byte hex address`);
  }
  return getAddress(value);
}

function parseHexBytes(value: unknown, field: string): Uint8Array {
  if (typeof value === "string" && value.startsWith("0x")) {
    // noble's decoder, about twice as fast as viem's on a record's kilobytes of hex, checks every
    // digit and the length itself: no regular expression over the record first.
    try {
      return hexDigitsToBytes(value.slice(2));
    } catch {
      // not hex, or half a byte: refused below
    }
  }
  throw new SessionError("SessionMalformed", `${field} must be 0x-prefixed hex with whole bytes`);
}

function parseFixedBytes(value: unknown, length: number, field: string): Uint8Array {
  const bytes = parseHexBytes(value, field);
  if (bytes.length !== length) {
    throw new SessionError("SessionMalformed", `${field} must be ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

function parsePublicKey(value: unknown, field: string): Uint8Array {
  const bytes = parseFixedBytes(value, COMPRESSED_POINT_BYTES, field);
  try {
    // fromHex rejects points off the curve; the compressed encoding cannot express the identity.
    secp256k1.ProjectivePoint.fromHex(bytes).assertValidity();
  } catch (cause) {
    throw new SessionError("SessionMalformed", `${field} is not a valid compressed secp256k1 point`, { cause });
  }
  return bytes;
}

function parseTimestamp(value: unknown, field: string): number {
  // Unix seconds as a JSON number; MAX_SAFE_INTEGER also fits the transcript's uint64.
  return parseCounter(value, Number.MAX_SAFE_INTEGER, field);
}

function parseCounter(value: unknown, max: number, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new SessionError("SessionMalformed", `${field} must be an integer from 0 to ${max}`);
  }
  return value;
}

function assertFresh(message: string, timestamp: number, now: number, freshnessWindow: number): void {
  if (Math.abs(now - timestamp) > freshnessWindow) {
    throw new SessionError(
      "SessionStale",
      `${message} timestamp ${timestamp} is ${Math.abs(now - timestamp)} s from now (${now}); at most ${freshnessWindow} s is accepted`,
    );
  }
}

function currentTime(): number {
  return Math.floor(Date.now() / 1000);
}
