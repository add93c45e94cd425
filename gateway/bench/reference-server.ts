// The bare reference server of `./iomt bench:gateway` (a ceiling, not a gateway): node:http, one
// process per core Node reports (node:cluster: the primary accepts and hands connections to the
// processes round-robin), each parsing a plain JSON `{ messages }` body and, for every message,
// checking keccak256(salt ‖ payload), hashing its EIP-712 digest and recovering its signer, with the
// gateway's own code on libsecp256k1 and the WebAssembly keccak, the gateway's defaults (verifier.ts).
// No session, no sealing, no admission, no nonces, no storage. Answers `{ digests }`, or 400 when a message does not verify.
//
//   node --import tsx/esm gateway/bench/reference-server.ts PORT CHAIN_ID REGISTRY
import cluster from "node:cluster";
import { createServer } from "node:http";
import { availableParallelism } from "node:os";
import { registryDomain, type WireSignedDataMessage } from "@iomt-auth/sdk";
import { createVerdicts } from "../src/verifier.js";

const [port, chainId, registry] = process.argv.slice(2);

if (cluster.isPrimary) {
  let ready = 0;
  const processes = availableParallelism();
  for (let i = 0; i < processes; i++) {
    cluster.fork().on("listening", () => {
      if (++ready === processes) process.stdout.write(`ready ${processes}\n`);
    });
  }
  process.on("SIGTERM", () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  const { verdicts } = await createVerdicts({ domain: registryDomain({ chainId: Number(chainId), registry: registry as `0x${string}` }), nativeSecp256k1: true, keccak: "wasm" });
  createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const { messages } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { messages: WireSignedDataMessage[] };
      const results = verdicts(messages);
      const valid = results.every((verdict) => "signer" in verdict && verdict.payloadMatches);
      const body = JSON.stringify(valid ? { digests: results.map((verdict) => ("digest" in verdict ? verdict.digest : null)) } : { error: "a message does not verify" });
      response.writeHead(valid ? 200 : 400, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
    });
  }).listen(Number(port), "127.0.0.1");
}
