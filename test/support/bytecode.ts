// Reading deployed bytecode: which opcodes a build uses (the london build must use neither PUSH0 nor MCOPY).
import { expect } from "chai";

export const PUSH0 = 0x5f;
export const MCOPY = 0x5e;

/** Opcodes of deployed bytecode, skipping PUSH1..PUSH32 immediates (the trailing CBOR metadata is data too, so stop at it). */
export function opcodes(bytecode: string): number[] {
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

/** Checks the opcodes of a build against its EVM target: london has neither PUSH0 nor MCOPY; Cancun uses PUSH0. */
export function expectOpcodesOfTarget(bytecode: string, target: "cancun" | "london"): void {
  const ops = opcodes(bytecode);
  if (target === "london") {
    expect(ops).to.not.include(PUSH0);
    expect(ops).to.not.include(MCOPY);
  } else {
    expect(ops).to.include(PUSH0);
  }
}
