// Writes docs/protocol-vectors.json, the test vectors of docs/protocol.md and docs/contracts.md,
// from fixed inputs (sdk/test/support/protocol-vectors.ts). `--check` fails when the committed file
// differs from what the SDK computes now (CI runs it; the SDK's tests also check every value).
import { readFileSync, writeFileSync } from "node:fs";
import { computeVectors } from "../sdk/test/support/protocol-vectors.js";

const path = "docs/protocol-vectors.json";
const json = `${JSON.stringify(await computeVectors(), (_, value) => (typeof value === "bigint" ? value.toString() : value), 2)}\n`;
if (process.argv.includes("--check")) {
  if (readFileSync(path, "utf8") !== json) {
    console.error(`${path} differs from what the SDK computes: the protocol or an encoding changed (./iomt protocol:vectors)`);
    process.exit(1);
  }
  console.log(`${path} matches the SDK`);
} else {
  writeFileSync(path, json);
  console.log(`wrote ${path}`);
}
