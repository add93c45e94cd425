// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title AuthTable — the encodings of the auth chain and the AuthTable leaves
/// @notice Every value is a keccak256 over `abi.encode` (32-byte words), so anyone can rebuild
/// them from events alone:
/// - genesis anchor of a group: `keccak256(abi.encode(parentHead, parentGid, gid, master))`,
///   with `parentHead = parentGid = 0` for a root group;
/// - auth-chain entry of association `index`: `keccak256(abi.encode(prevHead, index, device, master, oid))`,
///   where `prevHead` is the group's chain head before it (the genesis anchor for index 0); the
///   entry hash becomes the new chain head;
/// - AuthTable leaf: `keccak256(abi.encode(device, master, index, entryHash))`.
/// Leaf preimages are 128 bytes and tree nodes 64, so a node can never pass for a leaf.
library AuthTable {
    /// @notice The genesis anchor of a group's auth chain.
    /// @param parentHead The parent's chain head at creation (zero for a root group).
    /// @param parentGid The parent group (zero for a root group).
    /// @param gid The group.
    /// @param master Its creator.
    /// @return The anchor.
    function genesis(bytes32 parentHead, bytes32 parentGid, bytes32 gid, address master)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(parentHead, parentGid, gid, master));
    }

    /// @notice The auth-chain entry of association `index`.
    /// @param prevHead The chain head before it.
    /// @param index The entry's position (the leaf index).
    /// @param device The member.
    /// @param master The group's Master at association time.
    /// @param oid The member's object id.
    /// @return The entry hash.
    function entryHash(bytes32 prevHead, uint256 index, address device, address master, bytes32 oid)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(prevHead, index, device, master, oid));
    }

    /// @notice An AuthTable leaf.
    /// @param device The member.
    /// @param master The group's Master at association time.
    /// @param index The leaf index.
    /// @param entryHash_ The member's auth-chain entry.
    /// @return The leaf.
    function leaf(address device, address master, uint256 index, bytes32 entryHash_) internal pure returns (bytes32) {
        return keccak256(abi.encode(device, master, index, entryHash_));
    }
}
