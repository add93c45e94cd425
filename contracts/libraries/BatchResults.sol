// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BatchResults — rules that return their broken rule instead of reverting
/// @notice A `_try…` function returns the ABI encoding of the custom error that names the broken
/// rule (selector ‖ arguments, as a revert would carry it), or empty bytes on success. A single-item
/// entry point reverts with it unchanged; a batch reports it per item and goes on, so that one bad or
/// front-run item cannot make a whole batch fail.
library BatchResults {
    /// @notice Reverts with `failure` as the revert data when it is not empty.
    /// @param failure An ABI-encoded custom error, or empty bytes.
    function revertIfFailed(bytes memory failure) internal pure {
        if (failure.length != 0) {
            // Re-throws the encoded custom error unchanged, as OpenZeppelin's Errors/Address helpers do.
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                revert(add(failure, 0x20), mload(failure))
            }
        }
    }

    /// @notice Whether `failure` encodes the custom error with `selector`.
    /// @param failure An ABI-encoded custom error (at least 4 bytes).
    /// @param selector The error's selector.
    /// @return Whether its first four bytes are `selector`.
    function isError(bytes memory failure, bytes4 selector) internal pure returns (bool) {
        return bytes4(failure) == selector;
    }
}
