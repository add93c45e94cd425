// AuthTable paths against the chain (actions/auth-path.ts): fetchTrustedState reads the state an
// offline verifier needs, and verifyAuthPathOnChain asks the registry. The differential test is
// the issue's "done means": on a real chain (Hardhat's in-process network), over a three-level
// hierarchy grown at random, with revocations of devices and of cluster heads, take-overs,
// hand-overs and deactivations, the SDK's offline `verifyAuthPath(path, fetchTrustedState(…))` and
// the registry's `verifyAuthPath` return the same status and failed step for every path: honest
// current ones, saved older ones with and without consistency proofs, and mutations of both.
//
// Everything random — the hierarchy's growth, the operations, the paths picked, the mutations and
// every key (so every address, gid and hash) — comes from one seed, printed at the start. Replay a
// run with IOMT_AUTH_PATH_SEED=<seed>.
import { expect } from "chai";
import { zeroAddress, type Address, type Hex } from "viem";
import {
  authPathStatuses,
  toId,
  verifyAuthPath,
  type AuthPath,
  type AuthPathStatus,
  type AuthPathStep,
  type AuthTableIndexer,
  type Id,
  type IndexedGroup,
  type VerifyAuthPathReturnType,
} from "../src/index.js";
import { isLeafRevoked } from "../src/authtable.js";
import { startInProcess, type TestChain } from "./support/chain.js";
import { seededRandom } from "./support/random.js";
import { associateDirect, associateInBatch, associateRelayed, createGroup, deploy, type Deployment, type Node } from "./support/scenario.js";

const SEED = Number(process.env.IOMT_AUTH_PATH_SEED ?? 20_261_201);

describe("auth-path actions", function () {
  let testChain: TestChain;
  let d: Deployment;

  before(async function () {
    testChain = await startInProcess();
    d = await deploy(testChain);
  });

  after(async function () {
    await testChain?.stop();
  });

  describe("fetchTrustedState", function () {
    it("reads each named group once, at one block, with every revocation word, and leaves out gids that name no group", async function () {
      const master = await d.funded("fetch/master");
      const gid = await createGroup(d, master, "fetch/root");
      const device = d.unfunded("fetch/device");
      await associateRelayed(d, gid, master, device);
      await d.mined(await master.wallet.revoke({ gid, oid: device.oid }));
      const state = await d.reader.fetchTrustedState({ gids: [gid, toId("fetch/nowhere"), gid.toUpperCase().replace("0X", "0x") as Hex], trustedRoots: [gid] });
      const groups = [...(state.groups as Iterable<{ gid: Id; leafCount: number; revocationWords: readonly bigint[]; rootAt?: unknown }>)];
      expect(groups.map((group) => group.gid)).to.deep.equal([gid]);
      expect(groups[0]).to.include({ leafCount: 1 });
      expect(groups[0].revocationWords).to.deep.equal([(1n << 255n) | 1n]);
      expect(groups[0].rootAt, "the registry keeps no older roots").to.equal(undefined);
      expect(state.trustedRoots).to.deep.equal([gid]);
    });

    it("refuses a malformed gid or trusted root before asking the node", async function () {
      for (const parameters of [
        { gids: ["0x1234" as Hex], trustedRoots: [] },
        { gids: [], trustedRoots: ["0x" as Hex] },
      ]) {
        const error = await d.reader.fetchTrustedState(parameters).then(
          () => expect.fail("accepted a malformed id"),
          (caught: unknown) => caught,
        );
        expect(error).to.include({ code: "InvalidId" });
      }
    });
  });

  describe("verifyAuthPathOnChain", function () {
    it("returns the registry's status by name and the failed step as a number", async function () {
      expect(await d.reader.verifyAuthPathOnChain({ path: [], trustedRootGid: toId("anything") })).to.deep.equal({ status: "EmptyPath", failedStep: 0 });
      const unknown: AuthPathStep = { gid: toId("on-chain/nowhere"), entry: { device: zeroAddress, master: zeroAddress, index: 0, entryHash: toId(1) }, leafCount: 1, proof: [] };
      expect(await d.reader.verifyAuthPathOnChain({ path: [unknown, unknown], trustedRootGid: toId("anything") })).to.deep.equal({ status: "UnknownGroup", failedStep: 0 });
    });
  });
});

