// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDataLedger} from "./IDataLedger.sol";

/// @title IAggregateVerifier — on-chain check of a message anchored through hierarchical anchoring
/// @notice A parent gateway anchors, with {IDataLedger-anchorBatch} under its own group, the root of
/// an *aggregate*: a Merkle tree over the aggregate leaves of batches of its group and of the groups
/// below it, which their gateways handed up. One transaction per interval then serves a subtree of
/// clusters. A message's proof is its batch proof plus its batch's proof in the aggregate.
///
/// The leaf of the batch `batchRoot` of `messageCount` messages of group `gid` is
/// `keccak256(abi.encode(AGGREGATE_LEAF_TYPEHASH, gid, batchRoot, messageCount))` (messageCount a
/// uint32) with `AGGREGATE_LEAF_TYPEHASH = keccak256("AggregateLeaf(bytes32 gid,bytes32 batchRoot,uint32 messageCount)")`;
/// pairs are hashed sorted (OpenZeppelin `MerkleProof`). The type hash and the 128-byte preimage
/// keep a leaf apart from message digests (EIP-712, 66-byte preimage) and from inner nodes (64
/// bytes): {IDataLedger-verifyAnchoredMessage} never accepts a message through an aggregate root,
/// nor {verifyAggregatedMessage} a message through a batch root, although both are anchored with
/// `anchorBatch` (whose `messageCount` then counts the aggregate's messages).
///
/// A companion of the registry rather than a part of it: stateless, it reads the registry's views,
/// so the registry's bytecode (at the size limit for the london build) and its gas do not change.
/// @custom:security-contact see SECURITY.md at the repository root (private disclosure to the maintainers)
interface IAggregateVerifier {
    /// @notice Where a message sits in an aggregate.
    struct AggregatePath {
        bytes32 batchRoot; // the root of the batch holding the message (built as for anchorBatch)
        uint32 batchMessageCount; // the number of messages in that batch, as bound into its aggregate leaf
        bytes32[] batchProof; // the sorted-pair Merkle proof of the message's digest in the batch
        bytes32 aggregateGid; // the group that anchored the aggregate: the message's group or an ancestor
        bytes32 aggregateRoot; // the anchored aggregate root
        bytes32[] aggregateProof; // the sorted-pair Merkle proof of the batch's aggregate leaf
    }

    /// @dev The registry address given to the constructor is zero.
    error AggregateVerifierZeroRegistry();

    /// @notice The registry whose anchors and hierarchy this verifier reads.
    /// @return The registry.
    function registry() external view returns (address);

    /// @notice The aggregate leaf of the batch `batchRoot` of `messageCount` messages of group `gid`.
    /// @param gid The batch's group.
    /// @param batchRoot The batch root.
    /// @param messageCount The number of messages in the batch.
    /// @return The leaf.
    function aggregateLeaf(bytes32 gid, bytes32 batchRoot, uint32 messageCount) external pure returns (bytes32);

    /// @notice Whether `ancestor` is `gid` itself or a group above it in the registry's hierarchy.
    /// @dev Walks up the parent links (which never change after a group is created), one registry
    /// read per level between the two groups; at most 255. An unknown `gid` is its own only ancestor.
    /// @param ancestor The candidate ancestor.
    /// @param gid The group.
    /// @return Whether `ancestor` is `gid` or above it.
    function isSelfOrAncestor(bytes32 ancestor, bytes32 gid) external view returns (bool);

    /// @notice True when `message`'s digest is in the batch `path.batchRoot` by `path.batchProof`, that
    /// batch's aggregate leaf (under the message's own gid) is in `path.aggregateRoot` by
    /// `path.aggregateProof`, that root is anchored in the registry under `path.aggregateGid`, and
    /// that group is the message's group or one of its ancestors. The ancestry check means that a
    /// stranger's anchor cannot vouch for another hierarchy's clusters: only a group whose Master
    /// may already take the message's group over (directly or down the line) can.
    /// @dev As {IDataLedger-verifyAnchoredMessage}, this proves that an authorised key anchored the
    /// digest, not that the device signed it.
    /// @param message The message.
    /// @param path Its batch and aggregate proofs.
    /// @return Whether the aggregate is anchored by the group or an ancestor, and both proofs hold.
    function verifyAggregatedMessage(IDataLedger.DataMessage calldata message, AggregatePath calldata path)
        external
        view
        returns (bool);
}
