// Reading deployed bytecode: which opcodes a build uses (the london build must use neither PUSH0 nor MCOPY).

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
