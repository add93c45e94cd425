// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IDataLedger — the data plane of iomt-auth
/// @notice Device-signed data messages (paper 000, steps iv–vii), device-to-device exchanges
/// (paper 000, Algorithm 3) and Merkle anchoring of batches a Master verified off chain.
/// Only hashes reach the chain; raw medical data never does.
interface IDataLedger {
    /// @notice EIP-712 `DataMessage(bytes32 gid,bytes32 oid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)`.
    struct DataMessage {
        bytes32 gid;
        bytes32 oid;
        uint256 nonce;
        bytes32 payloadHash;
        uint64 timestamp;
        uint64 deadline;
    }

    /// @notice A data message with the device's EIP-712 signature.
    struct SignedDataMessage {
        DataMessage message;
        bytes signature;
    }

    /// @notice EIP-712 `Exchange(bytes32 gid,bytes32 oid,bytes32 receiverGid,bytes32 receiverOid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)`.
    struct Exchange {
        bytes32 gid;
        bytes32 oid;
        bytes32 receiverGid;
        bytes32 receiverOid;
        uint256 nonce;
        bytes32 payloadHash;
        uint64 timestamp;
        uint64 deadline;
    }

    /// @notice An anchored batch root.
    struct Anchor {
        address anchorer;
        uint64 anchoredAt;
        uint32 messageCount;
    }

    /// @notice A device-signed data message was recorded.
    /// @param gid The device's group.
    /// @param device The signer (its oid is {IGroupRegistry-memberByAddress}'s).
    /// @param nonce The nonce it consumed.
    /// @param payloadHash The hash of the off-chain payload.
    /// @param timestamp The device's timestamp of the reading.
    /// @dev Nonce and timestamp are values, not lookup keys: as topics they would cost more and filter nothing.
    event DataMessageRecorded(bytes32 indexed gid, address indexed device, uint256 nonce, bytes32 payloadHash, uint64 timestamp); // solhint-disable-line gas-indexed-events
    /// @notice A data message sent by the device itself was recorded.
    /// @param gid The device's group.
    /// @param device The sender (its oid is {IGroupRegistry-memberByAddress}'s).
    /// @param payloadHash The hash of the off-chain payload.
    /// @param timestamp The device's timestamp of the reading.
    /// @dev The timestamp is a value, not a lookup key: as a topic it would cost more and filter nothing.
    event DirectDataMessageRecorded(bytes32 indexed gid, address indexed device, bytes32 payloadHash, uint64 timestamp); // solhint-disable-line gas-indexed-events
    /// @notice A device-to-device exchange was recorded.
    /// @param gid The sender's group.
    /// @param sender The signing device.
    /// @param receiver The receiving device.
    /// @param oid The sender's object id.
    /// @param receiverGid The receiver's group.
    /// @param receiverOid The receiver's object id.
    /// @param nonce The sender nonce it consumed.
    /// @param payloadHash The hash of the off-chain payload.
    /// @param timestamp The sender's timestamp.
    event ExchangeRecorded(
        bytes32 indexed gid,
        address indexed sender,
        address indexed receiver,
        bytes32 oid,
        bytes32 receiverGid,
        bytes32 receiverOid,
        uint256 nonce,
        bytes32 payloadHash,
        uint64 timestamp
    );
    /// @notice A Master allowed or disallowed an anchorer (e.g. its gateway's key).
    /// @param gid The group.
    /// @param master The Master that set it.
    /// @param anchorer The key.
    /// @param allowed Whether it may anchor.
    event AnchorerSet(bytes32 indexed gid, address indexed master, address indexed anchorer, bool allowed);
    /// @notice The Merkle root of a verified batch of data messages was anchored.
    /// @param gid The group.
    /// @param root The batch root.
    /// @param anchorer Who anchored it.
    /// @param messageCount The number of messages in the batch.
    event BatchAnchored(bytes32 indexed gid, bytes32 indexed root, address indexed anchorer, uint32 messageCount);

