// The SDK's and the gateway's code gates (scripts/test-all.mjs: declaredCodes, codeGate), against
// a small package shaped like them (scripts/test/fixtures/codes-package) whose tests run through
// the runner's own suite logic: a code that a test names in a TODO, a title and a string, while
// the test of its path expects any error, must fail the gate; a real `expectCode` passes it.
import { expect } from "chai";
import { join } from "node:path";
import { codeGate, declaredCodes } from "../lib/gates.mjs";
import { runSuite, suiteFiles } from "../lib/suites.mjs";
import { createProject, type Project } from "./support/projects.js";

describe("the code gate counts a code only where a test saw it", function () {
  this.timeout(300_000);
  let project: Project;
  let declared: Map<string, string[]>;

  const runTests = async (ledger: string) => {
    const { files, problems } = suiteFiles(join(project.dir, "test"));
    return runSuite({ title: "fixture", target: "cancun", runner: "mocha", files, problems, ledger: join(project.dir, ledger), echo: false });
  };

  before(async () => {
    project = createProject("code-gate", "codes-package");
    declared = (await declaredCodes({ widget: [join(project.dir, "src")] })).get("widget")!;
  });

  after(() => project?.remove());

  describe("what a package declares", () => {
    it("is every code a constructor of an IomtError subclass can receive, literal, fixed by the subclass or from a code union", () => {
      expect([...declared.keys()]).to.deep.equal(["WidgetConfigInvalid", "WidgetNeverAsserted", "WidgetPlain", "WidgetTooSmall"]);
    });

    it("is never a code written in a comment or a string", () => {
      expect([...declared.keys()]).not.to.include.members(["WidgetInAComment"]);
      expect([...declared.keys()]).not.to.include.members(["WidgetInAString"]);
    });

    it("says where each code is thrown", () => {
      expect(declared.get("WidgetConfigInvalid")).to.deep.equal([`${join(project.dir, "src", "errors.ts").replace(`${process.cwd()}/`, "")}:24`]);
    });
  });

  describe("a code named only in a TODO, a title and a string", () => {
    it("fails the gate for that code alone", async () => {
      const run = await runTests("tricked.ledger");
      expect(run.failed, run.output).to.equal(0);
      expect(run.passed).to.equal(4);
      const gate = codeGate({ label: "widget", declared, ledgerFile: join(project.dir, "tricked.ledger") });
      expect(gate.summary).to.equal("widget: 3/4 error codes asserted by a test");
      expect(gate.problems).to.have.length(1);
      expect(gate.problems[0]).to.match(/^no test asserts WidgetNeverAsserted \(.*widget\.ts:4\)$/);
    });
  });

  describe("the same code once a test expects it", () => {
    it("passes the gate", async () => {
      project.copy("extra/never-asserted.test.ts", "test/never-asserted.test.ts");
      const run = await runTests("asserted.ledger");
      expect(run.failed, run.output).to.equal(0);
      const gate = codeGate({ label: "widget", declared, ledgerFile: join(project.dir, "asserted.ledger") });
      expect(gate.problems).to.deep.equal([]);
      expect(gate.summary).to.equal("widget: 4/4 error codes asserted by a test");
    });
  });

  describe("a code listed as unreachable", () => {
    it("is not required, is reported with its reason, and fails the gate once the package no longer declares it", () => {
      const gate = codeGate({ label: "widget", declared, ledgerFile: join(project.dir, "none.ledger"), unreachable: { WidgetPlain: "a reason", WidgetGone: "another" } });
      expect(gate.summary).to.equal("widget: 0/3 error codes asserted by a test");
      expect(gate.notes).to.deep.equal(["not required: WidgetPlain (a reason)", "not required: WidgetGone (another)"]);
      expect(gate.problems).to.include("WidgetGone is listed as unreachable but is no longer declared");
    });
  });
});
