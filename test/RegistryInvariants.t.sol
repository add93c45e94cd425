// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IomtRegistry} from "../contracts/IomtRegistry.sol";
import {IGroupRegistry} from "../contracts/interfaces/IGroupRegistry.sol";
import {IDataLedger} from "../contracts/interfaces/IDataLedger.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// The few cheatcodes these tests need (no forge-std here: see TOOLCHAIN.md).
interface Vm {
    function prank(address sender) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
}

/// @notice Drives the registry with random call sequences from a fixed pool of keys and keeps a
/// naive model of what must hold (the trust properties of DESIGN.md). The invariant runner calls
/// only this handler (see `targetContracts`), so every state change goes through the model.
/// Each action may fail by the registry's rules; the model changes only when the call succeeded.
/// Some actions are attacks on purpose (a revoked or cut-off Master using its powers): if one of
/// them succeeds, `breach` records it.
contract RegistryHandler {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 private constant KEYS = 40;
    bytes4 private constant PANIC = 0x4e487b71;

    IomtRegistry public immutable registry;

    // Ghost model.
    struct GhostGroup {
        bytes32 gid;
        bytes32 parentGid;
        uint256 masterKey;
        bytes32 head;
        bool active;
        bool masterRevoked;
    }

    struct GhostMember {
        bytes32 gid;
        bytes32 oid;
        uint256 key;
        bool revoked;
    }

    GhostGroup[] private _groups;
    mapping(bytes32 gid => uint256 position) private _groupIndex; // position + 1
    mapping(bytes32 gid => bytes32[]) private _leaves;
    GhostMember[] private _members;
    mapping(address master => bytes32 gid) private _childOf;
    uint256 private _labelCount;

    /// An action by a Master without its powers took effect.
    bool public breach;
    /// A call reverted with a panic or with no data: a bound without its custom error.
    bool public panicked;

    constructor(IomtRegistry registry_) {
        registry = registry_;
    }

    // ------------------------------------------------------------------ actions

    function createRoot(uint256 keySeed, bytes32 oid) external {
        uint256 key = _key(keySeed);
        address account = VM.addr(key);
        bytes32 label = bytes32(++_labelCount);
        VM.prank(account);
        try registry.createGroup(label, oid, bytes32(0)) returns (bytes32 gid) {
            _addGroup(gid, bytes32(0), key, keccak256(abi.encode(bytes32(0), bytes32(0), gid, account)));
        } catch (bytes memory reason) {
            _checkReason(reason);
        }
    }

    function createChild(uint256 memberSeed) external {
        if (_members.length == 0) return;
        GhostMember storage member = _members[memberSeed % _members.length];
        address account = VM.addr(member.key);
        bytes32 parentHead = registry.groupInfo(member.gid).chainHead;
        bytes32 label = bytes32(++_labelCount);
        VM.prank(account);
        try registry.createGroup(label, member.oid, member.gid) returns (bytes32 gid) {
            _addGroup(gid, member.gid, member.key, keccak256(abi.encode(parentHead, member.gid, gid, account)));
            _childOf[account] = gid;
        } catch (bytes memory reason) {
            _checkReason(reason);
        }
    }

    function associate(uint256 groupSeed, uint256 deviceSeed, bytes32 oid, bool forgedToken) external {
        if (_groups.length == 0) return;
        GhostGroup storage group = _groups[groupSeed % _groups.length];
        uint256 deviceKey = _key(deviceSeed);
        address device = VM.addr(deviceKey);
        uint256 tokenKey = forgedToken ? _key(deviceSeed + 1) : group.masterKey;
        IGroupRegistry.AssociationRequest memory request =
            IGroupRegistry.AssociationRequest(group.gid, oid, device, 0, type(uint64).max);
        bytes memory token =
            _sign(tokenKey, MessageHashUtils.toEthSignedMessageHash(registry.tokenDigest(group.gid, oid, device)));
        bytes memory signature = _sign(deviceKey, registry.associationDigest(request));
        bool powerless = _isPowerless(group);
        address master = VM.addr(group.masterKey);
        try registry.associateBySig(request, signature, token) {
            if (powerless || tokenKey != group.masterKey) breach = true;
            uint256 index = _leaves[group.gid].length;
            bytes32 entryHash = keccak256(abi.encode(group.head, index, device, master, oid));
            group.head = entryHash;
            _leaves[group.gid].push(keccak256(abi.encode(device, master, index, entryHash)));
            _members.push(GhostMember(group.gid, oid, deviceKey, false));
        } catch (bytes memory reason) {
            _checkReason(reason);
        }
    }

    function revoke(uint256 memberSeed) external {
        if (_members.length == 0) return;
        GhostMember storage member = _members[memberSeed % _members.length];
        GhostGroup storage group = _groups[_groupIndex[member.gid] - 1];
        bool powerless = _isPowerless(group);
        VM.prank(VM.addr(group.masterKey));
        try registry.revoke(member.gid, member.oid) {
            if (powerless) breach = true;
            member.revoked = true;
            bytes32 child = _childOf[VM.addr(member.key)];
            if (child != bytes32(0)) _groups[_groupIndex[child] - 1].masterRevoked = true;
        } catch (bytes memory reason) {
            _checkReason(reason);
        }
    }

    function handOver(uint256 groupSeed, uint256 candidateSeed) external {
        if (_groups.length == 0) return;
        GhostGroup storage group = _groups[groupSeed % _groups.length];
        uint256 candidateKey = _key(candidateSeed);
        address candidate = VM.addr(candidateKey);
        address previous = VM.addr(group.masterKey);
        bool powerless = _isPowerless(group);
        VM.prank(previous);
        try registry.proposeMaster(group.gid, candidate) {
            if (powerless) breach = true;
        } catch (bytes memory reason) {
            _checkReason(reason);
            return;
        }
        VM.prank(candidate);
        try registry.acceptMaster(group.gid) {
            _moveMaster(group, previous, candidateKey);
        } catch (bytes memory reason) {
            _checkReason(reason);
        }
    }

    function takeOver(uint256 groupSeed, uint256 candidateSeed) external {
        if (_groups.length == 0) return;
        GhostGroup storage group = _groups[groupSeed % _groups.length];
        if (group.parentGid == bytes32(0)) return;
        GhostGroup storage parent = _groups[_groupIndex[group.parentGid] - 1];
        uint256 candidateKey = _key(candidateSeed);
        address candidate = VM.addr(candidateKey);
        address parentMaster = VM.addr(parent.masterKey);
        bool parentPowerless = _isPowerless(parent);
        VM.prank(parentMaster);
        try registry.takeOverGroup(group.gid, candidate) {
            if (parentPowerless || !group.masterRevoked) breach = true;
            _moveMaster(group, VM.addr(group.masterKey), candidateKey);
            group.masterRevoked = false;
        } catch (bytes memory reason) {
            _checkReason(reason);
        }
    }

    function deactivate(uint256 groupSeed, bool byParent) external {
        if (_groups.length == 0) return;
        GhostGroup storage group = _groups[groupSeed % _groups.length];
        bool allowed = group.active && !_isPowerless(group);
        uint256 actorKey = group.masterKey;
        if (byParent && group.parentGid != bytes32(0)) {
            GhostGroup storage parent = _groups[_groupIndex[group.parentGid] - 1];
            actorKey = parent.masterKey;
            allowed = group.active && group.masterRevoked && !_isPowerless(parent);
        }
        VM.prank(VM.addr(actorKey));
        try registry.deactivateGroup(group.gid) {
            if (!allowed) breach = true;
            group.active = false;
            delete _childOf[VM.addr(group.masterKey)];
        } catch (bytes memory reason) {
            _checkReason(reason);
        }
    }

    function anchor(uint256 groupSeed, bytes32 root) external {
        if (_groups.length == 0) return;
        GhostGroup storage group = _groups[groupSeed % _groups.length];
        bool powerless = _isPowerless(group);
        VM.prank(VM.addr(group.masterKey));
        try registry.anchorBatch(group.gid, root, 1) {
            if (powerless) breach = true;
        } catch (bytes memory reason) {
            _checkReason(reason);
        }
    }

    function recordData(uint256 memberSeed, bytes32 payloadHash, bool replay) external {
        if (_members.length == 0) return;
        GhostMember storage member = _members[memberSeed % _members.length];
        uint256 nonce = registry.nonces(member.gid, member.oid);
        if (replay && nonce != 0) --nonce;
        IDataLedger.DataMessage memory message =
            IDataLedger.DataMessage(member.gid, member.oid, nonce, payloadHash, 1, type(uint64).max);
        bytes memory signature = _sign(member.key, registry.dataMessageDigest(message));
        try registry.recordDataBySig(message, signature) {
            if (replay || member.revoked || !_groups[_groupIndex[member.gid] - 1].active) breach = true;
        } catch (bytes memory reason) {
            _checkReason(reason);
        }
    }

    // ------------------------------------------------------------------ model views

    function groupCount() external view returns (uint256) {
        return _groups.length;
    }

    function groupAt(uint256 i) external view returns (GhostGroup memory) {
        return _groups[i];
    }

    function leavesOf(bytes32 gid) external view returns (bytes32[] memory) {
        return _leaves[gid];
    }

    function memberCount() external view returns (uint256) {
        return _members.length;
    }

    function memberAt(uint256 i) external view returns (GhostMember memory member, address account) {
        member = _members[i];
        account = VM.addr(member.key);
    }

    // ------------------------------------------------------------------ internal

    function _key(uint256 seed) private pure returns (uint256) {
        return 1 + (seed % KEYS);
    }

    function _sign(uint256 key, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _addGroup(bytes32 gid, bytes32 parentGid, uint256 masterKey, bytes32 genesis) private {
        _groups.push(GhostGroup(gid, parentGid, masterKey, genesis, true, false));
        _groupIndex[gid] = _groups.length;
    }

    function _moveMaster(GhostGroup storage group, address previous, uint256 newKey) private {
        if (group.parentGid != bytes32(0)) {
            delete _childOf[previous];
            _childOf[VM.addr(newKey)] = group.gid;
        }
        group.masterKey = newKey;
    }

    /// The model's rule for Master powers: an active group whose Master is unrevoked under an active parent.
    function _isPowerless(GhostGroup storage group) private view returns (bool) {
        if (!group.active || group.masterRevoked) return true;
        return group.parentGid != bytes32(0) && !_groups[_groupIndex[group.parentGid] - 1].active;
    }

    function _checkReason(bytes memory reason) private {
        if (reason.length < 4 || bytes4(reason) == PANIC) panicked = true;
    }
}

/// @notice Stateful invariant tests: random sequences of creations, associations (some with forged
/// tokens), revocations, hand-overs, take-overs, deactivations, anchors and data messages (some
/// replayed), after each of which the trust properties are checked against the naive model.
contract RegistryInvariantsTest {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    IomtRegistry private _registry;
    RegistryHandler private _handler;
    address[] private _targets;

    function setUp() public {
        _registry = new IomtRegistry();
        _handler = new RegistryHandler(_registry);
        _targets.push(address(_handler));
    }

    /// Only the handler is called, so that every change is in the model.
    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }

    /// A revoked member is never authenticated; an unrevoked member of an active group always is.
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 40
    function invariantRevokedMemberIsNeverAuthenticated() public view {
        for (uint256 i; i < _handler.memberCount(); ++i) {
            (RegistryHandler.GhostMember memory member, address account) = _handler.memberAt(i);
            bool authenticated = _registry.isAuthenticated(member.gid, member.oid, account);
            bool active = _registry.groupInfo(member.gid).active;
            require(authenticated == (!member.revoked && active), "authentication differs from the model");
        }
    }

    /// No address and no (gid, oid) is held twice; the views name each member exactly as the model does.
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 40
    function invariantNoAddressOrOidIsHeldTwice() public view {
        uint256 count = _handler.memberCount();
        for (uint256 i; i < count; ++i) {
            (RegistryHandler.GhostMember memory a, address accountA) = _handler.memberAt(i);
            require(_registry.memberOf(a.gid, a.oid).account == accountA, "oid held by another account");
            require(_registry.oidOf(accountA) == a.oid, "address holds another oid");
            for (uint256 j = i + 1; j < count; ++j) {
                (RegistryHandler.GhostMember memory b, address accountB) = _handler.memberAt(j);
                require(accountA != accountB, "an address joined twice");
                require(a.gid != b.gid || a.oid != b.oid, "an oid was given twice in one group");
            }
        }
    }

    /// Each group's root, size and auth-chain head equal those of a naive model rebuilt leaf by leaf.
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 40
    function invariantEachRootEqualsTheNaiveModel() public view {
        for (uint256 i; i < _handler.groupCount(); ++i) {
            RegistryHandler.GhostGroup memory group = _handler.groupAt(i);
            IGroupRegistry.GroupInfo memory info = _registry.groupInfo(group.gid);
            bytes32[] memory leaves = _handler.leavesOf(group.gid);
            require(info.leafCount == leaves.length, "leaf count differs from the model");
            require(info.chainHead == group.head, "auth-chain head differs from the model");
            require(info.root == _naiveRoot(leaves), "root differs from the naive model");
            require(info.master == VM.addr(group.masterKey), "Master differs from the model");
            require(info.active == group.active && info.masterRevoked == group.masterRevoked, "flags differ from the model");
        }
    }

    /// A Master without its powers (revoked in the parent, or under an inactive parent) never changed
    /// its group, and no call ever failed with a panic instead of a custom error.
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 40
    function invariantPowerlessMasterNeverActsAndNothingPanics() public view {
        require(!_handler.breach(), "a Master without its powers acted, or a forged or replayed request took effect");
        require(!_handler.panicked(), "a call reverted with a panic or without data");
    }

    function _naiveRoot(bytes32[] memory leaves) private pure returns (bytes32) {
        uint256 n = leaves.length;
        if (n == 0) return bytes32(0);
        bytes32[] memory nodes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            nodes[i] = leaves[i];
        }
        for (uint256 len = n; len > 1; len = (len + 1) / 2) {
            for (uint256 i; i < len / 2; ++i) {
                nodes[i] = keccak256(abi.encodePacked(nodes[2 * i], nodes[2 * i + 1]));
            }
            if (len % 2 == 1) nodes[len / 2] = nodes[len - 1];
        }
        return nodes[0];
    }
}