// ---------------------------------------------------------------------------- the differential test

type Category = "current" | "old" | "old with consistency" | "mutated";

interface Verdicts {
  category: Category;
  kind: string;
  offline: VerifyAuthPathReturnType;
  onChain: VerifyAuthPathReturnType;
  path: AuthPath;
  trustedRoot: Id;
}

describe(`verifyAuthPath offline agrees with the registry's verifyAuthPath on random and mutated paths (seed ${SEED})`, function () {
  this.timeout(600_000);

  const random = seededRandom(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  const flip = (word: Hex): Hex => `0x${(BigInt(word) ^ (1n << BigInt(between(0, 255)))).toString(16).padStart(64, "0")}`;

  let testChain: TestChain;
  let d: Deployment;
  let indexer: AuthTableIndexer;
  let rootGid: Id;
  /** A root group nobody trusts here, created with the same label by another key. */
  let otherRootGid: Id;
  const nodes = new Map<Address, Node>();
  const verdicts: Verdicts[] = [];
  /** Paths saved at earlier checkpoints: the paths their holders keep while the groups change. */
  const saved: AuthPath[] = [];
  const operations: string[] = [];
  let names = 0;

  async function newNode(role: string): Promise<Node> {
    const node = await d.funded(`${role}-${names++}`);
    nodes.set(node.address, node);
    return node;
  }
  const nodeOf = (address: Address): Node => nodes.get(address)!;

  // ------------------------------------------------------------------ what the indexer knows

  const groups = (): IndexedGroup[] => indexer.groups();
  const group = (gid: Id): IndexedGroup => indexer.group(gid)!;
  /** The Master can use its powers: the group is active, the Master unrevoked, the parent active. */
  const hasPowers = (g: IndexedGroup): boolean => g.active && !g.masterRevoked && (g.level === 0 || group(g.parentGid).active);
  const mastersActiveGroup = (address: Address): boolean => groups().some((g) => g.active && g.master === address);
  const isRevoked = (g: IndexedGroup, index: number): boolean => isLeafRevoked(g.revocationWords, index);
  /** Active, unrevoked members of `g` that master no active group: who may head a child group. */
  const eligibleHeads = (g: IndexedGroup): Address[] =>
    g.active ? g.entries.filter((entry) => !isRevoked(g, entry.index) && !mastersActiveGroup(entry.device)).map((entry) => entry.device) : [];

  // ------------------------------------------------------------------ operations

  async function enrol(g: IndexedGroup, count: number): Promise<void> {
    const master = nodeOf(g.master);
    const newcomers = await Promise.all(Array.from({ length: count }, () => newNode(`L${g.level}-device`)));
    const form = pick(["direct", "relayed", "batch"] as const);
    if (form === "batch") await associateInBatch(d, g.gid, master, newcomers, nodeOf(pick([...nodes.keys()])));
    else for (const newcomer of newcomers) await (form === "direct" ? associateDirect(d, g.gid, master, newcomer) : associateRelayed(d, g.gid, master, newcomer));
    operations.push(`enrol ${count} (${form}) in level ${g.level}`);
  }

  async function createChild(parent: IndexedGroup): Promise<IndexedGroup | undefined> {
    const candidates = eligibleHeads(parent);
    if (candidates.length === 0) return undefined;
    const head = nodeOf(pick(candidates));
    const gid = await createGroup(d, head, `group-${names++}`, parent.gid);
    await indexer.sync();
    operations.push(`create a level-${parent.level + 1} group`);
    await enrol(group(gid), between(1, 5));
    await indexer.sync();
    return group(gid);
  }

  async function revokeDevice(): Promise<boolean> {
    const targets = groups().filter(hasPowers).flatMap((g) => g.entries.filter((e) => !isRevoked(g, e.index) && !mastersActiveGroup(e.device)).map((e) => [g, e.index] as const));
    if (targets.length === 0) return false;
    const [g, index] = pick(targets);
    await d.mined(await nodeOf(g.master).wallet.revoke({ gid: g.gid, oid: g.oids[index] }));
    operations.push(`revoke a device in level ${g.level}`);
    return true;
  }

  async function revokeHead(): Promise<boolean> {
    const targets = groups().filter(hasPowers).flatMap((g) => g.entries.filter((e) => !isRevoked(g, e.index) && mastersActiveGroup(e.device)).map((e) => [g, e.index] as const));
    if (targets.length === 0) return false;
    const [g, index] = pick(targets);
    await d.mined(await nodeOf(g.master).wallet.revoke({ gid: g.gid, oid: g.oids[index] }));
    operations.push(`revoke a cluster head in level ${g.level}`);
    return true;
  }

  async function takeOver(): Promise<boolean> {
    const targets = groups().filter((g) => g.active && g.masterRevoked && hasPowers(group(g.parentGid)));
    if (targets.length === 0) return false;
    const child = pick(targets);
    const parent = group(child.parentGid);
    if (eligibleHeads(parent).length === 0) {
      await enrol(parent, 1);
      await indexer.sync();
    }
    const newMaster = pick(eligibleHeads(group(child.parentGid)));
    await d.mined(await nodeOf(parent.master).wallet.takeOverGroup({ gid: child.gid, newMaster }));
    operations.push(`take over a level-${child.level} group`);
    return true;
  }

  async function handOver(): Promise<boolean> {
    const targets = groups().filter((g) => g.level > 0 && hasPowers(g) && hasPowers(group(g.parentGid)));
    if (targets.length === 0) return false;
    const g = pick(targets);
    if (eligibleHeads(group(g.parentGid)).length === 0) {
      await enrol(group(g.parentGid), 1);
      await indexer.sync();
    }
    const candidate = nodeOf(pick(eligibleHeads(group(g.parentGid))));
    await d.mined(await nodeOf(g.master).wallet.proposeMaster({ gid: g.gid, candidate: candidate.address }));
    await d.mined(await candidate.wallet.acceptMaster({ gid: g.gid }));
    operations.push(`hand a level-${g.level} group over`);
    return true;
  }

  async function handOverRoot(): Promise<boolean> {
    const root = group(rootGid);
    const successor = await newNode("root-master");
    await d.mined(await nodeOf(root.master).wallet.proposeMaster({ gid: rootGid, candidate: successor.address }));
    await d.mined(await successor.wallet.acceptMaster({ gid: rootGid }));
    operations.push("hand the root group over to a fresh key");
    return true;
  }

  async function deactivate(): Promise<boolean> {
    // Never the root group, and at most a few groups: the hierarchy must keep valid paths.
    if (groups().filter((g) => !g.active).length >= 3) return false;
    const byOwnMaster = groups().filter((g) => g.level > 0 && hasPowers(g));
    const byParent = groups().filter((g) => g.level > 0 && g.active && g.masterRevoked && hasPowers(group(g.parentGid)));
    if (byOwnMaster.length + byParent.length === 0) return false;
    const useParent = byParent.length > 0 && (byOwnMaster.length === 0 || random() < 0.5);
    const candidates = useParent ? byParent : byOwnMaster;
    // Mostly the deepest groups, so that most of the hierarchy stays alive.
    const deepest = candidates.filter((g) => g.level === Math.max(...candidates.map((c) => c.level)));
    const g = pick(random() < 0.75 ? deepest : candidates);
    const by = useParent ? group(g.parentGid).master : g.master;
    await d.mined(await nodeOf(by).wallet.deactivateGroup({ gid: g.gid }));
    operations.push(`deactivate a level-${g.level} group${useParent ? " (by the parent's Master)" : ""}`);
    return true;
  }

  async function grow(): Promise<boolean> {
    const targets = groups().filter(hasPowers);
    if (targets.length === 0) return false;
    await enrol(pick(targets), between(1, 4));
    return true;
  }

  async function growDeeper(): Promise<boolean> {
    const parents = groups().filter((g) => g.level < 2 && g.active && eligibleHeads(g).length > 0);
    if (parents.length === 0) return false;
    return (await createChild(pick(parents))) !== undefined;
  }

  // ------------------------------------------------------------------ paths

  /** Every member's current path, built by the indexer from the logs. */
  function currentPaths(): AuthPath[] {
    return groups().flatMap((g) => g.entries.map((entry) => indexer.getAuthPath(entry.device)));
  }

  /** The saved path with a consistency proof to the current size on every step built for an older one. */
  function withConsistency(path: AuthPath, which: (step: number) => boolean = () => true): AuthPath {
    return path.map((step, i) => {
      const tree = indexer.group(step.gid)?.tree;
      if (tree === undefined || !which(i) || step.leafCount < 1 || step.leafCount >= tree.size) return step;
      return { ...step, consistency: tree.consistencyProof(step.leafCount) };
    });
  }

  const replaceStep = (path: AuthPath, at: number, change: (step: AuthPathStep) => AuthPathStep): AuthPath => path.map((step, i) => (i === at ? change(step) : step));
  const anyGroupSize = (gid: Id): number => indexer.group(gid)?.tree.size ?? 0;

  type Mutated = { path: AuthPath; trustedRoot?: Id } | undefined;
  /** Each mutation of a path a holder or a forger could present; `undefined` when it does not apply to this path. */
  const mutations: Record<string, (path: AuthPath) => Mutated> = {
    "entry device replaced": (path) => {
      const at = between(0, path.length - 1);
      return { path: replaceStep(path, at, (s) => ({ ...s, entry: { ...s.entry, device: pick([...nodes.keys()]) } })) };
    },
    "entry master replaced": (path) => {
      const at = between(0, path.length - 1);
      return { path: replaceStep(path, at, (s) => ({ ...s, entry: { ...s.entry, master: pick([...nodes.keys()]) } })) };
    },
    "entry hash changed": (path) => ({ path: replaceStep(path, between(0, path.length - 1), (s) => ({ ...s, entry: { ...s.entry, entryHash: flip(s.entry.entryHash) } })) }),
    "index moved by one": (path) => {
      const at = between(0, path.length - 1);
      const index = path[at].entry.index;
      return { path: replaceStep(path, at, (s) => ({ ...s, entry: { ...s.entry, index: index === 0 || random() < 0.5 ? index + 1 : index - 1 } })) };
    },
    "index at the leaf count": (path) => {
      const at = between(0, path.length - 1);
      return { path: replaceStep(path, at, (s) => ({ ...s, entry: { ...s.entry, index: s.leafCount + between(0, 3) } })) };
    },
    "sibling changed": (path) => {
      const at = path.findIndex((s) => s.proof.length > 0);
      if (at < 0) return undefined;
      return { path: replaceStep(path, at, (s) => ({ ...s, proof: s.proof.map((node, i) => (i === between(0, s.proof.length - 1) ? flip(node) : node)) })) };
    },
    "sibling dropped": (path) => {
      const at = path.findIndex((s) => s.proof.length > 0);
      if (at < 0) return undefined;
      return { path: replaceStep(path, at, (s) => ({ ...s, proof: s.proof.filter((_, i) => i !== between(0, s.proof.length - 1)) })) };
    },
    "sibling added": (path) => ({ path: replaceStep(path, between(0, path.length - 1), (s) => ({ ...s, proof: [...s.proof, toId(names++)] })) }),
    "siblings reversed": (path) => {
      const at = path.findIndex((s) => s.proof.length > 1 && s.proof[0] !== s.proof[s.proof.length - 1]);
      if (at < 0) return undefined;
      return { path: replaceStep(path, at, (s) => ({ ...s, proof: [...s.proof].reverse() })) };
    },
    "leaf count plus one": (path) => ({ path: replaceStep(path, between(0, path.length - 1), (s) => ({ ...s, leafCount: s.leafCount + 1 })) }),
    "leaf count minus one": (path) => ({ path: replaceStep(path, between(0, path.length - 1), (s) => ({ ...s, leafCount: Math.max(0, s.leafCount - 1) })) }),
    "leaf count past the group's size": (path) => {
      const at = between(0, path.length - 1);
      return { path: replaceStep(path, at, (s) => ({ ...s, leafCount: anyGroupSize(s.gid) + between(1, 1000) })) };
    },
    "leaf count zero": (path) => ({ path: replaceStep(path, between(0, path.length - 1), (s) => ({ ...s, leafCount: 0 })) }),
    "consistency node changed": (path) => {
      const at = path.findIndex((s) => (s.consistency?.length ?? 0) > 0);
      if (at < 0) return undefined;
      return { path: replaceStep(path, at, (s) => ({ ...s, consistency: s.consistency!.map((node, i) => (i === between(0, s.consistency!.length - 1) ? flip(node) : node)) })) };
    },
    "consistency node dropped": (path) => {
      const at = path.findIndex((s) => (s.consistency?.length ?? 0) > 0);
      if (at < 0) return undefined;
      return { path: replaceStep(path, at, (s) => ({ ...s, consistency: s.consistency!.filter((_, i) => i !== between(0, s.consistency!.length - 1)) })) };
    },
    "consistency node added": (path) => {
      const at = path.findIndex((s) => (s.consistency?.length ?? 0) > 0);
      if (at < 0) return undefined;
      return { path: replaceStep(path, at, (s) => ({ ...s, consistency: random() < 0.5 ? [...s.consistency!, toId(names++)] : [toId(names++), ...s.consistency!] })) };
    },
    "consistency proof for another old size": (path) => {
      const at = path.findIndex((s) => (s.consistency?.length ?? 0) > 0);
      if (at < 0) return undefined;
      const tree = indexer.group(path[at].gid)!.tree;
      const other = between(1, tree.size - 1);
      if (other === path[at].leafCount) return undefined;
      return { path: replaceStep(path, at, (s) => ({ ...s, consistency: tree.consistencyProof(other) })) };
    },
    "consistency proof to an older size than the group's": (path) => {
      const at = path.findIndex((s) => (s.consistency?.length ?? 0) > 0 && s.leafCount + 1 < anyGroupSize(s.gid));
      if (at < 0) return undefined;
      const tree = indexer.group(path[at].gid)!.tree;
      return { path: replaceStep(path, at, (s) => ({ ...s, consistency: tree.consistencyProof(s.leafCount, tree.size - 1) })) };
    },
    "consistency nodes on a current step": (path) => ({ path: replaceStep(path, between(0, path.length - 1), (s) => ({ ...s, consistency: [toId(names++)] })) }),
    "adjacent steps swapped": (path) => {
      if (path.length < 2) return undefined;
      const at = between(0, path.length - 2);
      return { path: path.map((step, i) => (i === at ? path[at + 1] : i === at + 1 ? path[at] : step)) };
    },
    "a step repeated": (path) => {
      const at = between(0, path.length - 1);
      return { path: [...path.slice(0, at + 1), path[at], ...path.slice(at + 1)] };
    },
    "gid of another group": (path) => {
      const at = between(0, path.length - 1);
      const other = pick(groups().filter((g) => g.gid !== path[at].gid)).gid;
      return { path: replaceStep(path, at, (s) => ({ ...s, gid: other })) };
    },
    "gid of no group": (path) => ({ path: replaceStep(path, between(0, path.length - 1), (s) => ({ ...s, gid: toId(`no group ${names++}`) })) }),
    "last step cut off": (path) => (path.length < 2 ? undefined : { path: path.slice(0, -1) }),
    "first step cut off": (path) => (path.length < 2 ? undefined : { path: path.slice(1) }),
    "no step at all": () => ({ path: [] }),
    "another root trusted": (path) => ({ path, trustedRoot: otherRootGid }),
    "the device's own group trusted": (path) => ({ path, trustedRoot: path[0].gid }),
    "a group of no one trusted": (path) => ({ path, trustedRoot: toId(`untrusted ${names++}`) }),
    "a link replaced by another member of the parent": (path) => {
      if (path.length < 2) return undefined;
      const at = between(1, path.length - 1);
      const parent = indexer.group(path[at].gid)!;
      const other = pick(parent.entries).device;
      return { path: replaceStep(path, at, () => indexer.getAuthProof(other)) };
    },
    "steps of two paths spliced": (path) => {
      const other = pick(currentPaths().filter((p) => p.length === path.length && p[0].gid !== path[0].gid));
      if (other === undefined || path.length < 2) return undefined;
      return { path: [path[0], ...other.slice(1)] };
    },
  };
  const mutationKinds = Object.keys(mutations);
  let mutationTurn = 0;

  // ------------------------------------------------------------------ comparing

  async function compare(category: Category, kind: string, path: AuthPath, trustedRoot: Id = rootGid): Promise<void> {
    const state = await d.reader.fetchTrustedState({ gids: path.map((step) => step.gid), trustedRoots: [trustedRoot] });
    const offline = verifyAuthPath(path, state);
    const onChain = await d.reader.verifyAuthPathOnChain({ path, trustedRootGid: trustedRoot });
    verdicts.push({ category, kind, offline, onChain, path, trustedRoot });
  }

  /** Mutations that need a step carrying a consistency proof. */
  const needsConsistency = (kind: string): boolean => kind.startsWith("consistency") && kind !== "consistency nodes on a current step";

  /** Compares a sample of every category at the chain's current state. */
  async function checkpoint(samples: number): Promise<void> {
    await indexer.sync();
    const current = currentPaths();
    // Mostly paths whose groups are all active: those are the ones the other rules can break.
    const alive = current.filter((path) => path.every((step) => group(step.gid).active));
    const pickCurrent = (): AuthPath => pick(alive.length > 0 && random() < 0.75 ? alive : current);
    for (let i = 0; i < samples; i++) await compare("current", "as built now", pickCurrent());
    if (saved.length > 0) {
      for (let i = 0; i < samples; i++) await compare("old", "as saved", pick(saved));
      // Half of them among the saved paths whose groups grew but that nothing broke since (the
      // indexer's state, which knows every older root, accepts them): consistency proofs must make them valid.
      const unbroken = saved.filter(
        (path) => path.some((step) => step.leafCount < anyGroupSize(step.gid)) && verifyAuthPath(path, indexer.trustedState([rootGid])).status === "Valid",
      );
      for (let i = 0; i < samples; i++) {
        const path = pick(unbroken.length > 0 && i % 2 === 0 ? unbroken : saved);
        if (random() < 0.75) await compare("old with consistency", "every step", withConsistency(path));
        else await compare("old with consistency", "some steps", withConsistency(path, () => random() < 0.5));
      }
    }
    const consistent = saved.map((path) => withConsistency(path)).filter((path) => path.some((step) => (step.consistency?.length ?? 0) > 0));
    for (let i = 0; i < 4 * samples; i++) {
      const kind = mutationKinds[mutationTurn++ % mutationKinds.length];
      // A mutation may not apply to a path (no sibling to change, one step only): try a few.
      let mutated: Mutated;
      for (let attempt = 0; attempt < 10 && mutated === undefined; attempt++) {
        const base = needsConsistency(kind) ? (consistent.length > 0 ? pick(consistent) : pickCurrent()) : saved.length > 0 && random() < 0.3 ? withConsistency(pick(saved)) : pickCurrent();
        mutated = mutations[kind](base);
      }
      if (mutated !== undefined) await compare("mutated", kind, mutated.path, mutated.trustedRoot);
    }
    // Keep some of today's paths: they are the old paths of the next checkpoints.
    for (let i = 0; i < 6; i++) saved.push(pickCurrent());
  }

  before(async function () {
    console.log(`        seed ${SEED} (replay with IOMT_AUTH_PATH_SEED=${SEED})`);
    testChain = await startInProcess();
    d = await deploy(testChain, { seed: String(SEED) });
    indexer = d.reader.createAuthTableIndexer({ fromBlock: d.deployBlock });

    // Level 0: the root group; level 1: three to four clusters; level 2: sub-clusters of some of them.
    const rootMaster = await newNode("root-master");
    rootGid = await createGroup(d, rootMaster, "hospital");
    otherRootGid = await createGroup(d, await newNode("other-root-master"), "hospital");
    await indexer.sync();
    await enrol(group(rootGid), between(4, 7));
    await indexer.sync();
    const clusters = between(3, 4);
    for (let i = 0; i < clusters; i++) await createChild(group(rootGid));
    for (let i = 0; i < 2; i++) await growDeeper();
    await checkpoint(12);

    // Rounds of random operations; each round also performs one forced kind, so every kind happens.
    const forced = [revokeDevice, revokeHead, handOver, takeOver, revokeHead, handOverRoot, deactivate, revokeDevice, takeOver, deactivate];
    const optional = [grow, grow, grow, grow, growDeeper, revokeDevice, revokeHead, takeOver, handOver, deactivate];
    for (const [round, operation] of forced.entries()) {
      await indexer.sync();
      if (!(await operation())) await grow();
      for (let i = between(1, 3); i > 0; i--) {
        await indexer.sync();
        await pick(optional)();
      }
      await checkpoint(round % 3 === 2 ? 12 : 6);
    }
    console.log(`        ${operations.length} operations: ${[...new Set(operations)].join("; ")}`);
  });

  after(async function () {
    await testChain?.stop();
  });

  /** The verdicts of a category, with every disagreement described. */
  function disagreements(category?: Category): string[] {
    return verdicts
      .filter((v) => category === undefined || v.category === category)
      .filter((v) => v.offline.status !== v.onChain.status || v.offline.failedStep !== v.onChain.failedStep)
      .map((v) => `${v.category}/${v.kind}: offline ${v.offline.status}@${v.offline.failedStep}, on chain ${v.onChain.status}@${v.onChain.failedStep}`);
  }

  it("agrees on every honest path built at the current state", function () {
    expect(verdicts.filter((v) => v.category === "current").length).to.be.at.least(50);
    expect(disagreements("current")).to.deep.equal([]);
  });

  it("agrees on every saved older path without consistency proofs (Stale where a group grew)", function () {
    expect(verdicts.filter((v) => v.category === "old").length).to.be.at.least(50);
    expect(disagreements("old")).to.deep.equal([]);
    expect(verdicts.some((v) => v.category === "old" && v.onChain.status === "Stale")).to.equal(true);
  });

  it("agrees on every saved older path with consistency proofs to the current sizes", function () {
    expect(verdicts.filter((v) => v.category === "old with consistency").length).to.be.at.least(50);
    expect(disagreements("old with consistency")).to.deep.equal([]);
    const valid = verdicts.filter((v) => v.category === "old with consistency" && v.kind === "every step" && v.onChain.status === "Valid");
    expect(valid.some((v) => v.path.some((step) => (step.consistency?.length ?? 0) > 0)), "an old path made valid by its consistency proofs").to.equal(true);
  });

  it(`agrees on every mutated path, of each of the ${Object.keys(mutations).length} kinds of mutation`, function () {
    const mutated = verdicts.filter((v) => v.category === "mutated");
    expect(mutated.length).to.be.at.least(200);
    expect(disagreements("mutated")).to.deep.equal([]);
    const kinds = new Set(mutated.map((v) => v.kind));
    expect([...Object.keys(mutations)].filter((kind) => !kinds.has(kind)), "mutation kinds never applied").to.deep.equal([]);
  });

  it("leaves the indexer, rebuilt from the logs of the whole sequence, equal to the registry's state", async function () {
    await indexer.sync();
    const rebuilt = d.reader.createAuthTableIndexer({ fromBlock: d.deployBlock, maxBlockRange: 7n });
    await rebuilt.sync({ toBlock: indexer.nextBlock - 1n });
    expect(rebuilt.checkpoint()).to.deep.equal(indexer.checkpoint());
    for (const g of groups()) {
      const onChain = await d.reader.getGroupState({ gid: g.gid, blockNumber: indexer.nextBlock - 1n });
      const { master, parentGid, masterOid, level, active, masterRevoked, masterEpoch, chainHead } = g;
      expect({ master, parentGid, masterOid, level, active, masterRevoked, masterEpoch, chainHead, leafCount: g.tree.size, root: g.tree.root, revocationWords: g.revocationWords }, g.gid).to.deep.equal({
        master: onChain.master,
        parentGid: onChain.parentGid,
        masterOid: onChain.masterOid,
        level: onChain.level,
        active: onChain.active,
        masterRevoked: onChain.masterRevoked,
        masterEpoch: onChain.masterEpoch,
        chainHead: onChain.chainHead,
        leafCount: onChain.leafCount,
        root: onChain.root,
        revocationWords: onChain.revocationWords,
      });
    }
  });

  it("meets every one of the registry's 11 statuses, each at least once", function () {
    const counts = Object.fromEntries(authPathStatuses.map((status) => [status, 0])) as Record<AuthPathStatus, number>;
    for (const v of verdicts) counts[v.onChain.status]++;
    const byCategory = (["current", "old", "old with consistency", "mutated"] as const).map(
      (category) => `${category} ${verdicts.filter((v) => v.category === category).length}`,
    );
    console.log(`        ${verdicts.length} paths compared (${byCategory.join(", ")}); statuses on chain: ${authPathStatuses.map((s) => `${s} ${counts[s]}`).join(", ")}`);
    expect(authPathStatuses).to.have.length(11);
    expect(authPathStatuses.filter((status) => counts[status] === 0), "statuses never met").to.deep.equal([]);
    expect(disagreements()).to.deep.equal([]);
  });
});
