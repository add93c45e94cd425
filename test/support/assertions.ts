// Contract assertions that the coverage gate can count. `recordingAssertions` wraps Hardhat's
// viem assertions with the same call shapes; once `revertWithCustomError` or
// `revertWithCustomErrorWithArgs` has passed, the error's name goes into the assertion ledger
// (sdk/test/support/ledger.ts). scripts/coverage-check.mjs then counts a custom error as asserted
// only when a test really expected that revert and saw it, never because its name is written
// somewhere in a test file.
import type { HardhatViemAssertions } from "@nomicfoundation/hardhat-viem-assertions/types";
import { recordAssertion } from "../../sdk/test/support/ledger.js";

/** The same assertions; the two custom-error ones also record the error they saw. */
export function recordingAssertions(assertions: HardhatViemAssertions): HardhatViemAssertions {
  return new Proxy(assertions, {
    get(target, property, receiver) {
      if (property === "revertWithCustomError") {
        return async (...args: Parameters<HardhatViemAssertions["revertWithCustomError"]>) => {
          await target.revertWithCustomError(...args);
          recordAssertion("revert", args[2]);
        };
      }
      if (property === "revertWithCustomErrorWithArgs") {
        return async (...args: Parameters<HardhatViemAssertions["revertWithCustomErrorWithArgs"]>) => {
          await target.revertWithCustomErrorWithArgs(...args);
          recordAssertion("revert", args[2]);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Hardhat's viem helpers with `assertions` replaced by {@link recordingAssertions}; everything else untouched. */
export function withRecordingAssertions<T extends { assertions: HardhatViemAssertions }>(viem: T): T {
  const assertions = recordingAssertions(viem.assertions);
  return new Proxy(viem, {
    get(target, property, receiver) {
      if (property === "assertions") return assertions;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
