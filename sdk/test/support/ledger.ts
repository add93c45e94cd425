// The assertion ledger: what the test gates count. A shared assertion helper (a contract revert
// asserted by name, an SDK or gateway error code checked by `expectCode`) appends one line to the
// file named by IOMT_ASSERTION_LEDGER, only after its assertion passed. scripts/test-all.mjs and
// scripts/coverage-check.mjs set the variable for a run and then compare the ledger with the
// declared errors and codes, so a name that only appears in a comment or a string counts for
// nothing. Without the variable (a test run by hand) nothing is written.
import { appendFileSync } from "node:fs";

/** The ledger's variable, read by scripts/lib/gates.mjs as well. */
export const LEDGER_VARIABLE = "IOMT_ASSERTION_LEDGER";

/**
 * What a line records:
 * - `revert`: a contract custom error a test expected and saw;
 * - `code`: the stable code of an SDK or gateway error a test expected and saw;
 * - `skip`: a test skipped for a reason the test runner allows (see skipBecause).
 */
export type LedgerKind = "revert" | "code" | "skip";

/** Appends `kind name` to the ledger, when one is set. Call it only once the assertion has passed. */
export function recordAssertion(kind: LedgerKind, name: string): void {
  const file = process.env[LEDGER_VARIABLE];
  if (file === undefined || file === "") return;
  if (!/^[A-Za-z0-9_.:-]+$/.test(name)) throw new Error(`a ledger entry must be one word, got ${JSON.stringify(name)}`);
  appendFileSync(file, `${kind} ${name}\n`);
}
