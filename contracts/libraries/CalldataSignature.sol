// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title CalldataSignature — OpenZeppelin ECDSA recovery of a 65-byte signature left in calldata
/// @notice Splits r, s and v with calldata slices instead of copying the signature to memory,
/// then recovers with OpenZeppelin's `tryRecover`, which rejects malleable (high-s) signatures.
/// Like OpenZeppelin's `try…` functions it never reverts: a failure is the zero address.
library CalldataSignature {
    /// @notice The signer of `digest`, or zero when the signature is malformed, high-s or invalid.
    /// @param digest The signed 32-byte digest.
    /// @param signature A 65-byte signature (r ‖ s ‖ v); any other length yields zero.
    /// @return signer The recovered address, or zero.
    function tryRecover(bytes32 digest, bytes calldata signature) internal pure returns (address signer) {
        if (signature.length != 65) return address(0);
        (signer,,) = ECDSA.tryRecover(digest, uint8(signature[64]), bytes32(signature[0:32]), bytes32(signature[32:64]));
    }
}
