// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISignedRequests} from "./ISignedRequests.sol";

/// @title IDataLedger — the data plane of iomt-auth
/// @notice Device-signed data messages (Elhachmi & Kobbane 2022, steps iv–vii), device-to-device
/// exchanges (ibid., Alg. 3) and Merkle anchoring of batches a Master verified off chain. Only
/// commitments reach the chain: `payloadHash` is a salted hash of the reading, never the reading.
/// Relayed entry points end in `BySig`; plain names are sent by the device itself.
/// @custom:security-contact see SECURITY.md at the repository root (private disclosure to the maintainers)
interface IDataLedger is ISignedRequests {
    /// @notice EIP-712 `DataMessage(bytes32 gid,bytes32 oid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)`.
    struct DataMessage {
        bytes32 gid; // the device's group
        bytes32 oid; // the device's object id in it
        uint256 nonce; // the device's next nonce (see {IGroupRegistry-nonces})
        bytes32 payloadHash; // the commitment to the off-chain reading
        uint64 timestamp; // the device's time of the reading, unix seconds
        uint64 deadline; // unix time in seconds after which the message is refused
    }

    /// @notice A data message with the device's EIP-712 signature.
    struct SignedDataMessage {
        DataMessage message; // the message
        bytes signature; // the device's 65-byte EIP-712 signature over it
    }

    /// @notice EIP-712 `Exchange(bytes32 gid,bytes32 oid,bytes32 receiverGid,bytes32 receiverOid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)`.
    struct Exchange {
        bytes32 gid; // the sender's group
        bytes32 oid; // the sender's object id
        bytes32 receiverGid; // the receiver's group
        bytes32 receiverOid; // the receiver's object id
        uint256 nonce; // the sender's next nonce, shared with its data messages
        bytes32 payloadHash; // the commitment to the off-chain payload
        uint64 timestamp; // the sender's time, unix seconds
        uint64 deadline; // unix time in seconds after which the exchange is refused
    }

    /// @notice An anchored batch root.
    struct Anchor {
        address anchorer; // the key that anchored it (the Master or an authorised gateway key)
        uint64 anchoredAt; // block timestamp of the anchoring; zero when not anchored
        uint32 messageCount; // the number of messages the anchorer declared
    }

    /// @notice A device-signed data message was recorded.
    /// @param gid The device's group.
    /// @param device The signer.
    /// @param oid The signer's object id.
    /// @param nonce The nonce it consumed.
    /// @param payloadHash The commitment to the off-chain payload.
    /// @param timestamp The device's timestamp of the reading.
    /// @param deadline The message's deadline; with the fields above it gives the signed digest.
    /// @dev Values, not lookup keys: as topics they would cost more and filter nothing.
    event DataMessageRecorded(bytes32 indexed gid, address indexed device, bytes32 oid, uint256 nonce, bytes32 payloadHash, uint64 timestamp, uint64 deadline); // solhint-disable-line gas-indexed-events
    /// @notice A data message sent by the device itself was recorded.
    /// @param gid The device's group.
    /// @param device The sender.
    /// @param oid The sender's object id.
    /// @param payloadHash The commitment to the off-chain payload.
    /// @param timestamp The device's timestamp of the reading.
    /// @dev Values, not lookup keys: as topics they would cost more and filter nothing.
    event DirectDataMessageRecorded(bytes32 indexed gid, address indexed device, bytes32 oid, bytes32 payloadHash, uint64 timestamp); // solhint-disable-line gas-indexed-events
    /// @notice A device-to-device exchange was recorded.
    /// @param gid The sender's group.
    /// @param sender The signing device.
    /// @param receiver The receiving device.
    /// @param oid The sender's object id.
    /// @param receiverGid The receiver's group.
    /// @param receiverOid The receiver's object id.
    /// @param nonce The sender nonce it consumed.
    /// @param payloadHash The commitment to the off-chain payload.
    /// @param timestamp The sender's timestamp.
    /// @param deadline The exchange's deadline; with the fields above it gives the signed digest.
    event ExchangeRecorded(
        bytes32 indexed gid,
        address indexed sender,
        address indexed receiver,
        bytes32 oid,
        bytes32 receiverGid,
        bytes32 receiverOid,
        uint256 nonce,
        bytes32 payloadHash,
        uint64 timestamp,
        uint64 deadline
    );
    /// @notice A Master allowed or disallowed an anchorer (e.g. its gateway's key).
    /// @param gid The group.
    /// @param master The Master that set it.
    /// @param anchorer The key.
    /// @param allowed Whether it may anchor.
    /// @param masterEpoch The Master epoch the authorisation belongs to; it lapses when the epoch moves on.
    event AnchorerSet(bytes32 indexed gid, address indexed master, address indexed anchorer, bool allowed, uint48 masterEpoch);
    /// @notice The Merkle root of a verified batch of data messages was anchored.
    /// @param gid The group.
    /// @param root The batch root.
    /// @param anchorer Who anchored it.
    /// @param messageCount The number of messages in the batch.
    event BatchAnchored(bytes32 indexed gid, bytes32 indexed root, address indexed anchorer, uint32 messageCount);

