import { expect } from "chai";
import { concat, getAddress, keccak256, numberToHex, pad } from "viem";
import { IomtError } from "../src/errors.js";
import { InvalidIdError, assertId, groupId, toId } from "../src/ids.js";
import { iomtRegistryAbi } from "../src/generated/abi.js";
import type { Address, Hex } from "viem";
import { deployTestRegistry, type TestRegistry } from "./support/registry.js";
import { expectCode, thrown } from "./support/expect.js";

const MAX_UINT256 = (1n << 256n) - 1n;

function expectInvalidId(fn: () => unknown): void {
  expect(expectCode(fn, InvalidIdError, "InvalidId")).to.be.instanceOf(IomtError);
}

describe("ids", () => {
  describe("toId of a name", () => {
    it("hashes the name's UTF-8 bytes with keccak256", () => {
      expect(toId("héllo")).to.equal(keccak256(new Uint8Array(Buffer.from("héllo", "utf8"))));
    });

    it("gives the pinned ids of the README example, so a change of rule is caught", () => {
      expect(toId("ward-3")).to.equal("0x5173cc6044251445994d9df5c5716988ab2f263d6748f53400209e0a52be44c9");
      expect(toId("ward-3/ecg-1")).to.equal("0x50a8aa6a229c7498c50bd487e59118dbdb61a89d99ec313ae43a5d2b19bfb2b1");
    });

    it("gives a name's id back unchanged when that id is passed again, instead of hashing it twice", () => {
      const id = toId("icu/monitor-7");
      expect(id).to.equal(keccak256(new Uint8Array(Buffer.from("icu/monitor-7", "utf8"))));
      expect(toId(id)).to.equal(id);
    });

    it("gives different ids for names differing only in case", () => {
      expect(toId("Ward-3")).to.not.equal(toId("ward-3"));
    });

    it("hashes a name that contains hex digits but no 0x prefix", () => {
      const digits = "ab".repeat(32);
      expect(toId(digits)).to.equal(keccak256(new Uint8Array(Buffer.from(digits, "utf8"))));
    });

    it("rejects the empty name", () => {
      expectInvalidId(() => toId(""));
    });
  });

  describe("toId of a number", () => {
    it("encodes 1 as a 32-byte big-endian integer", () => {
      expect(toId(1)).to.equal(`0x${"00".repeat(31)}01`);
    });

    it("encodes a bigint and the equal number identically", () => {
      expect(toId(0x1234n)).to.equal(`0x${"0".repeat(60)}1234`);
      expect(toId(0x1234)).to.equal(toId(0x1234n));
    });

    it("accepts the largest safe integer as a number", () => {
      expect(toId(Number.MAX_SAFE_INTEGER)).to.equal(`0x${BigInt(Number.MAX_SAFE_INTEGER).toString(16).padStart(64, "0")}`);
    });

    it("accepts 2^256 − 1 as a bigint", () => {
      expect(toId(MAX_UINT256)).to.equal(`0x${"f".repeat(64)}`);
    });

    it("rejects zero as a number and as a bigint", () => {
      expectInvalidId(() => toId(0));
      expectInvalidId(() => toId(0n));
    });

    it("rejects negative values", () => {
      expectInvalidId(() => toId(-1));
      expectInvalidId(() => toId(-1n));
    });

    it("rejects 2^256 and above", () => {
      expectInvalidId(() => toId(MAX_UINT256 + 1n));
    });

    it("rejects numbers that are not safe integers", () => {
      expectInvalidId(() => toId(Number.MAX_SAFE_INTEGER + 1));
      expectInvalidId(() => toId(1.5));
      expectInvalidId(() => toId(Number.NaN));
      expectInvalidId(() => toId(Number.POSITIVE_INFINITY));
    });
  });

  describe("toId of a 32-byte hex string", () => {
    it("takes the hex as the id itself", () => {
      const id = `0x${"0123456789abcdef".repeat(4)}` as const;
      expect(toId(id)).to.equal(id);
    });

    it("lower-cases upper-case hex digits", () => {
      expect(toId(`0x${"AB".repeat(32)}`)).to.equal(`0x${"ab".repeat(32)}`);
    });

    it("gives the id a number maps to when the hex spells that number", () => {
      expect(toId(`0x${"00".repeat(31)}2a`)).to.equal(toId(42));
    });

    it("rejects the zero id", () => {
      expectInvalidId(() => toId(`0x${"00".repeat(32)}`));
    });

    it("rejects 0x strings of another length instead of hashing them", () => {
      expectInvalidId(() => toId("0x"));
      expectInvalidId(() => toId(`0x${"ab".repeat(31)}`));
      expectInvalidId(() => toId(`0x${"ab".repeat(33)}`));
      expectInvalidId(() => toId(`0x${"a".repeat(63)}`));
    });

    it("rejects a 0x string of the right length with a non-hex digit", () => {
      expectInvalidId(() => toId(`0x${"ab".repeat(31)}zz`));
    });
  });

  describe("assertId", () => {
    it("returns a valid id lower-cased", () => {
      expect(assertId(`0x${"CD".repeat(32)}`)).to.equal(`0x${"cd".repeat(32)}`);
    });

    it("accepts every id toId derives", () => {
      for (const id of [toId("ward-3"), toId(7), toId(MAX_UINT256)]) expect(assertId(id)).to.equal(id);
    });

    it("rejects the zero id", () => {
      expectInvalidId(() => assertId(`0x${"00".repeat(32)}`));
    });

    it("rejects hex of the wrong length", () => {
      expectInvalidId(() => assertId("0x01"));
      expectInvalidId(() => assertId(`0x${"01".repeat(33)}`));
    });

    it("rejects non-hex and values that are not strings", () => {
      expectInvalidId(() => assertId(`0x${"g".repeat(64)}` as Hex));
      expectInvalidId(() => assertId("ward-3" as Hex));
      expectInvalidId(() => assertId(1n as unknown as Hex));
      expectInvalidId(() => assertId(undefined as unknown as Hex));
    });

    it("names the field in its message", () => {
      const error = thrown(() => assertId("0x01", "receiverGid"));
      expect((error as Error).message).to.contain("receiverGid");
    });
  });

  describe("groupId", () => {
    const registry: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const creator: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const base = { chainId: 31337, registry, creator, label: "ward-3" };

    it("is keccak256 of the chain id, the registry, the creator and toId(label), each a 32-byte word", () => {
      const word = (address: Address): Hex => pad(address.toLowerCase() as Hex, { size: 32 });
      const expected = keccak256(concat([numberToHex(31337, { size: 32 }), word(registry), word(creator), toId("ward-3")]));
      expect(groupId(base)).to.equal(expected);
    });

    it("takes the label as toId does: a name, a number or a bytes32", () => {
      expect(groupId({ ...base, label: 7 })).to.equal(groupId({ ...base, label: toId(7) }));
      expect(groupId({ ...base, label: 7n })).to.equal(groupId({ ...base, label: 7 }));
      expect(groupId({ ...base, label: toId("ward-3") })).to.equal(groupId(base));
    });

    it("changes with the chain, the registry, the creator and the label, so no other party can derive yours", () => {
      const gids = [
        groupId(base),
        groupId({ ...base, chainId: 1 }),
        groupId({ ...base, registry: creator }),
        groupId({ ...base, creator: registry }),
        groupId({ ...base, label: "ward-4" }),
      ];
      expect(new Set(gids).size).to.equal(gids.length);
    });

    it("does not depend on the addresses' case", () => {
      expect(groupId({ ...base, registry: registry.toLowerCase() as Address, creator: creator.toLowerCase() as Address })).to.equal(groupId(base));
    });

    it("rejects a chain id that is not a positive safe integer, a malformed address and an empty label", () => {
      for (const chainId of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1]) expectInvalidId(() => groupId({ ...base, chainId }));
      expectInvalidId(() => groupId({ ...base, registry: "0x1234" }));
      expectInvalidId(() => groupId({ ...base, creator: "not an address" as Address }));
      expectInvalidId(() => groupId({ ...base, label: "" }));
      expectInvalidId(() => groupId({ ...base, label: 0 }));
    });

    describe("against a deployed registry", () => {
      let deployed: TestRegistry;

      before(async () => {
        deployed = await deployTestRegistry();
      });

      after(async () => {
        await deployed?.stop();
      });

      it("equals the registry's groupId view for every creator and label", async () => {
        const chainId = await deployed.chain.publicClient.getChainId();
        const creators = [deployed.deployer.address, creator, getAddress(`0x${"00".repeat(19)}01`)];
        const labels: (string | number | bigint)[] = ["ward-3", "hospital/root", 1, (1n << 256n) - 1n, toId("icu")];
        for (const who of creators) {
          for (const label of labels) {
            const onChain = await deployed.chain.publicClient.readContract({
              address: deployed.registry,
              abi: iomtRegistryAbi,
              functionName: "groupId",
              args: [who, toId(label)],
            });
            expect(groupId({ chainId, registry: deployed.registry, creator: who, label }), `${who} ${String(label)}`).to.equal(onChain);
          }
        }
      });
    });
  });
});
