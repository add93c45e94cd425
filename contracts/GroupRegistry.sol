// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IGroupRegistry} from "./interfaces/IGroupRegistry.sol";
import {AuthTable} from "./libraries/AuthTable.sol";
import {AuthTree} from "./libraries/AuthTree.sol";
import {CalldataSignature} from "./libraries/CalldataSignature.sol";

/// @title GroupRegistry — virtual groups, token-verified association and the hierarchical AuthTable
/// @notice See {IGroupRegistry}. No admin: trust roots are chosen by verifiers, who pin the root
/// groups they trust. Nothing here loops over a group's members, so gas stays flat as groups grow.
abstract contract GroupRegistry is IGroupRegistry, EIP712 {
    // Hashed at compile time.
    // solhint-disable-next-line gas-small-strings
    bytes32 private constant ASSOCIATION_TYPEHASH = keccak256("Association(bytes32 gid,bytes32 oid,address device,uint256 nonce,uint256 deadline)");

    uint8 private constant FLAG_MEMBER = 1; // has an AuthTable leaf in its group
    uint8 private constant FLAG_MASTER = 2; // is the Master of a group
    uint8 private constant FLAG_REVOKED = 4; // revoked by its group's Master, for good

    /// @dev Revocation word w holds leaves [255w, 255w + 254] in bits 0..254; bit 255 is set when
    /// the word's first leaf is associated, so a revocation never pays for a fresh storage slot.
    uint256 private constant LEAVES_PER_WORD = 255;
    uint256 private constant WORD_ALLOCATED = 1 << 255;

    struct Group {
        // Slot 0, read by every association, data message and revocation: one cold SLOAD.
        address master;
        uint24 number; // compact group number, so a member record fits one slot
        uint32 leafCount;
        uint8 level; // root = 0, child = parent + 1
        bool active;
        uint24 masterEpoch; // hand-overs so far; keys the Master's delegations so they lapse on hand-over
        bytes32 parentGid;
        bytes32 chainHead;
        address pendingMaster;
        mapping(uint256 level => bytes32) frontier;
        mapping(uint256 word => uint256) revocationWords;
    }

    // One slot per identity, so a data message reads membership, revocation and nonce at once.
    struct Member {
        address account;
        uint24 group; // number of the group it is a member of (or, for a root Master, masters)
        uint32 leafIndex;
        uint8 flags;
        uint32 nonce; // next nonce for relayed requests; 4.29e9 messages per device key
    }

    mapping(bytes32 gid => Group) private _groups;
    mapping(uint256 number => bytes32 gid) private _gidByNumber;
    mapping(bytes32 oid => Member) private _members;
    mapping(address account => bytes32 oid) private _oidOf;
    uint24 private _groupCount;

    // ---------------------------------------------------------------- groups

    /// @inheritdoc IGroupRegistry
    function createGroup(bytes32 gid, bytes32 masterOid, bytes32 parentGid) external {
        if (gid == bytes32(0) || masterOid == bytes32(0)) revert GroupRegistryZeroId();
        Group storage group = _groups[gid];
        if (group.master != address(0)) revert GroupRegistryGidTaken(gid);

        bytes32 callerOid = _oidOf[msg.sender];
        Member storage caller = _members[callerOid];
        bool callerIsIdentity = callerOid != bytes32(0) && caller.account == msg.sender;
        if (callerIsIdentity && caller.flags & FLAG_MASTER != 0) revert GroupRegistryAlreadyMaster(msg.sender);

        uint24 number = ++_groupCount;
        uint8 level;
        bytes32 parentHead;
        if (parentGid == bytes32(0)) {
            if (_members[masterOid].account != address(0)) revert GroupRegistryOidTaken(masterOid);
            if (callerOid != bytes32(0)) revert GroupRegistryAddressTaken(msg.sender);
            _members[masterOid] = Member(msg.sender, number, 0, FLAG_MASTER, 1);
            _oidOf[msg.sender] = masterOid;
        } else {
            Group storage parent = _requireActiveGroup(parentGid);
            if (!callerIsIdentity || !_isActiveMemberOf(caller, parent.number)) {
                revert GroupRegistryNotParentMember(parentGid, msg.sender);
            }
            if (masterOid != callerOid) revert GroupRegistryMasterOidMismatch(callerOid, masterOid);
            if (parent.level == type(uint8).max) revert GroupRegistryHierarchyTooDeep(parentGid);
            caller.flags |= FLAG_MASTER;
            level = parent.level + 1;
            parentHead = parent.chainHead;
            group.parentGid = parentGid;
        }

        bytes32 genesis = AuthTable.genesis(parentHead, parentGid, gid, msg.sender);
        group.master = msg.sender;
        group.number = number;
        group.level = level;
        group.active = true;
        group.chainHead = genesis;
        _gidByNumber[number] = gid;
        emit GroupCreated(gid, msg.sender, parentGid, masterOid, level, genesis);
    }

    /// @inheritdoc IGroupRegistry
    function proposeMaster(bytes32 gid, address candidate) external {
        Group storage group = _requireMaster(gid);
        if (!group.active) revert GroupRegistryGroupInactive(gid);
        if (candidate != address(0)) _requireEligibleMaster(group, gid, candidate);
        group.pendingMaster = candidate;
        emit MasterHandOverProposed(gid, msg.sender, candidate);
    }

    /// @inheritdoc IGroupRegistry
    function acceptMaster(bytes32 gid) external {
        Group storage group = _requireActiveGroup(gid);
        if (group.pendingMaster != msg.sender) revert GroupRegistryNotPendingMaster(gid, msg.sender);
        _requireEligibleMaster(group, gid, msg.sender);

        address previous = group.master;
        bytes32 masterOid = _oidOf[previous];
        if (group.parentGid == bytes32(0)) {
            // A root Master's identity (its oid) moves to the new key; the old key stays burnt.
            _members[masterOid].account = msg.sender;
            _oidOf[msg.sender] = masterOid;
        } else {
            _members[masterOid].flags &= ~FLAG_MASTER;
            _members[_oidOf[msg.sender]].flags |= FLAG_MASTER;
        }
        group.master = msg.sender;
        ++group.masterEpoch;
        delete group.pendingMaster;
        emit MasterHandedOver(gid, previous, msg.sender);
    }

    /// @inheritdoc IGroupRegistry
    function deactivateGroup(bytes32 gid) external {
        Group storage group = _requireMaster(gid);
        if (!group.active) revert GroupRegistryGroupInactive(gid);
        group.active = false;
        delete group.pendingMaster;
        emit GroupDeactivated(gid, msg.sender);
    }

    // ---------------------------------------------------------------- association

    /// @inheritdoc IGroupRegistry
    function associate(bytes32 gid, bytes32 oid, bytes calldata token) external {
        _associate(gid, oid, msg.sender, token);
    }

    /// @inheritdoc IGroupRegistry
    function associateFor(AssociationRequest calldata request, bytes calldata signature, bytes calldata token)
        external
    {
        _checkAssociationRequest(request, signature);
        _associate(request.gid, request.oid, request.device, token);
    }

    /// @inheritdoc IGroupRegistry
    function associateBatch(SignedAssociation[] calldata items) external {
        if (items.length == 0) revert GroupRegistryEmptyBatch();
        for (uint256 i; i < items.length; ++i) {
            SignedAssociation calldata item = items[i];
            _checkAssociationRequest(item.request, item.signature);
            _associate(item.request.gid, item.request.oid, item.request.device, item.token);
        }
    }

    /// @inheritdoc IGroupRegistry
    function revoke(bytes32 gid, bytes32 oid) external {
        Group storage group = _requireMaster(gid);
        Member storage member = _requireUnrevokedMember(group, gid, oid);
        uint32 index = member.leafIndex;
        member.flags |= FLAG_REVOKED;
        group.revocationWords[index / LEAVES_PER_WORD] |= 1 << (index % LEAVES_PER_WORD);
        emit DeviceRevoked(gid, member.account, oid, index);
    }

    // ---------------------------------------------------------------- views

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
    function nonces(address device) public view returns (uint256) {
        bytes32 oid = _oidOf[device];
        if (oid == bytes32(0)) return 0;
        Member storage member = _members[oid];
        return member.account == device ? member.nonce : 0;
    }

    /// @inheritdoc IGroupRegistry
    function groupInfo(bytes32 gid) external view returns (GroupInfo memory info) {
        Group storage group = _groups[gid];
        info.master = group.master;
        info.pendingMaster = group.pendingMaster;
        info.masterOid = _oidOf[group.master];
        info.parentGid = group.parentGid;
        info.level = group.level;
        info.active = group.active;
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
    function memberByOid(bytes32 oid) public view returns (MemberInfo memory info) {
        Member storage member = _members[oid];
        if (member.account == address(0)) return info;
        info.account = member.account;
        info.gid = _gidByNumber[member.group];
        info.oid = oid;
        info.leafIndex = member.leafIndex;
        info.isMember = member.flags & FLAG_MEMBER != 0;
        info.isMaster = member.flags & FLAG_MASTER != 0;
        info.revoked = member.flags & FLAG_REVOKED != 0;
        info.nonce = member.nonce;
    }

    /// @inheritdoc IGroupRegistry
    function memberByAddress(address account) external view returns (MemberInfo memory info) {
        bytes32 oid = _oidOf[account];
        // After a root hand-over the old key still maps to the oid it gave away: not its identity.
        if (oid != bytes32(0) && _members[oid].account == account) info = memberByOid(oid);
    }

    /// @inheritdoc IGroupRegistry
    function isAuthenticated(bytes32 gid, bytes32 oid, address device) external view returns (bool) {
        Group storage group = _groups[gid];
        Member storage member = _members[oid];
        return group.active && member.account == device && device != address(0)
            && _isActiveMemberOf(member, group.number);
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
            if (!group.active) return (AuthPathStatus.InactiveGroup, i);
            if (i != 0) {
                if (below.parentGid != step.gid) return (AuthPathStatus.NotParentGroup, i);
                if (step.entry.device != below.master) return (AuthPathStatus.NotGroupMaster, i);
            }
            uint256 count = group.leafCount;
            uint256 index = step.entry.index;
            // A bounds check reads clearest this way.
            // solhint-disable-next-line gas-strict-inequalities
            if (index >= count) return (AuthPathStatus.IndexOutOfRange, i);
            bytes32 leaf = AuthTable.leaf(step.entry.device, step.entry.master, index, step.entry.blockHash);
            if (AuthTree.processProof(step.proof, index, count, leaf) != AuthTree.root(group.frontier, count)) {
                return (AuthPathStatus.InvalidProof, i);
            }
            if (group.revocationWords[index / LEAVES_PER_WORD] & (1 << (index % LEAVES_PER_WORD)) != 0) {
                return (AuthPathStatus.Revoked, i);
            }
            below = group;
        }
        uint256 last = path.length - 1;
        if (below.parentGid != bytes32(0) || path[last].gid != trustedRootGid) {
            return (AuthPathStatus.UntrustedRoot, last);
        }
        return (AuthPathStatus.Valid, 0);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Paper 000, Algorithm 1 (Slave branch) plus the auth chain and AuthTable of paper 003.
    function _associate(bytes32 gid, bytes32 oid, address device, bytes calldata token) private {
        if (oid == bytes32(0)) revert GroupRegistryZeroId();
        Group storage group = _requireActiveGroup(gid);
        if (_members[oid].account != address(0)) revert GroupRegistryOidTaken(oid);
        if (_oidOf[device] != bytes32(0)) revert GroupRegistryAddressTaken(device);

        address master = group.master;
        address recovered =
            CalldataSignature.recover(MessageHashUtils.toEthSignedMessageHash(tokenDigest(gid, oid, device)), token);
        if (recovered == address(0)) revert GroupRegistryInvalidToken();
        if (recovered != master) revert GroupRegistryTokenNotFromMaster(recovered, master);

        uint32 index = group.leafCount;
        if (index == type(uint32).max) revert GroupRegistryGroupFull(gid);
        bytes32 blockHash = AuthTable.blockHash(group.chainHead, index, device, master, oid);
        bytes32 leaf = AuthTable.leaf(device, master, index, blockHash);

        group.chainHead = blockHash;
        group.leafCount = index + 1;
        AuthTree.insert(group.frontier, index, leaf);
        if (index % LEAVES_PER_WORD == 0) group.revocationWords[index / LEAVES_PER_WORD] = WORD_ALLOCATED;
        // Nonce 0 is the association request itself, relayed or not.
        _members[oid] = Member(device, group.number, index, FLAG_MEMBER, 1);
        _oidOf[device] = oid;
        emit DeviceAssociated(gid, device, oid, master, index, blockHash);
    }

    function _checkAssociationRequest(AssociationRequest calldata request, bytes calldata signature) private view {
        if (block.timestamp > request.deadline) revert GroupRegistryExpiredRequest(request.deadline);
        uint256 expected = nonces(request.device);
        if (request.nonce != expected) revert GroupRegistryInvalidNonce(request.device, expected);
        address signer = CalldataSignature.recover(associationDigest(request), signature);
        if (signer == address(0)) revert GroupRegistryInvalidSignature();
        if (signer != request.device) revert GroupRegistryWrongSigner(signer, request.device);
    }

    /// @dev A candidate Master of a root group must be a fresh key; of a child group, an active
    /// member of the parent group that masters no group yet (the cluster-head rule).
    function _requireEligibleMaster(Group storage group, bytes32 gid, address candidate) private view {
        bytes32 candidateOid = _oidOf[candidate];
        if (group.parentGid == bytes32(0)) {
            if (candidateOid != bytes32(0)) revert GroupRegistryIneligibleMaster(gid, candidate);
            return;
        }
        Member storage member = _members[candidateOid];
        bool eligible = candidateOid != bytes32(0) && member.account == candidate
            && member.flags & FLAG_MASTER == 0 && _isActiveMemberOf(member, _groups[group.parentGid].number);
        if (!eligible) revert GroupRegistryIneligibleMaster(gid, candidate);
    }

    function _isActiveMemberOf(Member storage member, uint24 groupNumber) private view returns (bool) {
        return member.group == groupNumber && member.flags & (FLAG_MEMBER | FLAG_REVOKED) == FLAG_MEMBER;
    }

    function _requireActiveGroup(bytes32 gid) internal view returns (Group storage group) {
        group = _groups[gid];
        if (group.master == address(0)) revert GroupRegistryUnknownGroup(gid);
        if (!group.active) revert GroupRegistryGroupInactive(gid);
    }

    function _group(bytes32 gid) internal view returns (Group storage) {
        return _groups[gid];
    }

    function _requireMaster(bytes32 gid) internal view returns (Group storage group) {
        group = _groups[gid];
        if (group.master == address(0)) revert GroupRegistryUnknownGroup(gid);
        if (group.master != msg.sender) revert GroupRegistryNotMaster(gid, msg.sender);
    }

    /// @dev The unrevoked member `oid` of the active group `gid`, or a revert naming the broken rule.
    function _requireActiveMember(bytes32 gid, bytes32 oid) internal view returns (Member storage) {
        return _requireUnrevokedMember(_requireActiveGroup(gid), gid, oid);
    }

    function _requireUnrevokedMember(Group storage group, bytes32 gid, bytes32 oid)
        private
        view
        returns (Member storage member)
    {
        member = _members[oid];
        if (member.group != group.number || member.flags & FLAG_MEMBER == 0) revert GroupRegistryNotMember(gid, oid);
        if (member.flags & FLAG_REVOKED != 0) revert GroupRegistryMemberRevoked(gid, oid);
    }
}
