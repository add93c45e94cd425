// The assertion gates shared by scripts/coverage-check.mjs and scripts/test-all.mjs.
//
// Declared: what the code can fail with, derived from the code itself, never from a list kept by
// hand — a contract's custom errors from the compiler's AST in the build info, an SDK or gateway
// error code from the TypeScript sources (every string that can reach the `code` of an IomtError
// subclass, or the `code` of an error answer).
// Asserted: what the tests really expected and saw, from the assertion ledger the shared test
// helpers write only after their assertion passed (sdk/test/support/ledger.ts), plus, for the
// Solidity tests, the custom-error selectors that a test which passed hands to `expectRevert`.
// A name in a comment, a string or a TODO counts for nothing.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** The ledger's variable (sdk/test/support/ledger.ts writes it). */
export const LEDGER_VARIABLE = "IOMT_ASSERTION_LEDGER";

/**
 * Reads a ledger: `revert` and `code` names as sets, `skip` entries as a list (one per skipped test).
 * @param {string} file
 * @returns {{ revert: Set<string>, code: Set<string>, skip: string[] }}
 */
export function readLedger(file) {
  const ledger = { revert: new Set(), code: new Set(), skip: [] };
  if (!existsSync(file)) return ledger;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [kind, name] = line.split(" ");
    if (kind === "revert" || kind === "code") ledger[kind].add(name);
    else if (kind === "skip") ledger.skip.push(name);
  }
  return ledger;
}

/** @param {string} dir @param {(path: string) => boolean} keep @returns {string[]} */
function filesUnder(dir, keep) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter(keep)
    .sort();
}

// ------------------------------------------------------------------------------ contracts

/**
 * Every custom error declared in the project's `contracts/` sources of one build, from the AST in
 * the build info the build's artifacts point to (so a comment or a string that looks like a
 * declaration is not one, and errors of imported libraries such as OpenZeppelin's are left out).
 * @param {string} artifactsDir e.g. `artifacts` or `artifacts-london`
 * @returns {{ name: string, source: string }[]} sorted by name
 */
