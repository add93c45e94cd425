import { expect } from "chai";
import {
  BaseError,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  HttpRequestError,
  encodeAbiParameters,
  encodeErrorResult,
  encodeEventTopics,
  getAddress,
  keccak256,
  stringToHex,
} from "viem";
import type { AbiParameter, Address, Hex, Log } from "viem";
import { createGroup } from "../src/actions/groups.js";
import {
  ContractRuleError,
  batchItemStatuses,
  decodeRegistryError,
  getBatchItemResults,
  registryRules,
  toRegistryError,
} from "../src/contract-errors.js";
import type { RegistryErrorName } from "../src/contract-errors.js";
import { IomtError } from "../src/errors.js";
import { iomtRegistryAbi } from "../src/generated/abi.js";
import { toId } from "../src/ids.js";
import { deployTestRegistry } from "./support/registry.js";
import { expectError, expectRejection } from "./support/expect.js";

type AbiError = Extract<(typeof iomtRegistryAbi)[number], { type: "error" }>;
const abiErrors = iomtRegistryAbi.filter((item): item is AbiError => item.type === "error");

/** A distinct sample value for each argument type the registry's errors use. */
function sample(parameter: AbiParameter, position: number): unknown {
  switch (parameter.type) {
    case "bytes32":
      return toId(`sample-${position}`);
    case "address":
      return getAddress(`0x${(position + 1).toString(16).padStart(40, "0")}`);
    case "uint256":
      return 1000n + BigInt(position);
    case "string":
      return `sample string ${position}`;
    default:
      throw new Error(`no sample for ${parameter.type}; extend the test`);
  }
}

const argsFor = (error: AbiError): unknown[] => error.inputs.map((input, i) => sample(input, i));

const encode = (error: AbiError, args: unknown[]): Hex => encodeErrorResult({ abi: iomtRegistryAbi, errorName: error.name, args } as never);

/** A revert as viem's readContract / writeContract throw it. */
function revertError(data: Hex, functionName = "createGroup"): ContractFunctionExecutionError {
  const reverted = new ContractFunctionRevertedError({ abi: iomtRegistryAbi, data, functionName });
  return new ContractFunctionExecutionError(reverted, { abi: iomtRegistryAbi, functionName, args: [] });
}

const solidityError = (message: string): Hex =>
  encodeErrorResult({ abi: [{ type: "error", name: "Error", inputs: [{ type: "string", name: "message" }] }], errorName: "Error", args: [message] });
const solidityPanic = (code: bigint): Hex =>
  encodeErrorResult({ abi: [{ type: "error", name: "Panic", inputs: [{ type: "uint256", name: "code" }] }], errorName: "Panic", args: [code] });

const registryAddress = getAddress("0x00000000000000000000000000000000000000aa");

/** A `BatchItemSkipped` log as a node returns it (status: 1 = AlreadyApplied, 2 = Rejected). */
function skippedLog(index: number, status: number, reason: Hex, address: Address = registryAddress): Log {
  return {
    address,
    topics: encodeEventTopics({ abi: iomtRegistryAbi, eventName: "BatchItemSkipped", args: { index: BigInt(index) } }) as [Hex, ...Hex[]],
    data: encodeAbiParameters([{ type: "uint8" }, { type: "bytes" }], [status, reason]),
    blockHash: null,
    blockNumber: null,
    logIndex: null,
    transactionHash: null,
    transactionIndex: null,
    removed: false,
  };
}

const errorData = (name: string, args: unknown[]): Hex => encode(abiErrors.find((e) => e.name === name)!, args);

