// The AuthTable indexer: rebuilds every group's AuthTable, auth chain and tree from the
// registry's logs alone, with paged `getLogs` over a bounded block range (providers cap it), and
// resumes from a JSON checkpoint. Each association is checked against the auth chain as it is
// applied (index in sequence, entry hash recomputed from the previous head), so a missing or
// forged log is detected instead of silently producing a wrong root.
import { getAbiItem, getAddress, type Address, type GetLogsReturnType, type Hex } from "viem";
import { getBlockNumber, getLogs } from "viem/actions";
import type { ReadClient, RegistryParameter } from "./actions/internal.js";
import { AuthTree, LEAVES_PER_REVOCATION_WORD, REVOCATION_WORD_ALLOCATED, authEntryHash, authLeaf, isLeafRevoked, type AuthEntry, type AuthPath, type AuthPathStep, type TrustedGroupState, type TrustedState } from "./authtable.js";
import { IomtError } from "./errors.js";
import { iomtRegistryAbi } from "./generated/abi.js";
import type { Id } from "./ids.js";

/** Thrown when the logs do not form a consistent auth chain (a gap, a forged log, a wrong checkpoint). */
export class IndexerInconsistentError extends IomtError {
  constructor(message: string) {
    super("IndexerInconsistent", message);
  }
}

/** Thrown when a device or group is not (yet) in the index. */
export class IndexerNotFoundError extends IomtError {
  constructor(message: string) {
    super("IndexerNotFound", message);
  }
}


const indexedEvents = [
  getAbiItem({ abi: iomtRegistryAbi, name: "GroupCreated" }),
  getAbiItem({ abi: iomtRegistryAbi, name: "DeviceAssociated" }),
  getAbiItem({ abi: iomtRegistryAbi, name: "DeviceRevoked" }),
  getAbiItem({ abi: iomtRegistryAbi, name: "MasterHandedOver" }),
  getAbiItem({ abi: iomtRegistryAbi, name: "GroupDeactivated" }),
  getAbiItem({ abi: iomtRegistryAbi, name: "GroupMasterRevoked" }),
] as const;
type IndexedLog = GetLogsReturnType<undefined, typeof indexedEvents, true>[number];

/** A group as the indexer rebuilt it. */
export interface IndexedGroup {
  gid: Id;
  master: Address;
  parentGid: Id;
  /** The creator's label the gid was derived from. */
  label: Hex;
  masterOid: Id;
  level: number;
  genesis: Hex;
  active: boolean;
  /** The Master was revoked in the parent group and has lost its powers (until a take-over). */
  masterRevoked: boolean;
  /** Hand-overs and take-overs so far. */
  masterEpoch: number;
  chainHead: Hex;
  entries: AuthEntry[];
  oids: Id[];
  revocationWords: bigint[];
  tree: AuthTree;
}

/** The indexer's state as JSON: store it, and pass it back as `checkpoint` to resume. */
export interface AuthTableCheckpoint {
  version: 2;
  registry: Address;
  /** The first block not yet indexed. */
  nextBlock: string;
  groups: (Pick<IndexedGroup, "gid" | "master" | "parentGid" | "label" | "masterOid" | "level" | "genesis" | "active" | "masterRevoked" | "masterEpoch"> & {
    /** [device, master, entryHash, oid] per leaf, in leaf order. */
    entries: [Address, Address, Hex, Id][];
    revoked: number[];
  })[];
}

export interface CreateAuthTableIndexerParameters extends RegistryParameter {
  /** The block the registry was deployed in (the default, 0, scans the whole chain). */
  fromBlock?: bigint;
  /** The widest `getLogs` block range asked for (default 2,000); a range the node refuses is halved. */
  maxBlockRange?: bigint;
  /** Blocks to stay behind the head, for chains whose recent blocks may still change (default 0: PoA finality). */
  confirmations?: bigint;
  /** Resume from a saved state instead of `fromBlock`. */
  checkpoint?: AuthTableCheckpoint;
}

export interface SyncReturnType {
  fromBlock: bigint;
  toBlock: bigint;
  /** Logs applied in this sync. */
  logs: number;
  /** `getLogs` requests made. */
  requests: number;
}