export function declaredContractErrors(artifactsDir) {
  const buildInfoIds = new Set();
  for (const file of filesUnder(join(artifactsDir, "contracts"), (path) => path.endsWith(".json"))) {
    const artifact = JSON.parse(readFileSync(file, "utf8"));
    if (typeof artifact.buildInfoId === "string") buildInfoIds.add(artifact.buildInfoId);
  }
  if (buildInfoIds.size === 0) throw new Error(`${artifactsDir}/contracts holds no artifacts: build first`);
  const errors = new Map();
  for (const id of buildInfoIds) {
    const { output } = JSON.parse(readFileSync(join(artifactsDir, "build-info", `${id}.output.json`), "utf8"));
    for (const [sourceName, { ast }] of Object.entries(output.sources ?? {})) {
      if (!/^project\/contracts\//.test(sourceName) || ast === undefined) continue;
      walkAst(ast, (node) => {
        if (node.nodeType === "ErrorDefinition") errors.set(node.name, sourceName.replace(/^project\//, ""));
      });
    }
  }
  return [...errors].map(([name, source]) => ({ name, source })).sort((a, b) => a.name.localeCompare(b.name));
}

/** @param {unknown} node @param {(node: any) => void} visit */
function walkAst(node, visit) {
  if (Array.isArray(node)) {
    for (const child of node) walkAst(child, visit);
  } else if (node !== null && typeof node === "object") {
    if ("nodeType" in node) visit(node);
    for (const value of Object.values(node)) if (value !== null && typeof value === "object") walkAst(value, visit);
  }
}

/**
 * Solidity source with comments and string literals blanked out (lengths and line breaks kept).
 * @param {string} source
 */
export function stripSolidityCommentsAndStrings(source) {
  let out = "";
  for (let i = 0; i < source.length; ) {
    const two = source.slice(i, i + 2);
    if (two === "//") {
      while (i < source.length && source[i] !== "\n") (out += " "), i++;
    } else if (two === "/*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      for (; i < stop; i++) out += source[i] === "\n" ? "\n" : " ";
    } else if (source[i] === '"' || source[i] === "'") {
      const quote = source[i];
      out += " ";
      i++;
      while (i < source.length && source[i] !== quote && source[i] !== "\n") {
        if (source[i] === "\\") (out += " "), i++;
        out += " ";
        i++;
      }
      out += " ";
      i++;
    } else {
      out += source[i++];
    }
  }
  return out;
}

/** The functions of (comment-free) Solidity source: name → body. */
function solidityFunctions(code) {
  const functions = new Map();
  const header = /\bfunction\s+([A-Za-z_]\w*)\s*\(/g;
  for (let match; (match = header.exec(code)) !== null; ) {
    const open = code.indexOf("{", match.index);
    const semicolon = code.indexOf(";", match.index);
    if (open === -1 || (semicolon !== -1 && semicolon < open)) continue; // a declaration without a body
    let depth = 0;
    let end = open;
    for (; end < code.length; end++) {
      if (code[end] === "{") depth++;
      else if (code[end] === "}" && --depth === 0) break;
    }
    functions.set(match[1], (functions.get(match[1]) ?? "") + code.slice(open, end + 1));
  }
  return functions;
}

const EXPECTED_SELECTOR = /\b(?:expectRevert\s*\(\s*(?:abi\s*\.\s*encodeWithSelector\s*\(\s*)?|abi\s*\.\s*encodeWithSelector\s*\(\s*)(?:[A-Za-z_]\w*\s*\.\s*)*([A-Za-z_]\w*)\s*\.\s*selector\b/g;

/**
 * The custom errors the Solidity tests expect: the `X.selector` given to `expectRevert(…)` or to
 * `abi.encodeWithSelector(…)`, with comments and strings stripped, counted only inside a test
 * function that the runner reported as passing, or inside a function such a test calls.
 * @param {string[]} files `.t.sol` files
 * @param {Set<string>} passedTests names of the Solidity test functions that passed in this run
 * @returns {Set<string>}
 */
export function solidityExpectedErrors(files, passedTests) {
  const expected = new Set();
  for (const file of files) {
    const functions = solidityFunctions(stripSolidityCommentsAndStrings(readFileSync(file, "utf8")));
    const reached = new Set();
    const visit = (name) => {
      if (reached.has(name) || !functions.has(name)) return;
      reached.add(name);
      for (const callee of functions.keys()) if (new RegExp(`\\b${callee}\\s*\\(`).test(functions.get(name))) visit(callee);
    };
    for (const name of functions.keys()) if (passedTests.has(name)) visit(name);
    for (const name of reached) for (const match of functions.get(name).matchAll(EXPECTED_SELECTOR)) expected.add(match[1]);
  }
  return expected;
}

/**
 * The Solidity test functions Hardhat's Solidity test runner reported as passing (`✔ name(…)`).
 * @param {string} output the runner's output
 * @returns {Set<string>}
 */
export function passedSolidityTests(output) {
  const passed = new Set();
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\u001b\[[0-9;]*m/g, "");
  for (const match of plain.matchAll(/^\s*✔ ([A-Za-z_]\w*)\(/gm)) passed.add(match[1]);
  return passed;
}

/** `.t.sol` files under a folder. @param {string} dir */
export const solidityTestFiles = (dir) => filesUnder(dir, (path) => path.endsWith(".t.sol"));

// ------------------------------------------------------------------------------ SDK and gateway codes

/**
 * Every stable error code the TypeScript sources of each package can produce:
 * - the code argument of `new X(…)` for every subclass X of IomtError (the argument's position
 *   followed through each class's constructor and `super(…)` call), and the fixed code a subclass
 *   passes to `super`; a code is a string literal there, or any member of a string-literal union
 *   type there (`code: SessionErrorCode`);
 * - a string literal written as the `code` of an object literal (an error answer built by hand,
 *   e.g. Fastify's own errors mapped to the gateway's codes).
 * `a ?? "X"`, `c ? "X" : "Y"` and `x as T` are followed. Names in `exclude` (the contracts' custom
 * errors, which ContractRuleError carries) are left out. One TypeScript program serves every
 * package, so the sources are parsed once.
 * @param {Record<string, string[]>} packages name → source folders
 * @param {{ exclude?: Iterable<string> }} [options]
 * @returns {Promise<Map<string, Map<string, string[]>>>} package → code → where (`file:line`)
 */
export async function declaredCodes(packages, { exclude = [] } = {}) {
  const ts = (await import("typescript")).default;
  const filesOf = Object.fromEntries(
    Object.entries(packages).map(([name, dirs]) => [name, dirs.flatMap((dir) => filesUnder(dir, (path) => path.endsWith(".ts") && !path.endsWith(".d.ts")))]),
  );
  for (const [name, files] of Object.entries(filesOf)) if (files.length === 0) throw new Error(`no TypeScript sources for ${name} under ${packages[name].join(", ")}`);
  const allFiles = Object.values(filesOf).flat();
  const program = ts.createProgram(allFiles, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node20 ?? ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.Node16 ?? ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    resolveJsonModule: true,
  });
  const checker = program.getTypeChecker();
  const isOurs = (fileName) => allFiles.some((path) => relative(path, fileName) === "");
  const sources = program.getSourceFiles().filter((file) => isOurs(file.fileName));

  // Classes by name, with their parent's name, constructor and super call.
  const classes = new Map();
  for (const source of sources) {
    ts.forEachChild(source, function visit(node) {
      if (ts.isClassDeclaration(node) && node.name !== undefined) {
        const heritage = node.heritageClauses?.find((clause) => clause.token === ts.SyntaxKind.ExtendsKeyword);
        const parent = heritage?.types[0]?.expression.getText(source);
        const constructor = node.members.find((member) => ts.isConstructorDeclaration(member) && member.body !== undefined);
        let superCall;
        constructor?.body?.forEachChild(function find(child) {
          if (superCall === undefined && ts.isCallExpression(child) && child.expression.kind === ts.SyntaxKind.SuperKeyword) superCall = child;
          else child.forEachChild(find);
        });
        classes.set(node.name.text, { parent, constructor, superCall });
      }
      ts.forEachChild(node, visit);
    });
  }

  /** The string codes an expression can evaluate to; `typed`: also the literal members of its type. */
  const codesOf = (expression, typed) => {
    if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) return [expression.text];
    if (ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression) || ts.isNonNullExpression(expression) || (ts.isSatisfiesExpression?.(expression) ?? false)) {
      return codesOf(expression.expression, typed);
    }
    if (ts.isConditionalExpression(expression)) return [...codesOf(expression.whenTrue, typed), ...codesOf(expression.whenFalse, typed)];
    if (ts.isBinaryExpression(expression) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(expression.operatorToken.kind)) {
      return [...codesOf(expression.left, typed), ...codesOf(expression.right, typed)];
    }
    if (!typed) return [];
    const type = checker.getTypeAtLocation(expression);
    return (type.isUnion() ? type.types : [type]).filter((member) => member.isStringLiteral()).map((member) => member.value);
  };

  const isErrorClass = (name, seen = new Set()) => {
    if (name === "IomtError") return true;
    const info = classes.get(name);
    if (info === undefined || info.parent === undefined || seen.has(name)) return false;
    seen.add(name);
    return isErrorClass(info.parent, seen);
  };
  /** Position of the code among a class's constructor arguments; undefined when the class fixes its code. */
  const codeIndex = (name, seen = new Set()) => {
    if (name === "IomtError") return 0;
    const info = classes.get(name);
    if (info === undefined || info.parent === undefined || seen.has(name)) return undefined;
    seen.add(name);
    const parentIndex = codeIndex(info.parent, seen);
    if (info.constructor === undefined) return parentIndex;
    const argument = parentIndex === undefined ? undefined : info.superCall?.arguments[parentIndex];
    if (argument === undefined || !ts.isIdentifier(argument)) return undefined;
    const index = info.constructor.parameters.findIndex((parameter) => ts.isIdentifier(parameter.name) && parameter.name.text === argument.text);
    return index === -1 ? undefined : index;
  };

  const excluded = new Set(exclude);
  const result = new Map(Object.keys(packages).map((name) => [name, new Map()]));
  const add = (code, node) => {
    if (excluded.has(code)) return;
    const source = node.getSourceFile();
    const owner = Object.keys(filesOf).find((name) => filesOf[name].some((path) => relative(path, source.fileName) === ""));
    const declared = result.get(owner);
    const where = `${relative(process.cwd(), source.fileName)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
    declared.set(code, [...(declared.get(code) ?? []), where]);
  };

  for (const [name, info] of classes) {
    if (!isErrorClass(name) || info.superCall === undefined || codeIndex(name) !== undefined) continue;
    const parentIndex = codeIndex(info.parent);
    const argument = parentIndex === undefined ? undefined : info.superCall.arguments[parentIndex];
    if (argument !== undefined) for (const code of codesOf(argument, true)) add(code, argument);
  }
  for (const source of sources) {
    ts.forEachChild(source, function visit(node) {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && isErrorClass(node.expression.text)) {
        const index = codeIndex(node.expression.text);
        const argument = index === undefined ? undefined : node.arguments?.[index];
        if (argument !== undefined) for (const code of codesOf(argument, true)) add(code, argument);
      }
      if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === "code" && ts.isObjectLiteralExpression(node.parent)) {
        for (const code of codesOf(node.initializer, false)) add(code, node.initializer);
      }
      ts.forEachChild(node, visit);
    });
  }
  for (const declared of result.values()) {
    const sorted = [...declared].sort(([a], [b]) => a.localeCompare(b));
    declared.clear();
    for (const [code, where] of sorted) declared.set(code, where);
  }
  return result;
}

/**
 * Every error name in the ABIs of a build's contract artifacts (the contracts' own errors and
 * the library errors they can revert with): the names ContractRuleError can carry.
 * @param {string} artifactsDir
 */
export function abiErrorNames(artifactsDir) {
  const names = new Set();
  for (const file of filesUnder(join(artifactsDir, "contracts"), (path) => path.endsWith(".json"))) {
    for (const item of JSON.parse(readFileSync(file, "utf8")).abi ?? []) if (item.type === "error") names.add(item.name);
  }
  return names;
}

// ------------------------------------------------------------------------------ the gates

/**
 * @param {Iterable<string>} declared
 * @param {Set<string>} asserted
 * @returns {{ declared: string[], asserted: string[], missing: string[] }}
 */
export function compareAssertions(declared, asserted) {
  const names = [...new Set(declared)].sort();
  const missing = names.filter((name) => !asserted.has(name));
  return { declared: names, asserted: names.filter((name) => asserted.has(name)), missing };
}

/**
 * The contracts' gate for one build: every custom error declared in contracts/ must be asserted
 * by the mocha tests (the ledger's `revert` entries) or expected by a Solidity test that passed.
 * @param {{ label: string, artifactsDir: string, ledgerFile: string, solidityTests: string[], solidityOutput: string }} parameters
 * @returns {{ summary: string, problems: string[] }}
 */
export function contractErrorGate({ label, artifactsDir, ledgerFile, solidityTests, solidityOutput }) {
  const declared = declaredContractErrors(artifactsDir);
  const asserted = new Set([...readLedger(ledgerFile).revert, ...solidityExpectedErrors(solidityTests, passedSolidityTests(solidityOutput))]);
  const result = compareAssertions(
    declared.map((error) => error.name),
    asserted,
  );
  const source = Object.fromEntries(declared.map((error) => [error.name, error.source]));
  return {
    summary: `${label}: ${result.asserted.length}/${result.declared.length} custom errors asserted by a test`,
    problems: result.missing.map((name) => `no test expects and sees the revert of ${name} (${source[name]})`),
  };
}

/**
 * A package's code gate: every code its sources declare must be in the ledger's `code` entries of
 * its test run, except the codes listed as unreachable (each with its reason; a listed code the
 * sources no longer declare is a problem too).
 * @param {{ label: string, declared: Map<string, string[]>, ledgerFile: string, unreachable?: Record<string, string> }} parameters
 * @returns {{ summary: string, problems: string[], notes: string[] }}
 */
export function codeGate({ label, declared, ledgerFile, unreachable = {} }) {
  const required = [...declared.keys()].filter((code) => !(code in unreachable));
  const result = compareAssertions(required, readLedger(ledgerFile).code);
  return {
    summary: `${label}: ${result.asserted.length}/${result.declared.length} error codes asserted by a test`,
    problems: [
      ...result.missing.map((code) => `no test asserts ${code} (${declared.get(code).join(", ")})`),
      ...Object.keys(unreachable).filter((code) => !declared.has(code)).map((code) => `${code} is listed as unreachable but is no longer declared`),
    ],
    notes: Object.entries(unreachable).map(([code, reason]) => `not required: ${code} (${reason})`),
  };
}
