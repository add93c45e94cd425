// The main job until the full scenario lands: on Hardhat's in-process network, a hospital's root
// Master and one ward cluster head build a two-level hierarchy, four devices associate (direct,
// relayed, batch), send data (relayed, direct, batch, device-to-device), the ward gateway anchors
// a batch, a device's AuthTable path is checked on chain, and a revocation breaks it. Prints the
// gas of every step.
import { network } from "hardhat";
import { keccak256, parseEther, stringToHex, zeroHash, type Hash, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  buildBatchTree,
  createAuthTableIndexer,
  issueToken,
  registryDomain,
  signAssociation,
  signDataMessage,
  signExchange,
  verifyAuthPathOnChain,
  type DataMessage,
} from "../sdk/src/index.js";

const { viem, networkHelpers } = await network.create();
const publicClient = await viem.getPublicClient();
const id = (label: string): Hex => keccak256(stringToHex(label));
const key = (label: string) => privateKeyToAccount(keccak256(stringToHex(`iomt-demo:${label}`)));

const rows: [string, bigint][] = [];
async function step(label: string, tx: Promise<Hash>): Promise<void> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await tx });
  if (receipt.status !== "success") throw new Error(`${label}: transaction reverted`);
  rows.push([label, receipt.gasUsed]);
  console.log(`  ✓ ${label.padEnd(58)} ${receipt.gasUsed.toLocaleString("en-US").padStart(9)} gas`);
}

console.log("iomt-auth demo — in-process EVM (Hardhat), one hospital, one ward cluster\n");
const registry = await viem.deployContract("IomtRegistry");
const domain = registryDomain({ chainId: await publicClient.getChainId(), registry: registry.address });
const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;

/** A relayed association: the Master issues the device's token, the device signs its request. */
async function signedAssociation(master: LocalAccount, device: LocalAccount, gid: Hex, oid: Hex) {
  const token = await issueToken(master, { gid, oid, device: device.address });
  return signAssociation(device, { domain, token, deadline });
}

const hospital = key("hospital-master");
const ward = key("ward-cluster-head");
const wardGateway = key("ward-gateway");
const devices = ["ecg", "spo2", "infusion-pump", "thermometer"].map((name) => ({ name, account: key(name), oid: id(`oid:${name}`) }));
for (const funded of [hospital, ward, wardGateway, devices[0].account]) {
  await networkHelpers.setBalance(funded.address, parseEther("10"));
}
const hospitalGid = id("group:hospital");
const wardGid = id("group:ward-3");

console.log("Identity plane");
await step("root group created by the hospital Master", registry.write.createGroup([hospitalGid, id("oid:hospital"), zeroHash], { account: hospital }));
const wardJoin = await signedAssociation(hospital, ward, hospitalGid, id("oid:ward"));
await step("ward cluster head associates (relayed, hospital pays)", registry.write.associateFor([wardJoin.request, wardJoin.signature, wardJoin.token], { account: hospital }));
await step("ward creates its cluster as a child group", registry.write.createGroup([wardGid, id("oid:ward"), hospitalGid], { account: ward }));
const [ecg, spo2, pump, thermometer] = devices;
await step(`${ecg.name} associates itself with its token (direct)`, registry.write.associate([wardGid, ecg.oid, (await issueToken(ward, { gid: wardGid, oid: ecg.oid, device: ecg.account.address })).signature], { account: ecg.account }));
const spo2Join = await signedAssociation(ward, spo2.account, wardGid, spo2.oid);
await step(`${spo2.name} associates through the ward (relayed)`, registry.write.associateFor([spo2Join.request, spo2Join.signature, spo2Join.token], { account: ward }));
const batch = await Promise.all([pump, thermometer].map((d) => signedAssociation(ward, d.account, wardGid, d.oid)));
await step(`${pump.name} + ${thermometer.name} associate in one batch`, registry.write.associateBatch([batch], { account: ward }));

