// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IDataLedger} from "./interfaces/IDataLedger.sol";
import {GroupRegistry} from "./GroupRegistry.sol";
import {CalldataSignature} from "./libraries/CalldataSignature.sol";

/// @title DataLedger — signed data messages, device-to-device exchanges and batch anchors
/// @notice See {IDataLedger}. It shares the registry's storage and EIP-712 domain, so a data
/// message costs one read of the member record (account, revocation and nonce in one slot) and
/// one of the group, with no cross-contract call.
abstract contract DataLedger is GroupRegistry, IDataLedger {
    // Hashed at compile time.
    // solhint-disable-next-line gas-small-strings
    bytes32 private constant DATA_MESSAGE_TYPEHASH = keccak256("DataMessage(bytes32 gid,bytes32 oid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)");
    // Hashed at compile time.
    // solhint-disable-next-line gas-small-strings
    bytes32 private constant EXCHANGE_TYPEHASH = keccak256("Exchange(bytes32 gid,bytes32 oid,bytes32 receiverGid,bytes32 receiverOid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)");

    mapping(bytes32 gid => mapping(bytes32 root => Anchor)) private _anchors;
    // Keyed by the group's Master epoch, so every hand-over voids the gateways of the Master before.
    mapping(bytes32 gid => mapping(uint256 masterEpoch => mapping(address anchorer => bool))) private _anchorers;

    /// @inheritdoc IDataLedger
    function recordData(DataMessage calldata message, bytes calldata signature) external {
        _recordSigned(message, signature);
    }

    /// @inheritdoc IDataLedger
    function recordDataBatch(SignedDataMessage[] calldata messages) external {
        if (messages.length == 0) revert DataLedgerEmptyBatch();
        for (uint256 i; i < messages.length; ++i) {
            _recordSigned(messages[i].message, messages[i].signature);
        }
    }

    /// @inheritdoc IDataLedger
    function recordDataDirect(bytes32 gid, bytes32 oid, bytes32 payloadHash, uint64 timestamp) external {
        address device = _requireActiveMember(gid, oid).account;
        if (device != msg.sender) revert DataLedgerWrongSender(msg.sender, device);
        emit DirectDataMessageRecorded(gid, device, payloadHash, timestamp);
    }

    /// @inheritdoc IDataLedger
    function recordExchange(Exchange calldata exchange, bytes calldata signature) external {
        if (exchange.oid == exchange.receiverOid) revert DataLedgerSelfExchange(exchange.oid);
        address receiver = _requireActiveMember(exchange.receiverGid, exchange.receiverOid).account;
        address sender = _consumeNonce(
            exchange.gid, exchange.oid, exchange.nonce, exchange.deadline, exchangeDigest(exchange), signature
        );
        emit ExchangeRecorded(
            exchange.gid,
            sender,
            receiver,
            exchange.oid,
            exchange.receiverGid,
            exchange.receiverOid,
            exchange.nonce,
            exchange.payloadHash,
            exchange.timestamp
        );
    }

    /// @inheritdoc IDataLedger
    function setAnchorer(bytes32 gid, address anchorer, bool allowed) external {
        Group storage group = _requireMaster(gid);
        if (!group.active) revert GroupRegistryGroupInactive(gid);
        _anchorers[gid][group.masterEpoch][anchorer] = allowed;
        emit AnchorerSet(gid, msg.sender, anchorer, allowed);
    }

    /// @inheritdoc IDataLedger
    function anchorBatch(bytes32 gid, bytes32 root, uint32 messageCount) external {
        Group storage group = _requireActiveGroup(gid);
        if (msg.sender != group.master && !_anchorers[gid][group.masterEpoch][msg.sender]) {
            revert DataLedgerNotAnchorer(gid, msg.sender);
        }
        if (root == bytes32(0)) revert DataLedgerZeroRoot();
        if (messageCount == 0) revert DataLedgerEmptyAnchor();
        Anchor storage anchor = _anchors[gid][root];
        if (anchor.anchoredAt != 0) revert DataLedgerRootAlreadyAnchored(gid, root);
        _anchors[gid][root] = Anchor(msg.sender, uint64(block.timestamp), messageCount);
        emit BatchAnchored(gid, root, msg.sender, messageCount);
    }

    /// @inheritdoc IDataLedger
    function dataMessageDigest(DataMessage calldata message) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    DATA_MESSAGE_TYPEHASH,
                    message.gid,
                    message.oid,
                    message.nonce,
                    message.payloadHash,
                    message.timestamp,
                    message.deadline
                )
            )
        );
    }

    /// @inheritdoc IDataLedger
    function exchangeDigest(Exchange calldata exchange) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    EXCHANGE_TYPEHASH,
                    exchange.gid,
                    exchange.oid,
                    exchange.receiverGid,
                    exchange.receiverOid,
                    exchange.nonce,
                    exchange.payloadHash,
                    exchange.timestamp,
                    exchange.deadline
                )
            )
        );
    }

    /// @inheritdoc IDataLedger
    function isAnchorer(bytes32 gid, address anchorer) external view returns (bool) {
        Group storage group = _group(gid);
        return group.active && (anchorer == group.master || _anchorers[gid][group.masterEpoch][anchorer]);
    }

    /// @inheritdoc IDataLedger
    function anchorOf(bytes32 gid, bytes32 root) external view returns (Anchor memory) {
        return _anchors[gid][root];
    }

    /// @inheritdoc IDataLedger
    function verifyAnchoredMessage(DataMessage calldata message, bytes32 root, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return _anchors[message.gid][root].anchoredAt != 0
            && MerkleProof.verifyCalldata(proof, root, dataMessageDigest(message));
    }

    function _recordSigned(DataMessage calldata message, bytes calldata signature) private {
        address device = _consumeNonce(
            message.gid, message.oid, message.nonce, message.deadline, dataMessageDigest(message), signature
        );
        emit DataMessageRecorded(message.gid, device, message.nonce, message.payloadHash, message.timestamp);
    }

    /// @dev Checks a relayed request of member (gid, oid) and consumes its nonce; returns the device.
    function _consumeNonce(
        bytes32 gid,
        bytes32 oid,
        uint256 nonce,
        uint256 deadline,
        bytes32 digest,
        bytes calldata signature
    ) private returns (address device) {
        if (block.timestamp > deadline) revert DataLedgerExpired(deadline);
        Member storage member = _requireActiveMember(gid, oid);
        device = member.account;
        uint32 expected = member.nonce;
        if (nonce != expected) revert DataLedgerInvalidNonce(device, expected);
        address signer = CalldataSignature.recover(digest, signature);
        if (signer == address(0)) revert DataLedgerInvalidSignature();
        if (signer != device) revert DataLedgerWrongSigner(signer, device);
        if (expected == type(uint32).max) revert DataLedgerNoncesExhausted(device);
        member.nonce = expected + 1;
    }
}
