// The gateway's one root logger: pino JSON lines on stdout with ISO 8601 timestamps, so a log
// collector needs no epoch conversion and an auditor reads the time as it is. Both listeners and
// the chain worker log through children of it. Nothing secret is logged: the Master key, the
// pepper, enrolment secrets, tokens and session keys never reach a log call; request bodies are
// never logged; the one header that could carry a credential is redacted.
import { pino, type Logger } from "pino";
import type { GatewayConfig } from "./config.js";

export type { Logger } from "pino";

export function createRootLogger(config: Pick<GatewayConfig, "logLevel">): Logger {
  return pino({ level: config.logLevel, timestamp: pino.stdTimeFunctions.isoTime, redact: ["req.headers.authorization"] });
}
