// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISignedRequests} from "./ISignedRequests.sol";

/// @title IGroupRegistry — the identity plane of iomt-auth
/// @notice Virtual groups (clusters) with a Master (cluster head), Master-signed tokens and device
/// association (Elhachmi & Kobbane 2022, Alg. 1), the per-group auth chain and AuthTable Merkle
/// tree (Al Ahmed et al. 2022, Algs. 2–3), revocation, Master hand-over and take-over, and
/// hierarchical AuthTable paths.
///
/// Identifiers: a group id is derived on chain from its creator and a label
/// (`keccak256(abi.encode(chainid, registry, creator, label))`, see {groupId}), so nobody can take
/// the gid another party will create, and a token (signed over the gid) is bound to one registry on
/// one chain. Object ids are scoped to their group: `oid` names one identity inside `gid`, and no
/// other group's choices can collide with it. An address holds at most one identity in the registry.
///
/// Standing: a group's Master can use its powers (associate, revoke, set anchorers, anchor, hand
/// over) only while the group is active, its own membership in the parent group is not revoked, and
/// the parent group is active. A revoked cluster head is thus cut off at once; the parent's Master
/// can then take the group over ({takeOverGroup}) or deactivate it.
/// @custom:security-contact see SECURITY.md at the repository root (private disclosure to the maintainers)
interface IGroupRegistry is ISignedRequests {
    /// @notice A relayed association request, signed by the device as EIP-712 typed data
    /// `Association(bytes32 gid,bytes32 oid,address device,uint256 nonce,uint256 deadline)`.
    struct AssociationRequest {
        bytes32 gid; // the group to join
        bytes32 oid; // the device's object id in that group
        address device; // the device's address (pubAddr), the key that signs the request
        uint256 nonce; // always 0: a key associates once
        uint256 deadline; // unix time in seconds after which the request is refused
    }

    /// @notice One item of a relayed batch: the request, the device's EIP-712 signature over it and
    /// the Master's token for (gid, oid, device).
    struct SignedAssociation {
        AssociationRequest request; // what the device asks for
        bytes signature; // the device's EIP-712 signature over `request`: 65 bytes secp256k1 or 128 bytes P-256 (see DeviceSignature)
        bytes token; // the Master's signature over {tokenDigest}: 65-byte EIP-191, or ERC-1271 for a contract Master
    }

    /// @notice An AuthTable entry: the leaf is `keccak256(abi.encode(device, master, index, entryHash))`.
    struct AuthEntry {
        address device; // NodeID: the member's address
        address master; // CHID: the group's Master when the member joined
        uint256 index; // its leaf index, also its position in the group's auth chain
        bytes32 entryHash; // its auth-chain entry (the chain head right after it joined)
    }

    /// @notice One level of an AuthTable path: an entry of group `gid` and its Merkle proof in the
    /// group's tree as it was when it held `leafCount` leaves.
    struct AuthPathStep {
        bytes32 gid; // the group the entry belongs to
        AuthEntry entry; // the entry
        uint256 leafCount; // the tree size `proof` was built for
        bytes32[] proof; // siblings from the leaf up (at most ceil(log2 leafCount))
        // When `leafCount` is below the group's current size: an RFC 9162 consistency proof that the
        // tree of `leafCount` leaves is a prefix of the current tree. Empty otherwise.
        bytes32[] consistency;
    }

    /// @notice Everything a verifier needs about one group.
    // Returned in memory, never stored.
    // solhint-disable-next-line gas-struct-packing
    struct GroupInfo {
        address master; // the current Master (cluster head); zero for an unknown group
        address pendingMaster; // the proposed next Master, zero when none
        bytes32 masterOid; // the Master's oid: in this group for a root group, in the parent otherwise
        bytes32 parentGid; // zero for a root group
        uint8 level; // 0 for a root group, the parent's level + 1 otherwise
        bool active; // false once deactivated, for good
        bool masterRevoked; // the Master was revoked in the parent group and has lost its powers
        uint48 masterEpoch; // hand-overs so far; anchorer authorisations belong to one epoch
        uint32 leafCount; // members associated so far (revoked ones included)
        bytes32 chainHead; // the auth-chain head: the genesis anchor, then the last entry hash
        bytes32 root; // the AuthTable Merkle root over `leafCount` leaves
    }