console.log("\nData plane (only hashes reach the chain)");
const reading = (device: (typeof devices)[number], nonce: bigint, value: string): DataMessage => ({
  gid: wardGid, oid: device.oid, nonce, payloadHash: keccak256(stringToHex(value)), timestamp: BigInt(Math.floor(Date.now() / 1000)), deadline,
});
const spo2Reading = reading(spo2, 1n, '{"spo2":97}');
await step(`${spo2.name} data message (device-signed, ward relays)`, registry.write.recordData([spo2Reading, (await signDataMessage(spo2.account, { domain, message: spo2Reading })).signature], { account: ward }));
await step(`${ecg.name} data message (device sends it itself)`, registry.write.recordDataDirect([wardGid, ecg.oid, keccak256(stringToHex('{"hr":72}')), BigInt(Math.floor(Date.now() / 1000))], { account: ecg.account }));
const twoReadings = [reading(pump, 1n, '{"rate":12.5}'), reading(thermometer, 1n, '{"temp":37.2}')];
await step("two data messages in one batch", registry.write.recordDataBatch([
  await Promise.all(twoReadings.map((message, i) => signDataMessage([pump, thermometer][i].account, { domain, message }))),
], { account: ward }));
const exchange = { gid: wardGid, oid: pump.oid, receiverGid: wardGid, receiverOid: thermometer.oid, nonce: 2n, payloadHash: id("dose-adjust"), timestamp: 0n, deadline };
await step(`${pump.name} → ${thermometer.name} exchange (Algorithm 3)`, registry.write.recordExchange([exchange, (await signExchange(pump.account, { domain, exchange })).signature], { account: ward }));

console.log("\nBatch anchoring by the ward's gateway key");
await step("ward authorises its gateway key to anchor", registry.write.setAnchorer([wardGid, wardGateway.address, true], { account: ward }));
const offChain = [reading(spo2, 2n, '{"spo2":96}'), reading(spo2, 3n, '{"spo2":95}'), reading(thermometer, 2n, '{"temp":37.4}')];
const digests = await Promise.all(offChain.map((m) => registry.read.dataMessageDigest([m])));
const tree = buildBatchTree(digests);
await step(`gateway anchors a batch of ${offChain.length} verified messages`, registry.write.anchorBatch([wardGid, tree.root, offChain.length], { account: wardGateway }));
const included = await registry.read.verifyAnchoredMessage([offChain[1], tree.root, tree.proof(1)]);
console.log(`  ✓ message 2 of the batch proven against the anchored root: ${included}`);

console.log("\nAuthTable path of the thermometer: its leaf in the ward, the ward's leaf in the hospital");
const indexer = createAuthTableIndexer(publicClient, { registry: registry.address });
await indexer.sync();
let path = indexer.getAuthPath(thermometer.account.address);
const proofBytes = path.reduce((sum, s) => sum + 32 * 4 + 32 * s.proof.length + 32, 0);
let { status, failedStep } = await verifyAuthPathOnChain(publicClient, { registry: registry.address, path, trustedRootGid: hospitalGid });
console.log(`  ✓ verifyAuthPath: ${status} (${path.length} levels, ${proofBytes} bytes of entries, gids and proofs)`);

console.log("\nRevocation");
await step("hospital revokes the ward cluster head", registry.write.revoke([hospitalGid, id("oid:ward")], { account: hospital }));
await indexer.sync();
path = indexer.getAuthPath(thermometer.account.address);
({ status, failedStep } = await verifyAuthPathOnChain(publicClient, { registry: registry.address, path, trustedRootGid: hospitalGid }));
console.log(`  ✓ thermometer's path now: ${status} at level ${failedStep} — its cluster head is revoked`);

const total = rows.reduce((sum, [, gas]) => sum + gas, 0n);
console.log(`\n${rows.length} transactions, ${total.toLocaleString("en-US")} gas in all`);
