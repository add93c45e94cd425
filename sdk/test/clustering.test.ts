import { expect } from "chai";
import { ClusteringInputError, formClusters, planHierarchy } from "../src/clustering.js";
import type { ClusterNode, FormClustersReturnType, HierarchyCall } from "../src/clustering.js";
import { IomtError } from "../src/errors.js";
import { expectCode } from "./support/expect.js";
import { seededRandom } from "./support/random.js";

function node(id: string, x: number, y: number, processingIndex: 1 | 2 | 3, energy: number): ClusterNode {
  return { id, x, y, processingIndex, energy };
}

/**
 * Nodes spread uniformly over width × height with energy uniform in [0, 100), as in the paper's
 * simulation; about 2% of processing index 3, 38% of index 2 and the rest of index 1.
 */
function randomField(parameters: { count: number; width: number; height: number; seed: number }): ClusterNode[] {
  const random = seededRandom(parameters.seed);
  return Array.from({ length: parameters.count }, (_, i) => {
    const draw = random();
    const processingIndex = draw < 0.02 ? 3 : draw < 0.4 ? 2 : 1;
    return node(`n${i}`, random() * parameters.width, random() * parameters.height, processingIndex, random() * 100);
  });
}

function distance(a: ClusterNode, b: ClusterNode): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

function nearestById(from: ClusterNode, candidates: readonly ClusterNode[]): ClusterNode | undefined {
  let best: ClusterNode | undefined;
  for (const candidate of candidates) {
    if (best === undefined) {
      best = candidate;
      continue;
    }
    const [candidateDistance, bestDistance] = [distance(from, candidate), distance(from, best)];
    if (candidateDistance < bestDistance || (candidateDistance === bestDistance && candidate.id < best.id)) best = candidate;
  }
  return best;
}

/** Structural invariants every clustering must satisfy, checked independently of the implementation. */
function expectConnectedHierarchy(nodes: readonly ClusterNode[], range: number, result: FormClustersReturnType): void {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const allIds = [...result.levelTwoHeads, ...result.levelOneHeads, ...result.nodes];
  expect(allIds.length).to.equal(nodes.length);
  expect(new Set(allIds).size).to.equal(nodes.length);
  expect(result.clusters.map((c) => c.head).sort()).to.deep.equal([...result.levelTwoHeads, ...result.levelOneHeads].sort());
  expect(result.roots).to.deep.equal(result.levelTwoHeads.length > 0 ? result.levelTwoHeads : result.levelOneHeads);

  const roots = new Set(result.roots);
  for (const id of allIds) {
    let current = id;
    for (let step = 0; step < 2 && result.headOf[current] !== undefined; step++) {
      const head = result.headOf[current]!;
      expect(result.levelOf[head], `level of ${head}, head of ${current}`).to.equal(result.levelOf[current]! + 1);
      current = head;
    }
    expect(roots.has(current), `${id}'s chain ends at a root`).to.equal(true);
  }
  for (const id of result.nodes) {
    expect(distance(byId.get(id)!, byId.get(result.headOf[id]!)!)).to.be.at.most(range);
  }
  for (const cluster of result.clusters) {
    expect(cluster.level).to.equal(result.levelOf[cluster.head]);
    expect(cluster.parent).to.equal(result.headOf[cluster.head]);
    for (const member of cluster.members) expect(result.headOf[member]).to.equal(cluster.head);
  }
  const memberCount = result.clusters.reduce((sum, c) => sum + c.members.length, 0);
  expect(memberCount).to.equal(nodes.length - result.roots.length);
}

