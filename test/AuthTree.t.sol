// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AuthTree} from "../contracts/libraries/AuthTree.sol";

/// @notice Fuzz tests of the lean append-only Merkle tree in contracts/libraries/AuthTree.sol.
/// The reference model below is deliberately naive and independent of the library: it keeps all
/// leaves in memory and hashes level by level (`keccak256(left ‖ right)`), carrying an unpaired
/// last node up unchanged. No forge-std: plain `require`s, sizes bounded from the fuzz input.
contract AuthTreeTest {
    uint256 private constant MAX_LEAVES = 300;
    uint256 private constant MAX_LEAVES_PREFIX = 64;

    /// One frontier per test call, so no run can see another run's tree even if the runner
    /// does not reset state between fuzz runs.
    mapping(uint256 run => mapping(uint256 level => bytes32)) private _frontiers;
    uint256 private _runCount;

    // ------------------------------------------------------------------ harness

    /// Library `processProof` takes `bytes32[] calldata`: go through an external call so the
    /// memory-built proof arrives as calldata.
    function process(bytes32[] calldata proof, uint256 index, uint256 size, bytes32 leaf)
        external
        pure
        returns (bytes32)
    {
        return AuthTree.processProof(proof, index, size, leaf);
    }

    /// Library `verifyConsistency` takes `bytes32[] calldata` too.
    function consistent(uint256 oldSize, uint256 newSize, bytes32 oldRoot, bytes32 newRoot, bytes32[] calldata proof)
        external
        pure
        returns (bool)
    {
        return AuthTree.verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof);
    }

    function _freshFrontier() private returns (mapping(uint256 => bytes32) storage) {
        return _frontiers[++_runCount];
    }

    function _bound(uint256 x, uint256 min, uint256 max) private pure returns (uint256) {
        return min + (x % (max - min + 1));
    }

    function _leaves(uint256 seed, uint256 n) private pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] = keccak256(abi.encode("leaf", seed, i));
        }
    }

    /// Inserts `leaves` into `frontier` in order, the way GroupRegistry does (size = old count).
    function _insertAll(mapping(uint256 => bytes32) storage frontier, bytes32[] memory leaves) private {
        for (uint256 i; i < leaves.length; ++i) {
            AuthTree.insert(frontier, i, leaves[i]);
        }
    }

    function _hashPair(bytes32 left, bytes32 right) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(left, right));
    }

    /// Naive root of the first `n` leaves: zero when empty, level by level otherwise.
    function _naiveRoot(bytes32[] memory leaves, uint256 n) private pure returns (bytes32) {
        if (n == 0) return bytes32(0);
        bytes32[] memory nodes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            nodes[i] = leaves[i];
        }
        for (uint256 len = n; len > 1; len = (len + 1) / 2) {
            for (uint256 i; i < len / 2; ++i) {
                nodes[i] = _hashPair(nodes[2 * i], nodes[2 * i + 1]);
            }
            if (len % 2 == 1) nodes[len / 2] = nodes[len - 1];
        }
        return nodes[0];
    }

    /// Naive proof: the sibling at each level where the node has one, lowest level first.
    function _naiveProof(bytes32[] memory leaves, uint256 index) private pure returns (bytes32[] memory proof) {
        uint256 n = leaves.length;
        bytes32[] memory nodes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            nodes[i] = leaves[i];
        }
        proof = new bytes32[](256);
        uint256 count;
        for (uint256 len = n; len > 1; len = (len + 1) / 2) {
            uint256 sibling = index ^ 1;
            if (sibling < len) proof[count++] = nodes[sibling];
            for (uint256 i; i < len / 2; ++i) {
                nodes[i] = _hashPair(nodes[2 * i], nodes[2 * i + 1]);
            }
            if (len % 2 == 1) nodes[len / 2] = nodes[len - 1];
            index >>= 1;
        }
        assembly ("memory-safe") {
            mstore(proof, count)
        }
    }

    /// A built tree: leaves, naive root, and the library's root over the inserted frontier.
    function _build(uint256 seed, uint256 n) private returns (bytes32[] memory leaves, bytes32 expectedRoot) {
        leaves = _leaves(seed, n);
        mapping(uint256 => bytes32) storage frontier = _freshFrontier();
        _insertAll(frontier, leaves);
        expectedRoot = _naiveRoot(leaves, n);
        require(AuthTree.root(frontier, n) == expectedRoot, "library root differs from the naive root");
    }

    // ------------------------------------------------------------------ fixed cases

    function testEmptyTreeHasZeroRoot() public {
        require(AuthTree.root(_freshFrontier(), 0) == bytes32(0), "empty root is not zero");
    }

    function testSingleLeafIsItsOwnRoot() public {
        mapping(uint256 => bytes32) storage frontier = _freshFrontier();
        bytes32 leaf = keccak256("only leaf");
        AuthTree.insert(frontier, 0, leaf);
        require(AuthTree.root(frontier, 1) == leaf, "root of one leaf is not the leaf");
        require(this.process(new bytes32[](0), 0, 1, leaf) == leaf, "empty proof of a one-leaf tree");
    }

    function testThreeLeavesCarryTheUnpairedLeafUp() public {
        mapping(uint256 => bytes32) storage frontier = _freshFrontier();
        bytes32 a = keccak256("a");
        bytes32 b = keccak256("b");
        bytes32 c = keccak256("c");
        AuthTree.insert(frontier, 0, a);
        AuthTree.insert(frontier, 1, b);
        AuthTree.insert(frontier, 2, c);
        bytes32 expected = _hashPair(_hashPair(a, b), c);
        require(AuthTree.root(frontier, 3) == expected, "root of three leaves");
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = _hashPair(a, b);
        require(this.process(proof, 2, 3, c) == expected, "proof of the carried leaf");
    }

    // ------------------------------------------------------------------ fuzz: root

    function testFuzzRootMatchesNaiveRoot(uint256 seed, uint256 nSeed) public {
        _build(seed, _bound(nSeed, 1, MAX_LEAVES));
    }

    function testFuzzRootMatchesNaiveRootAfterEveryInsert(uint256 seed, uint256 nSeed) public {
        uint256 n = _bound(nSeed, 1, MAX_LEAVES_PREFIX);
        bytes32[] memory leaves = _leaves(seed, n);
        mapping(uint256 => bytes32) storage frontier = _freshFrontier();
        require(AuthTree.root(frontier, 0) == bytes32(0), "empty root is not zero");
        for (uint256 i; i < n; ++i) {
            AuthTree.insert(frontier, i, leaves[i]);
            require(AuthTree.root(frontier, i + 1) == _naiveRoot(leaves, i + 1), "prefix root differs");
        }
    }

    // ------------------------------------------------------------------ fuzz: proofs

    function testFuzzProofOfAnyLeafRecomputesTheRoot(uint256 seed, uint256 nSeed, uint256 indexSeed) public {
        uint256 n = _bound(nSeed, 1, MAX_LEAVES);
        (bytes32[] memory leaves, bytes32 expectedRoot) = _build(seed, n);
        uint256 index = indexSeed % n;
        bytes32[] memory proof = _naiveProof(leaves, index);
        require(proof.length <= 9, "proof longer than ceil(log2 300)");
        require(this.process(proof, index, n, leaves[index]) == expectedRoot, "valid proof rejected");
    }

    function testFuzzProofAtAWrongIndexGivesAnotherResult(uint256 seed, uint256 nSeed, uint256 indexSeed, uint256 shift)
        public
    {
        uint256 n = _bound(nSeed, 2, MAX_LEAVES);
        (bytes32[] memory leaves, bytes32 expectedRoot) = _build(seed, n);
        uint256 index = indexSeed % n;
        uint256 wrongIndex = (index + _bound(shift, 1, n - 1)) % n;
        bytes32[] memory proof = _naiveProof(leaves, index);
        require(this.process(proof, wrongIndex, n, leaves[index]) != expectedRoot, "wrong index accepted");
    }

    function testFuzzProofWithATamperedSiblingGivesAnotherResult(
        uint256 seed,
        uint256 nSeed,
        uint256 indexSeed,
        uint256 siblingSeed,
        uint8 bit
    ) public {
        uint256 n = _bound(nSeed, 2, MAX_LEAVES);
        (bytes32[] memory leaves, bytes32 expectedRoot) = _build(seed, n);
        uint256 index = indexSeed % n;
        bytes32[] memory proof = _naiveProof(leaves, index);
        require(proof.length > 0, "a tree of two or more leaves always has a sibling");
        proof[siblingSeed % proof.length] ^= bytes32(uint256(1) << bit);
        require(this.process(proof, index, n, leaves[index]) != expectedRoot, "tampered sibling accepted");
    }

    function testFuzzProofWithATamperedLeafGivesAnotherResult(uint256 seed, uint256 nSeed, uint256 indexSeed)
        public
    {
        uint256 n = _bound(nSeed, 1, MAX_LEAVES);
        (bytes32[] memory leaves, bytes32 expectedRoot) = _build(seed, n);
        uint256 index = indexSeed % n;
        bytes32[] memory proof = _naiveProof(leaves, index);
        require(this.process(proof, index, n, ~leaves[index]) != expectedRoot, "tampered leaf accepted");
    }

    function testFuzzProofWithAnExtraElementGivesZero(uint256 seed, uint256 nSeed, uint256 indexSeed, bytes32 extra)
        public
    {
        uint256 n = _bound(nSeed, 1, MAX_LEAVES);
        (bytes32[] memory leaves, bytes32 expectedRoot) = _build(seed, n);
        uint256 index = indexSeed % n;
        bytes32[] memory proof = _naiveProof(leaves, index);
        bytes32[] memory longer = new bytes32[](proof.length + 1);
        for (uint256 i; i < proof.length; ++i) {
            longer[i] = proof[i];
        }
        longer[proof.length] = extra;
        bytes32 result = this.process(longer, index, n, leaves[index]);
        require(result == bytes32(0), "over-long proof not rejected with zero");
        require(result != expectedRoot, "over-long proof accepted");
    }

    function testFuzzProofWithAMissingElementGivesZero(uint256 seed, uint256 nSeed, uint256 indexSeed, uint256 dropSeed)
        public
    {
        uint256 n = _bound(nSeed, 2, MAX_LEAVES);
        (bytes32[] memory leaves, bytes32 expectedRoot) = _build(seed, n);
        uint256 index = indexSeed % n;
        bytes32[] memory proof = _naiveProof(leaves, index);
        uint256 drop = dropSeed % proof.length;
        bytes32[] memory shorter = new bytes32[](proof.length - 1);
        for (uint256 i; i < shorter.length; ++i) {
            shorter[i] = proof[i < drop ? i : i + 1];
        }
        bytes32 result = this.process(shorter, index, n, leaves[index]);
        require(result == bytes32(0), "short proof not rejected with zero");
        require(result != expectedRoot, "short proof accepted");
    }

    function testFuzzIndexOutOfRangeGivesZero(uint256 seed, uint256 nSeed, uint256 indexSeed, uint256 beyond) public {
        uint256 n = _bound(nSeed, 1, MAX_LEAVES);
        (bytes32[] memory leaves, bytes32 expectedRoot) = _build(seed, n);
        uint256 index = indexSeed % n;
        bytes32[] memory proof = _naiveProof(leaves, index);
        // Any index >= n: n itself, or a larger one (up to 2^256 - 1).
        uint256 outOfRange = n + (beyond % (type(uint256).max - n + 1));
        bytes32 result = this.process(proof, outOfRange, n, leaves[index]);
        require(result == bytes32(0), "out-of-range index not rejected with zero");
        require(result != expectedRoot, "out-of-range index accepted");
        require(this.process(proof, n, n, leaves[index]) == bytes32(0), "index == size not rejected with zero");
    }

    // ------------------------------------------------------------------ consistency proofs (RFC 9162 §2.1.4)

    /// Naive MTH(D[start:end]) straight from RFC 9162 §2.1.1: split at the largest power of two below the width.
    function _mth(bytes32[] memory leaves, uint256 start, uint256 end) private pure returns (bytes32) {
        uint256 width = end - start;
        if (width == 1) return leaves[start];
        uint256 k = _split(width);
        return _hashPair(_mth(leaves, start, start + k), _mth(leaves, start + k, end));
    }

    function _split(uint256 width) private pure returns (uint256 k) {
        k = 1;
        while (k * 2 < width) k *= 2;
    }

    /// Naive SUBPROOF(m, D[start:end], complete) from RFC 9162 §2.1.4.1, appended to `out` from `count`.
    function _subproof(bytes32[] memory leaves, uint256 m, uint256 start, uint256 end, bool complete, bytes32[] memory out, uint256 count)
        private
        pure
        returns (uint256)
    {
        uint256 width = end - start;
        if (m == width) {
            if (!complete) out[count++] = _mth(leaves, start, end);
            return count;
        }
        uint256 k = _split(width);
        if (m <= k) {
            count = _subproof(leaves, m, start, start + k, complete, out, count);
            out[count++] = _mth(leaves, start + k, end);
        } else {
            count = _subproof(leaves, m - k, start + k, end, false, out, count);
            out[count++] = _mth(leaves, start, start + k);
        }
        return count;
    }

    function _consistencyProof(bytes32[] memory leaves, uint256 m, uint256 n) private pure returns (bytes32[] memory proof) {
        proof = new bytes32[](64);
        uint256 count = _subproof(leaves, m, 0, n, true, proof, 0);
        assembly ("memory-safe") {
            mstore(proof, count)
        }
    }

    function testConsistencyOfEveryPrefixOfSeventeenLeaves() public view {
        bytes32[] memory leaves = _leaves(17, 17);
        for (uint256 n = 2; n <= 17; ++n) {
            bytes32 newRoot = _mth(leaves, 0, n);
            for (uint256 m = 1; m < n; ++m) {
                bytes32[] memory proof = _consistencyProof(leaves, m, n);
                require(this.consistent(m, n, _mth(leaves, 0, m), newRoot, proof), "honest consistency proof rejected");
            }
        }
    }

    function testConsistencyRefusesEqualZeroAndShrinkingSizes() public view {
        bytes32[] memory leaves = _leaves(3, 4);
        bytes32 root = _mth(leaves, 0, 4);
        bytes32[] memory none = new bytes32[](0);
        require(!this.consistent(4, 4, root, root, none), "equal sizes accepted");
        require(!this.consistent(0, 4, bytes32(0), root, none), "zero old size accepted");
        require(!this.consistent(4, 3, root, _mth(leaves, 0, 3), none), "shrinking tree accepted");
        require(!this.consistent(3, 4, _mth(leaves, 0, 3), root, none), "empty proof for an incomplete old tree accepted");
    }

    function testFuzzConsistencyProofVerifies(uint256 seed, uint256 nSeed, uint256 mSeed) public view {
        uint256 n = _bound(nSeed, 2, MAX_LEAVES);
        uint256 m = _bound(mSeed, 1, n - 1);
        bytes32[] memory leaves = _leaves(seed, n);
        bytes32[] memory proof = _consistencyProof(leaves, m, n);
        require(proof.length <= 2 * 9, "proof longer than 2 ceil(log2 300)");
        require(this.consistent(m, n, _mth(leaves, 0, m), _mth(leaves, 0, n), proof), "honest consistency proof rejected");
    }

    function testFuzzConsistencyWithATamperedNodeFails(uint256 seed, uint256 nSeed, uint256 mSeed, uint256 nodeSeed, uint8 bit)
        public
        view
    {
        uint256 n = _bound(nSeed, 2, MAX_LEAVES);
        uint256 m = _bound(mSeed, 1, n - 1);
        bytes32[] memory leaves = _leaves(seed, n);
        bytes32[] memory proof = _consistencyProof(leaves, m, n);
        proof[nodeSeed % proof.length] ^= bytes32(uint256(1) << bit);
        require(!this.consistent(m, n, _mth(leaves, 0, m), _mth(leaves, 0, n), proof), "tampered node accepted");
    }

    function testFuzzConsistencyOfAnotherPrefixFails(uint256 seed, uint256 nSeed, uint256 mSeed, uint256 otherSeed) public view {
        uint256 n = _bound(nSeed, 3, MAX_LEAVES);
        uint256 m = _bound(mSeed, 1, n - 1);
        uint256 other = _bound(otherSeed, 1, n - 2);
        if (other >= m) ++other; // any old size but m
        bytes32[] memory leaves = _leaves(seed, n);
        bytes32[] memory proof = _consistencyProof(leaves, m, n);
        // The proof of m claimed for another old size, or for the old root of another size.
        require(!this.consistent(other, n, _mth(leaves, 0, other), _mth(leaves, 0, n), proof), "proof for another size accepted");
        require(!this.consistent(m, n, _mth(leaves, 0, other), _mth(leaves, 0, n), proof), "another old root accepted");
    }

    function testFuzzConsistencyWithAForkedHistoryFails(uint256 seed, uint256 nSeed, uint256 mSeed, uint256 forkSeed) public view {
        uint256 n = _bound(nSeed, 2, MAX_LEAVES);
        uint256 m = _bound(mSeed, 1, n - 1);
        bytes32[] memory leaves = _leaves(seed, n);
        bytes32[] memory proof = _consistencyProof(leaves, m, n);
        // Rewrite one leaf of the old prefix: the new tree no longer extends the old one.
        bytes32[] memory forked = _leaves(seed, n);
        forked[forkSeed % m] = ~forked[forkSeed % m];
        require(!this.consistent(m, n, _mth(leaves, 0, m), _mth(forked, 0, n), proof), "forked history accepted");
    }

    function testFuzzConsistencyWithAMissingOrExtraNodeFails(uint256 seed, uint256 nSeed, uint256 mSeed, bytes32 extra) public view {
        uint256 n = _bound(nSeed, 2, MAX_LEAVES);
        uint256 m = _bound(mSeed, 1, n - 1);
        bytes32[] memory leaves = _leaves(seed, n);
        bytes32[] memory proof = _consistencyProof(leaves, m, n);
        bytes32 oldRoot = _mth(leaves, 0, m);
        bytes32 newRoot = _mth(leaves, 0, n);
        bytes32[] memory longer = new bytes32[](proof.length + 1);
        for (uint256 i; i < proof.length; ++i) {
            longer[i] = proof[i];
        }
        longer[proof.length] = extra;
        require(!this.consistent(m, n, oldRoot, newRoot, longer), "extra node accepted");
        bytes32[] memory shorter = new bytes32[](proof.length - 1);
        for (uint256 i; i < shorter.length; ++i) {
            shorter[i] = proof[i];
        }
        require(!this.consistent(m, n, oldRoot, newRoot, shorter), "missing node accepted");
    }
}
