import { expect } from "chai";
import hre from "hardhat";
import IomtRegistryModule from "../ignition/modules/IomtRegistry.js";
import { expectOpcodesOfTarget } from "./support/bytecode.js";
import { chainId, connection } from "./support/fixtures.js";

describe("Deployment", () => {
  it("deploys the registry through its Ignition module with the iomt-auth EIP-712 domain", async () => {
    const { registry } = await connection.ignition.deploy(IomtRegistryModule);
    const [, name, version, domainChainId, verifyingContract] = await registry.read.eip712Domain();
    expect({ name, version, domainChainId, verifyingContract }).to.deep.equal({
      name: "iomt-auth",
      version: "2",
      domainChainId: BigInt(chainId),
      verifyingContract: registry.address,
    });
  });

  it("deploys the AggregateVerifier with the module, bound to that registry", async () => {
    const { registry, aggregateVerifier } = await connection.ignition.deploy(IomtRegistryModule);
    expect((await aggregateVerifier.read.registry()).toLowerCase()).to.equal(registry.address.toLowerCase());
  });
});

describe("EVM targets", () => {
  const london = process.env.IOMT_EVM === "london";

  it(london ? "the london build uses neither PUSH0 nor MCOPY" : "the default (Cancun) build uses PUSH0", async () => {
    const { deployedBytecode } = await hre.artifacts.readArtifact("IomtRegistry");
    expectOpcodesOfTarget(deployedBytecode, london ? "london" : "cancun");
  });
});
