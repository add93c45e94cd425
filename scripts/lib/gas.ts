// Gas arithmetic shared by the gas report and the benchmark report.
import type { Hex } from "viem";

/** 21,000 plus calldata at 4 gas per zero byte and 16 per other byte (EIP-2028; Cancun has no EIP-7623 floor). */
export function intrinsicGas(input: Hex): number {
  let gas = 21_000;
  for (let i = 2; i < input.length; i += 2) gas += input.slice(i, i + 2) === "00" ? 4 : 16;
  return gas;
}
