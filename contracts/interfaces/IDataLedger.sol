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

    event DataMessageRecorded(
        bytes32 indexed gid,
        address indexed device,
        bytes32 indexed oid,
        uint256 nonce,
        bytes32 payloadHash,
        uint64 timestamp
    );
    event DirectDataMessageRecorded(
        bytes32 indexed gid, address indexed device, bytes32 indexed oid, bytes32 payloadHash, uint64 timestamp
    );
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
    event AnchorerSet(bytes32 indexed gid, address indexed master, address indexed anchorer, bool allowed);
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

    /// @notice Records a device-signed data message; anyone may relay it.
    /// @dev The signer must be the active member registered under (gid, oid), `nonce` its next
    /// nonce and `deadline` not passed.
    function recordData(DataMessage calldata message, bytes calldata signature) external;

    /// @notice Records many signed data messages in one transaction, all or nothing.
    function recordDataBatch(SignedDataMessage[] calldata messages) external;

    /// @notice Records a data message sent by the device itself (`msg.sender`), which the
    /// transaction's own signature and nonce authenticate; the device nonce is not used.
    function recordDataDirect(bytes32 gid, bytes32 oid, bytes32 payloadHash, uint64 timestamp) external;

    /// @notice Records a device-to-device exchange (paper 000, Algorithm 3): sender and receiver
    /// are active members, and the sender signed it; anyone may relay it.
    function recordExchange(Exchange calldata exchange, bytes calldata signature) external;

    /// @notice Lets `anchorer` (e.g. a gateway key) anchor batches for `gid`; only the Master.
    /// Authorisations belong to the Master that gave them and lapse on hand-over.
    function setAnchorer(bytes32 gid, address anchorer, bool allowed) external;

    /// @notice Anchors the Merkle root of `messageCount` data messages of `gid` that the Master or
    /// its gateway verified off chain. Leaves are {dataMessageDigest}s; pairs are hashed sorted
    /// (OpenZeppelin `MerkleProof`).
    function anchorBatch(bytes32 gid, bytes32 root, uint32 messageCount) external;

    /// @notice The EIP-712 digest a device signs for `message`; also the leaf of anchored batches.
    function dataMessageDigest(DataMessage calldata message) external view returns (bytes32);

    /// @notice The EIP-712 digest a sender signs for `exchange`.
    function exchangeDigest(Exchange calldata exchange) external view returns (bytes32);

    /// @notice Whether `anchorer` may anchor batches for `gid` under its current Master.
    function isAnchorer(bytes32 gid, address anchorer) external view returns (bool);

    /// @notice The anchor of `root` in `gid` (zero fields when not anchored).
    function anchorOf(bytes32 gid, bytes32 root) external view returns (Anchor memory);

    /// @notice True when `message` is in the anchored batch `root` of its group, by `proof`.
    function verifyAnchoredMessage(DataMessage calldata message, bytes32 root, bytes32[] calldata proof)
        external
        view
        returns (bool);
}
