// What the scripts need from the node or gateway they run against: funding a key, and a gateway
// on loopback for a Master key.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Address, Client, Hex, Transport } from "viem";
import { resolveConfig, startGateway, type RawSettings, type RunningGateway } from "../../gateway/src/index.js";

/** Sets an account's balance where the node allows it (Hardhat's or anvil's dialect); false on any other node. */
export async function setBalance(client: Pick<Client, "request">, address: Address, wei: bigint): Promise<boolean> {
  for (const method of ["hardhat_setBalance", "anvil_setBalance"]) {
    try {
      await client.request({ method: method as never, params: [address, `0x${wei.toString(16)}`] as never });
      return true;
    } catch {
      // not this node's dialect
    }
  }
  return false;
}

export type StartLoopbackGatewayParameters = {
  /** Folder for the key file and the database. */
  dir: string;
  /** Names the files in `dir`. */
  name: string;
  /** The Master key; written to a 0600 key file, which is how the gateway takes keys. */
  privateKey: Hex;
  /** How the gateway reaches the chain (e.g. the in-process provider). */
  transport: Transport;
  /** chainId, registry, fromBlock, groups and any tuning; `rpcUrl` only labels the chain when a transport is given. */
  settings: RawSettings;
};

/** Starts a gateway on a free loopback port. */
export async function startLoopbackGateway({ dir, name, privateKey, transport, settings }: StartLoopbackGatewayParameters): Promise<RunningGateway> {
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(keyFile, privateKey);
  chmodSync(keyFile, 0o600);
  const loaded = resolveConfig({ rpcUrl: "http://in-process.invalid", port: 0, adminPort: 0, logLevel: "error", ...settings, keyFile, databasePath: join(dir, `${name}.db`) });
  // A fresh database each run: created here, as `iomt-gateway init` would.
  return startGateway(loaded, { transport, createDatabase: true });
}
