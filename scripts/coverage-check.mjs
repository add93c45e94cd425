// The contracts' coverage gate, on both EVM builds (default Cancun, then IOMT_EVM=london): runs
// every test with Hardhat's coverage instrumentation and fails unless
// 1. every line of contracts/ is covered, and
// 2. every custom error declared in contracts/ is asserted by a test that expected that revert
//    and saw it.
// Hardhat 3's coverage has no branch records (EDR does not provide them yet), so (2) is how each
// revert branch is checked. A declared error is one the compiler's AST shows in contracts/ (from
// the build's build info, so errors renamed or added are picked up without a list to keep). An
// asserted error is one the run put in the assertion ledger: the mocha tests' custom-error
// assertions record the name once they passed (test/support/assertions.ts), and a Solidity test
// that passed counts for the `X.selector` it hands to `expectRevert` (comments and strings
// stripped; scripts/lib/gates.mjs). A name written in a comment or a string counts for nothing.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LEDGER_VARIABLE, contractErrorGate, solidityTestFiles } from "./lib/gates.mjs";
import { findStrayLedgerWriters } from "./lib/suites.mjs";

const builds = [
  { target: "cancun", artifacts: "artifacts" },
  { target: "london", artifacts: "artifacts-london" },
];
const work = mkdtempSync(join(tmpdir(), "iomt-coverage-"));
let failed = false;
const fail = (message) => {
  console.error(`coverage: ${message}`);
  failed = true;
};

const strays = findStrayLedgerWriters(["test"]);
if (strays.length > 0) fail(`only the shared helpers in a support folder may write the assertion ledger; found in ${strays.join(", ")}`);

try {
  for (const { target, artifacts } of builds) {
    console.log(`\n=== coverage, EVM target ${target} ===`);
    const ledger = join(work, `${target}.ledger`);
    // The PoA deployment test is left out: it deploys to anvil (nothing there is instrumented), and
    // the deploy it runs rebuilds the artifacts without instrumentation under the report's feet.
    const run = spawnSync("npx", ["hardhat", "test", "--coverage", "--grep-exclude", "PoA-like chain"], {
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
      env: { ...process.env, IOMT_EVM: target, [LEDGER_VARIABLE]: ledger },
      maxBuffer: 256 * 1024 * 1024,
    });
    if (run.status !== 0) {
      process.stdout.write(run.stdout);
      fail(`the instrumented test run failed (EVM target ${target})`);
      continue;
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
    if (files.length === 0 || lh !== lf) fail(`line coverage of contracts/ is below 100% (EVM target ${target})`);

    const { summary, problems } = contractErrorGate({
      label: `revert paths (${target})`,
      artifactsDir: artifacts,
      ledgerFile: ledger,
      solidityTests: solidityTestFiles("test"),
      solidityOutput: run.stdout,
    });
    console.log(summary);
    for (const problem of problems) fail(`${problem} (EVM target ${target})`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
