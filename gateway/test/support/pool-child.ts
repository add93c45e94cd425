// Run as its own process by verifier-pool.test.ts: starts a verifier pool, verifies one message and
// closes the pool, then returns without process.exit — the process ends only if no worker thread is
// left running. Prints the verdict's signer.
import { createDataMessage, registryDomain, signDataMessage, toWireDataMessage } from "@iomt-auth/sdk";
import { privateKeyToAccount } from "viem/accounts";
import { VerifierPool } from "../../src/verifier-pool.js";

const domain = registryDomain({ chainId: 31337, registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" });
const device = privateKeyToAccount(`0x${"42".repeat(32)}`);
const message = createDataMessage({ gid: `0x${"11".repeat(32)}`, oid: `0x${"22".repeat(32)}`, nonce: 1n, payloadHash: `0x${"33".repeat(32)}`, validFor: 600n });
const signed = await signDataMessage(device, { domain, message });
const pool = await VerifierPool.start({ domain, nativeSecp256k1: true, keccak: "wasm", threads: 2 });
const [verdict] = await pool.verify([{ message: toWireDataMessage(message), signature: signed.signature }]);
await pool.close();
process.stdout.write(`${"signer" in verdict ? verdict.signer : "none"}\n`);
