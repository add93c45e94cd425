// Assertions on thrown errors with a stable `code`, shared by the SDK's and the gateway's tests
// (and the tests of the test gates). Every helper that checks a code records it in the assertion
// ledger once the check passed (./ledger.ts): scripts/test-all.mjs counts a declared code as
// asserted only when one of these saw it.
import { expect } from "chai";
import { recordAssertion } from "./ledger.js";

/** An error class whose instances carry a stable `code` (IomtError and its subclasses, from src or from dist). */
export type CodedErrorClass<E extends Error & { code: string }> = abstract new (...args: never[]) => E;

/** Runs `fn` and returns what it threw (failing the test when it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.fail("expected the call to throw");
}

/** The error `promise` rejects with (failing the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected the promise to reject"),
    (error: unknown) => error,
  );
}

/** Asserts that `error` is an `errorClass` with the stable `code`, records the code, and returns the error. */
export function expectError<E extends Error & { code: string }>(error: unknown, errorClass: CodedErrorClass<E>, code: E["code"]): E {
  expect(error, `expected a ${errorClass.name} ${code}`).to.be.instanceOf(errorClass);
  expect((error as E).code, (error as E).message).to.equal(code);
  recordAssertion("code", code);
  return error as E;
}

/** Asserts that `fn` throws an `errorClass` with the stable `code`, and returns the error. */
export function expectCode<E extends Error & { code: string }>(fn: () => unknown, errorClass: CodedErrorClass<E>, code: E["code"]): E {
  return expectError(thrown(fn), errorClass, code);
}

/** Asserts that `promise` rejects with an `errorClass` with the stable `code`, and returns the error. */
export async function expectRejection<E extends Error & { code: string }>(promise: Promise<unknown>, errorClass: CodedErrorClass<E>, code: E["code"]): Promise<E> {
  return expectError(await rejection(promise), errorClass, code);
}

/** Asserts that `action` throws, or returns a promise that rejects, with an `errorClass` with the stable `code`. */
export async function expectFailure<E extends Error & { code: string }>(action: () => unknown, errorClass: CodedErrorClass<E>, code: E["code"]): Promise<E> {
  let result: unknown;
  try {
    result = action();
  } catch (error) {
    return expectError(error, errorClass, code);
  }
  return expectRejection(Promise.resolve(result), errorClass, code);
}
