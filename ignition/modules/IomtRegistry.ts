import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * Deploys the iomt-auth registry (identity plane + data plane) and its companion AggregateVerifier
 * (hierarchical anchoring's on-chain check, reading the registry). No parameters: neither has an owner.
 */
export default buildModule("IomtRegistry", (m) => {
  const registry = m.contract("IomtRegistry");
  const aggregateVerifier = m.contract("AggregateVerifier", [registry]);
  return { registry, aggregateVerifier };
});
