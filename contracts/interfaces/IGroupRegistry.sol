// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IGroupRegistry — the identity plane of iomt-auth
/// @notice Virtual groups (clusters) with a Master (cluster head), Master-signed tokens, device
/// association (paper 000, Algorithm 1), the per-group auth chain and AuthTable Merkle tree
/// (paper 003, Algorithms 2–3), revocation, Master hand-over and hierarchical AuthTable paths.
interface IGroupRegistry {
    /// @notice A relayed association request, signed by the device as EIP-712 typed data
    /// `Association(bytes32 gid,bytes32 oid,address device,uint256 nonce,uint256 deadline)`.
    struct AssociationRequest {
        bytes32 gid;
        bytes32 oid;
        address device;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice One item of a relayed batch: the request, the device's EIP-712 signature over it and
    /// the Master's token for (gid, oid, device).
    struct SignedAssociation {
        AssociationRequest request;
        bytes signature;
        bytes token;
    }

    /// @notice An AuthTable entry: the leaf preimage `keccak256(abi.encode(device, master, index, blockHash))`.
    struct AuthEntry {
        address device;
        address master;
        uint256 index;
        bytes32 blockHash;
    }

    /// @notice One level of an AuthTable path: an entry of group `gid` and its Merkle proof.
    struct AuthPathStep {
        bytes32 gid;
        AuthEntry entry;
        bytes32[] proof;
    }

    /// @notice Everything a verifier needs about one group.
    struct GroupInfo {
        address master;
        address pendingMaster;
        bytes32 masterOid;
        bytes32 parentGid;
        uint8 level;
        bool active;
        uint32 leafCount;
        bytes32 chainHead;
        bytes32 root;
    }

    /// @notice A registered identity (a member device, or a root group's Master).
    struct MemberInfo {
        address account;
        bytes32 gid;
        bytes32 oid;
        uint32 leafIndex;
        bool isMember;
        bool isMaster;
        bool revoked;
        uint32 nonce;
    }

    /// @notice Result of {verifyAuthPath}; anything but `Valid` names the first broken rule.
    enum AuthPathStatus {
        Valid,
        EmptyPath,
        UnknownGroup,
        InactiveGroup,
        IndexOutOfRange,
        InvalidProof,
        Revoked,
        NotParentGroup,
        NotGroupMaster,
        UntrustedRoot
    }

    event GroupCreated(
        bytes32 indexed gid,
        address indexed master,
        bytes32 indexed parentGid,
        bytes32 masterOid,
        uint8 level,
        bytes32 genesis
    );
    event DeviceAssociated(
        bytes32 indexed gid,
        address indexed device,
        bytes32 indexed oid,
        address master,
        uint32 index,
        bytes32 blockHash,
        bytes32 leaf
    );
    event DeviceRevoked(bytes32 indexed gid, address indexed device, bytes32 indexed oid, uint32 index);
    event MasterHandOverProposed(bytes32 indexed gid, address indexed master, address indexed candidate);
    event MasterHandedOver(bytes32 indexed gid, address indexed previousMaster, address indexed newMaster);
    event GroupDeactivated(bytes32 indexed gid, address indexed master);

    error GroupRegistryZeroId();
    error GroupRegistryGidTaken(bytes32 gid);
    error GroupRegistryOidTaken(bytes32 oid);
    error GroupRegistryAddressTaken(address account);
    error GroupRegistryAlreadyMaster(address account);
    error GroupRegistryUnknownGroup(bytes32 gid);
    error GroupRegistryGroupInactive(bytes32 gid);
    error GroupRegistryGroupFull(bytes32 gid);
    error GroupRegistryHierarchyTooDeep(bytes32 parentGid);
    error GroupRegistryNotParentMember(bytes32 parentGid, address account);
    error GroupRegistryMasterOidMismatch(bytes32 expected, bytes32 given);
    error GroupRegistryInvalidToken();
    error GroupRegistryTokenNotFromMaster(address recovered, address master);
    error GroupRegistryExpiredRequest(uint256 deadline);
    error GroupRegistryInvalidNonce(address device, uint256 expected);
    error GroupRegistryInvalidSignature();
    error GroupRegistryWrongSigner(address recovered, address device);
    error GroupRegistryEmptyBatch();
    error GroupRegistryNotMaster(bytes32 gid, address caller);
    error GroupRegistryNotMember(bytes32 gid, bytes32 oid);
    error GroupRegistryMemberRevoked(bytes32 gid, bytes32 oid);
    error GroupRegistryIneligibleMaster(bytes32 gid, address account);
    error GroupRegistryNotPendingMaster(bytes32 gid, address caller);

