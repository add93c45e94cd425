// The one shape of a hash function over bytes that the SDK's hot paths take as a parameter, so a
// caller with a faster implementation (a native keccak, OpenSSL's SHA-256) can pass it in: the
// batch tree's pair hash (`buildBatchTree`, `verifyBatchProof`) and the gateway protocol's request
// binding (`bindingOf`). Whatever is passed must give the same bytes as the SDK's default.

/** A hash function from bytes to a digest, e.g. keccak-256 or SHA-256. */
export type ByteHash = (data: Uint8Array) => Uint8Array;
