// Fails when the committed gas-reports/ differ from what the contracts give now: runs the gas
// report and the benchmark report (as `./iomt gas` does, without the wall-clock timings) into a
// temporary folder and compares every file byte for byte with gas-reports/. The reports are
// reproducible (fixed keys, timestamps and deadlines, no date), so any difference is a change in
// the contracts, the scripts or the SDK that was not followed by `./iomt gas`.
//
// timings.md and timings.json are measured times: they differ on every run and are not compared.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const committedDir = "gas-reports";
const NOT_COMPARED = new Set(["timings.md", "timings.json"]);
const fresh = mkdtempSync(join(tmpdir(), "iomt-gas-check-"));

function step(command, args) {
  const result = spawnSync(command, args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, IOMT_GAS_REPORT_DIR: fresh, IOMT_GAS_TIMINGS: "0" } });
  if (result.status !== 0) {
    console.error(`gas:check: ${command} ${args.join(" ")} failed`);
    rmSync(fresh, { recursive: true, force: true });
    process.exit(1);
  }
}

console.error("gas:check: regenerating the reports into a temporary folder (a few minutes)");
step("npx", ["hardhat", "run", "scripts/gas-report.ts"]);
step("npm", ["run", "--silent", "gateway:build"]);
step("npx", ["tsx", "scripts/benchmark-report.ts"]);

const list = (dir) => readdirSync(dir).filter((file) => !NOT_COMPARED.has(file)).sort();
const committed = list(committedDir);
const generated = list(fresh);
const problems = [];
for (const file of generated.filter((file) => !committed.includes(file))) problems.push(`${committedDir}/${file} is missing`);
for (const file of committed.filter((file) => !generated.includes(file))) problems.push(`${committedDir}/${file} is no longer written`);
for (const file of generated.filter((file) => committed.includes(file))) {
  if (!readFileSync(join(fresh, file)).equals(readFileSync(join(committedDir, file)))) {
    problems.push(`${committedDir}/${file} differs:`);
    let diff = "";
    try {
      execFileSync("git", ["diff", "--no-index", "--no-color", "--unified=0", join(committedDir, file), join(fresh, file)], { encoding: "utf8" });
    } catch (error) {
      diff = String(error.stdout ?? "");
    }
    const lines = diff.split("\n").filter((line) => /^[-+](?![-+])/.test(line));
    problems.push(...lines.slice(0, 12).map((line) => `    ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`));
    if (lines.length > 12) problems.push(`    … ${lines.length - 12} more changed lines`);
  }
}
rmSync(fresh, { recursive: true, force: true });

if (problems.length > 0) {
  console.error(problems.join("\n"));
  console.error("gas:check: gas-reports/ is stale; run ./iomt gas and commit gas-reports/");
  process.exit(1);
}
console.error(`gas:check: gas-reports/ matches a fresh run (${generated.length} files, byte for byte; ${[...NOT_COMPARED].join(" and ")} not compared)`);
