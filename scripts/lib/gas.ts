// Gas arithmetic and the fixed inputs shared by the gas report and the benchmark report.
import type { Hex } from "viem";

/** 21,000 plus calldata at 4 gas per zero byte and 16 per other byte (EIP-2028; Cancun has no EIP-7623 floor). */
export function intrinsicGas(input: Hex): number {
  let gas = 21_000;
  for (let i = 2; i < input.length; i += 2) gas += input.slice(i, i + 2) === "00" ? 4 : 16;
  return gas;
}

// The reports are byte-identical for the same contracts: keys come from fixed labels, and every
// timestamp and deadline a report signs is one of these instants, never the clock (a signed value
// changes the calldata, and calldata costs gas by its bytes). Neither output carries a date.
/** The timestamp of every data message and exchange a report signs: 2026-01-01T00:00:00Z. */
export const REPORT_TIMESTAMP = 1_767_225_600n;
/** The deadline of every request a report signs: 2100-01-01T00:00:00Z, after any chain's clock. */
export const REPORT_DEADLINE = 4_102_444_800n;

/** Where `./iomt gas` writes; `./iomt gas:check` points it at a temporary folder. */
export const reportDir = process.env.IOMT_GAS_REPORT_DIR ?? "gas-reports";