describe("contract errors", () => {
  describe("registryRules", () => {
    it("describes every custom error of the registry's ABI", () => {
      expect(abiErrors.length).to.be.greaterThan(30);
      for (const error of abiErrors) {
        const rule: unknown = (registryRules as Record<string, string>)[error.name];
        expect(rule, error.name).to.be.a("string").and.not.equal("");
      }
    });

    it("describes nothing that is not an error of the ABI", () => {
      expect(Object.keys(registryRules).sort()).to.deep.equal(abiErrors.map((error) => error.name).sort());
    });
  });

  describe("decodeRegistryError", () => {
    it("decodes every custom error into its name, arguments and rule", () => {
      for (const error of abiErrors) {
        const args = argsFor(error);
        const decoded = decodeRegistryError(encode(error, args));
        expect(decoded, error.name).to.be.instanceOf(ContractRuleError);
        expect(decoded).to.be.instanceOf(IomtError);
        expect(decoded.code).to.equal(error.name);
        expect(decoded.args).to.deep.equal(args);
        expect(decoded.rule).to.equal(registryRules[error.name as RegistryErrorName]);
        expect(decoded.message).to.contain(error.name).and.to.contain(decoded.rule);
      }
    });

    it("names the arguments in the message", () => {
      const gid = toId("ward-3");
      const decoded = decodeRegistryError(encode(abiErrors.find((e) => e.name === "GroupRegistryGidTaken")!, [gid]));
      expect(decoded.message).to.equal(`GroupRegistryGidTaken: ${registryRules.GroupRegistryGidTaken} (${gid})`);
    });

    it("keeps the cause it is given", () => {
      const cause = new Error("the original");
      expect(decodeRegistryError(encode(abiErrors.find((e) => e.name === "GroupRegistryZeroId")!, []), cause).cause).to.equal(cause);
    });

    it("gives UnknownRevert, with the data as its argument, for a selector the ABI does not declare", () => {
      const data = `${keccak256(stringToHex("NotARegistryError()")).slice(0, 10)}` as Hex;
      const decoded = expectError(decodeRegistryError(data), ContractRuleError, "UnknownRevert");
      expect(decoded.args).to.deep.equal([data]);
    });

    it("gives UnknownRevert for empty revert data", () => {
      expectError(decodeRegistryError("0x"), ContractRuleError, "UnknownRevert");
    });

    it("gives UnknownRevert for a custom error's selector with truncated arguments", () => {
      const data = encode(abiErrors.find((e) => e.name === "GroupRegistryGidTaken")!, [toId("x")]);
      expectError(decodeRegistryError(data.slice(0, 20) as Hex), ContractRuleError, "UnknownRevert");
    });

    it("gives UnknownRevert with a rule for a plain Error(string) revert and a Panic", () => {
      for (const data of [solidityError("boom"), solidityPanic(0x11n)]) {
        const decoded = expectError(decodeRegistryError(data), ContractRuleError, "UnknownRevert");
        expect(decoded.rule).to.be.a("string").and.not.equal("");
      }
    });
  });

  describe("toRegistryError", () => {
    it("turns a reverted call with a custom error into a ContractRuleError that keeps the viem error as cause", () => {
      const error = abiErrors.find((e) => e.name === "GroupRegistryNotMaster")!;
      const args = argsFor(error);
      const viemError = revertError(encode(error, args));
      const converted = toRegistryError(viemError);
      expect(converted).to.be.instanceOf(ContractRuleError);
      expect((converted as ContractRuleError).code).to.equal("GroupRegistryNotMaster");
      expect((converted as ContractRuleError).args).to.deep.equal(args);
      expect((converted as ContractRuleError).rule).to.equal(registryRules.GroupRegistryNotMaster);
      expect((converted as ContractRuleError).cause).to.equal(viemError);
    });

    it("decodes every custom error of the ABI the same way decodeRegistryError does", () => {
      for (const error of abiErrors) {
        const data = encode(error, argsFor(error));
        const converted = toRegistryError(revertError(data)) as ContractRuleError;
        const decoded = decodeRegistryError(data);
        expect([converted.code, converted.args, converted.rule], error.name).to.deep.equal([decoded.code, decoded.args, decoded.rule]);
      }
    });

    it("gives UnknownRevert carrying the reason for an Error(string) revert", () => {
      const converted = expectError(toRegistryError(revertError(solidityError("boom"))), ContractRuleError, "UnknownRevert");
      expect(converted.args).to.deep.equal(["boom"]);
    });

    it("gives UnknownRevert for a Panic and for an undeclared selector", () => {
      expectError(toRegistryError(revertError(solidityPanic(0x12n))), ContractRuleError, "UnknownRevert");
      const unknown = expectError(toRegistryError(revertError("0xdeadbeef")), ContractRuleError, "UnknownRevert");
      expect(unknown.args).to.deep.equal(["0xdeadbeef"]);
    });

    it("returns errors that are not reverts unchanged", () => {
      const plain = new Error("socket hang up");
      const network = new HttpRequestError({ url: "http://127.0.0.1:8545", status: 502 });
      const base = new BaseError("nonce too low");
      const sdk = new IomtError("InvalidId", "bad id");
      for (const error of [plain, network, base, sdk]) expect(toRegistryError(error)).to.equal(error);
      expect(toRegistryError("a string")).to.equal("a string");
      expect(toRegistryError(undefined)).to.equal(undefined);
    });

    it("is what the SDK's actions throw for a real revert", async () => {
      const deployed = await deployTestRegistry();
      try {
        const { chain, registry, mined } = deployed;
        const creator = chain.walletClient(await chain.fundedAccount());
        const { hash, gid } = await createGroup(creator, { registry, label: "errors/ward", masterOid: toId("errors/first") });
        await mined(hash);
        const error = await expectRejection(createGroup(creator, { registry, label: "errors/ward", masterOid: toId("errors/second") }), ContractRuleError, "GroupRegistryGidTaken");
        expect(error.args).to.deep.equal([gid]);
        expect(error.cause).to.be.instanceOf(BaseError);
      } finally {
        await deployed.stop();
      }
    });
  });

  describe("getBatchItemResults", () => {
    const gid = toId("batch/ward");
    const device = getAddress(`0x${"0d".repeat(20)}`);
    const alreadyAssociated = errorData("GroupRegistryAlreadyAssociated", [gid, toId("batch/ward/pump"), device]);
    const expired = errorData("RequestExpired", [1234n]);

    it("names the registry's BatchItemStatus values in its enum order", () => {
      expect(batchItemStatuses).to.deep.equal(["Applied", "AlreadyApplied", "Rejected"]);
    });

    it("reports every item without a BatchItemSkipped log as Applied, with no error", () => {
      expect(getBatchItemResults({ logs: [], registry: registryAddress, itemCount: 3 })).to.deep.equal([
        { index: 0, status: "Applied" },
        { index: 1, status: "Applied" },
        { index: 2, status: "Applied" },
      ]);
    });

    it("reports a skipped item with its status and its rule decoded from the log's reason", () => {
      const results = getBatchItemResults({ logs: [skippedLog(2, 2, expired), skippedLog(0, 1, alreadyAssociated)], registry: registryAddress, itemCount: 3 });
      expect(results.map(({ index, status }) => [index, status])).to.deep.equal([
        [0, "AlreadyApplied"],
        [1, "Applied"],
        [2, "Rejected"],
      ]);
      expect(results[0].error).to.be.instanceOf(ContractRuleError).and.include({ code: "GroupRegistryAlreadyAssociated", rule: registryRules.GroupRegistryAlreadyAssociated });
      expect(results[0].error!.args).to.deep.equal([gid, toId("batch/ward/pump"), device]);
      expect(results[2].error).to.include({ code: "RequestExpired" });
      expect(results[2].error!.args).to.deep.equal([1234n]);
    });

    it("reports a reason the registry's ABI does not describe as UnknownRevert", () => {
      const [result] = getBatchItemResults({ logs: [skippedLog(0, 2, "0xdeadbeef")], registry: registryAddress, itemCount: 1 });
      expect(result).to.include({ status: "Rejected" });
      expect(result.error).to.include({ code: "UnknownRevert" });
    });

    it("ignores BatchItemSkipped logs of another contract in the same receipt", () => {
      const other = getAddress(`0x${"bb".repeat(20)}`);
      expect(getBatchItemResults({ logs: [skippedLog(0, 2, expired, other)], registry: registryAddress, itemCount: 1 })).to.deep.equal([{ index: 0, status: "Applied" }]);
    });

    it("throws BatchResultOutOfRange for a log that names an item past the batch", () => {
      const error = (() => {
        try {
          getBatchItemResults({ logs: [skippedLog(3, 2, expired)], registry: registryAddress, itemCount: 3 });
        } catch (caught) {
          return caught;
        }
        return expect.fail("expected a throw");
      })();
      expect(error).to.be.instanceOf(IomtError).and.include({ code: "BatchResultOutOfRange" });
    });
  });
});
