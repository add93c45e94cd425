// Runs all tests with Hardhat's coverage instrumentation and fails unless every line of
// contracts/ is covered. Prints line (and, where the report has them, branch) figures per file.
// Hardhat 3's coverage report carries lines and statements; it has no branch records.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const run = spawnSync("npx", ["hardhat", "test", "--coverage"], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
if (run.status !== 0) {
  process.stdout.write(run.stdout);
  console.error("coverage: the instrumented test run failed");
  process.exit(1);
}

const files = [];
let current;
for (const line of readFileSync("coverage/lcov.info", "utf8").split("\n")) {
  const [key, value] = line.split(":");
  if (key === "SF") current = { file: value, lf: 0, lh: 0, brf: 0, brh: 0 };
  else if (key === "LF" || key === "LH" || key === "BRF" || key === "BRH") current[key.toLowerCase()] = Number(value);
  else if (line === "end_of_record" && current.file.startsWith("contracts/")) files.push(current);
}

const pct = (hit, found) => (found === 0 ? "n/a" : `${((100 * hit) / found).toFixed(2)}%`);
let lf = 0, lh = 0, brf = 0, brh = 0;
for (const f of files) {
  lf += f.lf; lh += f.lh; brf += f.brf; brh += f.brh;
  console.log(`${f.file.padEnd(40)} lines ${pct(f.lh, f.lf).padStart(8)}  branches ${pct(f.brh, f.brf).padStart(8)}`);
}
console.log(`${"contracts/ total".padEnd(40)} lines ${pct(lh, lf).padStart(8)}  branches ${pct(brh, brf).padStart(8)}`);
if (files.length === 0 || lh !== lf) {
  console.error("coverage: line coverage of contracts/ is below 100%");
  process.exit(1);
}
