// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IAggregateVerifier} from "./interfaces/IAggregateVerifier.sol";
import {IDataLedger} from "./interfaces/IDataLedger.sol";
import {IGroupRegistry} from "./interfaces/IGroupRegistry.sol";

/// @title AggregateVerifier — hierarchical anchoring's on-chain check
/// @notice See {IAggregateVerifier}. No state but the registry's address, no owner.
/// @custom:security-contact see SECURITY.md at the repository root (private disclosure to the maintainers)
contract AggregateVerifier is IAggregateVerifier {
    // The domain tag of aggregate leaves; hashed at compile time.
    // solhint-disable-next-line gas-small-strings
    bytes32 private constant AGGREGATE_LEAF_TYPEHASH = keccak256("AggregateLeaf(bytes32 gid,bytes32 batchRoot,uint32 messageCount)");

    address private immutable _REGISTRY;

    /// @notice Binds the verifier to one registry, for good.
    /// @param registry_ The registry (an `IomtRegistry`) whose anchors and hierarchy are read.
    constructor(address registry_) {
        if (registry_ == address(0)) revert AggregateVerifierZeroRegistry();
        _REGISTRY = registry_;
    }

    /// @inheritdoc IAggregateVerifier
    function registry() external view returns (address) {
        return _REGISTRY;
    }

    /// @inheritdoc IAggregateVerifier
    function verifyAggregatedMessage(IDataLedger.DataMessage calldata message, AggregatePath calldata path)
        external
        view
        returns (bool)
    {
        if (IDataLedger(_REGISTRY).anchorOf(path.aggregateGid, path.aggregateRoot).anchoredAt == 0) return false;
        if (!isSelfOrAncestor(path.aggregateGid, message.gid)) return false;
        return MerkleProof.verifyCalldata(path.batchProof, path.batchRoot, IDataLedger(_REGISTRY).dataMessageDigest(message))
            && MerkleProof.verifyCalldata(
                path.aggregateProof, path.aggregateRoot, aggregateLeaf(message.gid, path.batchRoot, path.batchMessageCount)
            );
    }

    /// @inheritdoc IAggregateVerifier
    function aggregateLeaf(bytes32 gid, bytes32 batchRoot, uint32 messageCount) public pure returns (bytes32) {
        return keccak256(abi.encode(AGGREGATE_LEAF_TYPEHASH, gid, batchRoot, messageCount));
    }

    /// @inheritdoc IAggregateVerifier
    function isSelfOrAncestor(bytes32 ancestor, bytes32 gid) public view returns (bool) {
        uint8 target = IGroupRegistry(_REGISTRY).groupInfo(ancestor).level;
        IGroupRegistry.GroupInfo memory group = IGroupRegistry(_REGISTRY).groupInfo(gid);
        while (group.level > target) {
            gid = group.parentGid;
            group = IGroupRegistry(_REGISTRY).groupInfo(gid);
        }
        return gid == ancestor;
    }
}
