// CPU cost of checking one data message's signature on the gateway (figures, not a test), through
// the gateway's own recovery (`createSignerRecovery`): a secp256k1 device's signature recovered on
// libsecp256k1 (the default where the binding loads) and on noble (the fallback), against a P-256
// device's 128-byte signature verified on Node's OpenSSL (the native path) and on the SDK's noble
// (the fallback). Rounds of each run back to back, interleaved (interleaved.ts), so machine load hits them alike;
// prints the median microseconds per signature over the rounds and the ratios.
//
//   npx tsx gateway/bench/signatures.ts [--rounds 15] [--per-round 400]
import { parseArgs } from "node:util";
import { keccak256, toHex, type Hex } from "viem";
import { sign } from "viem/accounts";
import { p256Account, privateKeyToP256Signer } from "@iomt-auth/sdk";
import { createSignerRecovery } from "../src/signatures.js";
import { printInterleaved, runInterleaved } from "./interleaved.js";

const { values: flags } = parseArgs({ options: { rounds: { type: "string", default: "15" }, "per-round": { type: "string", default: "400" } } });
const rounds = Number(flags.rounds);
const perRound = Number(flags["per-round"]);

/** Distinct keys and digests, as many devices' messages would bring. */
const samples = 64;
const key = (label: string, i: number): Hex => keccak256(toHex(`signature bench ${label} ${i}`));
const digests = Array.from({ length: samples }, (_, i) => key("digest", i));
const secp256k1 = await Promise.all(digests.map((hash, i) => sign({ hash, privateKey: key("secp256k1", i), to: "hex" })));
const p256 = await Promise.all(digests.map((hash, i) => p256Account(privateKeyToP256Signer(key("p256", i))).signDigest(hash)));

const native = createSignerRecovery(true);
const pure = createSignerRecovery(false);
if (!native.native) console.warn("the libsecp256k1 binding did not load: the 'native' row runs on noble");

const checks = [
  { name: "secp256k1 recovery, libsecp256k1 (native: the gateway's default)", recovery: native, signatures: secp256k1 },
  { name: "P-256 verification, OpenSSL via node:crypto (native: the gateway's default)", recovery: native, signatures: p256 },
  { name: "secp256k1 recovery, noble (pure JS: nativeSecp256k1 false)", recovery: pure, signatures: secp256k1 },
  { name: "P-256 verification, noble via the SDK (pure JS: nativeSecp256k1 false)", recovery: pure, signatures: p256 },
];

// Every signature checks out before anything is timed.
for (const { name, recovery, signatures } of checks) signatures.forEach((signature, i) => recovery.recover(digests[i], signature) || console.error(`${name}: no signer`));
const results = runInterleaved(
  checks.map(({ name, recovery, signatures }) => ({
    name,
    items: perRound,
    run: () => {
      for (let i = 0; i < perRound; i++) recovery.recover(digests[i % samples], signatures[i % samples]);
    },
  })),
  rounds,
);
printInterleaved(`${rounds} rounds × ${perRound} signatures each, interleaved; median µs per signature (min–max over rounds)`, results);
const medians = results.map(({ median }) => median);
console.log(`P-256 / secp256k1: native ${(medians[1] / medians[0]).toFixed(2)}×, pure JS ${(medians[3] / medians[2]).toFixed(2)}×`);
console.log(`one core's ceiling on signature checks alone (native): secp256k1 ${Math.round(1e6 / medians[0])}/s, P-256 ${Math.round(1e6 / medians[1])}/s`);

