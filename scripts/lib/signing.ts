// Signing helpers for scripts: the Master's association token (EIP-191) and the EIP-712 typed
// data devices sign (association, data message, exchange). They mirror the type strings in
// contracts/GroupRegistry.sol and contracts/DataLedger.sol; a mismatch makes the contract revert.
import { encodePacked, keccak256, type Address, type Hex, type LocalAccount } from "viem";

/** The registry's EIP-712 domain (`IomtRegistry`: name "iomt-auth", version "1"). */
export interface RegistryDomain {
  name: "iomt-auth";
  version: "1";
  chainId: number;
  verifyingContract: Address;
}

export function registryDomain(verifyingContract: Address, chainId: number): RegistryDomain {
  return { name: "iomt-auth", version: "1", chainId, verifyingContract };
}

/** `Association(bytes32 gid,bytes32 oid,address device,uint256 nonce,uint256 deadline)` */
export interface AssociationRequest {
  gid: Hex;
  oid: Hex;
  device: Address;
  nonce: bigint;
  deadline: bigint;
}

/** `DataMessage(bytes32 gid,bytes32 oid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)` */
export interface DataMessage {
  gid: Hex;
  oid: Hex;
  nonce: bigint;
  payloadHash: Hex;
  timestamp: bigint;
  deadline: bigint;
}

/** `Exchange(bytes32 gid,bytes32 oid,bytes32 receiverGid,bytes32 receiverOid,uint256 nonce,bytes32 payloadHash,uint64 timestamp,uint64 deadline)` */
export interface Exchange {
  gid: Hex;
  oid: Hex;
  receiverGid: Hex;
  receiverOid: Hex;
  nonce: bigint;
  payloadHash: Hex;
  timestamp: bigint;
  deadline: bigint;
}

export const associationTypes = {
  Association: [
    { name: "gid", type: "bytes32" },
    { name: "oid", type: "bytes32" },
    { name: "device", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export const dataMessageTypes = {
  DataMessage: [
    { name: "gid", type: "bytes32" },
    { name: "oid", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "payloadHash", type: "bytes32" },
    { name: "timestamp", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

export const exchangeTypes = {
  Exchange: [
    { name: "gid", type: "bytes32" },
    { name: "oid", type: "bytes32" },
    { name: "receiverGid", type: "bytes32" },
    { name: "receiverOid", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "payloadHash", type: "bytes32" },
    { name: "timestamp", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

/** The token digest `keccak256(abi.encodePacked(gid, oid, device))` (the registry's `tokenDigest`). */
export const tokenDigest = (gid: Hex, oid: Hex, device: Address): Hex =>
  keccak256(encodePacked(["bytes32", "bytes32", "address"], [gid, oid, device]));

/** The Master's token for (gid, oid, device): an EIP-191 personal signature over the token digest. */
export function issueToken(master: LocalAccount, gid: Hex, oid: Hex, device: Address): Promise<Hex> {
  return master.signMessage({ message: { raw: tokenDigest(gid, oid, device) } });
}

export function signAssociation(device: LocalAccount, domain: RegistryDomain, request: AssociationRequest): Promise<Hex> {
  return device.signTypedData({ domain, types: associationTypes, primaryType: "Association", message: request });
}

export function signDataMessage(device: LocalAccount, domain: RegistryDomain, message: DataMessage): Promise<Hex> {
  return device.signTypedData({ domain, types: dataMessageTypes, primaryType: "DataMessage", message });
}

export function signExchange(sender: LocalAccount, domain: RegistryDomain, exchange: Exchange): Promise<Hex> {
  return sender.signTypedData({ domain, types: exchangeTypes, primaryType: "Exchange", message: exchange });
}

/** A relayed-association item for `associateFor` / `associateBatch`: request, device signature, Master token. */
export async function signedAssociation(
  domain: RegistryDomain,
  master: LocalAccount,
  device: LocalAccount,
  gid: Hex,
  oid: Hex,
  deadline: bigint,
  nonce = 0n,
): Promise<{ request: AssociationRequest; signature: Hex; token: Hex }> {
  const request: AssociationRequest = { gid, oid, device: device.address, nonce, deadline };
  const [signature, token] = await Promise.all([
    signAssociation(device, domain, request),
    issueToken(master, gid, oid, device.address),
  ]);
  return { request, signature, token };
}
