// The one way a test may skip itself. scripts/test-all.mjs fails a run with a skipped test unless
// the test skipped through `skipBecause` under a key the runner allows (scripts/lib/suites.mjs,
// `allowedSkips`) and the runner itself finds the reason true on this machine. The reason is
// printed, so the output says why the test did not run.
import { recordAssertion } from "./ledger.js";

/** The skips scripts/test-all.mjs allows; each key has the runner's own check there. */
export type AllowedSkip = "no-node-20" | "no-native-secp256k1" | "no-native-keccak" | "no-tmpfs-mount" | "no-systemd-analyze";

export function skipBecause(context: Mocha.Context, key: AllowedSkip, reason: string): never {
  recordAssertion("skip", key);
  console.log(`      skipped (${key}): ${reason}`);
  context.skip();
}
