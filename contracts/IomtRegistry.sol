// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {DataLedger} from "./DataLedger.sol";
import {GroupRegistry} from "./GroupRegistry.sol";

/// @title IomtRegistry — the deployable iomt-auth contract: identity plane and data plane
/// @notice One contract, one EIP-712 domain (`name = "iomt-auth"`, `version = "1"`): the data
/// plane reads the identity plane's member records directly, which keeps a relayed data message
/// near the EVM floor. No owner, no upgrade path, no pause.
contract IomtRegistry is GroupRegistry, DataLedger {
    constructor() EIP712("iomt-auth", "1") {}
}