    /// @notice A registered identity: a member device, or a root group's Master.
    // Returned in memory, never stored.
    // solhint-disable-next-line gas-struct-packing
    struct MemberInfo {
        address account; // its key's address; zero when nothing is registered
        bytes32 gid; // the group it belongs to (a root Master: the group it masters)
        bytes32 oid; // its object id in that group
        uint32 leafIndex; // its AuthTable leaf (0 for a root Master, which has none)
        bool isMember; // it has an AuthTable leaf in `gid`
        bool isMaster; // it masters a group (a root Master: `gid`; a member: a child of `gid`)
        bool revoked; // revoked by the group's Master, for good
        uint32 nonce; // its next nonce for relayed data messages and exchanges
    }

    /// @notice Result of {verifyAuthPath}; anything but `Valid` names the first broken rule.
    enum AuthPathStatus {
        Valid, // every step holds and the last group is the trusted root
        EmptyPath, // the path has no step
        UnknownGroup, // a step names a group that does not exist
        InactiveGroup, // a step's group was deactivated
        IndexOutOfRange, // a step's index is not below its leafCount
        InvalidProof, // a step's proof (or consistency proof) does not lead to the group's root
        Revoked, // a step's entry was revoked
        NotParentGroup, // a step's group is not the parent of the group below
        NotGroupMaster, // a step's entry is not the current Master of the group below
        UntrustedRoot, // the path stops below a root group, or at a root the caller does not trust
        Stale // a step was built for another tree size and carries no usable consistency proof: refresh it
    }

    /// @notice A virtual group was created.
    /// @param gid The new group, `groupId(master, label)`.
    /// @param master Its Master (cluster head), who created it.
    /// @param parentGid Its parent group, zero for a root group.
    /// @param label The creator's label the gid was derived from.
    /// @param masterOid The Master's object id (in the new group for a root group, in the parent otherwise).
    /// @param level Its depth: 0 for a root group, parent's + 1 for a child.
    /// @param genesis The genesis anchor its auth chain starts from.
    event GroupCreated(
        bytes32 indexed gid,
        address indexed master,
        bytes32 indexed parentGid,
        bytes32 label,
        bytes32 masterOid,
        uint8 level,
        bytes32 genesis
    );
    /// @notice A device joined a group: its auth-chain entry and AuthTable leaf were appended.
    /// @param gid The group.
    /// @param device The device's address (NodeID).
    /// @param oid The device's object id in the group.
    /// @param master The group's Master at association time (CHID).
    /// @param index The leaf index, also the entry's position in the group's auth chain.
    /// @param entryHash The new auth-chain head; the leaf is keccak256(abi.encode(device, master, index, entryHash)).
    event DeviceAssociated(
        bytes32 indexed gid, address indexed device, bytes32 indexed oid, address master, uint32 index, bytes32 entryHash
    );
    /// @notice A member was revoked by its group's Master.
    /// @param gid The group.
    /// @param device The revoked device.
    /// @param oid Its object id.
    /// @param index Its leaf index: bit `index % 255` of revocation word `index / 255` is now set.
    event DeviceRevoked(bytes32 indexed gid, address indexed device, bytes32 indexed oid, uint32 index);
    /// @notice A group's Master lost its powers because its membership in the parent group was revoked.
    /// @param gid The group it masters.
    /// @param master The revoked Master.
    event GroupMasterRevoked(bytes32 indexed gid, address indexed master);
    /// @notice A Master proposed a successor (zero: the proposal was cancelled).
    /// @param gid The group.
    /// @param master The current Master.
    /// @param candidate The proposed successor.
    event MasterHandOverProposed(bytes32 indexed gid, address indexed master, address indexed candidate);
    /// @notice A group changed Master, by hand-over or by the parent Master's take-over.
    /// @param gid The group.
    /// @param previousMaster The Master before.
    /// @param newMaster The Master now.
    /// @param masterOid The new Master's oid: for a root group the group's Master identity, which
    /// moves from the old key to the new one; for a child group the new Master's oid in the parent.
    /// @param masterEpoch The group's Master epoch from now on.
    /// @param by Who completed it: `newMaster` for a hand-over, the parent's Master for a take-over.
    event MasterHandedOver(
        bytes32 indexed gid,
        address indexed previousMaster,
        address indexed newMaster,
        bytes32 masterOid,
        uint48 masterEpoch,
        address by
    );
    /// @notice A group was deactivated for good.
    /// @param gid The group.
    /// @param by Its Master, or the parent's Master after the group's Master was revoked.
    event GroupDeactivated(bytes32 indexed gid, address indexed by);

