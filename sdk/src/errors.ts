// Every error the SDK throws is an IomtError with a stable `code`: callers branch on the code,
// never on the message. Contract reverts are decoded into ContractRuleError (see contract-errors.ts).

/** Base class of every error the SDK throws. `code` is stable across releases. */
export class IomtError extends Error {
  /** Stable machine-readable code, e.g. `InvalidId`, `TokenHighS`, `SessionReplay`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
