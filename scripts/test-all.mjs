// Runs every test suite — the contracts' Solidity and mocha tests on both EVM targets (default
// Cancun and london), then the SDK's tests (sdk/test, which run against anvil and the in-process
// network themselves), then the gateway's (gateway/test: real HTTP, anvil, SQLite files; they
// start the gateway's CLI, so the SDK and gateway are built first) — streams their output, and
// ends with one line `N passed, N failed` summed from the runners' own summaries. Exits non-zero
// when anything failed or a runner did not report.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const targets = ["cancun", "london"];
const runners = ["solidity", "mocha"];
const extraArgs = process.argv.slice(2);

const testFiles = (folder) =>
  readdirSync(folder)
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => `${folder}/${name}`);

function run(target, runner, files = []) {
  return new Promise((resolve) => {
    const env = { ...process.env, IOMT_EVM: target };
    const child = spawn("npx", ["hardhat", "test", runner, ...extraArgs, ...files], { env, stdio: ["ignore", "pipe", "pipe"] });
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
async function suite(title, target, runner, files) {
  console.log(`\n=== ${title} ===`);
  const { code, output } = await run(target, runner, files);
  const runPassed = count(output, "passing");
  const runFailed = count(output, "failing");
  passed += runPassed;
  // A runner that crashed or printed no summary counts as one failure, never as silence.
  failed += runFailed > 0 ? runFailed : code !== 0 || runPassed === 0 ? 1 : 0;
}

for (const target of targets) {
  for (const runner of runners) await suite(`contracts: ${runner} tests, EVM target ${target}`, target, runner);
}
await suite("SDK tests (anvil and the in-process network)", "cancun", "mocha", testFiles("sdk/test"));
const build = spawnSync("npm", ["run", "--silent", "gateway:build"], { stdio: "inherit" });
if (build.status !== 0) {
  console.log("\n=== gateway tests: the SDK or gateway does not build ===");
  failed += 1;
} else {
  await suite("gateway tests (real HTTP, anvil, SQLite)", "cancun", "mocha", testFiles("gateway/test"));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
