// The gateway's local mirror of the AuthTable: the SDK's indexer, kept current from chain events
// (contracts v2: entry hashes, Master revocations and epochs, labels), resumed from a checkpoint in
// the store, with an (gid, oid) → leaf index per served group so a data message is checked without
// RPC (oids are scoped to their group). It also tells whether a served group's Master still has
// its powers, so the chain worker does not try to anchor when the registry would refuse. Syncs
// are serialised (the indexer applies logs in order) and coalesced: callers that ask while one
// runs share it, and `syncFresh` waits (bounded) for a sync that started after the caller asked,
// so a member that joined before the request is never answered "not found" because of a lag.
// Every revocation the mirror sees (also one that happened while the gateway was down) is reported
// once to `onRevoked`, which drops the device's enrolment.
import { getAddress, type Address, type Hex } from "viem";
import { createAuthTableIndexer, isLeafRevoked, LEAVES_PER_REVOCATION_WORD, REVOCATION_WORD_ALLOCATED, type AuthPath, type AuthTableCheckpoint, type AuthTableIndexer, type IndexedGroup, type ReadClient, type TrustedState } from "@iomt-auth/sdk";
import type { GatewayStore } from "./store.js";

const CHECKPOINT_KEY = "authtable_checkpoint";
/** Checkpoints are rewritten at most this often (they grow with the registry). */
const CHECKPOINT_INTERVAL_MS = 5_000;

export type MemberView = {
  gid: Hex;
  oid: Hex;
  device: Address;
  master: Address;
  index: number;
  /** The member's auth-chain entry (the chain head right after it joined). */
  entryHash: Hex;
  revoked: boolean;
  groupActive: boolean;
};

/**
 * Whether a group's Master can use its powers (associate, anchor, …), as the registry decides it:
 * `ok`, or the registry error it would answer with. A device of a group whose Master lost its
 * powers is still a member (membership is group-local): only the Master's work stops.
 */
export type GroupStanding = { gid: Hex; status: "ok" | StandingError };
export type StandingError = "GroupRegistryUnknownGroup" | "GroupRegistryGroupInactive" | "GroupRegistryMasterRevoked" | "GroupRegistryParentInactive";
/** The registry errors by which a group's Master is refused for lack of standing, in the registry's order of checks. */
export const standingErrors: readonly StandingError[] = ["GroupRegistryUnknownGroup", "GroupRegistryGroupInactive", "GroupRegistryMasterRevoked", "GroupRegistryParentInactive"];

export type AuthTableMirrorParameters = {
  client: ReadClient;
  registry: Address;
  fromBlock: bigint;
  groups: readonly Hex[];
  store: GatewayStore;
  /** Called once for each revoked member of a served group the mirror sees (at start, for those already revoked). */
  onRevoked?: (member: MemberView) => void;
};

/** Outcome of {@link AuthTableMirror.syncFresh}. */
export type FreshSync = "synced" | "timeout" | "failed";

export class AuthTableMirror {
  private readonly indexer: AuthTableIndexer;
  private readonly served: Set<string>;
  private readonly oidIndex = new Map<string, Map<string, number>>();
  /** device (lower case) → its leaf in a served group: an address holds one identity registry-wide. */
  private readonly deviceIndex = new Map<string, { gid: string; index: number }>();
  /** Per served group, the revocation words already reported to `onRevoked`. */
  private readonly reportedRevocations = new Map<string, bigint[]>();
  private readonly onRevoked: ((member: MemberView) => void) | undefined;
  /** Off until `reportRevoked()`: the owner wires its callback after the mirror is built. */
  private reporting = false;
  private readonly store: GatewayStore;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private checkpointedAt = 0;
  private dirty = false;

  constructor({ client, registry, fromBlock, groups, store, onRevoked }: AuthTableMirrorParameters) {
    this.store = store;
    this.onRevoked = onRevoked;
    this.served = new Set(groups.map((gid) => gid.toLowerCase()));
    const saved = store.getMeta(CHECKPOINT_KEY);
    const checkpoint = saved === undefined ? undefined : (JSON.parse(saved) as AuthTableCheckpoint);
    // A checkpoint of another registry or of another format (version 1 lacks labels, epochs and
    // Master revocations) is not used: the mirror rebuilds from `fromBlock` instead.
    const usable = checkpoint !== undefined && checkpoint.version === 2 && getAddress(checkpoint.registry) === getAddress(registry);
    this.indexer = createAuthTableIndexer(client, { registry, fromBlock, ...(usable ? { checkpoint } : {}) });
    this.refreshOidIndex();
  }

