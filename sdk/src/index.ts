// @iomt-auth/sdk — tokens, association, signed data, AuthTable proofs, clustering and session
// crypto for iomt-auth, on viem. Deployment (with the bytecode) lives in `@iomt-auth/sdk/deploy`;
// the optional native signing backend in `@iomt-auth/sdk/native-secp256k1`.
export { IomtError } from "./errors.js";
export { toId, assertId, groupId, InvalidIdError, type Id, type GroupIdParameters } from "./ids.js";
export { normalizeSignature, recoverSigner, InvalidSignatureError } from "./signature.js";
export {
  privateKeyToSecp256k1Signer,
  nobleSecp256k1,
  libsecp256k1Backend,
  isDigestSigner,
  type Secp256k1Backend,
  type Secp256k1Signer,
  type DigestSigner,
  type Libsecp256k1Binding,
  type PrivateKeyToSecp256k1SignerOptions,
} from "./secp256k1.js";
export {
  P256_ADDRESS_TAG,
  p256Address,
  assertP256PublicKey,
  encodeP256Signature,
  recoverP256Signer,
  privateKeyToP256Signer,
  webCryptoP256Signer,
  generateWebCryptoP256Signer,
  p256Account,
  P256Error,
  type P256PublicKey,
  type P256Signer,
  type P256Account,
  type WebCryptoKeyPair,
} from "./p256.js";
export {
  tokenDigest,
  normalizeTokenSignature,
  issueToken,
  recoverTokenSigner,
  verifyToken,
  serializeToken,
  parseToken,
  InvalidTokenError,
  SERIALIZED_TOKEN_BYTES,
  type Token,
  type MessageSigner,
  type TokenDigestParameters,
  type IssueTokenParameters,
  type IssueTokenReturnType,
  type VerifyTokenParameters,
} from "./tokens.js";
export {
  registryDomain,
  associationTypes,
  dataMessageTypes,
  exchangeTypes,
  signAssociation,
  hashAssociation,
  commitPayload,
  randomSalt,
  createDataMessage,
  signDataMessage,
  hashDataMessage,
  verifyDataMessage,
  createExchange,
  signExchange,
  hashExchange,
  verifyExchange,
  createNonceCounter,
  InvalidRequestError,
  type RegistryDomain,
  type RegistryDomainParameters,
  type TypedDataSigner,
  type AssociationRequest,
  type DataMessage,
  type Exchange,
  type SignedAssociation,
  type SignedDataMessage,
  type SignedExchange,
  type SignAssociationParameters,
  type CreateDataMessageParameters,
  type CreateExchangeParameters,
  type VerifySignedParameters,
  type NonceCounter,
  type CreateNonceCounterParameters,
} from "./typed-data.js";
export {
  ContractRuleError,
  decodeRegistryError,
  toRegistryError,
  registryRules,
  batchItemStatuses,
  getBatchItemResults,
  type RegistryErrorName,
  type BatchItemStatus,
  type BatchItemResult,
  type GetBatchItemResultsParameters,
} from "./contract-errors.js";
export { iomtRegistryAbi } from "./generated/abi.js";
export type { ReadClient, WriteClient, RegistryParameter } from "./actions/internal.js";
export * from "./actions/groups.js";
export * from "./actions/association.js";
export * from "./actions/data.js";
export * from "./actions/auth-path.js";
export { getRegistryDomain } from "./actions/domain.js";
export { buildBatchTree, verifyBatchProof, type BatchTree } from "./batch-tree.js";
export {
  AuthTree,
  genesisAnchor,
  authEntryHash,
  verifyConsistency,
  authLeaf,
  processAuthProof,
  authPathStatuses,
  isLeafRevoked,
  LEAVES_PER_REVOCATION_WORD,
  REVOCATION_WORD_ALLOCATED,
  verifyAuthPath,
  encodeAuthPath,
  decodeAuthPath,
  authPathSize,
  InvalidAuthPathError,
  type AuthEntry,
  type AuthPathStep,
  type AuthPath,
  type AuthPathStatus,
  type TrustedGroupState,
  type TrustedState,
  type VerifyAuthPathReturnType,
} from "./authtable.js";
export {
  createAuthTableIndexer,
  IndexerInconsistentError,
  IndexerNotFoundError,
  type AuthTableIndexer,
  type AuthTableCheckpoint,
  type CreateAuthTableIndexerParameters,
  type IndexedGroup,
  type SyncReturnType,
} from "./indexer.js";
export { iomtPublicActions, iomtWalletActions, type WithoutRegistry } from "./decorators.js";
export {
  formClusters,
  planHierarchy,
  ClusteringInputError,
  type ClusterNode,
  type Cluster,
  type ClusteringInputField,
  type FormClustersParameters,
  type FormClustersReturnType,
  type HierarchyCall,
} from "./clustering.js";
export * from "./session.js";
export * from "./gateway-client.js";
export {
  PROVISIONING_FORMAT,
  PROVISIONING_VERSION,
  parseProvisioningBundle,
  ProvisioningError,
  type ProvisioningBundle,
  type ProvisioningErrorCode,
} from "./provisioning.js";
export {
  REQUEST_AAD_LABEL,
  RESPONSE_AAD_LABEL,
  FINISH_REQUEST_SEQ,
  requestAad,
  responseAad,
  bindingOf,
  finishBinding,
  sealRequest,
  openRequest,
  sealAnswer,
  openAnswer,
  type RequestBinding,
  type SealedAnswerBody,
} from "./gateway-protocol.js";