    /// @dev A masterOid or an oid is zero; ids are non-zero.
    error GroupRegistryZeroId();
    /// @dev The caller already created a group with this label (`gid = groupId(caller, label)`).
    error GroupRegistryGidTaken(bytes32 gid);
    /// @dev Another identity of group `gid` already holds `oid`.
    error GroupRegistryOidTaken(bytes32 gid, bytes32 oid);
    /// @dev `account` already holds an identity in the registry (one per address, for good).
    error GroupRegistryAddressTaken(address account);
    /// @dev `device` is already member `oid` of `gid`: the association had taken effect before.
    error GroupRegistryAlreadyAssociated(bytes32 gid, bytes32 oid, address device);
    /// @dev `account` already masters a group (a member masters at most one child group).
    error GroupRegistryAlreadyMaster(address account);
    /// @dev No group `gid` exists.
    error GroupRegistryUnknownGroup(bytes32 gid);
    /// @dev Group `gid` was deactivated.
    error GroupRegistryGroupInactive(bytes32 gid);
    /// @dev Group `gid` holds 2^32 - 1 members, the most a uint32 leaf index addresses.
    error GroupRegistryGroupFull(bytes32 gid);
    /// @dev The parent group is at level 255; a child would not fit the uint8 level.
    error GroupRegistryHierarchyTooDeep(bytes32 parentGid);
    /// @dev `account` is not an active, unrevoked member of the parent group `parentGid`.
    error GroupRegistryNotParentMember(bytes32 parentGid, address account);
    /// @dev A child group's masterOid must be its creator's oid in the parent group (`expected`).
    error GroupRegistryMasterOidMismatch(bytes32 expected, bytes32 given);
    /// @dev The token is not a 65-byte low-s signature that recovers to an address (a Master that is an
    /// externally owned account).
    error GroupRegistryInvalidToken();
    /// @dev The token recovers to `recovered`, not to the group's current Master `master`; for a contract
    /// Master (ERC-1271), `recovered` is zero and the contract did not approve the token.
    error GroupRegistryTokenNotFromMaster(address recovered, address master);
    /// @dev The caller is not the Master of `gid`.
    error GroupRegistryNotMaster(bytes32 gid, address caller);
    /// @dev `oid` is not a member of `gid` (unknown, or a root Master, which has no leaf).
    error GroupRegistryNotMember(bytes32 gid, bytes32 oid);
    /// @dev Member `oid` of `gid` was revoked.
    error GroupRegistryMemberRevoked(bytes32 gid, bytes32 oid);
    /// @dev The Master of `gid` was revoked in the parent group and has lost every Master power.
    error GroupRegistryMasterRevoked(bytes32 gid, address master);
    /// @dev The parent group `parentGid` of `gid` was deactivated: the Master of `gid` has lost its powers.
    error GroupRegistryParentInactive(bytes32 gid, bytes32 parentGid);
    /// @dev `account` cannot master `gid`: a root group needs a key with no identity; a child group
    /// an active, unrevoked member of the active parent group that masters no group.
    error GroupRegistryIneligibleMaster(bytes32 gid, address account);
    /// @dev The caller is not the pending Master candidate of `gid`.
    error GroupRegistryNotPendingMaster(bytes32 gid, address caller);
    /// @dev `gid` is a root group: it has no parent whose Master could take it over.
    error GroupRegistryRootGroup(bytes32 gid);
    /// @dev The parent's Master acts on `gid` only after revoking its Master in the parent group.
    error GroupRegistryMasterNotRevoked(bytes32 gid);
    /// @dev The group's Master epoch reached 2^48 - 1 hand-overs.
    error GroupRegistryEpochsExhausted(bytes32 gid);
    /// @dev The revocation-word range [fromWord, fromWord + count) does not fit a uint256.
    error GroupRegistryWordRangeOverflow(uint256 fromWord, uint256 count);

