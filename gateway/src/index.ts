// @iomt-auth/gateway — the Master's API Edge and Blockchain Gateway as one durable HTTP service.
export { startGateway, type RunningGateway, type StartGatewayOptions } from "./gateway.js";
export { resolveConfig, resolveGroup, readConfigFile, settingsFromEnvironment, readKeyFile, defaultConfig, settingNames, type GatewayConfig, type LoadedConfig, type RawSettings, type SubmissionPolicy } from "./config.js";
export {
  enrolDevice,
  renewEnrolmentSecret,
  hashEnrolmentSecret,
  verifyEnrolmentSecret,
  generateEnrolmentSecret,
  checkSecretStrength,
  readPepperFile,
  createPepperFile,
  EnrolmentSecrets,
  MIN_SECRET_LENGTH,
  MAX_FAILURES,
  type EnrolParameters,
  type SecretClaim,
} from "./enrolment.js";
export { GatewayStore, StoreError, type StoreErrorCode, type StoreHealth, type OpenStoreOptions, type EnrolmentRow, type MessageRow } from "./store.js";
export { ApiError, apiError, apiErrors, GatewayConfigError, type ApiErrorCode } from "./errors.js";
export { createDataMessageHasher, createSignerRecovery, type SignerRecovery } from "./signatures.js";
export { createHandshakeCrypto, loadNativeSecp256k1, masterKeyOf, type HandshakeCrypto, type MasterKey } from "./crypto.js";
export { helloDigest, SessionManager, COOKIE_LIFETIME_SECONDS } from "./sessions.js";
