import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** Deploys the iomt-auth registry (identity plane + data plane). It takes no parameters: it has no owner. */
export default buildModule("IomtRegistry", (m) => {
  const registry = m.contract("IomtRegistry");
  return { registry };
});
