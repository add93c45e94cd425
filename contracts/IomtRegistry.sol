// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {DataLedger} from "./DataLedger.sol";
import {GroupRegistry} from "./GroupRegistry.sol";

/// @title IomtRegistry — the deployable iomt-auth contract: identity plane and data plane
/// @notice One contract, one EIP-712 domain (`name = "iomt-auth"`, `version = "2"`): the data
/// plane reads the identity plane's member records directly, which keeps a relayed data message
/// near the EVM floor. No owner, no upgrade path, no pause. Version 2 of the domain marks the
/// registry with derived group ids, group-scoped object ids and batches that skip bad items.
/// @custom:security-contact see SECURITY.md at the repository root (private disclosure to the maintainers)
contract IomtRegistry is GroupRegistry, DataLedger {
    constructor() EIP712("iomt-auth", "2") {}
}
