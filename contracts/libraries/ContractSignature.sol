// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title ContractSignature — ERC-1271 signatures of contract wallets (a hospital's multisig as Master)
/// @notice The same check as OpenZeppelin 5.4's `SignatureChecker.isValidERC1271SignatureNow`: a
/// `staticcall` to `isValidSignature(hash, signature)` that must succeed and return the ERC-1271
/// magic value. It is restated here because OpenZeppelin's `SignatureChecker.sol` imports
/// `utils/Bytes.sol`, whose `mcopy` the `london` build (pre-Cancun proof-of-authority clients) cannot
/// compile. The call is a `staticcall`: the wallet cannot change any state while it answers.
library ContractSignature {
    /// @notice Whether the contract `signer` approves `signature` over `hash` (ERC-1271).
    /// @param signer A contract implementing ERC-1271.
    /// @param hash The signed hash.
    /// @param signature Whatever the wallet expects (e.g. its owners' approvals).
    /// @return Whether it answered with the magic value `0x1626ba7e`.
    function isValid(address signer, bytes32 hash, bytes calldata signature) internal view returns (bool) {
        // The wallet's own verification: a view call by design.
        // solhint-disable-next-line avoid-low-level-calls
        (bool success, bytes memory result) =
            signer.staticcall(abi.encodeCall(IERC1271.isValidSignature, (hash, signature)));
        // A bounds check reads clearest this way.
        // solhint-disable-next-line gas-strict-inequalities
        return success && result.length >= 32
            && abi.decode(result, (bytes32)) == bytes32(IERC1271.isValidSignature.selector);
    }
}
