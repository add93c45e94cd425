// Every refusal the gateway answers is an ApiError: an HTTP status, a stable `code` callers
// branch on, and a message for people. The same codes are listed in the README.
import { IomtError } from "@iomt-auth/sdk";

export class ApiError extends IomtError {
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(code, message);
    this.status = status;
    this.details = details;
  }
}

/** A setting is missing or invalid; the gateway refuses to start. */
export class GatewayConfigError extends IomtError {
  constructor(message: string) {
    super("GatewayConfigInvalid", message);
  }
}
