// The CPU-bound part of a `data` request: for each message, the payload commitment
// keccak256(salt ‖ payload), the EIP-712 digest and the recovery of the signer. It needs nothing
// but the message and the registry's domain, so it runs on a pool of worker threads
// (verifier-pool.ts) while the main thread keeps everything that needs state and order: admission,
// nonces, the store's group commit. `verifierThreads: 0` runs it here, on the main thread, exactly
// as before the pool. Either way the verdicts are the same, and `GatewayApi.data` turns them into
// the same refusals, in the same order, as when it did the work inline.
import { concatBytes } from "@noble/hashes/utils";
import { bytesToHex, hexToBytes, type Address, type Hex } from "viem";
import { fromWireDataMessage, InvalidSignatureError, type RegistryDomain, type WireSignedDataMessage } from "@iomt-auth/sdk";
import { installKeccak256, type KeccakBackend } from "./keccak.js";
import { createDataMessageHasher, createSignerRecovery } from "./signatures.js";

/**
 * What the crypto says about one message: its digest, whether `keccak256(salt ‖ payload)` is its
 * `payloadHash` (true when it carries no payload), and its signer (lower case) or why its
 * signature is unusable (the SDK's `InvalidSignatureError` code and message); or `failed`: the
 * message of an unexpected error, which the request answers (500) when it reaches that message,
 * as it did when the work was inline.
 */
export type Verdict = ({ digest: Hex; payloadMatches: boolean } & ({ signer: Address } | { invalid: { code: string; message: string } })) | { failed: string };

export type VerifierStatus = {
  /** Configured worker threads; 0 = verification on the main thread. */
  threads: number;
  /** Workers started and answering (equals `threads` when all is well). */
  alive: number;
  /** Workers that died since start (each one replaced). */
  crashes: number;
  nativeSecp256k1: boolean;
  /** The keccak-256 backend the verification hashes with (the `keccak` setting's, or the one it fell back to). */
  keccak: KeccakBackend;
};

export interface DataVerifier {
  /** The verdicts of `messages`, in order. Rejects with `VerifierUnavailable` when a worker died with the batch. */
  verify(messages: readonly WireSignedDataMessage[]): Promise<Verdict[]>;
  status(): VerifierStatus;
  /** Stops the workers (none left running afterwards). */
  close(): Promise<void>;
}

export type VerifierOptions = { domain: RegistryDomain; nativeSecp256k1: boolean; keccak: KeccakBackend };

/**
 * The verdict function of one domain, with the native secp256k1 where it loads and the `keccak`
 * backend (the same on a worker and here), which it also installs as the SDK's hash in this thread:
 * the SDK's backend is module state, which a worker thread has its own copy of.
 */
export async function createVerdicts({ domain, nativeSecp256k1, keccak: preferredKeccak }: VerifierOptions) {
  const keccak = await installKeccak256(preferredKeccak);
  const recovery = createSignerRecovery(nativeSecp256k1, keccak.keccak256);
  const hashMessage = createDataMessageHasher(domain, keccak.keccak256);
  const verdictOf = ({ message: wire, signature, payload, salt }: WireSignedDataMessage): Verdict => {
    let digest: Hex | undefined;
    let payloadMatches = true;
    try {
      // The commitment is hiding: keccak256(salt ‖ payload), the salt kept by the gateway and never on chain.
      if (payload !== undefined && salt !== undefined) payloadMatches = bytesToHex(keccak.keccak256(concatBytes(hexToBytes(salt), hexToBytes(payload)))) === wire.payloadHash.toLowerCase();
      digest = hashMessage(fromWireDataMessage(wire));
      return { digest, payloadMatches, signer: recovery.recover(digest, signature) };
    } catch (error) {
      if (digest !== undefined && error instanceof InvalidSignatureError) return { digest, payloadMatches, invalid: { code: error.code, message: error.message } };
      return { failed: error instanceof Error ? error.message : String(error) };
    }
  };
  return { nativeSecp256k1: recovery.native, keccak: keccak.backend, verdicts: (messages: readonly WireSignedDataMessage[]) => messages.map(verdictOf) };
}

/** `verifierThreads: 0`: the verdicts computed on the main thread, as the gateway did before the pool. */
export async function createInThreadVerifier(options: VerifierOptions): Promise<DataVerifier> {
  const { verdicts, nativeSecp256k1, keccak } = await createVerdicts(options);
  return {
    verify: async (messages) => verdicts(messages),
    status: () => ({ threads: 0, alive: 0, crashes: 0, nativeSecp256k1, keccak }),
    close: async () => undefined,
  };
}