    /// @notice Creates group `groupId(msg.sender, label)` with the caller as Master
    /// (Elhachmi & Kobbane 2022, Alg. 1, Master branch).
    /// @dev Genesis anchor = keccak256(abi.encode(parent chain head, parentGid, gid, master)), with a
    /// zero head and zero parentGid for a root group.
    ///
    /// Requirements:
    /// - `masterOid` is non-zero;
    /// - the caller has not created a group with this `label` before;
    /// - root group (`parentGid == 0`): the caller holds no identity; `masterOid` becomes its identity
    ///   in the new group;
    /// - child group: `parentGid` is active, the caller is an active unrevoked member of it that
    ///   masters no group, `masterOid` is its oid there, and the parent's level is below 255.
    ///
    /// Emits a {GroupCreated} event.
    /// @param label Any value the creator chooses; the gid is derived from it.
    /// @param masterOid The Master's object id.
    /// @param parentGid The parent group, or zero for a root group.
    /// @return gid The new group's id.
    function createGroup(bytes32 label, bytes32 masterOid, bytes32 parentGid) external returns (bytes32 gid);

    /// @notice Associates the caller as device `oid` of group `gid` (Elhachmi & Kobbane 2022, Alg. 1, Slave branch).
    /// @dev Requirements, checked in this order: `oid` non-zero; the group exists, is active and its
    /// Master has its powers; the caller is not already this member (else
    /// {GroupRegistryAlreadyAssociated}); `oid` is free in the group; the caller holds no identity;
    /// the token recovers to the group's current Master; the group is not full.
    ///
    /// Emits a {DeviceAssociated} event.
    /// @param gid The group to join.
    /// @param oid The device's object id in the group.
    /// @param token The Master's 65-byte EIP-191 signature over {tokenDigest}(gid, oid, caller), or, for
    /// a contract Master, whatever its ERC-1271 `isValidSignature` approves for that EIP-191 hash.
    function associate(bytes32 gid, bytes32 oid, bytes calldata token) external;

    /// @notice Associates a device on its behalf; anyone may submit (a Master or gateway pays gas).
    /// @dev Checked first: the device is not already this member ({GroupRegistryAlreadyAssociated}),
    /// the deadline, nonce 0, the device's signature; then every rule of {associate}.
    ///
    /// Example: `request = {gid: groupId(master, "ward-3"), oid: keccak256("pump-17"),
    /// device: 0xD3…, nonce: 0, deadline: now + 600}`, `signature` = the device's EIP-712 signature
    /// over it under the domain ("iomt-auth", "2", chainId, registry), `token` = the Master's.
    ///
    /// Emits a {DeviceAssociated} event.
    /// @param request The association request.
    /// @param signature The device's EIP-712 signature over `request`.
    /// @param token The Master's token for (gid, oid, device).
    function associateBySig(AssociationRequest calldata request, bytes calldata signature, bytes calldata token)
        external;

    /// @notice Associates many devices in one transaction. Valid items take effect; an item that
    /// breaks a rule is skipped, so that nobody can make the batch fail by front-running one item.
    /// @dev Each item is checked exactly as {associateBySig} checks it.
    ///
    /// Emits a {DeviceAssociated} event per applied item and a {BatchItemSkipped} event per other item.
    /// @param items Device-signed requests with their tokens; must not be empty ({BatchEmpty}).
    /// @return statuses Per item: `Applied`, `AlreadyApplied` (same device and oid) or `Rejected`.
    function associateBatchBySig(SignedAssociation[] calldata items)
        external
        returns (BatchItemStatus[] memory statuses);

    /// @notice Revokes member `oid` of group `gid`, for good: the key is burnt and the device re-enrols
    /// under a new key and oid. Every path through the entry breaks. When the member masters a child
    /// group, that group's Master loses its powers at once ({GroupMasterRevoked}).
    /// @dev Requirements: the caller is the group's Master with its powers; `oid` is an unrevoked member.
    ///
    /// Emits a {DeviceRevoked} event, and a {GroupMasterRevoked} event for a cluster head.
    /// @param gid The group.
    /// @param oid The member to revoke.
    function revoke(bytes32 gid, bytes32 oid) external;

    /// @notice Proposes `candidate` as the next Master of `gid` (zero cancels).
    /// @dev Requirements: the caller is the group's Master with its powers; a non-zero candidate is
    /// eligible: for a root group a key with no identity yet; for a child group an active, unrevoked
    /// member of the active parent group that masters no group.
    ///
    /// Emits a {MasterHandOverProposed} event.
    /// @param gid The group.
    /// @param candidate The successor, or zero.
    function proposeMaster(bytes32 gid, address candidate) external;