export interface AuthTableIndexer {
  /** Indexes every block up to the chain head (minus `confirmations`), or up to `toBlock`. */
  sync(parameters?: { toBlock?: bigint }): Promise<SyncReturnType>;
  /** The first block not yet indexed. */
  readonly nextBlock: bigint;
  group(gid: Id): IndexedGroup | undefined;
  groups(): IndexedGroup[];
  /** A device's AuthTable step in its own group: entry and proof. */
  getAuthProof(device: Address): AuthPathStep;
  /** The device's path: its step, then each cluster head's step in the parent group, up to a root group. */
  getAuthPath(device: Address): AuthPath;
  /**
   * The indexed state of the given groups (default: all), in the shape `verifyAuthPath` takes (trust
   * it as far as you trust the log source). Gids it has not indexed are left out, as
   * `fetchTrustedState` leaves out gids that name no group: a path through them is `UnknownGroup`.
   */
  trustedState(trustedRoots: readonly Id[], gids?: readonly Id[]): TrustedState;
  checkpoint(): AuthTableCheckpoint;
}

const key = (gid: Hex): string => gid.toLowerCase();

/** Creates an indexer; call `sync()` to catch up with the chain, then again whenever you need fresh state. */
export function createAuthTableIndexer(client: ReadClient, parameters: CreateAuthTableIndexerParameters): AuthTableIndexer {
  const registry = getAddress(parameters.registry);
  const maxBlockRange = parameters.maxBlockRange ?? 2_000n;
  if (maxBlockRange < 1n) throw new IomtError("IndexerInvalidParameter", "maxBlockRange must be at least 1");
  const confirmations = parameters.confirmations ?? 0n;
  const groups = new Map<string, IndexedGroup>();
  const memberships = new Map<Address, { group: IndexedGroup; index: number }>();
  let nextBlock = parameters.fromBlock ?? 0n;

  const groupOf = (gid: Hex): IndexedGroup => {
    const group = groups.get(key(gid));
    if (group === undefined) throw new IndexerInconsistentError(`a log names group ${gid}, which no GroupCreated log created`);
    return group;
  };

  function addGroup(fields: Omit<IndexedGroup, "chainHead" | "entries" | "oids" | "revocationWords" | "tree">): IndexedGroup {
    if (groups.has(key(fields.gid))) throw new IndexerInconsistentError(`group ${fields.gid} is created twice`);
    const group: IndexedGroup = { ...fields, chainHead: fields.genesis, entries: [], oids: [], revocationWords: [], tree: new AuthTree() };
    groups.set(key(fields.gid), group);
    return group;
  }

  function addEntry(group: IndexedGroup, device: Address, master: Address, entryHash: Hex, oid: Id, index: number): void {
    if (index !== group.entries.length) {
      throw new IndexerInconsistentError(`group ${group.gid}: association ${index} arrives after ${group.entries.length} entries (missing logs?)`);
    }
    const expected = authEntryHash(group.chainHead, index, device, master, oid);
    if (expected !== entryHash.toLowerCase()) throw new IndexerInconsistentError(`group ${group.gid}: entry ${index} does not extend the auth chain`);
    const entry: AuthEntry = { device, master, index, entryHash: expected };
    group.entries.push(entry);
    group.oids.push(oid);
    group.chainHead = expected;
    group.tree.append(authLeaf(entry));
    if (index % LEAVES_PER_REVOCATION_WORD === 0) group.revocationWords.push(REVOCATION_WORD_ALLOCATED);
    memberships.set(device, { group, index });
  }

  function revokeEntry(group: IndexedGroup, index: number): void {
    if (index >= group.entries.length) throw new IndexerInconsistentError(`group ${group.gid}: revocation of unknown leaf ${index}`);
    group.revocationWords[Math.floor(index / LEAVES_PER_REVOCATION_WORD)] |= 1n << BigInt(index % LEAVES_PER_REVOCATION_WORD);
  }

  if (parameters.checkpoint !== undefined) {
    const checkpoint = parameters.checkpoint;
    if (checkpoint.version !== 2 || getAddress(checkpoint.registry) !== registry) {
      throw new IndexerInconsistentError("the checkpoint is for another registry or format");
    }
    nextBlock = BigInt(checkpoint.nextBlock);
    for (const saved of checkpoint.groups) {
      const { entries, revoked, ...fields } = saved;
      const group = addGroup(fields);
      entries.forEach(([device, master, entryHash, oid], index) => addEntry(group, device, master, entryHash, oid, index));
      for (const index of revoked) revokeEntry(group, index);
    }
  }

  function apply(log: IndexedLog): void {
    switch (log.eventName) {
      case "GroupCreated": {
        const { gid, master, parentGid, label, masterOid, level, genesis } = log.args;
        addGroup({ gid, master, parentGid, label, masterOid, level, genesis, active: true, masterRevoked: false, masterEpoch: 0 });
        return;
      }
      case "DeviceAssociated": {
        const { gid, device, oid, master, index, entryHash } = log.args;
        addEntry(groupOf(gid), device, master, entryHash, oid, index);
        return;
      }
      case "DeviceRevoked":
        revokeEntry(groupOf(log.args.gid), log.args.index);
        return;
      case "GroupMasterRevoked":
        groupOf(log.args.gid).masterRevoked = true;
        return;
      case "MasterHandedOver": {
        const group = groupOf(log.args.gid);
        group.master = log.args.newMaster;
        group.masterOid = log.args.masterOid;
        group.masterEpoch = Number(log.args.masterEpoch);
        group.masterRevoked = false;
        return;
      }
      case "GroupDeactivated":
        groupOf(log.args.gid).active = false;
    }
  }

  async function fetchRange(fromBlock: bigint, toBlock: bigint): Promise<IndexedLog[]> {
    return getLogs(client, { address: registry, events: indexedEvents, fromBlock, toBlock, strict: true });
  }

  const indexer: AuthTableIndexer = {
    get nextBlock() {
      return nextBlock;
    },

    async sync({ toBlock } = {}) {
      const head = (await getBlockNumber(client, { cacheTime: 0 })) - confirmations;
      const target = toBlock === undefined || toBlock > head ? head : toBlock;
      const start = nextBlock;
      let range = maxBlockRange;
      let logs = 0;
      let requests = 0;
      while (nextBlock <= target) {
        const end = nextBlock + range - 1n < target ? nextBlock + range - 1n : target;
        let page: IndexedLog[];
        try {
          requests++;
          page = await fetchRange(nextBlock, end);
        } catch (error) {
          // Providers refuse wide ranges or too many results with assorted errors: narrow and retry.
          // Halve the range actually asked for (it may be clamped to the target), never re-ask it.
          const asked = end - nextBlock + 1n;
          if (asked === 1n) throw error;
          range = asked / 2n;
          continue;
        }
        for (const log of page) apply(log);
        logs += page.length;
        nextBlock = end + 1n;
      }
      return { fromBlock: start, toBlock: nextBlock - 1n, logs, requests };
    },

    group(gid) {
      return groups.get(key(gid));
    },

    groups() {
      return [...groups.values()];
    },

    getAuthProof(device) {
      const membership = memberships.get(getAddress(device));
      if (membership === undefined) throw new IndexerNotFoundError(`${device} has no AuthTable entry in the indexed blocks`);
      const { group, index } = membership;
      return { gid: group.gid, entry: { ...group.entries[index] }, leafCount: group.tree.size, proof: group.tree.proof(index), consistency: [] };
    },

    getAuthPath(device) {
      const path: AuthPath = [indexer.getAuthProof(device)];
      // A root group's Master has no entry above it; the level bound stops a malformed index from looping.
      for (let master = groupOf(path[0].gid).master; memberships.has(master) && path.length < 256; ) {
        const step = indexer.getAuthProof(master);
        path.push(step);
        master = groupOf(step.gid).master;
      }
      return path;
    },

    trustedState(trustedRoots, gids) {
      const selected = gids === undefined ? [...groups.values()] : [...new Set(gids.map(key))].flatMap((gid) => groups.get(gid) ?? []);
      const states: TrustedGroupState[] = selected.map((group) => ({
        gid: group.gid,
        master: group.master,
        parentGid: group.parentGid,
        active: group.active,
        root: group.tree.root,
        leafCount: group.tree.size,
        revocationWords: [...group.revocationWords],
        // The indexer holds every leaf, so it knows the root of every earlier size.
        rootAt: (leafCount: number) => (Number.isInteger(leafCount) && leafCount >= 0 && leafCount <= group.tree.size ? group.tree.rootAt(leafCount) : undefined),
      }));
      return { trustedRoots, groups: states };
    },

    checkpoint() {
      return {
        version: 2,
        registry,
        nextBlock: nextBlock.toString(),
        groups: [...groups.values()].map((group) => ({
          gid: group.gid,
          master: group.master,
          parentGid: group.parentGid,
          label: group.label,
          masterOid: group.masterOid,
          level: group.level,
          genesis: group.genesis,
          active: group.active,
          masterRevoked: group.masterRevoked,
          masterEpoch: group.masterEpoch,
          entries: group.entries.map((entry, index): [Address, Address, Hex, Id] => [entry.device, entry.master, entry.entryHash, group.oids[index]]),
          revoked: group.entries.map((_, index) => index).filter((index) => isLeafRevoked(group.revocationWords, index)),
        })),
      };
    },
  };
  return indexer;
}
