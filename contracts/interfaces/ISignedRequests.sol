// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ISignedRequests — the rules both planes apply to device-signed, relayed requests
/// @notice Every request a device signs and someone else submits (an association, a data message, a
/// device-to-device exchange) is EIP-712 typed data under the registry's domain, with a per-device
/// nonce and a deadline. The errors below state those shared rules once; each carries the facts
/// that broke it. Batches of such requests never revert as a whole for one bad item: they apply
/// what is valid and report every other item with {BatchItemSkipped}.
/// @custom:security-contact see SECURITY.md at the repository root (private disclosure to the maintainers)
interface ISignedRequests {
    /// @notice The outcome of one item of a `…BatchBySig` call, in item order.
    enum BatchItemStatus {
        Applied, // the item took effect in this transaction
        AlreadyApplied, // the item had taken effect before (same device and oid, or same device nonce)
        Rejected // the item broke a rule; {BatchItemSkipped} carries the error
    }

    /// @notice An item of a batch did not take effect in this transaction.
    /// @param index The item's position in the batch.
    /// @param status `AlreadyApplied` or `Rejected`.
    /// @param reason The ABI-encoded custom error that names the rule, exactly as the single-item
    /// entry point would revert with it.
    event BatchItemSkipped(uint256 indexed index, BatchItemStatus status, bytes reason);

    /// @dev The request's `deadline` (a unix time in seconds) is before the block's timestamp.
    error RequestExpired(uint256 deadline);
    /// @dev The request's nonce is not the signer's next nonce (`expected`); an association request
    /// always carries nonce 0.
    error RequestInvalidNonce(address device, uint256 expected);
    /// @dev The signature is not 65 bytes, is malleable (high s), or recovers to no address.
    error RequestInvalidSignature();
    /// @dev The signature is valid but was made by `recovered`, not by `device`, the key the
    /// request must come from (also the result of a signature over other fields or another domain).
    error RequestWrongSigner(address recovered, address device);
    /// @dev A batch call was given no items.
    error BatchEmpty();
}
