// A verifier thread (verifier-pool.ts): computes the verdicts of the batches the main thread posts,
// for the one registry domain it was started with, on the native secp256k1 where it loads and the
// configured keccak backend. It holds no state between batches and no key.
import { parentPort, workerData } from "node:worker_threads";
import type { WireSignedDataMessage } from "@iomt-auth/sdk";
import { createVerdicts, type VerifierOptions } from "./verifier.js";

if (parentPort === null) throw new Error("verify-worker runs as a worker thread of the gateway");
const port = parentPort;
const { verdicts, nativeSecp256k1, keccak } = await createVerdicts(workerData as VerifierOptions);
port.on("message", ({ id, messages }: { id: number; messages: WireSignedDataMessage[] }) => port.postMessage({ id, verdicts: verdicts(messages) }));
port.postMessage({ ready: { nativeSecp256k1, keccak } });