    error DataLedgerEmptyBatch();
    error DataLedgerExpired(uint256 deadline);
    error DataLedgerInvalidNonce(address device, uint256 expected);
    error DataLedgerInvalidSignature();
    error DataLedgerWrongSigner(address recovered, address device);
    error DataLedgerWrongSender(address sender, address device);
    error DataLedgerNotAnchorer(bytes32 gid, address caller);
    error DataLedgerZeroRoot();
    error DataLedgerEmptyAnchor();
    error DataLedgerRootAlreadyAnchored(bytes32 gid, bytes32 root);
    error DataLedgerSelfExchange(bytes32 oid);
    error DataLedgerNoncesExhausted(address device);

    /// @notice Records a device-signed data message; anyone may relay it.
    /// @dev The signer must be the active member registered under (gid, oid), `nonce` its next
    /// nonce and `deadline` not passed.
    /// @param message The message.
    /// @param signature The device's 65-byte EIP-712 signature over it.
    function recordData(DataMessage calldata message, bytes calldata signature) external;

    /// @notice Records many signed data messages in one transaction, all or nothing.
    /// @param messages The signed messages; must not be empty.
    function recordDataBatch(SignedDataMessage[] calldata messages) external;

    /// @notice Records a data message sent by the device itself (`msg.sender`), which the
    /// transaction's own signature and nonce authenticate; the device nonce is not used.
    /// @param gid The device's group.
    /// @param oid The device's object id.
    /// @param payloadHash The hash of the off-chain payload.
    /// @param timestamp The device's timestamp of the reading.
    function recordDataDirect(bytes32 gid, bytes32 oid, bytes32 payloadHash, uint64 timestamp) external;

    /// @notice Records a device-to-device exchange (paper 000, Algorithm 3): sender and receiver
    /// are distinct active members, and the sender signed it; anyone may relay it.
    /// @param exchange The exchange.
    /// @param signature The sender's 65-byte EIP-712 signature over it.
    function recordExchange(Exchange calldata exchange, bytes calldata signature) external;

    /// @notice Lets `anchorer` (e.g. a gateway key) anchor batches for the active group `gid`; only
    /// the Master. Authorisations belong to the Master that gave them and lapse on hand-over.
    /// @param gid The group.
    /// @param anchorer The key.
    /// @param allowed Whether it may anchor.
    function setAnchorer(bytes32 gid, address anchorer, bool allowed) external;

    /// @notice Anchors the Merkle root of `messageCount` data messages of `gid` that the Master or
    /// its gateway verified off chain. Leaves are {dataMessageDigest}s; pairs are hashed sorted
    /// (OpenZeppelin `MerkleProof`).
    /// @param gid The group.
    /// @param root The batch root; non-zero, not anchored before in this group.
    /// @param messageCount The number of messages; non-zero.
    function anchorBatch(bytes32 gid, bytes32 root, uint32 messageCount) external;

    /// @notice The EIP-712 digest a device signs for `message`; also the leaf of anchored batches.
    /// @param message The message.
    /// @return The digest under the registry's domain.
    function dataMessageDigest(DataMessage calldata message) external view returns (bytes32);

    /// @notice The EIP-712 digest a sender signs for `exchange`.
    /// @param exchange The exchange.
    /// @return The digest under the registry's domain.
    function exchangeDigest(Exchange calldata exchange) external view returns (bytes32);

    /// @notice Whether `anchorer` may anchor batches for `gid` now: the group is active and it is
    /// the Master or a key the current Master authorised.
    /// @param gid The group.
    /// @param anchorer The key.
    /// @return Whether {anchorBatch} would accept it as caller.
    function isAnchorer(bytes32 gid, address anchorer) external view returns (bool);

    /// @notice The anchor of `root` in `gid` (zero fields when not anchored).
    /// @param gid The group.
    /// @param root The batch root.
    /// @return Who anchored it, when, and how many messages it holds.
    function anchorOf(bytes32 gid, bytes32 root) external view returns (Anchor memory);

    /// @notice True when `message` is in the anchored batch `root` of its group, by `proof`.
    /// @param message The message.
    /// @param root An anchored batch root of `message.gid`.
    /// @param proof The sorted-pair Merkle proof of the message's digest.
    /// @return Whether the root is anchored and the proof holds.
    function verifyAnchoredMessage(DataMessage calldata message, bytes32 root, bytes32[] calldata proof)
        external
        view
        returns (bool);
}
