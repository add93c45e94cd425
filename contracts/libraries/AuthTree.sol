// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @title AuthTree — an append-only Merkle tree that stores only its frontier
/// @notice Shape (the "lean" incremental tree): leaves sit at level 0 in insertion order; a node
/// of level k+1 is `keccak256(left ‖ right)` of two level-k nodes, and a level-k node without a
/// right sibling is carried up unchanged. The root is the single node at the top; the root of
/// one leaf is that leaf, of no leaf is zero. A proof therefore holds at most ceil(log2 n)
/// siblings and is checked with the leaf's index and the leaf count. This is the shape of RFC 9162
/// (Certificate Transparency v2) §2.1.1, whose tree splits n leaves at the largest power of two
/// below n, with our own hashes (keccak256 of a 128-byte leaf preimage, of two 64-byte children), so
/// RFC 9162 consistency proofs show that an older tree is a prefix of a newer one.
/// @dev An insert writes exactly one storage slot: `frontier[k]` for k = number of trailing ones
/// of the old size, the root of the newest complete subtree of 2^k leaves. The root is derived
/// in a view by folding the frontier entries of the set bits of n, lowest first.
library AuthTree {
    /// @notice Appends `leaf` as leaf number `size`.
    /// @param frontier Level => root of the most recent complete subtree of 2^level leaves.
    /// @param size The leaf count before the insert.
    /// @param leaf The new leaf.
    function insert(mapping(uint256 => bytes32) storage frontier, uint256 size, bytes32 leaf) internal {
        bytes32 node = leaf;
        uint256 level;
        while (size & 1 == 1) {
            node = Hashes.efficientKeccak256(frontier[level], node);
            size >>= 1;
            ++level;
        }
        frontier[level] = node;
    }

    /// @notice The root of a tree of `size` leaves (zero when empty); reads popcount(size) slots.
    /// @param frontier The tree's frontier.
    /// @param size The leaf count.
    /// @return node The root.
    function root(mapping(uint256 => bytes32) storage frontier, uint256 size) internal view returns (bytes32 node) {
        if (size == 0) return bytes32(0);
        uint256 level;
        while (size & 1 == 0) {
            size >>= 1;
            ++level;
        }
        node = frontier[level];
        for (size >>= 1; size != 0; size >>= 1) {
            ++level;
            if (size & 1 == 1) node = Hashes.efficientKeccak256(frontier[level], node);
        }
    }

    /// @notice Recomputes the root from `leaf` at `index` of a `size`-leaf tree and its proof;
    /// returns zero when the index is out of range or the proof has the wrong length.
    /// @param proof Siblings from the leaf up, one per level where the path node has a sibling.
    /// @param index The leaf's index.
    /// @param size The leaf count of the tree the proof was made for.
    /// @param leaf The leaf.
    /// @return node The root it leads to, or zero.
    function processProof(bytes32[] calldata proof, uint256 index, uint256 size, bytes32 leaf)
        internal
        pure
        returns (bytes32 node)
    {
        // A bounds check reads clearest this way.
        // solhint-disable-next-line gas-strict-inequalities
        if (index >= size) return bytes32(0);
        node = leaf;
        uint256 used;
        for (; size > 1; size = (size + 1) >> 1) {
            bool isRight = index & 1 == 1;
            if (isRight || index + 1 < size) {
                if (used == proof.length) return bytes32(0);
                bytes32 sibling = proof[used];
                ++used;
                node = isRight ? Hashes.efficientKeccak256(sibling, node) : Hashes.efficientKeccak256(node, sibling);
            }
            index >>= 1;
        }
        if (used != proof.length) return bytes32(0);
    }

    /// @notice Checks an RFC 9162 §2.1.4 consistency proof: that the tree of `oldSize` leaves with
    /// root `oldRoot` is a prefix of the tree of `newSize` leaves with root `newRoot`.
    /// @dev The verification algorithm of RFC 9162 §2.1.4.2, step by step, with `keccak256(left ‖ right)`
    /// as the node hash. Never reverts; any malformed input is `false`.
    /// @param oldSize The older tree's leaf count; must be non-zero and below `newSize`.
    /// @param newSize The newer tree's leaf count.
    /// @param oldRoot The older tree's root.
    /// @param newRoot The newer tree's root.
    /// @param proof The consistency proof, nodes in the RFC's order.
    /// @return Whether the proof shows the older tree to be a prefix of the newer one.
    function verifyConsistency(
        uint256 oldSize,
        uint256 newSize,
        bytes32 oldRoot,
        bytes32 newRoot,
        bytes32[] calldata proof
    ) internal pure returns (bool) {
        // A bounds check reads clearest this way.
        // solhint-disable-next-line gas-strict-inequalities
        if (oldSize == 0 || oldSize >= newSize) return false;
        // Step 2: when the old tree is complete (a power of two), its root starts the path.
        bool oldIsComplete = oldSize & (oldSize - 1) == 0;
        uint256 next;
        bytes32 oldNode;
        if (oldIsComplete) {
            oldNode = oldRoot;
        } else {
            if (proof.length == 0) return false;
            oldNode = proof[0];
            next = 1;
        }
        bytes32 newNode = oldNode;
        // Steps 3-4.
        uint256 fn = oldSize - 1;
        uint256 sn = newSize - 1;
        while (fn & 1 == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        // Step 6.
        for (; next < proof.length; ++next) {
            if (sn == 0) return false;
            bytes32 node = proof[next];
            if (fn & 1 == 1 || fn == sn) {
                oldNode = Hashes.efficientKeccak256(node, oldNode);
                newNode = Hashes.efficientKeccak256(node, newNode);
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                newNode = Hashes.efficientKeccak256(newNode, node);
            }
            fn >>= 1;
            sn >>= 1;
        }
        // Step 7.
        return oldNode == oldRoot && newNode == newRoot && sn == 0;
    }
}
