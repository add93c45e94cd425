import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import IomtRegistryModule from "./IomtRegistry.js";

/**
 * A hospital's deployment: the registry (identity and data planes in one contract), its
 * AggregateVerifier (hierarchical anchoring's on-chain check), and the
 * hospital's root group, created by the deploying key, which becomes the root group's Master.
 * Parameters (bytes32, see ignition/parameters/hospital.json): the root group's `label` and the
 * Master's `masterOid`. The registry derives the gid from the creator and the label
 * (`keccak256(abi.encode(chainId, registry, deployer, label))`, the SDK's `groupId`), so nobody can
 * create it first; the module records it as the future `rootGroupGid` (read from the GroupCreated
 * event), and `./iomt deploy` prints it. Nothing here is an admin role: the Master only masters
 * its own group.
 */
export default buildModule("IomtHospital", (m) => {
  const { registry, aggregateVerifier } = m.useModule(IomtRegistryModule);
  const label = m.getParameter<string>("label");
  const masterOid = m.getParameter<string>("masterOid");
  const createRootGroup = m.call(registry, "createGroup", [label, masterOid, `0x${"0".repeat(64)}`], { id: "createRootGroup" });
  m.readEventArgument(createRootGroup, "GroupCreated", "gid", { id: "rootGroupGid", emitter: registry });
  return { registry, aggregateVerifier };
});
