import { expect } from "chai";
import hre from "hardhat";
import IomtRegistryModule from "../ignition/modules/IomtRegistry.js";
import { chainId, connection } from "./support/fixtures.js";

describe("Deployment", () => {
  it("deploys the registry through its Ignition module with the iomt-auth EIP-712 domain", async () => {
    const { registry } = await connection.ignition.deploy(IomtRegistryModule);
    const [, name, version, domainChainId, verifyingContract] = await registry.read.eip712Domain();
    expect({ name, version, domainChainId, verifyingContract }).to.deep.equal({
      name: "iomt-auth",
      version: "1",
      domainChainId: BigInt(chainId),
      verifyingContract: registry.address,
    });
  });
});

/** Opcodes of deployed bytecode, skipping PUSH1..PUSH32 immediates (the trailing CBOR metadata is data too, so stop at it). */
function opcodes(bytecode: string): number[] {
  const code = Buffer.from(bytecode.slice(2), "hex");
  const metadataLength = code.readUInt16BE(code.length - 2) + 2;
  const ops: number[] = [];
  for (let i = 0; i < code.length - metadataLength; i++) {
    const op = code[i];
    ops.push(op);
    if (op >= 0x60 && op <= 0x7f) i += op - 0x5f;
  }
  return ops;
}

describe("EVM targets", () => {
  const PUSH0 = 0x5f;
  const MCOPY = 0x5e;
  const london = process.env.IOMT_EVM === "london";

  it(london ? "the london build uses neither PUSH0 nor MCOPY" : "the default (Cancun) build uses PUSH0", async () => {
    const { deployedBytecode } = await hre.artifacts.readArtifact("IomtRegistry");
    const ops = opcodes(deployedBytecode);
    if (london) {
      expect(ops).to.not.include(PUSH0);
      expect(ops).to.not.include(MCOPY);
    } else {
      expect(ops).to.include(PUSH0);
    }
  });
});
