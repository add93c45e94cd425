// CPU cost of one data message's verdict on each keccak backend (figures, not a test): the
// verifier's own work (`createVerdicts`: the payload commitment, the EIP-712 digest, the signer's
// recovery on libsecp256k1 and its address) over 500 device-signed messages, with the `keccak`
// setting at wasm, native and noble. Rounds of each run back to back, interleaved (interleaved.ts), so machine load
// hits them alike; prints the median microseconds per message over the rounds and the ratios.
//
//   npx tsx gateway/bench/verdicts.ts [--rounds 15] [--messages 500]
import { parseArgs } from "node:util";
import { bytesToHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createDataMessage, randomSalt, registryDomain, signDataMessage, toWireDataMessage, type WireSignedDataMessage } from "@iomt-auth/sdk";
import { keccakBackends } from "../src/keccak.js";
import { createVerdicts } from "../src/verifier.js";
import { printInterleaved, runInterleaved } from "./interleaved.js";

const { values: flags } = parseArgs({ options: { rounds: { type: "string", default: "15" }, messages: { type: "string", default: "500" } } });
const rounds = Number(flags.rounds);
const count = Number(flags.messages);

const domain = registryDomain({ chainId: 31337, registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" });
const gid: Hex = `0x${"11".repeat(32)}`;
const oid: Hex = `0x${"22".repeat(32)}`;
const device = privateKeyToAccount(`0x${"42".repeat(32)}`);
/** A reading of the size the gateway benchmark's devices send, each message with its own salt and nonce. */
const messages: WireSignedDataMessage[] = [];
for (let nonce = 0; nonce < count; nonce++) {
  const payload = `{"hr":${60 + (nonce % 40)},"spo2":98,"t":${1_700_000_000 + nonce}}`;
  const salt = randomSalt();
  const message = createDataMessage({ gid, oid, nonce: BigInt(nonce), payload, salt, validFor: 600n });
  const { signature } = await signDataMessage(device, { domain, message });
  messages.push({ message: toWireDataMessage(message), signature, payload: bytesToHex(new TextEncoder().encode(payload)), salt });
}

/** One case per backend: `keccak` is the one configured, `loaded` the one that runs (a backend that does not load falls back). */
const cases = await Promise.all(
  keccakBackends.map(async (keccak) => {
    const { verdicts, keccak: loaded } = await createVerdicts({ domain, nativeSecp256k1: true, keccak });
    return { keccak, loaded, verdicts };
  }),
);
for (const { keccak, loaded, verdicts } of cases) {
  // Every verdict names the device before anything is timed: a backend that hashed wrongly would recover another signer.
  if (!verdicts(messages).every((verdict) => "signer" in verdict && verdict.signer === device.address.toLowerCase() && verdict.payloadMatches)) throw new Error(`${keccak}: a verdict is wrong`);
  if (loaded !== keccak) console.warn(`${keccak} did not load here: its row runs on ${loaded}`);
}

const results = runInterleaved(
  cases.map(({ keccak, verdicts }) => ({ name: `keccak: ${keccak}`, items: count, run: () => void verdicts(messages) })),
  rounds,
);
printInterleaved(`${rounds} rounds × ${count} messages each, interleaved; median µs per message's verdict (min–max over rounds), libsecp256k1 recovery`, results);
const [wasm, native, noble] = results.map(({ median }) => median);
console.log(`native / wasm ${(native / wasm).toFixed(2)}×, noble / wasm ${(noble / wasm).toFixed(2)}×`);
