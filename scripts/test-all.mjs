// Runs every test suite — the contracts' Solidity and mocha tests on both EVM targets (default
// Cancun and london), then the SDK's tests (sdk/test, which run against anvil and the in-process
// network themselves), then the gateway's (gateway/test: real HTTP, anvil, SQLite files; they
// start the gateway's CLI, so the SDK and gateway are built first), then the tests of these gates
// (scripts/test) — streams their output, and judges them:
// - a folder suite fails when it holds no test file (hardhat-mocha would run test/ instead) or a
//   test file its pattern (`*.test.ts` at the top of the folder) misses;
// - a skipped test fails unless it skipped itself through `skipBecause` for a reason allowed here
//   (scripts/lib/suites.mjs, `allowedSkips`) and that reason holds on this machine;
// - the assertion gates: every custom error of each contract build, every error code the SDK
//   declares and every code the gateway declares must have been asserted by a test of this run
//   (the assertion ledger, scripts/lib/gates.mjs), and every gateway code is in gateway/README.md.
// It ends with the pending count on its own line, then one line `N passed, N failed` summed from
// the runners' own summaries, each suite or gate problem counting as one failure. Exits non-zero
// when anything failed or a runner did not report. Arguments (e.g. `--grep x`) go to every runner;
// a filtered run skips the assertion gates, which need every test.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { abiErrorNames, codeGate, contractErrorGate, declaredCodes, solidityTestFiles } from "./lib/gates.mjs";
import { findStrayLedgerWriters, finalLines, runSuite, suiteFiles } from "./lib/suites.mjs";

const builds = [
  { target: "cancun", artifacts: "artifacts" },
  { target: "london", artifacts: "artifacts-london" },
];
/**
 * Gateway codes no test can reach, each with the reason; printed on every run. Keep it short:
 * every entry is a code the gate does not hold a test to.
 */
const unreachableGatewayCodes = {
  AssociationRejected: "the label of a rejected association whose registry code is missing; the worker stores the registry's code with every rejection",
};

const args = process.argv.slice(2);
const filtered = args.length > 0;
const work = mkdtempSync(join(tmpdir(), "iomt-test-all-"));
const ledger = (name) => join(work, `${name}.ledger`);

let passed = 0;
let failed = 0;
let pending = 0;
const allowedSkipNotes = [];
const tally = (result) => {
  passed += result.passed;
  failed += result.failed;
  pending += result.pending;
  allowedSkipNotes.push(...result.allowed);
  return result;
};
const gateLines = [];
const gate = ({ summary, problems, notes = [] }) => {
  gateLines.push(summary, ...notes.map((note) => `  ${note}`));
  for (const problem of problems) {
    gateLines.push(`  FAIL ${problem}`);
    failed += 1;
  }
};

try {
  for (const { target, artifacts } of builds) {
    const contractsLedger = ledger(`contracts-${target}`);
    const solidity = tally(await runSuite({ title: `contracts: solidity tests, EVM target ${target}`, target, runner: "solidity", ledger: contractsLedger, args }));
    tally(await runSuite({ title: `contracts: mocha tests, EVM target ${target}`, target, runner: "mocha", ledger: contractsLedger, args }));
    if (!filtered) {
      gate(contractErrorGate({ label: `contracts (${target})`, artifactsDir: artifacts, ledgerFile: contractsLedger, solidityTests: solidityTestFiles("test"), solidityOutput: solidity.output }));
    }
  }

  const sdk = suiteFiles("sdk/test");
  tally(await runSuite({ title: "SDK tests (anvil and the in-process network)", target: "cancun", runner: "mocha", ...sdk, ledger: ledger("sdk"), args }));

  const build = spawnSync("npm", ["run", "--silent", "gateway:build"], { stdio: "inherit" });
  if (build.status !== 0) {
    console.log("\n=== gateway tests: the SDK or gateway does not build ===");
    failed += 1;
  } else {
    const gateway = suiteFiles("gateway/test");
    tally(await runSuite({ title: "gateway tests (real HTTP, anvil, SQLite)", target: "cancun", runner: "mocha", ...gateway, ledger: ledger("gateway"), args }));
  }

  const gates = suiteFiles("scripts/test");
  tally(await runSuite({ title: "the test gates (scripts/test)", target: "cancun", runner: "mocha", ...gates, ledger: ledger("gates"), args }));

  console.log("\n=== assertion gates ===");
  // scripts/test is left out: its tests write files that name the ledger on purpose, and no gate reads its ledger's names.
  const strays = findStrayLedgerWriters(["test", "sdk/test", "gateway/test"]);
  gate({ summary: "ledger writers: only the shared helpers in support folders", problems: strays.map((path) => `${path} writes the assertion ledger itself`) });
  if (filtered) {
    gateLines.push("code and revert gates skipped: a filtered run does not run every test");
  } else if (build.status === 0) {
    const codes = await declaredCodes({ sdk: ["sdk/src"], gateway: ["gateway/src"] }, { exclude: abiErrorNames("artifacts") });
    gate(codeGate({ label: "SDK (sdk/src, asserted by sdk/test)", declared: codes.get("sdk"), ledgerFile: ledger("sdk") }));
    const gatewayCodes = codes.get("gateway");
    gate(codeGate({ label: "gateway (gateway/src, asserted by gateway/test)", declared: gatewayCodes, ledgerFile: ledger("gateway"), unreachable: unreachableGatewayCodes }));
    const readme = readFileSync("gateway/README.md", "utf8");
    const documented = documentedGatewayCodes(readme);
    gate({
      summary: `gateway/README.md: every declared code documented, ${documented.size} in its error table`,
      problems: [
        ...[...gatewayCodes.keys()].filter((code) => !(code in unreachableGatewayCodes) && !readme.includes(`\`${code}\``)).map((code) => `${code} is not documented in gateway/README.md`),
        ...[...documented].filter((code) => !gatewayCodes.has(code)).map((code) => `gateway/README.md documents ${code}, which the gateway does not declare`),
      ],
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

for (const line of [...gateLines, ...finalLines({ passed, failed, pending, allowed: allowedSkipNotes })]) console.log(line);
process.exit(failed === 0 ? 0 : 1);

/** The codes in the README's error table under "## Errors": one row per code, `| \`Code\` | status | sealed | meaning |`. */
function documentedGatewayCodes(readme) {
  const start = readme.indexOf("\n## Errors");
  const end = readme.indexOf("\n## ", start + 1);
  const codes = new Set();
  for (const row of readme.slice(start, end === -1 ? undefined : end).split("\n")) {
    const code = row.match(/^\|\s*`([A-Z][A-Za-z]+)`\s*\|\s*\d{3}\s*\|/)?.[1];
    if (code !== undefined) codes.add(code);
  }
  return codes;
}