    /// @notice Completes a hand-over; only the proposed candidate, who must still be eligible, while
    /// the current Master still has its powers.
    /// @dev Anchorer authorisations lapse (the Master epoch moves on). A root group's Master identity
    /// (its oid) moves to the new key and the old key stays burnt.
    ///
    /// Emits a {MasterHandedOver} event.
    /// @param gid The group.
    function acceptMaster(bytes32 gid) external;

    /// @notice The parent group's Master takes over child group `gid` whose Master it revoked, and
    /// hands it to `newMaster`. Members enrolled before stay members: their paths hold again through
    /// the new Master, who can revoke any it does not vouch for.
    /// @dev Requirements: `gid` is an active child group whose Master was revoked; the caller is the
    /// parent's Master with its powers; `newMaster` is eligible as for {proposeMaster}.
    ///
    /// Emits a {MasterHandedOver} event.
    /// @param gid The child group.
    /// @param newMaster Its next Master.
    function takeOverGroup(bytes32 gid, address newMaster) external;

    /// @notice Deactivates `gid` for good: its members stop being authenticated and every path through
    /// it breaks. Its Master's key may master a group again (a child Master stays a member of its
    /// parent; a root Master's key stays burnt).
    /// @dev Requirements: the caller is the group's Master with its powers, or the parent group's
    /// Master (with its powers) after revoking the group's Master.
    ///
    /// Emits a {GroupDeactivated} event.
    /// @param gid The group.
    function deactivateGroup(bytes32 gid) external;

    /// @notice The id of the group `creator` creates (or created) with `label` in this registry:
    /// `keccak256(abi.encode(block.chainid, address(this), creator, label))`.
    /// @param creator The creating key.
    /// @param label The creator's label.
    /// @return The gid.
    function groupId(address creator, bytes32 label) external view returns (bytes32);

    /// @notice The address that names a P-256 device (a key in a secure element):
    /// `address(uint160(uint256(keccak256(abi.encodePacked(keccak256("iomt-auth/p256-device"), qx, qy)))))`.
    /// Tokens, association requests and nonces name it like any device; its signatures carry the key.
    /// @param qx The public key's x coordinate.
    /// @param qy The public key's y coordinate.
    /// @return The device's address.
    function p256Address(bytes32 qx, bytes32 qy) external pure returns (address);

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

    /// @notice The next nonce of member `oid` of `gid` for relayed data messages and exchanges.
    /// @param gid The group.
    /// @param oid The member.
    /// @return 0 before association (the association request's nonce), then the next unused nonce.
    function nonces(bytes32 gid, bytes32 oid) external view returns (uint256);

    /// @notice The group's full state, including its current AuthTable root.
    /// @param gid The group.
    /// @return info Zero fields for an unknown group.
    function groupInfo(bytes32 gid) external view returns (GroupInfo memory info);

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

    /// @notice The identity `oid` of group `gid`.
    /// @param gid The group.
    /// @param oid The object id.
    /// @return info Zero fields when none.
    function memberOf(bytes32 gid, bytes32 oid) external view returns (MemberInfo memory info);

    /// @notice The identity `account` holds in group `gid`.
    /// @param gid The group.
    /// @param account The address.
    /// @return info Zero fields when it holds none there.
    function memberByAccount(bytes32 gid, address account) external view returns (MemberInfo memory info);

    /// @notice The oid `account` registered under, in whichever group (the {DeviceAssociated} and
    /// {GroupCreated} events, indexed by address, name the group). A root Master's old key keeps the
    /// oid it handed over, as a burnt marker: check it with {memberByAccount}.
    /// @param account The address.
    /// @return The oid, or zero when the address never held an identity.
    function oidOf(address account) external view returns (bytes32);

    /// @notice True when `device` is the unrevoked member `oid` of the active group `gid`. This
    /// is the group-local rule; trust across the hierarchy is what {verifyAuthPath} checks.
    /// @param gid The group.
    /// @param oid The object id.
    /// @param device The address expected under `oid`.
    /// @return Whether it is authenticated.
    function isAuthenticated(bytes32 gid, bytes32 oid, address device) external view returns (bool);

    /// @notice Verifies an AuthTable path against current on-chain state, from a device (step 0)
    /// through each cluster head up to `trustedRootGid`. A step built when its group was smaller
    /// verifies with an RFC 9162 consistency proof to the current size, and is `Stale` without one.
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
