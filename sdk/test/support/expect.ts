// Assertions on thrown SDK errors, shared by the unit tests.
import { expect } from "chai";
import type { IomtError } from "../../src/index.js";

/** Runs `fn` and returns what it threw (failing the test when it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.fail("expected the call to throw");
}

/** Asserts that `fn` throws an `errorClass` with the stable `code`, and returns it. */
export function expectCode(fn: () => unknown, errorClass: new (...args: never[]) => IomtError, code: string): IomtError {
  const error = thrown(fn);
  expect(error).to.be.instanceOf(errorClass);
  expect((error as IomtError).code).to.equal(code);
  return error as IomtError;
}
