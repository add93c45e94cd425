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
    // Returned in memory, never stored.
    // solhint-disable-next-line gas-struct-packing
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
    // Returned in memory, never stored.
    // solhint-disable-next-line gas-struct-packing
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

    /// @notice A virtual group was created.
    /// @param gid The new group.
    /// @param master Its Master (cluster head).
    /// @param parentGid Its parent group, zero for a root group.
    /// @param masterOid The Master's object id.
    /// @param level Its depth: 0 for a root group, parent's + 1 for a child.
    /// @param genesis The genesis anchor its auth chain starts from.
    event GroupCreated(
        bytes32 indexed gid,
        address indexed master,
        bytes32 indexed parentGid,
        bytes32 masterOid,
        uint8 level,
        bytes32 genesis
    );
    /// @notice A device joined a group: its auth-chain block and AuthTable leaf were appended.
    /// @param gid The group.
    /// @param device The device's address (NodeID).
    /// @param oid The device's object id.
    /// @param master The group's Master at association time (CHID).
    /// @param index The leaf index, also the block index in the group's auth chain.
    /// @param blockHash The new auth-chain head; the leaf is keccak256(abi.encode(device, master, index, blockHash)).
    event DeviceAssociated(
        bytes32 indexed gid, address indexed device, bytes32 indexed oid, address master, uint32 index, bytes32 blockHash
    );
    /// @notice A member was revoked by its group's Master.
    /// @param gid The group.
    /// @param device The revoked device.
    /// @param oid Its object id.
    /// @param index Its leaf index: bit `index % 255` of revocation word `index / 255` is now set.
    event DeviceRevoked(bytes32 indexed gid, address indexed device, bytes32 indexed oid, uint32 index);
    /// @notice A Master proposed a successor (zero: the proposal was cancelled).
    /// @param gid The group.
    /// @param master The current Master.
    /// @param candidate The proposed successor.
    event MasterHandOverProposed(bytes32 indexed gid, address indexed master, address indexed candidate);
    /// @notice A group changed Master.
    /// @param gid The group.
    /// @param previousMaster The Master before.
    /// @param newMaster The Master now.
    event MasterHandedOver(bytes32 indexed gid, address indexed previousMaster, address indexed newMaster);
    /// @notice A group was deactivated for good.
    /// @param gid The group.
    /// @param master The Master that deactivated it.
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
    /// @param gid The group.
    /// @param oid The member to revoke.
    function revoke(bytes32 gid, bytes32 oid) external;

    /// @notice Proposes `candidate` as the next Master of `gid` (zero cancels); only the Master.
    /// @param gid The group.
    /// @param candidate For a root group a key with no identity yet; for a child group an active
    /// member of the parent group that masters no group.
    function proposeMaster(bytes32 gid, address candidate) external;

    /// @notice Completes a hand-over; only the proposed candidate, who must still be eligible.
    /// @param gid The group.
    function acceptMaster(bytes32 gid) external;

    /// @notice Deactivates `gid` for good; only its Master. Its members stop being authenticated.
    /// @param gid The group.
    function deactivateGroup(bytes32 gid) external;

    /// @notice The token digest `keccak256(abi.encodePacked(gid, oid, device))` a Master signs (EIP-191).
    /// @param gid The group.
    /// @param oid The device's object id.
    /// @param device The device's address (pubAddr).
    /// @return The digest, before the EIP-191 prefix.
    function tokenDigest(bytes32 gid, bytes32 oid, address device) external pure returns (bytes32);

    /// @notice The EIP-712 digest a device signs for a relayed association.
    /// @param request The request.
    /// @return The digest under this registry's domain.
    function associationDigest(AssociationRequest calldata request) external view returns (bytes32);

    /// @notice The device's next nonce for relayed requests (association, data, exchange).
    /// @param device The device.
    /// @return 0 before association (which consumes it), then the next data-plane nonce.
    function nonces(address device) external view returns (uint256);

    /// @notice The group's full state, including its current AuthTable root.
    /// @param gid The group.
    /// @return info Zero fields for an unknown group.
    function groupInfo(bytes32 gid) external view returns (GroupInfo memory);

    /// @notice The group state an offline verifier needs: root, leaf count, chain head and the
    /// revocation words covering leaves [255·fromWord, 255·(fromWord+count)).
    /// @param gid The group.
    /// @param fromWord The first revocation word.
    /// @param count How many words.
    /// @return root The AuthTable root.
    /// @return leafCount The number of leaves.
    /// @return chainHead The auth-chain head.
    /// @return revocationWords Bit `i % 255` of word `i / 255` is set when leaf `i` is revoked;
    /// bit 255 only marks a word whose leaves exist.
    function groupState(bytes32 gid, uint256 fromWord, uint256 count)
        external
        view
        returns (bytes32 root, uint32 leafCount, bytes32 chainHead, uint256[] memory revocationWords);

    /// @notice The identity registered under `oid`.
    /// @param oid The object id.
    /// @return info Zero fields when none.
    function memberByOid(bytes32 oid) external view returns (MemberInfo memory);

    /// @notice The identity registered for `account`.
    /// @param account The address.
    /// @return info Zero fields when none.
    function memberByAddress(address account) external view returns (MemberInfo memory);

    /// @notice True when `device` is the unrevoked member `oid` of the active group `gid`. This
    /// is the group-local rule; trust across the hierarchy is what {verifyAuthPath} checks.
    /// @param gid The group.
    /// @param oid The object id.
    /// @param device The address expected under `oid`.
    /// @return Whether it is authenticated.
    function isAuthenticated(bytes32 gid, bytes32 oid, address device) external view returns (bool);

    /// @notice Verifies an AuthTable path against current on-chain state, from a device (step 0)
    /// through each cluster head up to `trustedRootGid`.
    /// @param path Step 0 is the device's entry; step k+1 the entry of step k's group's Master
    /// in the parent group; the last step is in a root group.
    /// @param trustedRootGid The root group the caller trusts.
    /// @return status `Valid`, or the first broken rule.
    /// @return failedStep The index of the step that broke it (0 when valid).
    function verifyAuthPath(AuthPathStep[] calldata path, bytes32 trustedRootGid)
        external
        view
        returns (AuthPathStatus status, uint256 failedStep);
}