  /** Catches up with the chain; concurrent callers share one sync. */
  sync(): Promise<void> {
    this.running ??= this.runSync().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Catches up with the chain as of now: joins a sync only if it starts after this call (one in
   * flight may have read the head before a caller's device joined), shared by every caller that
   * arrives meanwhile. Waits at most `timeoutMs`; `timeout` means the mirror is still catching up,
   * `failed` that the chain could not be read.
   */
  async syncFresh(timeoutMs: number): Promise<FreshSync> {
    const fresh =
      this.running === undefined
        ? this.sync()
        : (this.next ??= this.running
            .catch(() => undefined)
            .then(() => {
              this.next = undefined;
              return this.sync();
            }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<FreshSync>((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    try {
      return await Promise.race([fresh.then((): FreshSync => "synced", (): FreshSync => "failed"), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The block the mirror has indexed up to (inclusive). */
  get indexedBlock(): bigint {
    return this.indexer.nextBlock - 1n;
  }

  /** The member registered under (gid, oid), as of the last sync. */
  member(gid: Hex, oid: Hex): MemberView | undefined {
    const group = this.indexer.group(gid);
    const index = this.oidIndex.get(gid.toLowerCase())?.get(oid.toLowerCase());
    if (group === undefined || index === undefined) return undefined;
    return this.view(group, index);
  }

  /** The device's entry in a served group, as of the last sync (a map lookup: no proof is built). */
  memberByDevice(device: Address): MemberView | undefined {
    const at = this.deviceIndex.get(device.toLowerCase());
    const group = at === undefined ? undefined : this.indexer.group(at.gid as Hex);
    return group === undefined || at === undefined ? undefined : this.view(group, at.index);
  }

  group(gid: Hex): IndexedGroup | undefined {
    return this.indexer.group(gid);
  }

  /** Whether the Master of `gid` has its powers, as of the last sync (the registry's order of checks). */
  standing(gid: Hex): GroupStanding {
    const group = this.indexer.group(gid);
    if (group === undefined) return { gid, status: "GroupRegistryUnknownGroup" };
    if (!group.active) return { gid, status: "GroupRegistryGroupInactive" };
    if (group.masterRevoked) return { gid, status: "GroupRegistryMasterRevoked" };
    if (BigInt(group.parentGid) !== 0n && this.indexer.group(group.parentGid)?.active === false) return { gid, status: "GroupRegistryParentInactive" };
    return { gid, status: "ok" };
  }

  /** The device's AuthTable path up to a root group (throws the SDK's IndexerNotFound). */
  authPath(device: Address): AuthPath {
    return this.indexer.getAuthPath(device);
  }

  trustedState(trustedRoots: readonly Hex[]): TrustedState {
    return this.indexer.trustedState(trustedRoots);
  }

  /** Writes the checkpoint if anything changed, in the store's group commit (its WAL sync off the event loop). */
  async saveCheckpoint(): Promise<void> {
    if (!this.dirty) return;
    const checkpoint = JSON.stringify(this.indexer.checkpoint());
    this.dirty = false;
    this.checkpointedAt = Date.now();
    try {
      await this.store.commit(() => this.store.setMeta(CHECKPOINT_KEY, checkpoint));
    } catch (error) {
      this.dirty = true;
      throw error;
    }
  }

  private async runSync(): Promise<void> {
    const { logs } = await this.indexer.sync();
    if (logs > 0) {
      this.dirty = true;
      this.refreshOidIndex();
    }
    if (this.dirty && Date.now() - this.checkpointedAt >= CHECKPOINT_INTERVAL_MS) await this.saveCheckpoint();
  }

  private refreshOidIndex(): void {
    for (const gid of this.served) {
      const group = this.indexer.group(gid as Hex);
      if (group === undefined) continue;
      let byOid = this.oidIndex.get(gid);
      if (byOid === undefined) this.oidIndex.set(gid, (byOid = new Map()));
      for (let index = byOid.size; index < group.oids.length; index++) {
        byOid.set(group.oids[index].toLowerCase(), index);
        this.deviceIndex.set(group.entries[index].device.toLowerCase(), { gid, index });
      }
      if (this.reporting) this.reportRevocations(group);
    }
  }

  /** Starts reporting revocations: at once for every revoked member already known, then as syncs see them. */
  reportRevoked(): void {
    this.reporting = true;
    for (const gid of this.served) {
      const group = this.indexer.group(gid as Hex);
      if (group !== undefined) this.reportRevocations(group);
    }
  }

  /** Reports each revoked member of `group` not reported yet (bits set since the last look). */
  private reportRevocations(group: IndexedGroup): void {
    const gid = group.gid.toLowerCase();
    const before = this.reportedRevocations.get(gid) ?? [];
    const words = group.revocationWords;
    for (let w = 0; w < words.length; w++) {
      // Bit 255 marks the word as allocated; bits 0–254 are its leaves' revocations.
      let fresh = words[w] & ~(before[w] ?? 0n) & ~REVOCATION_WORD_ALLOCATED;
      for (let bit = 0; fresh !== 0n; bit++, fresh >>= 1n) {
        const index = w * LEAVES_PER_REVOCATION_WORD + bit;
        if ((fresh & 1n) === 1n && index < group.entries.length) this.onRevoked?.(this.view(group, index));
      }
    }
    this.reportedRevocations.set(gid, [...words]);
  }

  private view(group: IndexedGroup, index: number): MemberView {
    const entry = group.entries[index];
    return {
      gid: group.gid,
      oid: group.oids[index],
      device: entry.device,
      master: entry.master,
      index,
      entryHash: entry.entryHash,
      revoked: isLeafRevoked(group.revocationWords, index),
      groupActive: group.active,
    };
  }
}
