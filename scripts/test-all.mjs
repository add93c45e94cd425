// Runs every test suite (Solidity tests, then mocha) on both EVM targets (default Cancun and
// london), streams their output, and ends with one line `N passed, N failed` summed from the
// runners' own summaries. Exits non-zero when anything failed or a runner did not report.
import { spawn } from "node:child_process";

const targets = ["cancun", "london"];
const runners = ["solidity", "mocha"];
const extraArgs = process.argv.slice(2);

function run(target, runner) {
  return new Promise((resolve) => {
    const env = { ...process.env, IOMT_EVM: target };
    const child = spawn("npx", ["hardhat", "test", runner, ...extraArgs], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const forward = (stream, sink) =>
      stream.on("data", (chunk) => {
        output += chunk;
        sink.write(chunk);
      });
    forward(child.stdout, process.stdout);
    forward(child.stderr, process.stderr);
    child.on("close", (code) => resolve({ code, output }));
  });
}

const count = (output, word) => {
  const match = output.match(new RegExp(`^\\s*(\\d+) ${word}\\b`, "m"));
  return match ? Number(match[1]) : 0;
};

let passed = 0;
let failed = 0;
for (const target of targets) {
  for (const runner of runners) {
    console.log(`\n=== ${runner} tests, EVM target ${target} ===`);
    const { code, output } = await run(target, runner);
    const runPassed = count(output, "passing");
    const runFailed = count(output, "failing");
    passed += runPassed;
    // A runner that crashed or printed no summary counts as one failure, never as silence.
    failed += runFailed > 0 ? runFailed : code !== 0 || runPassed === 0 ? 1 : 0;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
