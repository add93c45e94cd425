// Every refusal the gateway answers is an ApiError: an HTTP status, a stable `code` callers
// branch on, and a message for people. The codes are declared once, in `apiErrors`, with their
// status and whether they travel sealed (docs/protocol.md §5.3); the README's table is checked
// against it by the tests.
import { IomtError } from "@iomt-auth/sdk";

/**
 * `sealed`: `no` = always plain (unauthenticated: produced before a request record was opened, or
 * by the HTTP layer); `yes` = only ever after a record was opened, so always sealed; `both` = plain
 * on the handshake or before opening, sealed after (e.g. `RateLimited` per address is plain, per
 * device sealed); `cli` = the operator's commands only, never on the wire.
 */
export const apiErrors = {
  // HTTP layer
  MalformedJson: { status: 400, sealed: "no" },
  MalformedRequest: { status: 400, sealed: "no" },
  NotFound: { status: 404, sealed: "no" },
  RequestTimeout: { status: 408, sealed: "no" },
  BodyTooLarge: { status: 413, sealed: "no" },
  UnsupportedMediaType: { status: 415, sealed: "no" },
  HeaderTooLarge: { status: 431, sealed: "no" },
  // handshake and envelope
  HandshakeCookieInvalid: { status: 400, sealed: "no" },
  SessionMalformed: { status: 400, sealed: "no" },
  SessionTampered: { status: 400, sealed: "no" },
  SessionBadSignature: { status: 401, sealed: "no" },
  SessionStale: { status: 401, sealed: "no" },
  SessionUnknown: { status: 401, sealed: "no" },
  SessionExpired: { status: 401, sealed: "no" },
  SessionWrongContext: { status: 403, sealed: "no" },
  SessionWrongPeer: { status: 403, sealed: "no" },
  GroupNotServed: { status: 403, sealed: "no" },
  DeviceNotAdmitted: { status: 403, sealed: "no" },
  HandshakeUnknown: { status: 404, sealed: "no" },
  HelloReplayed: { status: 409, sealed: "no" },
  SessionReplay: { status: 409, sealed: "no" },
  SessionExhausted: { status: 409, sealed: "no" },
  HandshakesBusy: { status: 503, sealed: "no" },
  // plain before a record is opened (or on the handshake), sealed after
  RequestInvalid: { status: 400, sealed: "both" },
  DeviceRevoked: { status: 403, sealed: "both" },
  GroupInactive: { status: 403, sealed: "both" },
  RateLimited: { status: 429, sealed: "both" },
  InternalError: { status: 500, sealed: "both" },
  MirrorSyncing: { status: 503, sealed: "both" },
  // the rules of the sealed routes
  RecordNotJson: { status: 400, sealed: "yes" },
  SignatureInvalid: { status: 400, sealed: "yes" },
  MessageExpired: { status: 400, sealed: "yes" },
  MessageFromFuture: { status: 400, sealed: "yes" },
  PayloadMismatch: { status: 400, sealed: "yes" },
  TokenInvalid: { status: 400, sealed: "yes" },
  AssociationExpired: { status: 400, sealed: "yes" },
  AssociationNonceInvalid: { status: 400, sealed: "yes" },
  PathMalformed: { status: 400, sealed: "yes" },
  SignatureMismatch: { status: 401, sealed: "yes" },
  EnrolmentSecretRequired: { status: 401, sealed: "yes" },
  EnrolmentSecretWrong: { status: 401, sealed: "yes" },
  EnrolmentSecretUsed: { status: 409, sealed: "yes" },
  TicketUnavailable: { status: 409, sealed: "yes" },
  EnrolmentLocked: { status: 429, sealed: "yes" },
  DeviceNotEnrolled: { status: 403, sealed: "yes" },
  DeviceNotMember: { status: 403, sealed: "yes" },
  GroupMismatch: { status: 403, sealed: "yes" },
  OidNotOwned: { status: 403, sealed: "yes" },
  AssociationForAnotherDevice: { status: 403, sealed: "yes" },
  AssociationUnknown: { status: 404, sealed: "yes" },
  DeviceNotAssociated: { status: 404, sealed: "yes" },
  MessageUnknown: { status: 404, sealed: "yes" },
  NonceReplayed: { status: 409, sealed: "yes" },
  NonceOutOfOrder: { status: 409, sealed: "yes" },
  ChainUnavailable: { status: 503, sealed: "yes" },
  VerifierUnavailable: { status: 503, sealed: "yes" },
  // hierarchical anchoring, between gateways (aggregation.ts)
  HandoverNotChild: { status: 403, sealed: "yes" },
  HandoverConflict: { status: 409, sealed: "yes" },
  HandoverBacklogFull: { status: 429, sealed: "yes" },
  StoreUnavailable: { status: 503, sealed: "both" },
  // the operator console's API (admin listener)
  AdminUnauthorized: { status: 401, sealed: "no" },
  // operator commands
  EnrolmentInvalid: { status: 400, sealed: "cli" },
  EnrolmentSecretWeak: { status: 400, sealed: "cli" },
  EnrolmentConflict: { status: 409, sealed: "cli" },
} as const satisfies Record<string, { status: number; sealed: "no" | "yes" | "both" | "cli" }>;

export type ApiErrorCode = keyof typeof apiErrors;

export class ApiError extends IomtError {
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(code, message);
    this.status = status;
    this.details = details;
  }
}

/** An ApiError with the status `apiErrors` declares for `code`. */
export function apiError(code: ApiErrorCode, message: string, details?: Record<string, unknown>): ApiError {
  return new ApiError(apiErrors[code].status, code, message, details);
}

/** A setting is missing or invalid; the gateway refuses to start. */
export class GatewayConfigError extends IomtError {
  constructor(message: string) {
    super("GatewayConfigInvalid", message);
  }
}

/** Why `start` refuses a configuration the chain contradicts (gateway/src/preflight.ts). */
export type StartupErrorCode = "ChainIdMismatch" | "RegistryNotDeployed" | "KeyNotAuthorized";

/** The configuration names a chain, registry or key the chain does not confirm; the gateway refuses to start. */
export class StartupError extends IomtError {
  constructor(code: StartupErrorCode, message: string) {
    super(code, message);
  }
}