    /// @dev `sender` sent a direct data message under an oid registered to `device`.
    error DataLedgerWrongSender(address sender, address device);
    /// @dev `device` already consumed `nonce` (with the association, a data message or an exchange):
    /// the signed request it came with has taken effect. A device never signs two requests with one nonce.
    error DataLedgerNonceUsed(address device, uint256 nonce);
    /// @dev `caller` is neither the Master of `gid` nor a key its current Master authorised.
    error DataLedgerNotAnchorer(bytes32 gid, address caller);
    /// @dev A batch root is zero.
    error DataLedgerZeroRoot();
    /// @dev An anchor declares zero messages.
    error DataLedgerEmptyAnchor();
    /// @dev `root` is already anchored in `gid`.
    error DataLedgerRootAlreadyAnchored(bytes32 gid, bytes32 root);
    /// @dev An exchange names its sender `oid` as its receiver.
    error DataLedgerSelfExchange(bytes32 oid);
    /// @dev `device` used its last 32-bit nonce; it re-enrols under a new key.
    error DataLedgerNoncesExhausted(address device);

    /// @notice Records a device-signed data message; anyone may relay it.
    /// @dev Checked in this order: the group exists and is active; `oid` is an unrevoked member;
    /// the signature recovers to it; the nonce is not already used ({DataLedgerNonceUsed}); the
    /// deadline; the nonce is the next one; nonces are not exhausted.
    ///
    /// Example: `message = {gid, oid, nonce: nonces(gid, oid), payloadHash: keccak256(salt ‖ reading),
    /// timestamp: now, deadline: now + 300}` and the device's EIP-712 signature over it.
    ///
    /// Emits a {DataMessageRecorded} event.
    /// @param message The message.
    /// @param signature The device's 65-byte EIP-712 signature over it.
    function recordDataBySig(DataMessage calldata message, bytes calldata signature) external;

    /// @notice Records many signed data messages in one transaction. Valid messages are recorded;
    /// any other is skipped, so that nobody can make the batch fail by front-running one message.
    /// @dev Each message is checked exactly as {recordDataBySig} checks it, in batch order.
    ///
    /// Emits a {DataMessageRecorded} event per recorded message and a {BatchItemSkipped} event per other.
    /// @param messages The signed messages; must not be empty ({BatchEmpty}).
    /// @return statuses Per message: `Applied`, `AlreadyApplied` (its nonce was used) or `Rejected`.
    function recordDataBatchBySig(SignedDataMessage[] calldata messages)
        external
        returns (BatchItemStatus[] memory statuses);

    /// @notice Records a data message sent by the device itself (`msg.sender`), which the
    /// transaction's own signature and nonce authenticate; the device nonce is not used.
    /// @dev Requirements: the group exists and is active; `oid` is an unrevoked member; the caller is it.
    ///
    /// Emits a {DirectDataMessageRecorded} event.
    /// @param gid The device's group.
    /// @param oid The device's object id.
    /// @param payloadHash The commitment to the off-chain payload.
    /// @param timestamp The device's timestamp of the reading.
    function recordData(bytes32 gid, bytes32 oid, bytes32 payloadHash, uint64 timestamp) external;

