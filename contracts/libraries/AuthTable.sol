// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title AuthTable — the encodings of the auth chain and the AuthTable leaves
/// @notice Every value is a keccak256 over `abi.encode` (32-byte words), so anyone can rebuild
/// them from events alone:
/// - genesis anchor of a group: `keccak256(abi.encode(parentHead, parentGid, gid, master))`,
///   with `parentHead = parentGid = 0` for a root group;
/// - block of association `index`: `keccak256(abi.encode(prevHead, index, device, master, oid))`,
///   where `prevHead` is the group's chain head before it (the genesis anchor for index 0);
/// - AuthTable leaf: `keccak256(abi.encode(device, master, index, blockHash))`.
/// Leaf preimages are 128 bytes and tree nodes 64, so a node can never pass for a leaf.
library AuthTable {
    function genesis(bytes32 parentHead, bytes32 parentGid, bytes32 gid, address master)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(parentHead, parentGid, gid, master));
    }

    function blockHash(bytes32 prevHead, uint256 index, address device, address master, bytes32 oid)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(prevHead, index, device, master, oid));
    }

    function leaf(address device, address master, uint256 index, bytes32 blockHash_) internal pure returns (bytes32) {
        return keccak256(abi.encode(device, master, index, blockHash_));
    }
}
