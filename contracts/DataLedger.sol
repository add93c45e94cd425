// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IDataLedger} from "./interfaces/IDataLedger.sol";
import {GroupRegistry} from "./GroupRegistry.sol";
import {BatchResults} from "./libraries/BatchResults.sol";
import {DeviceSignature} from "./libraries/DeviceSignature.sol";

/// @title DataLedger — signed data messages, device-to-device exchanges and batch anchors
/// @notice See {IDataLedger}. It shares the registry's storage and EIP-712 domain, so a data
/// message costs one read of the member record (account, revocation and nonce in one slot) and
/// one of the group, with no cross-contract call.
/// @custom:security-contact see SECURITY.md at the repository root (private disclosure to the maintainers)
abstract contract DataLedger is GroupRegistry, IDataLedger {
    using BatchResults for bytes;

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
    function recordDataBySig(DataMessage calldata message, bytes calldata signature) external {
        _tryRecordBySig(message, signature).revertIfFailed();
    }

    /// @inheritdoc IDataLedger
    function recordDataBatchBySig(SignedDataMessage[] calldata messages)
        external
        returns (BatchItemStatus[] memory statuses)
    {
        if (messages.length == 0) revert BatchEmpty();
        statuses = new BatchItemStatus[](messages.length);
        for (uint256 i; i < messages.length; ++i) {
            bytes memory failure = _tryRecordBySig(messages[i].message, messages[i].signature);
            if (failure.length != 0) {
                BatchItemStatus status = failure.isError(DataLedgerNonceUsed.selector)
                    ? BatchItemStatus.AlreadyApplied
                    : BatchItemStatus.Rejected;
                statuses[i] = status;
                emit BatchItemSkipped(i, status, failure);
            }
        }
    }

    /// @inheritdoc IDataLedger
    function recordData(bytes32 gid, bytes32 oid, bytes32 payloadHash, uint64 timestamp) external {
        Member storage member = _member(gid, oid);
        _activeMemberFailure(gid, oid, member).revertIfFailed();
        address device = member.account;
        if (device != msg.sender) revert DataLedgerWrongSender(msg.sender, device);
        emit DirectDataMessageRecorded(gid, device, oid, payloadHash, timestamp);
    }

    /// @inheritdoc IDataLedger
    function recordExchangeBySig(Exchange calldata exchange, bytes calldata signature) external {
        if (exchange.gid == exchange.receiverGid && exchange.oid == exchange.receiverOid) {
            revert DataLedgerSelfExchange(exchange.oid);
        }
        Member storage receiver = _member(exchange.receiverGid, exchange.receiverOid);
        _activeMemberFailure(exchange.receiverGid, exchange.receiverOid, receiver).revertIfFailed();
        (address sender, bytes memory failure) = _tryConsumeNonce(
            exchange.gid, exchange.oid, exchange.nonce, exchange.deadline, exchangeDigest(exchange), signature
        );
        failure.revertIfFailed();
        emit ExchangeRecorded(
            exchange.gid,
            sender,
            receiver.account,
            exchange.oid,
            exchange.receiverGid,
            exchange.receiverOid,
            exchange.nonce,
            exchange.payloadHash,
            exchange.timestamp,
            exchange.deadline
        );
    }

    /// @inheritdoc IDataLedger
    function setAnchorer(bytes32 gid, address anchorer, bool allowed) external {
        Group storage group = _requireActingMaster(gid);
        uint48 epoch = group.masterEpoch;
        _anchorers[gid][epoch][anchorer] = allowed;
        emit AnchorerSet(gid, msg.sender, anchorer, allowed, epoch);
    }

    /// @inheritdoc IDataLedger
    function anchorBatch(bytes32 gid, bytes32 root, uint32 messageCount) external {
        Group storage group = _group(gid);
        _masterPowersFailure(group, gid).revertIfFailed();
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
        if (_masterPowersFailure(group, gid).length != 0) return false;
        return anchorer == group.master || _anchorers[gid][group.masterEpoch][anchorer];
    }

    /// @inheritdoc IDataLedger
    function anchorOf(bytes32 gid, bytes32 root) external view returns (Anchor memory) {
        return _anchors[gid][root];
    }

    /// @inheritdoc IDataLedger
    function verifyAnchoredMessage(DataMessage calldata message, bytes32 root, bytes32[] calldata proof)
        public
        view
        returns (bool)
    {
        return _anchors[message.gid][root].anchoredAt != 0
            && MerkleProof.verifyCalldata(proof, root, dataMessageDigest(message));
    }

    /// @inheritdoc IDataLedger
    function verifyAnchoredSignedMessage(
        DataMessage calldata message,
        bytes calldata signature,
        bytes32 root,
        bytes32[] calldata proof
    ) external view returns (bool) {
        Member storage member = _member(message.gid, message.oid);
        address signer = DeviceSignature.tryRecover(dataMessageDigest(message), signature);
        return verifyAnchoredMessage(message, root, proof) && _isMemberRecord(member) && signer != address(0)
            && signer == member.account;
    }

    /// @dev A relayed data message: checks it, consumes its nonce and emits its event, or returns the broken rule.
    function _tryRecordBySig(DataMessage calldata message, bytes calldata signature)
        private
        returns (bytes memory failure)
    {
        address device;
        (device, failure) = _tryConsumeNonce(
            message.gid, message.oid, message.nonce, message.deadline, dataMessageDigest(message), signature
        );
        if (failure.length != 0) return failure;
        emit DataMessageRecorded(
            message.gid, device, message.oid, message.nonce, message.payloadHash, message.timestamp, message.deadline
        );
    }

    /// @dev Checks a relayed request of member (gid, oid) and consumes its nonce; returns the device,
    /// or the broken rule. A nonce already consumed is reported as such (the request took effect)
    /// once the signature shows that the member signed it.
    function _tryConsumeNonce(
        bytes32 gid,
        bytes32 oid,
        uint256 nonce,
        uint256 deadline,
        bytes32 digest,
        bytes calldata signature
    ) private returns (address device, bytes memory failure) {
        Member storage member = _member(gid, oid);
        failure = _activeMemberFailure(gid, oid, member);
        if (failure.length != 0) return (device, failure);
        device = member.account;
        address signer = DeviceSignature.tryRecover(digest, signature);
        if (signer == address(0)) return (device, abi.encodeWithSelector(RequestInvalidSignature.selector));
        if (signer != device) return (device, abi.encodeWithSelector(RequestWrongSigner.selector, signer, device));
        uint32 expected = member.nonce;
        if (nonce < expected) return (device, abi.encodeWithSelector(DataLedgerNonceUsed.selector, device, nonce));
        if (block.timestamp > deadline) return (device, abi.encodeWithSelector(RequestExpired.selector, deadline));
        if (nonce != expected) return (device, abi.encodeWithSelector(RequestInvalidNonce.selector, device, expected));
        if (expected == type(uint32).max) return (device, abi.encodeWithSelector(DataLedgerNoncesExhausted.selector, device));
        member.nonce = expected + 1;
    }
}
