// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @title MultisigMaster — a minimal 2-of-3 contract wallet, as a hospital would keep its authority
/// @notice Not part of the deployed system: the tests use it as a root group's Master to show that a
/// contract wallet can master a group (create it, sign tokens through ERC-1271, hand over, revoke).
/// Approvals are 65-byte ECDSA signatures of distinct owners, concatenated in ascending signer order.
/// @custom:security-contact see SECURITY.md at the repository root (private disclosure to the maintainers)
contract MultisigMaster is IERC1271 {
    /// @dev Owners are three distinct non-zero addresses.
    error MultisigMasterInvalidOwners();
    /// @dev Fewer than two distinct owners approved, or the approvals are not in ascending signer order.
    error MultisigMasterNotApproved();
    /// @dev The approved call reverted with `reason`.
    error MultisigMasterCallFailed(bytes reason);

    uint256 private constant THRESHOLD = 2;
    uint256 private constant SIGNATURE_BYTES = 65;

    address private immutable OWNER_A;
    address private immutable OWNER_B;
    address private immutable OWNER_C;
    uint256 private _nonce;

    /// @notice Emitted after an approved call ran.
    /// @param nonce The nonce it consumed.
    /// @param target The called contract.
    event Executed(uint256 indexed nonce, address indexed target);

    /// @notice A wallet of three owners, any two of which approve.
    /// @param owners The three owners.
    constructor(address[3] memory owners) {
        if (
            owners[0] == address(0) || owners[1] == address(0) || owners[2] == address(0) || owners[0] == owners[1]
                || owners[0] == owners[2] || owners[1] == owners[2]
        ) revert MultisigMasterInvalidOwners();
        OWNER_A = owners[0];
        OWNER_B = owners[1];
        OWNER_C = owners[2];
    }

    /// @notice Runs `target.call(data)` when two owners approved `executionHash(target, data)`.
    /// @param target The contract to call (the registry).
    /// @param data The calldata.
    /// @param approvals Two or more owners' signatures over the EIP-191 hash of `executionHash`.
    /// @return result What the call returned.
    function execute(address target, bytes calldata data, bytes calldata approvals) external returns (bytes memory result) {
        uint256 nonce = _nonce;
        if (!_approved(MessageHashUtils.toEthSignedMessageHash(executionHash(target, data)), approvals)) {
            revert MultisigMasterNotApproved();
        }
        _nonce = nonce + 1;
        emit Executed(nonce, target);
        bool ok;
        // The wallet's purpose: run what its owners approved, whatever the target.
        // solhint-disable-next-line avoid-low-level-calls
        (ok, result) = target.call(data);
        if (!ok) revert MultisigMasterCallFailed(result);
    }

    /// @notice The hash owners approve for the next call: bound to the chain, this wallet and its nonce.
    /// @param target The contract to call.
    /// @param data The calldata.
    /// @return The hash.
    function executionHash(address target, bytes calldata data) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), _nonce, target, keccak256(data)));
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata approvals) external view returns (bytes4) {
        return _approved(hash, approvals) ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }

    function _approved(bytes32 hash, bytes calldata approvals) private view returns (bool) {
        uint256 count = approvals.length / SIGNATURE_BYTES;
        if (count < THRESHOLD || approvals.length % SIGNATURE_BYTES != 0) return false;
        address previous;
        for (uint256 i; i < count; ++i) {
            bytes calldata approval = approvals[i * SIGNATURE_BYTES:(i + 1) * SIGNATURE_BYTES];
            (address signer,,) =
                ECDSA.tryRecover(hash, uint8(approval[64]), bytes32(approval[0:32]), bytes32(approval[32:64]));
            // Ascending order makes two approvals by one owner impossible.
            // solhint-disable-next-line gas-strict-inequalities
            if (signer <= previous || (signer != OWNER_A && signer != OWNER_B && signer != OWNER_C)) return false;
            previous = signer;
        }
        return true;
    }
}
