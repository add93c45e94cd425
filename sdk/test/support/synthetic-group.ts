// An AuthTable group built off chain, exactly as the registry builds it (genesis anchor, auth
// chain, tree), for benchmarks that need groups of any size without a chain.
import type { Address, Hex } from "viem";
import { AuthTree, authEntryHash, authLeaf, genesisAnchor, toId, type AuthEntry, type Id } from "../../src/index.js";

export interface SyntheticGroup {
  gid: Id;
  master: Address;
  entries: AuthEntry[];
  tree: AuthTree;
  /** The auth chain's head after the last member. */
  head: Hex;
}

/** The group `name` (gid = `toId(name)`) whose members are `devices`, in order; member i registers oid `toId(i + 1)`. */
export function buildGroup(name: string, parentHead: Hex, parentGid: Id, master: Address, devices: readonly Address[]): SyntheticGroup {
  const gid = toId(name);
  let head = genesisAnchor(parentHead, parentGid, gid, master);
  const entries: AuthEntry[] = [];
  const tree = new AuthTree();
  devices.forEach((device, index) => {
    head = authEntryHash(head, index, device, master, toId(index + 1));
    const entry: AuthEntry = { device, master, index, entryHash: head };
    entries.push(entry);
    tree.append(authLeaf(entry));
  });
  return { gid, master, entries, tree, head };
}