/** Checks every rule of Algorithm 1 against a brute-force O(N²) reading of it. */
function expectRulesHoldByBruteForce(nodes: readonly ClusterNode[], range: number, result: FormClustersReturnType): void {
  const within = (a: ClusterNode, b: ClusterNode): boolean => distance(a, b) <= range;
  const indexTwo = nodes.filter((n) => n.processingIndex === 2);
  const nominated = new Set(
    indexTwo
      .filter((n) => {
        const peers = indexTwo.filter((peer) => within(n, peer));
        return peers.reduce((sum, peer) => sum + (n.energy - peer.energy), 0) > 0;
      })
      .map((n) => n.id),
  );
  for (const n of nodes) {
    if (n.processingIndex === 3) expect(result.levelOf[n.id]).to.equal(2);
    if (nominated.has(n.id)) expect(result.levelOf[n.id], `${n.id} is above its neighbours' average`).to.equal(1);
  }
  const levelOneHeads = nodes.filter((n) => result.levelOf[n.id] === 1);
  const levelTwoHeads = nodes.filter((n) => result.levelOf[n.id] === 2);
  for (const head of levelOneHeads) {
    if (!nominated.has(head.id)) {
      const nominatedInRange = levelOneHeads.filter((h) => nominated.has(h.id) && within(head, h));
      expect(nominatedInRange, `${head.id} headed its own cluster with a nominated head in range`).to.deep.equal([]);
    }
    expect(result.headOf[head.id]).to.equal(nearestById(head, levelTwoHeads)?.id);
  }
  for (const id of result.nodes) {
    const member = nodes.find((n) => n.id === id)!;
    const headsInRange = levelOneHeads.filter((h) => within(member, h));
    expect(result.headOf[id], `head of ${id}`).to.equal(nearestById(member, headsInRange)?.id);
  }
}

/**
 * Replays planned calls against a model of the group registry's rules and fails on the first
 * call the registry would revert; then checks the plan built exactly the clustering's hierarchy.
 */
function replayOnRegistryModel(calls: readonly HierarchyCall[], clustering: FormClustersReturnType): void {
  const groupHeads = new Set<string>();
  const memberOf = new Map<string, string>();
  for (const [position, call] of calls.entries()) {
    const where = `call ${position} (${JSON.stringify(call)})`;
    if (call.kind === "createGroup") {
      expect(groupHeads.has(call.head), `${where}: head is already a Master`).to.equal(false);
      if (call.parentHead === undefined) {
        expect(memberOf.has(call.head), `${where}: a root head must not be a member`).to.equal(false);
      } else {
        expect(groupHeads.has(call.parentHead), `${where}: parent group exists`).to.equal(true);
        expect(memberOf.get(call.head), `${where}: head is an active member of the parent group`).to.equal(call.parentHead);
      }
      groupHeads.add(call.head);
    } else {
      expect(groupHeads.has(call.head), `${where}: group exists`).to.equal(true);
      expect(memberOf.has(call.member), `${where}: member joins once`).to.equal(false);
      memberOf.set(call.member, call.head);
    }
  }

  const heads = clustering.clusters.map((c) => c.head);
  expect([...groupHeads].sort()).to.deep.equal([...heads].sort());
  for (const cluster of clustering.clusters) {
    const creation = calls.find((c) => c.kind === "createGroup" && c.head === cluster.head);
    expect(creation?.kind === "createGroup" && [creation.level, creation.parentHead]).to.deep.equal([cluster.level, cluster.parent]);
  }
  for (const id of Object.keys(clustering.levelOf)) {
    expect(memberOf.get(id), `${id} joined its head`).to.equal(clustering.headOf[id]);
  }
}

/** Two nominated level-1 heads: the index-2 anchor with no energy keeps both above their average. */
function twoHeadField(): ClusterNode[] {
  return [node("h2", -2, 0, 2, 10), node("h1", 3, 0, 2, 10), node("anchor", 0, 5, 2, 0)];
}

function expectInputError(run: () => unknown, field: string, nodeId: string | undefined): ClusteringInputError {
  const error = expectCode(run, ClusteringInputError, "ClusteringInvalidInput");
  expect(error).to.be.instanceOf(IomtError);
  expect(error.name).to.equal("ClusteringInputError");
  expect(error.field).to.equal(field);
  expect(error.nodeId).to.equal(nodeId);
  expect(error.message).to.include(field);
  if (nodeId !== undefined) expect(error.message).to.include(`"${nodeId}"`);
  return error;
}

