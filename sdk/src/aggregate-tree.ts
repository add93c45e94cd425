// Hierarchical anchoring, offline: the aggregate a parent gateway anchors over batch roots of its
// own group and of the groups below it (`anchorAggregate` on chain), and the two-part proof of a
// message (its batch proof, then its batch's leaf in the aggregate). Leaves are
// `keccak256(abi.encode(AGGREGATE_LEAF_TYPEHASH, gid, batchRoot, messageCount))`, the encoding the
// registry's `aggregateLeaf` view computes; pairs are hashed as in `buildBatchTree` (sorted). What
// this cannot check offline is that the anchoring group is the message's group or an ancestor of
// it: that is registry state (`verifyAggregatedMessage` checks it on chain; an offline verifier
// checks it against the group records it holds). Pure: no RPC.
import type { Hex } from "viem";
import { buildBatchTree, verifyBatchProof, type BatchTree } from "./batch-tree.js";
import { putHex, toHex } from "./bytes.js";
import { IomtError } from "./errors.js";
import { keccak256Bytes } from "./keccak.js";

/** One batch root in an aggregate: the group it belongs to and how many messages it holds. */
export type AggregateEntry = {
  /** The batch's group. */
  gid: Hex;
  /** The root of `buildBatchTree` over the batch's message digests. */
  batchRoot: Hex;
  /** The number of messages in the batch (1 … 2³² − 1). */
  messageCount: number;
};

/** The domain tag of aggregate leaves, `keccak256("AggregateLeaf(bytes32 gid,bytes32 batchRoot,uint32 messageCount)")`. */
const TYPEHASH = keccak256Bytes(new TextEncoder().encode("AggregateLeaf(bytes32 gid,bytes32 batchRoot,uint32 messageCount)"));

/**
 * The aggregate leaf of one batch, as the registry's `aggregateLeaf(gid, batchRoot, messageCount)`.
 * @throws {IomtError} `AggregateInvalidEntry` when an id is not 32 bytes of hex or the count is not a uint32 above zero.
 */
export function aggregateLeaf({ gid, batchRoot, messageCount }: AggregateEntry): Hex {
  const preimage = new Uint8Array(128);
  preimage.set(TYPEHASH, 0);
  if (!putHex(gid, 32, preimage, 32) || !putHex(batchRoot, 32, preimage, 64)) {
    throw new IomtError("AggregateInvalidEntry", "an aggregate entry's gid and batch root are 32 bytes of hex");
  }
  if (!Number.isInteger(messageCount) || messageCount < 1 || messageCount > 0xffffffff) {
    throw new IomtError("AggregateInvalidEntry", `an aggregate entry's message count is a uint32 above zero, not ${messageCount}`);
  }
  new DataView(preimage.buffer).setUint32(124, messageCount);
  return toHex(keccak256Bytes(preimage));
}

export type AggregateTree = BatchTree & {
  /** The entries, in leaf order. */
  entries: readonly AggregateEntry[];
  /** The sum of the entries' message counts (what `anchorAggregate` declares). */
  messageCount: number;
};

/**
 * Builds the aggregate over batch entries (at least one), in the order given.
 * @throws {IomtError} `BatchEmpty` for no entries; `AggregateInvalidEntry` as {@link aggregateLeaf};
 * `AggregateTooLarge` when the messages add up past a uint32.
 */
export function buildAggregateTree(entries: readonly AggregateEntry[]): AggregateTree {
  const leaves = entries.map(aggregateLeaf);
  const messageCount = entries.reduce((sum, entry) => sum + entry.messageCount, 0);
  if (messageCount > 0xffffffff) throw new IomtError("AggregateTooLarge", `an aggregate holds at most 2^32 - 1 messages, not ${messageCount}`);
  return { ...buildBatchTree(leaves), entries: Object.freeze(entries.map((entry) => ({ ...entry }))), messageCount };
}

/** A message's place in an aggregate: the shape of the registry's `AggregatePath` struct. */
export type AggregatePath = {
  batchRoot: Hex;
  batchMessageCount: number;
  /** The message digest's proof in its batch. */
  batchProof: readonly Hex[];
  /** The group that anchored the aggregate: the message's group or an ancestor. */
  aggregateGid: Hex;
  aggregateRoot: Hex;
  /** The batch leaf's proof in the aggregate. */
  aggregateProof: readonly Hex[];
};

/**
 * True when `digest` (the message's `hashDataMessage`) of group `gid` is in `path.batchRoot` and that
 * batch is in `path.aggregateRoot`: everything `verifyAggregatedMessage` checks except that the
 * aggregate is anchored and `path.aggregateGid` is `gid` or one of its ancestors.
 */
export function verifyAggregatePath({ gid, digest, path }: { gid: Hex; digest: Hex; path: AggregatePath }): boolean {
  let leaf: Hex;
  try {
    leaf = aggregateLeaf({ gid, batchRoot: path.batchRoot, messageCount: path.batchMessageCount });
  } catch {
    return false;
  }
  return (
    verifyBatchProof({ root: path.batchRoot, leaf: digest, proof: path.batchProof }) &&
    verifyBatchProof({ root: path.aggregateRoot, leaf, proof: path.aggregateProof })
  );
}