    /// @notice Records a device-to-device exchange (Elhachmi & Kobbane 2022, Alg. 3): sender and
    /// receiver are distinct active members, and the sender signed it; anyone may relay it.
    /// @dev The receiver is checked first, then the sender as {recordDataBySig} checks a message.
    ///
    /// Emits an {ExchangeRecorded} event.
    /// @param exchange The exchange.
    /// @param signature The sender's 65-byte EIP-712 signature over it.
    function recordExchangeBySig(Exchange calldata exchange, bytes calldata signature) external;

    /// @notice Lets `anchorer` (e.g. a gateway key) anchor batches for `gid`. Authorisations belong
    /// to the Master that gave them and lapse on hand-over or take-over.
    /// @dev Requirements: the caller is the group's Master with its powers.
    ///
    /// Emits an {AnchorerSet} event.
    /// @param gid The group.
    /// @param anchorer The key.
    /// @param allowed Whether it may anchor.
    function setAnchorer(bytes32 gid, address anchorer, bool allowed) external;

    /// @notice Anchors the Merkle root of `messageCount` data messages of `gid` that the Master or
    /// its gateway verified off chain. Leaves are {dataMessageDigest}s; pairs are hashed sorted
    /// (OpenZeppelin `MerkleProof`).
    /// @dev Requirements: the group exists, is active and its Master has its powers; the caller is
    /// the Master or an anchorer of the current epoch; `root` is non-zero and new in this group;
    /// `messageCount` is non-zero.
    ///
    /// Emits a {BatchAnchored} event.
    /// @param gid The group.
    /// @param root The batch root.
    /// @param messageCount The number of messages.
    function anchorBatch(bytes32 gid, bytes32 root, uint32 messageCount) external;

    /// @notice The EIP-712 digest a device signs for `message`; also the leaf of anchored batches.
    /// @param message The message.
    /// @return The digest under the registry's domain.
    function dataMessageDigest(DataMessage calldata message) external view returns (bytes32);

    /// @notice The EIP-712 digest a sender signs for `exchange`.
    /// @param exchange The exchange.
    /// @return The digest under the registry's domain.
    function exchangeDigest(Exchange calldata exchange) external view returns (bytes32);

    /// @notice Whether `anchorer` may anchor batches for `gid` now: exactly the callers
    /// {anchorBatch} accepts.
    /// @param gid The group.
    /// @param anchorer The key.
    /// @return Whether {anchorBatch} would accept it as caller.
    function isAnchorer(bytes32 gid, address anchorer) external view returns (bool);

    /// @notice The anchor of `root` in `gid` (zero fields when not anchored).
    /// @param gid The group.
    /// @param root The batch root.
    /// @return Who anchored it, when, and how many messages it holds.
    function anchorOf(bytes32 gid, bytes32 root) external view returns (Anchor memory);

    /// @notice True when `message`'s digest is in the anchored batch `root` of its group, by `proof`.
    /// @dev This proves that an authorised key (the Master or its gateway) anchored the digest,
    /// not that the device signed it: the anchorer is trusted to have verified each signature. To
    /// prove the device's signature as well, use {verifyAnchoredSignedMessage}.
    /// @param message The message.
    /// @param root An anchored batch root of `message.gid`.
    /// @param proof The sorted-pair Merkle proof of the message's digest.
    /// @return Whether the root is anchored and the proof holds.
    function verifyAnchoredMessage(DataMessage calldata message, bytes32 root, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice Like {verifyAnchoredMessage}, and also that `signature` over the message recovers to
    /// the account registered as member (gid, oid). A member revoked since still verifies: a
    /// revocation does not unsign what the anchored batch already held.
    /// @param message The message.
    /// @param signature The device's 65-byte EIP-712 signature over it.
    /// @param root An anchored batch root of `message.gid`.
    /// @param proof The sorted-pair Merkle proof of the message's digest.
    /// @return Whether the root is anchored, the proof holds and the member signed the message.
    function verifyAnchoredSignedMessage(
        DataMessage calldata message,
        bytes calldata signature,
        bytes32 root,
        bytes32[] calldata proof
    ) external view returns (bool);
}
