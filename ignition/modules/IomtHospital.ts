import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import IomtRegistryModule from "./IomtRegistry.js";

/**
 * A hospital's deployment: the registry (identity and data planes in one contract) and the
 * hospital's root group, created by the deploying key, which becomes the root group's Master.
 * Parameters (bytes32, see ignition/parameters/hospital.json): `gid` of the root group and the
 * Master's `masterOid`. Nothing here is an admin role: the Master only masters its own group.
 */
export default buildModule("IomtHospital", (m) => {
  const { registry } = m.useModule(IomtRegistryModule);
  const gid = m.getParameter<string>("gid");
  const masterOid = m.getParameter<string>("masterOid");
  m.call(registry, "createGroup", [gid, masterOid, `0x${"0".repeat(64)}`], { id: "createRootGroup" });
  return { registry };
});