describe("clustering (Al Ahmed et al. Algorithm 1)", () => {
  describe("selectCHL2: processing index 3", () => {
    it("makes every node of processing index 3 a level-2 head and a root, whatever its energy", () => {
      const result = formClusters({ nodes: [node("weak", 0, 0, 3, 0), node("strong", 100, 0, 3, 99)], range: 10 });
      expect(result.levelTwoHeads).to.deep.equal(["strong", "weak"]);
      expect(result.roots).to.deep.equal(["strong", "weak"]);
      expect(result.levelOf.weak).to.equal(2);
      expect(result.headOf.weak).to.equal(undefined);
      expect(result.clusters).to.deep.equal([
        { head: "strong", level: 2, members: [] },
        { head: "weak", level: 2, members: [] },
      ]);
    });
  });

  describe("selectCHL1: index 2 above the average energy of its index-2 neighbours", () => {
    it("makes an index-2 node strictly above its neighbours' average a level-1 head", () => {
      const nodes = [node("rich", 0, 0, 2, 10), node("poor1", 5, 0, 2, 4), node("poor2", 0, 5, 2, 4)];
      const result = formClusters({ nodes, range: 10 });
      expect(result.levelOneHeads).to.deep.equal(["rich"]);
      expect(result.nodes).to.deep.equal(["poor1", "poor2"]);
      expect(result.headOf.poor1).to.equal("rich");
    });

    it("lets an index-2 node exactly at the average join a head instead", () => {
      // "middle" (6) is the average of itself, "low" (4) and "high" (8); "high" is above it.
      const nodes = [node("middle", 0, 0, 2, 6), node("low", 2, 0, 2, 4), node("high", -2, 0, 2, 8)];
      const result = formClusters({ nodes, range: 5 });
      expect(result.levelOf.middle).to.equal(0);
      expect(result.headOf.middle).to.equal("high");
      expect(result.levelOneHeads).to.deep.equal(["high"]);
    });

    it("averages index-2 neighbours only, ignoring nodes of other indices and nodes out of range", () => {
      const nodes = [
        node("candidate", 0, 0, 2, 5),
        node("peer", 3, 0, 2, 4),
        node("index-one", 1, 0, 1, 1000),
        node("index-three", 0, 1, 3, 1000),
        node("far-peer", 100, 0, 2, 1000),
      ];
      const result = formClusters({ nodes, range: 5 });
      expect(result.levelOf.candidate).to.equal(1);
      expect(result.headOf.peer).to.equal("candidate");
    });

    it("counts a neighbour at exactly the range", () => {
      const nodes = [node("a", 0, 0, 2, 5), node("b", 5, 0, 2, 9)];
      const result = formClusters({ nodes, range: 5 });
      expect(result.levelOneHeads).to.deep.equal(["b"]);
      expect(result.headOf.a).to.equal("b");
    });

    it("treats many equal energies as exactly at the average, whatever the rounding", () => {
      const nodes = Array.from({ length: 10 }, (_, i) => node(`n${i}`, i * 0.1, 0, 2, 0.1));
      const result = formClusters({ nodes, range: 5 });
      // Nobody is nominated, so the first in id order heads its own cluster and the rest join it.
      expect(result.levelOneHeads).to.deep.equal(["n0"]);
      expect(result.nodes).to.have.length(9);
    });

    it("still makes an index-2 node with no index-2 neighbour a head, as no level-1 head can be in its range", () => {
      const nodes = [node("lonely", 0, 0, 2, 50), node("index-one", 1, 0, 1, 99), node("far-peer", 100, 0, 2, 1)];
      const result = formClusters({ nodes, range: 5 });
      expect(result.levelOf.lonely).to.equal(1);
      expect(result.headOf["index-one"]).to.equal("lonely");
    });
  });

  describe("joinCluster: every other node joins the nearest level-1 head in range", () => {
    it("joins the nearest level-1 head", () => {
      const result = formClusters({ nodes: [...twoHeadField(), node("z", 0, 0, 1, 1)], range: 10 });
      expect(result.levelOneHeads).to.deep.equal(["h1", "h2"]);
      expect(result.headOf.z).to.equal("h2");
      expect(result.headOf.anchor).to.equal("h2");
    });

    it("joins a level-1 head at exactly the range", () => {
      const result = formClusters({ nodes: [...twoHeadField(), node("edge", 13, 0, 1, 1)], range: 10 });
      expect(result.headOf.edge).to.equal("h1");
    });

    it("heads its own cluster when no level-1 head is within range", () => {
      const result = formClusters({ nodes: [...twoHeadField(), node("outside", 13.001, 0, 1, 1)], range: 10 });
      expect(result.levelOf.outside).to.equal(1);
      expect(result.levelOneHeads).to.include("outside");
      expect(result.clusters.find((c) => c.head === "outside")).to.deep.equal({ head: "outside", level: 1, members: [] });
    });

    it("lets later out-of-range nodes join a node that headed its own cluster, the most capable heading", () => {
      const stragglers = [node("rich-one", 50, 0, 1, 90), node("poor-two", 52, 0, 2, 1), node("poor-one", 54, 0, 1, 2)];
      const result = formClusters({ nodes: [...twoHeadField(), ...stragglers], range: 10 });
      // A higher processing index outranks energy, so "poor-two" heads the stragglers.
      expect(result.levelOf["poor-two"]).to.equal(1);
      expect(result.headOf["rich-one"]).to.equal("poor-two");
      expect(result.headOf["poor-one"]).to.equal("poor-two");
    });

    it("never attaches a level-0 node directly to a level-2 head", () => {
      const result = formClusters({ nodes: [node("root", 0, 0, 3, 1), node("device", 1, 0, 1, 1)], range: 10 });
      expect(result.levelOf.device).to.equal(1);
      expect(result.headOf.device).to.equal("root");
    });
  });

  describe("ties are broken deterministically", () => {
    it("breaks a distance tie between level-1 heads by the smaller id", () => {
      const nodes = [node("hb", -3, 0, 2, 10), node("ha", 3, 0, 2, 10), node("anchor", 0, 4, 2, 0), node("z", 0, 0, 1, 1)];
      const result = formClusters({ nodes, range: 10 });
      expect(result.headOf.z).to.equal("ha");
      expect(result.headOf.anchor).to.equal("ha");
    });

    it("lets the smaller id head when equally capable nodes have no head in range", () => {
      const result = formClusters({ nodes: [node("n2", 0, 0, 1, 5), node("n1", 1, 0, 1, 5)], range: 10 });
      expect(result.levelOneHeads).to.deep.equal(["n1"]);
      expect(result.headOf.n2).to.equal("n1");
    });

    it("gives the same clustering for any input order", () => {
      const nodes = randomField({ count: 135, width: 150, height: 150, seed: 7 });
      const reversed = [...nodes].reverse();
      const random = seededRandom(99);
      const permuted = nodes.map((n) => ({ n, key: random() })).sort((a, b) => a.key - b.key).map(({ n }) => n);
      const expected = formClusters({ nodes, range: 30 });
      expect(formClusters({ nodes: reversed, range: 30 })).to.deep.equal(expected);
      expect(formClusters({ nodes: permuted, range: 30 })).to.deep.equal(expected);
    });
  });

  describe("level-1 heads attach to level-2 heads", () => {
    const roots = [node("left", 0, 0, 3, 1), node("right", 20, 0, 3, 1)];

    it("attaches each level-1 head to the nearest level-2 head within range", () => {
      const result = formClusters({ nodes: [...roots, node("near-left", 4, 0, 2, 1), node("near-right", 16, 0, 2, 1)], range: 10 });
      expect(result.headOf["near-left"]).to.equal("left");
      expect(result.headOf["near-right"]).to.equal("right");
      expect(result.clusters.find((c) => c.head === "near-left")?.parent).to.equal("left");
      expect(result.clusters.find((c) => c.head === "left")?.members).to.deep.equal(["near-left"]);
    });

    it("attaches a level-1 head with no level-2 head in range to the nearest one at any distance", () => {
      const result = formClusters({ nodes: [...roots, node("far-away", 100, 50, 1, 1)], range: 10 });
      expect(result.levelOf["far-away"]).to.equal(1);
      expect(result.headOf["far-away"]).to.equal("right");
      expect(result.roots).to.deep.equal(["left", "right"]);
    });

    it("breaks an equal distance to two level-2 heads by the smaller id", () => {
      const result = formClusters({ nodes: [node("r2", 0, 0, 3, 1), node("r1", 20, 0, 3, 1), node("middle", 10, 5, 2, 1)], range: 30 });
      expect(result.headOf.middle).to.equal("r1");
    });
  });

  describe("fields without a level-2 head", () => {
    it("makes every level-1 head the root of its own tree", () => {
      const nodes = [node("a", 0, 0, 2, 9), node("a-member", 1, 0, 1, 1), node("b", 100, 0, 1, 9), node("b-member", 101, 0, 1, 1)];
      const result = formClusters({ nodes, range: 10 });
      expect(result.levelTwoHeads).to.deep.equal([]);
      expect(result.roots).to.deep.equal(["a", "b"]);
      expect(result.clusters).to.deep.equal([
        { head: "a", level: 1, members: ["a-member"] },
        { head: "b", level: 1, members: ["b-member"] },
      ]);
      expect(result.headOf.a).to.equal(undefined);
    });

    it("returns an empty clustering for an empty field", () => {
      const result = formClusters({ nodes: [], range: 10 });
      expect(result).to.deep.include({ roots: [], levelTwoHeads: [], levelOneHeads: [], nodes: [], clusters: [] });
      expect(planHierarchy(result)).to.deep.equal([]);
    });
  });

  describe("input validation", () => {
    const valid = node("ok", 0, 0, 1, 1);
    const badNodes: { description: string; bad: ClusterNode; field: string; nodeId: string | undefined }[] = [
      { description: "an empty id", bad: { ...valid, id: "" }, field: "id", nodeId: undefined },
      { description: "a duplicate id", bad: { ...valid }, field: "id", nodeId: "ok" },
      { description: "a NaN x", bad: { ...valid, id: "bad", x: Number.NaN }, field: "x", nodeId: "bad" },
      { description: "an infinite y", bad: { ...valid, id: "bad", y: Number.NEGATIVE_INFINITY }, field: "y", nodeId: "bad" },
      { description: "a NaN energy", bad: { ...valid, id: "bad", energy: Number.NaN }, field: "energy", nodeId: "bad" },
      { description: "an infinite energy", bad: { ...valid, id: "bad", energy: Infinity }, field: "energy", nodeId: "bad" },
      { description: "a negative energy", bad: { ...valid, id: "bad", energy: -1 }, field: "energy", nodeId: "bad" },
      ...[0, 4, 2.5].map((index) => ({
        description: `processing index ${index}`,
        bad: { ...valid, id: "bad", processingIndex: index as 1 },
        field: "processingIndex",
        nodeId: "bad",
      })),
    ];
    for (const { description, bad, field, nodeId } of badNodes) {
      it(`rejects a node with ${description}`, () => {
        expectInputError(() => formClusters({ nodes: [valid, bad], range: 10 }), field, nodeId);
      });
    }

    it("names the position of a node whose id is empty", () => {
      const error = expectInputError(() => formClusters({ nodes: [valid, { ...valid, id: "" }], range: 10 }), "id", undefined);
      expect(error.message).to.include("position 1");
    });

    for (const range of [0, -1, Number.NaN, Infinity]) {
      it(`rejects a range of ${range}`, () => {
        expectInputError(() => formClusters({ nodes: [valid], range }), "range", undefined);
      });
    }

    it("accepts zero energy, negative coordinates and ids that are Object.prototype names", () => {
      const result = formClusters({ nodes: [node("__proto__", -5, -5, 1, 0), node("constructor", -6, -5, 1, 0)], range: 10 });
      expect(result.levelOf["__proto__"]).to.equal(1);
      expect(result.headOf.constructor).to.equal("__proto__");
    });
  });

  describe("planHierarchy", () => {
    it("creates the root group, then associates each level-1 head before it creates its group and takes its members", () => {
      const clustering = formClusters({
        nodes: [node("root", 0, 0, 3, 1), node("head", 5, 0, 2, 1), node("device-b", 6, 0, 1, 1), node("device-a", 4, 0, 1, 1)],
        range: 10,
      });
      expect(planHierarchy(clustering)).to.deep.equal([
        { kind: "createGroup", head: "root", level: 2 },
        { kind: "associate", member: "head", head: "root" },
        { kind: "createGroup", head: "head", level: 1, parentHead: "root" },
        { kind: "associate", member: "device-a", head: "head" },
        { kind: "associate", member: "device-b", head: "head" },
      ]);
    });

    it("obeys the registry's rules on the paper's 135-node field, one createGroup per head and one associate per other id", () => {
      const nodes = randomField({ count: 135, width: 150, height: 150, seed: 3 });
      const clustering = formClusters({ nodes, range: 30 });
      const calls = planHierarchy(clustering);
      replayOnRegistryModel(calls, clustering);
      expect(calls.filter((c) => c.kind === "createGroup")).to.have.length(clustering.clusters.length);
      expect(calls.filter((c) => c.kind === "associate")).to.have.length(nodes.length - clustering.roots.length);
    });

    it("plans a forest of root groups when there is no level-2 head", () => {
      const nodes = randomField({ count: 200, width: 150, height: 150, seed: 5 }).map((n) => ({
        ...n,
        processingIndex: n.processingIndex === 3 ? (2 as const) : n.processingIndex,
      }));
      const clustering = formClusters({ nodes, range: 20 });
      const calls = planHierarchy(clustering);
      replayOnRegistryModel(calls, clustering);
      expect(calls.filter((c) => c.kind === "createGroup" && c.parentHead === undefined)).to.have.length(clustering.roots.length);
    });

    it("has a replay model that rejects a child group created before its head joined the parent group", () => {
      const clustering = formClusters({ nodes: [node("root", 0, 0, 3, 1), node("head", 5, 0, 2, 1)], range: 10 });
      const [createRoot, associateHead, createChild] = planHierarchy(clustering);
      expect(() => replayOnRegistryModel([createRoot!, createChild!, associateHead!], clustering)).to.throw(/active member/);
    });

    describe("rejects a clustering that is not one forest", () => {
      const base = (): FormClustersReturnType =>
        formClusters({ nodes: [node("root", 0, 0, 3, 1), node("head", 5, 0, 2, 1), node("device", 6, 0, 1, 1)], range: 10 });

      it("rejects a root without a cluster", () => {
        expectInputError(() => planHierarchy({ ...base(), roots: ["root", "ghost"] }), "clusters", "ghost");
      });

      it("rejects an id placed twice", () => {
        const clustering = base();
        clustering.clusters[0]!.members.push("device");
        expectInputError(() => planHierarchy(clustering), "clusters", "device");
      });

      it("rejects a cluster whose parent disagrees with where it is a member", () => {
        const clustering = base();
        delete clustering.clusters[1]!.parent;
        expectInputError(() => planHierarchy(clustering), "clusters", "head");
      });

      it("rejects a cluster unreachable from any root", () => {
        const clustering = base();
        clustering.clusters[0]!.members.length = 0;
        expectInputError(() => planHierarchy(clustering), "clusters", "head");
      });
    });
  });

  describe("fields like the paper's simulation", () => {
    it("connects every node of a 135-node 150 m × 150 m field to a root, following every rule", () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const nodes = randomField({ count: 135, width: 150, height: 150, seed });
        const result = formClusters({ nodes, range: 30 });
        expectConnectedHierarchy(nodes, 30, result);
        expectRulesHoldByBruteForce(nodes, 30, result);
      }
    });

    it("gives the paper's shape with a single level-2 head: one root, level-1 clusters, level-0 devices", () => {
      const nodes = randomField({ count: 135, width: 150, height: 150, seed: 11 }).map((n, i) => ({
        ...n,
        processingIndex: i === 0 ? (3 as const) : n.processingIndex === 3 ? (2 as const) : n.processingIndex,
      }));
      const result = formClusters({ nodes, range: 30 });
      expectConnectedHierarchy(nodes, 30, result);
      expect(result.roots).to.deep.equal(["n0"]);
      expect(result.levelOneHeads.length).to.be.greaterThan(1);
      expect(result.nodes.length).to.be.greaterThan(result.levelOneHeads.length);
    });

    it("follows every rule on a 2,000-node field that spans many grid cells", () => {
      const nodes = randomField({ count: 2000, width: 1000, height: 600, seed: 21 });
      const result = formClusters({ nodes, range: 25 });
      expectConnectedHierarchy(nodes, 25, result);
      expectRulesHoldByBruteForce(nodes, 25, result);
    });

    it("clusters a 10,000-node field at the paper's density into a connected hierarchy", () => {
      const side = 150 * Math.sqrt(10_000 / 135);
      const nodes = randomField({ count: 10_000, width: side, height: side, seed: 42 });
      const result = formClusters({ nodes, range: 30 });
      expectConnectedHierarchy(nodes, 30, result);
      replayOnRegistryModel(planHierarchy(result), result);
    });

    it("clusters 10,000 nodes crowded into 150 m × 150 m into a connected hierarchy", () => {
      const nodes = randomField({ count: 10_000, width: 150, height: 150, seed: 43 });
      const result = formClusters({ nodes, range: 30 });
      expectConnectedHierarchy(nodes, 30, result);
    });
  });
});
