// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IGroupRegistry} from "./interfaces/IGroupRegistry.sol";
import {AuthTable} from "./libraries/AuthTable.sol";
import {AuthTree} from "./libraries/AuthTree.sol";
import {BatchResults} from "./libraries/BatchResults.sol";
import {CalldataSignature} from "./libraries/CalldataSignature.sol";
import {ContractSignature} from "./libraries/ContractSignature.sol";
import {DeviceSignature} from "./libraries/DeviceSignature.sol";

/// @title GroupRegistry — virtual groups, token-verified association and the hierarchical AuthTable
/// @notice See {IGroupRegistry}. No admin: trust roots are chosen by verifiers, who pin the root
/// groups they trust. Nothing here loops over a group's members, so gas stays flat as groups grow.
/// Rules that a batch item can break are written as `_try…` functions that return the ABI-encoded
/// custom error instead of reverting: single-item entry points revert with it, batches report it.
/// @custom:security-contact see SECURITY.md at the repository root (private disclosure to the maintainers)
abstract contract GroupRegistry is IGroupRegistry, EIP712 {
    using BatchResults for bytes;

    // Hashed at compile time.
    // solhint-disable-next-line gas-small-strings
    bytes32 private constant ASSOCIATION_TYPEHASH = keccak256("Association(bytes32 gid,bytes32 oid,address device,uint256 nonce,uint256 deadline)");

    uint8 private constant FLAG_MEMBER = 1; // has an AuthTable leaf in its group
    uint8 private constant FLAG_MASTER = 2; // masters a group (a member: a child of its group)
    uint8 private constant FLAG_REVOKED = 4; // revoked by its group's Master, for good

    uint8 private constant STATUS_ACTIVE = 1; // cleared for good by deactivateGroup
    uint8 private constant STATUS_MASTER_REVOKED = 2; // the Master was revoked in the parent; cleared by a take-over

    /// @dev Revocation word w holds leaves [255w, 255w + 254] in bits 0..254; bit 255 is set when
    /// the word's first leaf is associated, so a revocation never pays for a fresh storage slot.
    uint256 private constant LEAVES_PER_WORD = 255;
    uint256 private constant WORD_ALLOCATED = 1 << 255;

    struct Group {
        // Slot 0, read by every association, anchoring and Master action: one cold SLOAD.
        address master;
        uint32 leafCount;
        uint8 level; // root = 0, child = parent + 1
        uint8 status; // STATUS_* bits
        uint48 masterEpoch; // hand-overs so far; keys the Master's delegations so they lapse on hand-over
        bytes32 parentGid;
        bytes32 chainHead;
        address pendingMaster;
        mapping(uint256 level => bytes32) frontier;
        mapping(uint256 word => uint256) revocationWords;
    }

    // One slot per identity, so a data message reads membership, revocation and nonce at once. The
    // group is part of the key (oids are scoped to their group), so the record needs no group field.
    struct Member {
        address account;
        uint32 leafIndex;
        uint8 flags; // FLAG_* bits
        uint32 nonce; // next nonce for relayed requests; 4.29e9 messages per device key
    }

    mapping(bytes32 gid => Group) private _groups;
    mapping(bytes32 gid => mapping(bytes32 oid => Member)) private _members;
    // One identity per address, for good: the oid it holds (its group is in its events).
    mapping(address account => bytes32 oid) private _oidOf;
    // The child group a member masters, so revoking a cluster head cuts its group off in O(1).
    mapping(address master => bytes32 gid) private _childGroupOf;

    // ---------------------------------------------------------------- groups

    /// @inheritdoc IGroupRegistry
    function createGroup(bytes32 label, bytes32 masterOid, bytes32 parentGid) external returns (bytes32 gid) {
        if (masterOid == bytes32(0)) revert GroupRegistryZeroId();
        gid = groupId(msg.sender, label);
        Group storage group = _groups[gid];
        if (group.master != address(0)) revert GroupRegistryGidTaken(gid);

        uint8 level;
        bytes32 parentHead;
        bytes32 callerOid = _oidOf[msg.sender];
        if (parentGid == bytes32(0)) {
            if (callerOid != bytes32(0)) revert GroupRegistryAddressTaken(msg.sender);
            _members[gid][masterOid] = Member(msg.sender, 0, FLAG_MASTER, 0);
            _oidOf[msg.sender] = masterOid;
        } else {
            Group storage parent = _requireActiveGroup(parentGid);
            Member storage caller = _members[parentGid][callerOid];
            if (callerOid == bytes32(0) || caller.account != msg.sender || !_isActiveMember(caller)) {
                revert GroupRegistryNotParentMember(parentGid, msg.sender);
            }
            if (masterOid != callerOid) revert GroupRegistryMasterOidMismatch(callerOid, masterOid);
            if (caller.flags & FLAG_MASTER != 0) revert GroupRegistryAlreadyMaster(msg.sender);
            if (parent.level == type(uint8).max) revert GroupRegistryHierarchyTooDeep(parentGid);
            caller.flags |= FLAG_MASTER;
            _childGroupOf[msg.sender] = gid;
            level = parent.level + 1;
            parentHead = parent.chainHead;
            group.parentGid = parentGid;
        }

        bytes32 genesis = AuthTable.genesis(parentHead, parentGid, gid, msg.sender);
        group.master = msg.sender;
        group.level = level;
        group.status = STATUS_ACTIVE;
        group.chainHead = genesis;
        emit GroupCreated(gid, msg.sender, parentGid, label, masterOid, level, genesis);
    }

    /// @inheritdoc IGroupRegistry
    function proposeMaster(bytes32 gid, address candidate) external {
        Group storage group = _requireActingMaster(gid);
        if (candidate != address(0)) _requireEligibleMaster(group, gid, candidate);
        group.pendingMaster = candidate;
        emit MasterHandOverProposed(gid, msg.sender, candidate);
    }

    /// @inheritdoc IGroupRegistry
    function acceptMaster(bytes32 gid) external {
        Group storage group = _groups[gid];
        _masterPowersFailure(group, gid).revertIfFailed();
        if (group.pendingMaster != msg.sender) revert GroupRegistryNotPendingMaster(gid, msg.sender);
        _requireEligibleMaster(group, gid, msg.sender);
        _handOver(group, gid, msg.sender);
    }

    /// @inheritdoc IGroupRegistry
    function takeOverGroup(bytes32 gid, address newMaster) external {
        Group storage group = _requireParentMasterActing(gid);
        _requireEligibleMaster(group, gid, newMaster);
        _handOver(group, gid, newMaster);
    }

    /// @inheritdoc IGroupRegistry
    function deactivateGroup(bytes32 gid) external {
        Group storage group = _groups[gid];
        // Its own Master while it has its powers; or the parent's Master, once it revoked that Master.
        address master = group.master;
        bool byParentMaster = group.level != 0 && master != msg.sender && _groups[group.parentGid].master == msg.sender;
        if (byParentMaster) _requireParentMasterActing(gid);
        else _requireActingMaster(gid);

        group.status &= ~STATUS_ACTIVE;
        delete group.pendingMaster;
        // The Master flag is released, so a child Master may create a group again.
        if (group.level == 0) {
            _members[gid][_oidOf[master]].flags &= ~FLAG_MASTER;
        } else {
            _members[group.parentGid][_oidOf[master]].flags &= ~FLAG_MASTER;
            delete _childGroupOf[master];
        }
        emit GroupDeactivated(gid, msg.sender);
    }

    // ---------------------------------------------------------------- association

    /// @inheritdoc IGroupRegistry
    function associate(bytes32 gid, bytes32 oid, bytes calldata token) external {
        _tryAssociate(gid, oid, msg.sender, token).revertIfFailed();
    }

    /// @inheritdoc IGroupRegistry
    function associateBySig(AssociationRequest calldata request, bytes calldata signature, bytes calldata token)
        external
    {
        _tryAssociateBySig(request, signature, token).revertIfFailed();
    }

    /// @inheritdoc IGroupRegistry
    function associateBatchBySig(SignedAssociation[] calldata items)
        external
        returns (BatchItemStatus[] memory statuses)
    {
        if (items.length == 0) revert BatchEmpty();
        statuses = new BatchItemStatus[](items.length);
        for (uint256 i; i < items.length; ++i) {
            SignedAssociation calldata item = items[i];
            bytes memory failure = _tryAssociateBySig(item.request, item.signature, item.token);
            if (failure.length != 0) {
                BatchItemStatus status = failure.isError(GroupRegistryAlreadyAssociated.selector)
                    ? BatchItemStatus.AlreadyApplied
                    : BatchItemStatus.Rejected;
                statuses[i] = status;
                emit BatchItemSkipped(i, status, failure);
            }
        }
    }

    /// @inheritdoc IGroupRegistry
    function revoke(bytes32 gid, bytes32 oid) external {
        Group storage group = _requireActingMaster(gid);
        Member storage member = _members[gid][oid];
        _memberFailure(gid, oid, member).revertIfFailed();
        uint32 index = member.leafIndex;
        member.flags |= FLAG_REVOKED;
        group.revocationWords[index / LEAVES_PER_WORD] |= 1 << (index % LEAVES_PER_WORD);
        address account = member.account;
        emit DeviceRevoked(gid, account, oid, index);

        // A revoked cluster head loses its Master powers in its own group at once.
        if (member.flags & FLAG_MASTER != 0) {
            bytes32 childGid = _childGroupOf[account];
            Group storage child = _groups[childGid];
            child.status |= STATUS_MASTER_REVOKED;
            delete child.pendingMaster;
            emit GroupMasterRevoked(childGid, account);
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IGroupRegistry
    function groupId(address creator, bytes32 label) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), creator, label));
    }

    /// @inheritdoc IGroupRegistry
    function p256Address(bytes32 qx, bytes32 qy) external pure returns (address) {
        return DeviceSignature.p256Address(qx, qy);
    }

    /// @inheritdoc IGroupRegistry
    function tokenDigest(bytes32 gid, bytes32 oid, address device) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(gid, oid, device));
    }

    /// @inheritdoc IGroupRegistry
    function associationDigest(AssociationRequest calldata request) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ASSOCIATION_TYPEHASH, request.gid, request.oid, request.device, request.nonce, request.deadline
                )
            )
        );
    }

    /// @inheritdoc IGroupRegistry
    function nonces(bytes32 gid, bytes32 oid) external view returns (uint256) {
        return _members[gid][oid].nonce;
    }

    /// @inheritdoc IGroupRegistry
    function groupInfo(bytes32 gid) external view returns (GroupInfo memory info) {
        Group storage group = _groups[gid];
        info.master = group.master;
        info.pendingMaster = group.pendingMaster;
        info.masterOid = _oidOf[group.master];
        info.parentGid = group.parentGid;
        info.level = group.level;
        info.active = group.status & STATUS_ACTIVE != 0;
        info.masterRevoked = group.status & STATUS_MASTER_REVOKED != 0;
        info.masterEpoch = group.masterEpoch;
        info.leafCount = group.leafCount;
        info.chainHead = group.chainHead;
        info.root = AuthTree.root(group.frontier, group.leafCount);
    }

    /// @inheritdoc IGroupRegistry
    function groupState(bytes32 gid, uint256 fromWord, uint256 count)
        external
        view
        returns (bytes32 root, uint32 leafCount, bytes32 chainHead, uint256[] memory revocationWords)
    {
        if (fromWord > type(uint256).max - count) revert GroupRegistryWordRangeOverflow(fromWord, count);
        Group storage group = _groups[gid];
        leafCount = group.leafCount;
        root = AuthTree.root(group.frontier, leafCount);
        chainHead = group.chainHead;
        revocationWords = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            revocationWords[i] = group.revocationWords[fromWord + i];
        }
    }

    /// @inheritdoc IGroupRegistry
    function memberOf(bytes32 gid, bytes32 oid) public view returns (MemberInfo memory info) {
        Member storage member = _members[gid][oid];
        if (member.account == address(0)) return info;
        info.account = member.account;
        info.gid = gid;
        info.oid = oid;
        info.leafIndex = member.leafIndex;
        info.isMember = member.flags & FLAG_MEMBER != 0;
        info.isMaster = member.flags & FLAG_MASTER != 0;
        info.revoked = member.flags & FLAG_REVOKED != 0;
        info.nonce = member.nonce;
    }

    /// @inheritdoc IGroupRegistry
    function memberByAccount(bytes32 gid, address account) external view returns (MemberInfo memory info) {
        bytes32 oid = _oidOf[account];
        // After a root hand-over the old key still maps to the oid it gave away: not its identity.
        if (oid != bytes32(0) && _members[gid][oid].account == account) info = memberOf(gid, oid);
    }

    /// @inheritdoc IGroupRegistry
    function oidOf(address account) external view returns (bytes32) {
        return _oidOf[account];
    }

    /// @inheritdoc IGroupRegistry
    function isAuthenticated(bytes32 gid, bytes32 oid, address device) external view returns (bool) {
        Member storage member = _members[gid][oid];
        return _groups[gid].status & STATUS_ACTIVE != 0 && member.account == device && device != address(0)
            && _isActiveMember(member);
    }

    /// @inheritdoc IGroupRegistry
    function verifyAuthPath(AuthPathStep[] calldata path, bytes32 trustedRootGid)
        external
        view
        returns (AuthPathStatus, uint256)
    {
        if (path.length == 0) return (AuthPathStatus.EmptyPath, 0);
        Group storage below = _groups[path[0].gid];
        for (uint256 i; i < path.length; ++i) {
            AuthPathStep calldata step = path[i];
            Group storage group = _groups[step.gid];
            if (group.master == address(0)) return (AuthPathStatus.UnknownGroup, i);
            if (group.status & STATUS_ACTIVE == 0) return (AuthPathStatus.InactiveGroup, i);
            if (i != 0) {
                if (below.parentGid != step.gid) return (AuthPathStatus.NotParentGroup, i);
                if (step.entry.device != below.master) return (AuthPathStatus.NotGroupMaster, i);
            }
            AuthPathStatus status = _checkStep(group, step);
            if (status != AuthPathStatus.Valid) return (status, i);
            below = group;
        }
        uint256 last = path.length - 1;
        if (below.parentGid != bytes32(0) || path[last].gid != trustedRootGid) {
            return (AuthPathStatus.UntrustedRoot, last);
        }
        return (AuthPathStatus.Valid, 0);
    }

    // ---------------------------------------------------------------- internal: rules

    /// @dev Elhachmi & Kobbane 2022, Alg. 1 (Slave branch), plus the auth chain and AuthTable of
    /// Al Ahmed et al. 2022. Returns the broken rule's error, or nothing once the device is associated.
    function _tryAssociate(bytes32 gid, bytes32 oid, address device, bytes calldata token)
        private
        returns (bytes memory failure)
    {
        if (oid == bytes32(0)) return abi.encodeWithSelector(GroupRegistryZeroId.selector);
        Group storage group = _groups[gid];
        failure = _masterPowersFailure(group, gid);
        if (failure.length != 0) return failure;
        Member storage member = _members[gid][oid];
        address holder = member.account;
        if (holder != address(0)) {
            return holder == device
                ? abi.encodeWithSelector(GroupRegistryAlreadyAssociated.selector, gid, oid, device)
                : abi.encodeWithSelector(GroupRegistryOidTaken.selector, gid, oid);
        }
        if (_oidOf[device] != bytes32(0)) return abi.encodeWithSelector(GroupRegistryAddressTaken.selector, device);

        address master = group.master;
        bytes32 tokenHash = MessageHashUtils.toEthSignedMessageHash(tokenDigest(gid, oid, device));
        // ecrecover first: a key's token is settled without reading the Master's code (a cold
        // EXTCODESIZE costs 2,600 gas on every association). Only a token no key of the Master
        // signed asks a contract Master (a hospital's multisig) through ERC-1271.
        address recovered = CalldataSignature.tryRecover(tokenHash, token);
        if (recovered != master) {
            if (master.code.length != 0) {
                if (!ContractSignature.isValid(master, tokenHash, token)) {
                    return abi.encodeWithSelector(GroupRegistryTokenNotFromMaster.selector, address(0), master);
                }
            } else if (recovered == address(0)) {
                return abi.encodeWithSelector(GroupRegistryInvalidToken.selector);
            } else {
                return abi.encodeWithSelector(GroupRegistryTokenNotFromMaster.selector, recovered, master);
            }
        }

        uint32 index = group.leafCount;
        if (index == type(uint32).max) return abi.encodeWithSelector(GroupRegistryGroupFull.selector, gid);
        bytes32 entryHash = AuthTable.entryHash(group.chainHead, index, device, master, oid);
        group.chainHead = entryHash;
        group.leafCount = index + 1;
        AuthTree.insert(group.frontier, index, AuthTable.leaf(device, master, index, entryHash));
        if (index % LEAVES_PER_WORD == 0) group.revocationWords[index / LEAVES_PER_WORD] = WORD_ALLOCATED;
        // Nonce 0 is the association request itself, relayed or not.
        _members[gid][oid] = Member(device, index, FLAG_MEMBER, 1);
        _oidOf[device] = oid;
        emit DeviceAssociated(gid, device, oid, master, index, entryHash);
    }

    /// @dev A relayed association: already applied, deadline, nonce and the device's signature first.
    function _tryAssociateBySig(AssociationRequest calldata request, bytes calldata signature, bytes calldata token)
        private
        returns (bytes memory failure)
    {
        address device = request.device;
        if (device != address(0) && _members[request.gid][request.oid].account == device) {
            return abi.encodeWithSelector(GroupRegistryAlreadyAssociated.selector, request.gid, request.oid, device);
        }
        if (block.timestamp > request.deadline) return abi.encodeWithSelector(RequestExpired.selector, request.deadline);
        if (request.nonce != 0) return abi.encodeWithSelector(RequestInvalidNonce.selector, device, 0);
        address signer = DeviceSignature.tryRecover(associationDigest(request), signature);
        if (signer == address(0)) return abi.encodeWithSelector(RequestInvalidSignature.selector);
        if (signer != device) return abi.encodeWithSelector(RequestWrongSigner.selector, signer, device);
        return _tryAssociate(request.gid, request.oid, device, token);
    }

    /// @dev Why the Master of `group` cannot use its powers now, or nothing: the group must exist and
    /// be active, its Master unrevoked in the parent group, and the parent group active.
    /// Success returns the unallocated empty `bytes` (no memory is used on the hot path).
    function _masterPowersFailure(Group storage group, bytes32 gid) internal view returns (bytes memory none) {
        address master = group.master;
        if (master == address(0)) return abi.encodeWithSelector(GroupRegistryUnknownGroup.selector, gid);
        uint8 status = group.status;
        if (status & STATUS_ACTIVE == 0) return abi.encodeWithSelector(GroupRegistryGroupInactive.selector, gid);
        if (status & STATUS_MASTER_REVOKED != 0) return abi.encodeWithSelector(GroupRegistryMasterRevoked.selector, gid, master);
        if (group.level != 0) {
            bytes32 parentGid = group.parentGid;
            if (_groups[parentGid].status & STATUS_ACTIVE == 0) {
                return abi.encodeWithSelector(GroupRegistryParentInactive.selector, gid, parentGid);
            }
        }
    }

    /// @dev Why `member` (`oid` of the active group `gid`) cannot act now, or nothing.
    function _memberFailure(bytes32 gid, bytes32 oid, Member storage member) private view returns (bytes memory none) {
        uint8 flags = member.flags;
        if (flags & FLAG_MEMBER == 0) return abi.encodeWithSelector(GroupRegistryNotMember.selector, gid, oid);
        if (flags & FLAG_REVOKED != 0) return abi.encodeWithSelector(GroupRegistryMemberRevoked.selector, gid, oid);
    }

    /// @dev A candidate Master of a root group must be a fresh key; of a child group, an active
    /// member of the active parent group that masters no group yet (the cluster-head rule).
    function _requireEligibleMaster(Group storage group, bytes32 gid, address candidate) private view {
        bytes32 candidateOid = _oidOf[candidate];
        bool eligible;
        if (group.level == 0) {
            eligible = candidate != address(0) && candidateOid == bytes32(0);
        } else {
            bytes32 parentGid = group.parentGid;
            Member storage member = _members[parentGid][candidateOid];
            eligible = candidateOid != bytes32(0) && member.account == candidate && _isActiveMember(member)
                && member.flags & FLAG_MASTER == 0 && _groups[parentGid].status & STATUS_ACTIVE != 0;
        }
        if (!eligible) revert GroupRegistryIneligibleMaster(gid, candidate);
    }

    /// @dev Moves `gid` to `newMaster`, which the caller found eligible; the epoch moves on, so the
    /// old Master's anchorers lapse, and a revoked Master's cut-off ends.
    function _handOver(Group storage group, bytes32 gid, address newMaster) private {
        uint48 epoch = group.masterEpoch;
        if (epoch == type(uint48).max) revert GroupRegistryEpochsExhausted(gid);
        address previous = group.master;
        bytes32 masterOid;
        if (group.level == 0) {
            // A root Master's identity (its oid) moves to the new key; the old key stays burnt.
            masterOid = _oidOf[previous];
            _members[gid][masterOid].account = newMaster;
            _oidOf[newMaster] = masterOid;
        } else {
            bytes32 parentGid = group.parentGid;
            _members[parentGid][_oidOf[previous]].flags &= ~FLAG_MASTER;
            delete _childGroupOf[previous];
            masterOid = _oidOf[newMaster];
            _members[parentGid][masterOid].flags |= FLAG_MASTER;
            _childGroupOf[newMaster] = gid;
        }
        group.master = newMaster;
        group.masterEpoch = epoch + 1;
        group.status &= ~STATUS_MASTER_REVOKED;
        delete group.pendingMaster;
        emit MasterHandedOver(gid, previous, newMaster, masterOid, epoch + 1, msg.sender);
    }

    function _isActiveMember(Member storage member) private view returns (bool) {
        return member.flags & (FLAG_MEMBER | FLAG_REVOKED) == FLAG_MEMBER;
    }

    /// @dev One step of a path, after the group and link checks: index, proof (against the current
    /// root, or an older root joined to it by a consistency proof), revocation.
    function _checkStep(Group storage group, AuthPathStep calldata step) private view returns (AuthPathStatus) {
        uint256 index = step.entry.index;
        uint256 builtFor = step.leafCount;
        uint256 size = group.leafCount;
        // Bounds checks read clearest this way.
        // solhint-disable-next-line gas-strict-inequalities
        if (index >= builtFor) return AuthPathStatus.IndexOutOfRange;
        if (builtFor > size) return AuthPathStatus.Stale;
        bytes32 leaf = AuthTable.leaf(step.entry.device, step.entry.master, index, step.entry.entryHash);
        bytes32 builtRoot = AuthTree.processProof(step.proof, index, builtFor, leaf);
        if (builtRoot == bytes32(0)) return AuthPathStatus.InvalidProof;
        bytes32 root = AuthTree.root(group.frontier, size);
        if (builtFor == size) {
            if (builtRoot != root) return AuthPathStatus.InvalidProof;
        } else {
            if (step.consistency.length == 0) return AuthPathStatus.Stale;
            if (!AuthTree.verifyConsistency(builtFor, size, builtRoot, root, step.consistency)) {
                return AuthPathStatus.InvalidProof;
            }
        }
        if (group.revocationWords[index / LEAVES_PER_WORD] & (1 << (index % LEAVES_PER_WORD)) != 0) {
            return AuthPathStatus.Revoked;
        }
        return AuthPathStatus.Valid;
    }

    // ---------------------------------------------------------------- internal: access

    function _requireActiveGroup(bytes32 gid) internal view returns (Group storage group) {
        group = _groups[gid];
        if (group.master == address(0)) revert GroupRegistryUnknownGroup(gid);
        if (group.status & STATUS_ACTIVE == 0) revert GroupRegistryGroupInactive(gid);
    }

    /// @dev The group `gid` whose Master is the caller, with its powers intact.
    function _requireActingMaster(bytes32 gid) internal view returns (Group storage group) {
        group = _groups[gid];
        if (group.master == address(0)) revert GroupRegistryUnknownGroup(gid);
        if (group.master != msg.sender) revert GroupRegistryNotMaster(gid, msg.sender);
        _masterPowersFailure(group, gid).revertIfFailed();
    }

    /// @dev The active child group `gid` whose Master was revoked, when the caller is the parent
    /// group's Master with its powers intact.
    function _requireParentMasterActing(bytes32 gid) private view returns (Group storage group) {
        group = _requireActiveGroup(gid);
        if (group.level == 0) revert GroupRegistryRootGroup(gid);
        _requireActingMaster(group.parentGid);
        if (group.status & STATUS_MASTER_REVOKED == 0) revert GroupRegistryMasterNotRevoked(gid);
    }

    /// @dev The group `gid` (possibly unknown), for the data plane's reads.
    function _group(bytes32 gid) internal view returns (Group storage) {
        return _groups[gid];
    }

    /// @dev The record of `oid` in `gid` (possibly empty), for the data plane's reads.
    function _member(bytes32 gid, bytes32 oid) internal view returns (Member storage) {
        return _members[gid][oid];
    }

    /// @dev Why `member` (`oid` of `gid`) cannot act now, or nothing: the group must exist and be
    /// active, and `oid` an unrevoked member of it.
    function _activeMemberFailure(bytes32 gid, bytes32 oid, Member storage member)
        internal
        view
        returns (bytes memory)
    {
        Group storage group = _groups[gid];
        if (group.master == address(0)) return abi.encodeWithSelector(GroupRegistryUnknownGroup.selector, gid);
        if (group.status & STATUS_ACTIVE == 0) return abi.encodeWithSelector(GroupRegistryGroupInactive.selector, gid);
        return _memberFailure(gid, oid, member);
    }

    /// @dev Whether `member` has (or had, if revoked) an AuthTable leaf.
    function _isMemberRecord(Member storage member) internal view returns (bool) {
        return member.flags & FLAG_MEMBER != 0;
    }
}