    /// @notice Creates virtual group `gid` with the caller as Master (paper 000, Algorithm 1, Master branch).
    /// @dev Root group (`parentGid == 0`): permissionless; `masterOid` must be unused and becomes the
    /// caller's identity. Child group: the caller must be an active member of `parentGid` and
    /// `masterOid` must be its own oid. Genesis anchor = keccak256(abi.encode(parent chain head,
    /// parentGid, gid, master)), with a zero head and gid for root groups.
    /// @param gid New group id, non-zero and unused.
    /// @param masterOid The Master's object id.
    /// @param parentGid The parent group, or zero for a root group.
    function createGroup(bytes32 gid, bytes32 masterOid, bytes32 parentGid) external;

    /// @notice Associates the caller as device `oid` of group `gid` (paper 000, Algorithm 1, Slave branch).
    /// @param gid The group to join; it must exist and be active.
    /// @param oid The device's object id, non-zero and unused across the registry.
    /// @param token The Master's 65-byte EIP-191 signature over {tokenDigest}(gid, oid, caller).
    function associate(bytes32 gid, bytes32 oid, bytes calldata token) external;

    /// @notice Associates a device on its behalf; anyone may submit (a Master or gateway pays gas).
    /// @param request The association request; `nonce` must be {nonces}(device), `deadline` not passed.
    /// @param signature The device's EIP-712 signature over `request`.
    /// @param token The Master's token for (gid, oid, device).
    function associateFor(AssociationRequest calldata request, bytes calldata signature, bytes calldata token)
        external;

    /// @notice Associates many devices in one transaction, all or nothing: the first invalid item
    /// reverts the whole batch with that item's error (which names its oid or device).
    /// @param items Device-signed requests with their tokens; must not be empty.
    function associateBatch(SignedAssociation[] calldata items) external;

    /// @notice Revokes member `oid` of group `gid`; only the group's Master. Final: the key is
    /// burnt and the device re-enrols under a new key and oid. Also breaks every path through it.
    function revoke(bytes32 gid, bytes32 oid) external;

    /// @notice Proposes `candidate` as the next Master of `gid` (zero cancels); only the Master.
    function proposeMaster(bytes32 gid, address candidate) external;

    /// @notice Completes a hand-over; only the proposed candidate, who must still be eligible.
    function acceptMaster(bytes32 gid) external;

    /// @notice Deactivates `gid` for good; only its Master. Its members stop being authenticated.
    function deactivateGroup(bytes32 gid) external;

    /// @notice The token digest `keccak256(abi.encodePacked(gid, oid, device))` a Master signs (EIP-191).
    function tokenDigest(bytes32 gid, bytes32 oid, address device) external pure returns (bytes32);

    /// @notice The EIP-712 digest a device signs for a relayed association.
    function associationDigest(AssociationRequest calldata request) external view returns (bytes32);

    /// @notice The device's next nonce for relayed requests (association, data, exchange).
    function nonces(address device) external view returns (uint256);

    /// @notice The group's full state, including its current AuthTable root.
    function groupInfo(bytes32 gid) external view returns (GroupInfo memory);

    /// @notice The group state an offline verifier needs: root, leaf count, chain head and the
    /// revocation words covering leaves [256·fromWord, 256·(fromWord+count)).
    function groupState(bytes32 gid, uint256 fromWord, uint256 count)
        external
        view
        returns (bytes32 root, uint32 leafCount, bytes32 chainHead, uint256[] memory revocationWords);

    /// @notice The identity registered under `oid`.
    function memberByOid(bytes32 oid) external view returns (MemberInfo memory);

    /// @notice The identity registered for `account`.
    function memberByAddress(address account) external view returns (MemberInfo memory);

    /// @notice True when `device` is the unrevoked member `oid` of the active group `gid`.
    function isAuthenticated(bytes32 gid, bytes32 oid, address device) external view returns (bool);

    /// @notice Verifies an AuthTable path against current on-chain state, from a device (step 0)
    /// through each cluster head up to `trustedRootGid`.
    /// @return status `Valid`, or the first broken rule.
    /// @return failedStep The index of the step that broke it (0 when valid).
    function verifyAuthPath(AuthPathStep[] calldata path, bytes32 trustedRootGid)
        external
        view
        returns (AuthPathStatus status, uint256 failedStep);
}
