// The test runner's suite logic (scripts/lib/suites.mjs, used by scripts/test-all.mjs) against
// temporary folders of test files, run through the same `hardhat test mocha` as the real suites.
import { expect } from "chai";
import { join } from "node:path";
import { checkSkips, finalLines, findStrayLedgerWriters, parseCounts, runSuite, suiteFiles } from "../lib/suites.mjs";
import { createProject, type Project } from "./support/projects.js";

const passing = (title: string) => `describe("${title}", () => {\n  it("passes", () => {});\n  it("passes again", () => {});\n});\n`;

describe("the test runner's suites", function () {
  this.timeout(300_000);
  const projects: Project[] = [];
  const project = (prefix: string): Project => {
    const created = createProject(prefix);
    projects.push(created);
    return created;
  };
  const run = (folder: Project, allowed: Record<string, () => string | undefined> = {}) => {
    const { files, problems } = suiteFiles(join(folder.dir, "test"));
    return runSuite({ title: "fixture", target: "cancun", runner: "mocha", files, problems, ledger: join(folder.dir, "ledger"), echo: false, allowed });
  };

  after(() => projects.forEach((folder) => folder.remove()));

  describe("a folder suite's files", () => {
    it("fails a folder with no *.test.ts file without running anything (hardhat-mocha would run the contracts' tests instead)", async () => {
      const empty = project("suite-empty");
      empty.write("test/support/helper.ts", "export const x = 1;\n");
      const result = await run(empty);
      expect(result.problems).to.deep.equal([`${join(empty.dir, "test")} holds no *.test.ts file (hardhat-mocha would run test/ instead)`]);
      expect(result).to.include({ passed: 0, failed: 1, output: "" });
    });

    it("fails a test file the pattern misses, at the top or in a subfolder, and leaves helpers and fixtures alone", () => {
      const folder = project("suite-misnamed");
      folder.write("test/a.test.ts", passing("a"));
      folder.write("test/b.spec.ts", passing("b"));
      folder.write("test/c.test.js", passing("c"));
      folder.write("test/nested/d.ts", passing("d"));
      folder.write("test/support/helper.ts", "export const helper = () => 1;\n");
      folder.write("test/support/skip.ts", "export function skip(context: Mocha.Context) {\n  context.skip();\n}\n");
      folder.write("test/fixtures/e.test.ts", passing("e"));
      const test = join(folder.dir, "test");
      const { files, problems } = suiteFiles(test);
      expect(files).to.deep.equal([join(test, "a.test.ts")]);
      expect(problems).to.have.members([
        `${join(test, "b.spec.ts")} is not named *.test.ts, so it would never run (move shared code to ${test}/support/)`,
        `${join(test, "c.test.js")} is not named *.test.ts, so it would never run (move shared code to ${test}/support/)`,
        `${join(test, "nested", "d.ts")} declares tests in a subfolder, where they would never run`,
      ]);
    });

    it("runs a folder whose files all match, and counts what its runner reports", async () => {
      const folder = project("suite-good");
      folder.write("test/a.test.ts", passing("a"));
      folder.write("test/b.test.ts", passing("b"));
      const result = await run(folder);
      expect(result).to.include({ passed: 4, failed: 0, pending: 0 });
      expect(result.problems).to.deep.equal([]);
    });

    it("counts a runner that crashes as a failure", async () => {
      const folder = project("suite-crash");
      folder.write("test/a.test.ts", `throw new Error("broken at import");\n${passing("a")}`);
      const result = await run(folder);
      expect(result.passed).to.equal(0);
      expect(result.failed).to.be.at.least(1);
    });
  });

  describe("skipped tests", () => {
    it("are counted beside passed and failed, and each kind of skip without an allowed reason fails the suite", async () => {
      const folder = project("suite-skips");
      folder.write(
        "test/a.test.ts",
        [
          `describe("a", () => {`,
          `  it("passes", () => {});`,
          `  it.skip("is skipped by it.skip", () => {});`,
          `  it("has no body");`,
          `  it("skips itself", function () { this.skip(); });`,
          `});`,
        ].join("\n"),
      );
      const result = await run(folder);
      expect(result).to.include({ passed: 1, pending: 3, failed: 1 });
      expect(result.problems).to.deep.equal(["3 skipped test(s) no allowed reason covers (it.skip, xit, a test without a body, or this.skip() without skipBecause)"]);
    });

    describe("a skip through skipBecause", () => {
      let folder: Project;
      before(() => {
        folder = project("suite-allowed");
        folder.write(
          "test/a.test.ts",
          [
            `import { skipBecause } from "../../../sdk/test/support/skips.js";`,
            `describe("a", () => {`,
            `  it("passes", () => {});`,
            `  it("needs Node 20", function () { skipBecause(this, "no-node-20", "the fixture pretends there is none"); });`,
            `});`,
          ].join("\n"),
        );
      });

      it("passes where the runner's own check of that reason holds, and is reported with it", async () => {
        const result = await run(folder, { "no-node-20": () => "no Node 20 in this fixture" });
        expect(result).to.include({ passed: 1, pending: 1, failed: 0 });
        expect(result.allowed).to.deep.equal(["no-node-20: no Node 20 in this fixture"]);
        expect(result.output).to.contain("skipped (no-node-20): the fixture pretends there is none");
      });

      it("fails where the runner finds the reason false", async () => {
        const result = await run(folder, { "no-node-20": () => undefined });
        expect(result.failed).to.equal(1);
        expect(result.problems).to.deep.equal([`a test skipped itself as "no-node-20", but the runner finds that reason does not hold here`]);
      });

      it("fails under a reason the runner does not allow", async () => {
        const result = await run(folder, {});
        expect(result.failed).to.equal(1);
        expect(result.problems).to.deep.equal([`a test skipped itself as "no-node-20", which the runner does not allow`]);
      });
    });

    it("include the Solidity runner's skipped tests", () => {
      expect(parseCounts("  12 passing\n  1 failing\n  2 skipped\n")).to.deep.equal({ passed: 12, failed: 1, pending: 2 });
      expect(parseCounts("  3 passing (1s)\n  1 pending\n")).to.deep.equal({ passed: 3, failed: undefined, pending: 1 });
      expect(checkSkips(2, [], {}).problems).to.have.length(1);
    });
  });

  describe("the assertion ledger", () => {
    it("may be written only by the shared helpers in support folders", () => {
      const folder = project("suite-ledger");
      folder.write("test/support/helper.ts", `import { recordAssertion } from "./ledger.js";\nexport const seen = (name: string) => recordAssertion("code", name);\n`);
      folder.write("test/cheat.test.ts", `import { recordAssertion } from "./support/ledger.js";\nrecordAssertion("revert", "DataLedgerNeverTested");\n`);
      folder.write("test/env.test.ts", `process.env.IOMT_ASSERTION_LEDGER = "/tmp/elsewhere";\n`);
      folder.write("test/honest.test.ts", passing("honest"));
      const test = join(folder.dir, "test");
      expect(findStrayLedgerWriters([test])).to.have.members([join(test, "cheat.test.ts"), join(test, "env.test.ts")]);
    });
  });

  describe("the summary", () => {
    it("prints the pending count on its own line, then exactly `N passed, N failed` last, which CI reads", () => {
      const lines = finalLines({ passed: 1032, failed: 0, pending: 1, allowed: ["no-node-20: no Node 20 at /usr/bin/node"] });
      expect(lines).to.deep.equal(["1 pending (allowed: no-node-20: no Node 20 at /usr/bin/node)", "1032 passed, 0 failed"]);
      expect(lines.at(-1)).to.match(/^\d+ passed, \d+ failed$/);
    });
  });
});
