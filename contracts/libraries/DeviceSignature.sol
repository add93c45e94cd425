// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {CalldataSignature} from "./CalldataSignature.sol";

/// @title DeviceSignature — the two kinds of device key the registry accepts
/// @notice A device signs the 32-byte digest of a request (an EIP-712 digest) with either
/// - a **secp256k1** key in software: 65 bytes `r ‖ s ‖ v` over the digest itself (OpenZeppelin
///   ECDSA, low s); the device is the key's Ethereum address;
/// - a **P-256** key in a secure element or TPM: 128 bytes `r ‖ s ‖ qx ‖ qy`, an ECDSA P-256
///   signature with SHA-256 over the 32 digest bytes (what WebCrypto, PKCS#11 `CKM_ECDSA_SHA256`
///   and a TPM signing `sha256(digest)` produce), low s, verified with OpenZeppelin's `P256`
///   (the EIP-7951 precompile where the chain has it, Solidity otherwise); the device is
///   {p256Address}`(qx, qy)`. The public key travels in calldata and is checked against the
///   address registered for the device, so nothing more is stored.
/// Like OpenZeppelin's `try…` functions, nothing here reverts: a failure is the zero address.
library DeviceSignature {
    /// @dev Domain tag of P-256 device addresses, so that no P-256 key and secp256k1 key share one.
    bytes32 internal constant P256_ADDRESS_TAG = keccak256("iomt-auth/p256-device");

    uint256 private constant SECP256K1_SIGNATURE_BYTES = 65;
    uint256 private constant P256_SIGNATURE_BYTES = 128;

    /// @notice The device that signed `digest`, or zero when the signature is malformed, high-s or invalid.
    /// @param digest The signed 32-byte digest.
    /// @param signature 65 bytes (secp256k1) or 128 bytes (P-256 with its public key); any other length yields zero.
    /// @return signer The device's address, or zero.
    function tryRecover(bytes32 digest, bytes calldata signature) internal view returns (address signer) {
        if (signature.length == SECP256K1_SIGNATURE_BYTES) return CalldataSignature.tryRecover(digest, signature);
        if (signature.length != P256_SIGNATURE_BYTES) return address(0);
        bytes32 qx = bytes32(signature[64:96]);
        bytes32 qy = bytes32(signature[96:128]);
        // P256.verify refuses high-s and, without the precompile, keys off the curve; the precompile
        // refuses keys off the curve itself.
        if (!P256.verify(sha256(abi.encodePacked(digest)), bytes32(signature[0:32]), bytes32(signature[32:64]), qx, qy)) {
            return address(0);
        }
        return p256Address(qx, qy);
    }

    /// @notice The address that names a P-256 device: the last 20 bytes of
    /// `keccak256(abi.encodePacked(P256_ADDRESS_TAG, qx, qy))`.
    /// @param qx The public key's x coordinate.
    /// @param qy The public key's y coordinate.
    /// @return The device's address.
    function p256Address(bytes32 qx, bytes32 qy) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked(P256_ADDRESS_TAG, qx, qy)))));
    }
}
