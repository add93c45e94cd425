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
}
