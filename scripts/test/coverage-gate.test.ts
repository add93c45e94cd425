// The contracts' coverage gate (scripts/coverage-check.mjs), run as CI runs it against a small
// project (scripts/test/fixtures/coverage-project): a new custom error, DataLedgerNeverTested,
// whose revert line a test covers without expecting it by name, and whose name a TODO comment,
// a Solidity comment, a Solidity string and a Solidity helper no test calls all mention. The old
// gate (the name in quotes anywhere in the tests) passed that project; this one must fail it on
// both EVM builds, for that error alone, and pass once a test really expects the revert.
import { expect } from "chai";
import { join } from "node:path";
import { createProject, repositoryRoot, runScript, type Project, type ScriptResult } from "./support/projects.js";

const coverageCheck = join(repositoryRoot, "scripts", "coverage-check.mjs");

describe("the coverage gate counts a custom error only where a test expects its revert", function () {
  this.timeout(300_000);
  let project: Project;
  let tricked: ScriptResult;
  let asserted: ScriptResult;

  before(async () => {
    project = createProject("coverage-gate", "coverage-project");
    tricked = await runScript(coverageCheck, [], project.dir);
    project.copy("extra/NeverTested.ts", "test/NeverTested.ts");
    asserted = await runScript(coverageCheck, [], project.dir);
  });

  after(() => project?.remove());

  describe("a new error named only in a comment, a string and a helper no test calls", () => {
    it("fails the gate", () => {
      expect(tricked.code, tricked.stdout + tricked.stderr).to.equal(1);
    });

    it("fails it for that error on both EVM builds, with every line covered", () => {
      for (const target of ["cancun", "london"]) {
        expect(tricked.stderr).to.contain(`no test expects and sees the revert of DataLedgerNeverTested (contracts/IThing.sol) (EVM target ${target})`);
        expect(tricked.stdout).to.contain(`revert paths (${target}): 2/3 custom errors asserted by a test`);
      }
      expect(tricked.stdout.match(/contracts\/ total\s+lines\s+100\.00%/g)).to.have.length(2);
      expect(tricked.stderr).not.to.contain("line coverage");
    });

    it("counts the errors a mocha assertion and a passing Solidity expectRevert (through a helper the test calls) really saw", () => {
      expect(tricked.stderr).not.to.match(/ThingRefused|ThingTooLarge/);
    });
  });

  describe("the same error once a test expects its revert by name", () => {
    it("passes the gate on both EVM builds", () => {
      expect(asserted.code, asserted.stdout + asserted.stderr).to.equal(0);
      for (const target of ["cancun", "london"]) expect(asserted.stdout).to.contain(`revert paths (${target}): 3/3 custom errors asserted by a test`);
    });
  });
});
