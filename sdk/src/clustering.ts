// Al Ahmed et al. (2022), Algorithm 1 "Cluster Head Nomination", as pure functions:
// selectCHL2, selectCHL1 and joinCluster decide who heads which cluster; planHierarchy turns the
// result into the ordered createGroup / associate calls the group registry accepts.
//
// The paper's algorithm is distributed and O(N²) (every node hears every neighbour). Here the
// neighbour queries go through uniform grids, so a field of N nodes costs about N × (nodes per
// neighbourhood) instead of N².

import { IomtError } from "./errors.js";

/** One device of the field, as it broadcasts itself in step 1 of the paper's Fig. 3. */
export interface ClusterNode {
  /** Unique, non-empty identifier (typically the device's address). */
  id: string;
  /** Horizontal position, in the unit of {@link FormClustersParameters.range}. */
  x: number;
  /** Vertical position, in the unit of {@link FormClustersParameters.range}. */
  y: number;
  /** Processing power category of Al Ahmed et al.: 3 = most capable (level-2 head), 1 = least. */
  processingIndex: 1 | 2 | 3;
  /** Residual energy, finite and ≥ 0. Only compared between nodes, so any unit works. */
  energy: number;
}

/** Parameters of {@link formClusters}. */
export interface FormClustersParameters {
  /** The field. Order does not matter: the result depends only on the set of nodes. */
  nodes: readonly ClusterNode[];
  /**
   * Dpreset: the radio range that bounds neighbourhoods and cluster joins, in the unit of x and y.
   * A node at exactly `range` is within range.
   */
  range: number;
}

/** One cluster: a head and the nodes directly below it. */
export interface Cluster {
  /** Id of the cluster head. */
  head: string;
  /** 2 for a CHL2 (processing index 3), 1 for a CHL1 (nominated or self-promoted). */
  level: 1 | 2;
  /** Ids of the nodes directly below this head, sorted: CHL1 heads under a CHL2, level-0 nodes under a CHL1. */
  members: string[];
  /** Id of the head above; absent for a root. */
  parent?: string;
}

/** Result of {@link formClusters}. Every id list is sorted (plain string order). */
export interface FormClustersReturnType {
  /** Heads with no head above them: every CHL2, or every CHL1 when the field has no CHL2. */
  roots: string[];
  /** CHL2 ids. */
  levelTwoHeads: string[];
  /** CHL1 ids, both nominated (energy above average) and promoted (no head in range). */
  levelOneHeads: string[];
  /** Level-0 ids: the nodes that joined a CHL1. */
  nodes: string[];
  /** One cluster per head: the level-2 clusters first, then the level-1 ones, each sorted by head. */
  clusters: Cluster[];
  /** Level of every id. Null-prototype object, so any id string is a safe key. */
  levelOf: Record<string, 0 | 1 | 2>;
  /** Head directly above every id; `undefined` for a root. Null-prototype object like `levelOf`. */
  headOf: Record<string, string | undefined>;
}

/** Which part of the input a {@link ClusteringInputError} is about. */
export type ClusteringInputField = "id" | "x" | "y" | "energy" | "processingIndex" | "range" | "clusters";

/**
 * Thrown by {@link formClusters} and {@link planHierarchy} for input they cannot work with. Code
 * `ClusteringInvalidInput`; `field` and `nodeId` say what is wrong, the message says it in words.
 */
export class ClusteringInputError extends IomtError {
  /** The offending field. */
  readonly field: ClusteringInputField;
  /** The offending node's id, when one applies (absent for `range` and for a missing id). */
  readonly nodeId: string | undefined;

  constructor(message: string, details: { field: ClusteringInputField; nodeId?: string }) {
    super("ClusteringInvalidInput", message);
    this.field = details.field;
    this.nodeId = details.nodeId;
  }
}

/**
 * Al Ahmed et al.'s Algorithm 1: nominate cluster heads on two levels and attach every node below one.
 *
 * Rules, in the paper's order:
 * 1. **selectCHL2** — every node of processing index 3 is a level-2 head (CHL2).
 * 2. **selectCHL1** — a node of index 2 is a level-1 head (CHL1) when its energy is strictly above
 *    Eav, the average energy of the index-2 nodes within `range` of it, **itself included** (the
 *    paper: "nodes with similar processing power index calculate the average energy"). With at
 *    least one such neighbour this is the same as comparing with the neighbours' average without
 *    itself; the difference is that a node with no index-2 neighbour is never above its own
 *    average, so it does not nominate itself. It still ends up a CHL1: joinCluster finds no CHL1
 *    in its range (any would be an index-2 neighbour) and makes it head its own cluster.
 *    Nodes of index 1 and 3 play no part in Eav.
 * 3. **joinCluster** — every other node (index 1, and index 2 not above Eav) joins the nearest
 *    CHL1 within `range`. A node with no CHL1 within `range` heads its own cluster, as the paper
 *    says ("the node is set as CHL1 cluster head"), and later nodes may join it. Those
 *    self-promotions are decided greedily, most capable first (processing index, then energy,
 *    both descending, then id), since the paper prefers heads with more energy; only after all of
 *    them does every remaining node pick its nearest head, so the choice does not depend on order.
 * 4. **Level 1 → level 2** — every CHL1 joins the nearest CHL2 within `range`, and when none is
 *    within range, the nearest CHL2 at any distance: a parent group is a logical link on chain
 *    (the genesis anchor), not a radio hop, and this keeps every node connected to a root. Each
 *    CHL2 is then a root. With **no CHL2 in the field at all**, every CHL1 is a root of its own
 *    tree: promoting one CHL1 would put level-0 nodes directly under a level-2 head and break the
 *    level structure.
 *
 * Ties between equally near heads go to the smaller id. Distances are Euclidean, compared squared.
 * Cost: O(N · k) with k the number of nodes in a neighbourhood, O(N²) at worst (everyone in range
 * of everyone), plus O(N log N) sorting.
 *
 * @throws {ClusteringInputError} for an empty or duplicate id, a non-finite coordinate or energy, a
 *   negative energy, a processing index outside {1, 2, 3}, or a range that is not a finite number > 0.
 *
 * @example
 * const { roots, clusters } = formClusters({ nodes, range: 30 });
 */
export function formClusters(parameters: FormClustersParameters): FormClustersReturnType {
  const { nodes, range } = parameters;
  assertValidInput(nodes, range);

  const bounds = boundsOf(nodes);
  const neighbourhoodGrid = (): PointGrid => new PointGrid(bounds, fineCellSize(bounds, range));

  const levelTwoHeads = nodes.filter((node) => node.processingIndex === 3);

  const indexTwoNodes = nodes.filter((node) => node.processingIndex === 2);
  const indexTwoGrid = neighbourhoodGrid();
  for (const node of indexTwoNodes) indexTwoGrid.add(node);
  const isAboveNeighbourAverage = (node: ClusterNode): boolean => {
    // Summing differences rather than energies keeps equal energies exactly at the average: a
    // rounded mean of k equal values can land an ulp below them and nominate a node wrongly.
    let excessOverNeighbours = 0;
    indexTwoGrid.forEachWithin(node, range, (neighbour) => {
      excessOverNeighbours += node.energy - neighbour.energy;
    });
    return excessOverNeighbours > 0;
  };
  const nominatedLevelOneHeads = indexTwoNodes.filter(isAboveNeighbourAverage);

  const levelOneHeadSet = new Set<ClusterNode>(nominatedLevelOneHeads);
  const levelOneGrid = neighbourhoodGrid();
  for (const head of nominatedLevelOneHeads) levelOneGrid.add(head);
  const joiningCandidates = nodes
    .filter((node) => node.processingIndex !== 3 && !levelOneHeadSet.has(node))
    .sort(byCapabilityDescending);
  for (const node of joiningCandidates) {
    if (!levelOneGrid.hasWithin(node, range)) {
      levelOneHeadSet.add(node);
      levelOneGrid.add(node);
    }
  }

  const headOf: Record<string, string | undefined> = Object.create(null);
  const levelOf: Record<string, 0 | 1 | 2> = Object.create(null);
  const membersOf = new Map<string, string[]>();
  const attach = (member: ClusterNode, head: ClusterNode | undefined): void => {
    headOf[member.id] = head?.id;
    if (head !== undefined) membersOf.get(head.id)!.push(member.id);
  };
  for (const head of levelTwoHeads) {
    levelOf[head.id] = 2;
    membersOf.set(head.id, []);
  }
  for (const head of levelOneHeadSet) {
    levelOf[head.id] = 1;
    membersOf.set(head.id, []);
  }

  const levelZeroNodes = joiningCandidates.filter((node) => !levelOneHeadSet.has(node));
  for (const node of levelZeroNodes) {
    levelOf[node.id] = 0;
    // Every remaining candidate saw a head within range during promotion, and heads were only added.
    attach(node, levelOneGrid.nearestWithin(node, range));
  }

  const levelTwoIndex = new NearestPointIndex(bounds, levelTwoHeads);
  for (const head of levelOneHeadSet) attach(head, levelTwoIndex.nearest(head));
  for (const head of levelTwoHeads) attach(head, undefined);

  const sortedIds = (list: Iterable<ClusterNode>): string[] => [...list].map((node) => node.id).sort(compareIds);
  const levelTwoIds = sortedIds(levelTwoHeads);
  const levelOneIds = sortedIds(levelOneHeadSet);
  const clusterOf = (head: string, level: 1 | 2): Cluster => {
    const parent = headOf[head];
    const members = membersOf.get(head)!.sort(compareIds);
    return parent === undefined ? { head, level, members } : { head, level, members, parent };
  };

  return {
    roots: levelTwoIds.length > 0 ? levelTwoIds : levelOneIds,
    levelTwoHeads: levelTwoIds,
    levelOneHeads: levelOneIds,
    nodes: sortedIds(levelZeroNodes),
    clusters: [
      ...levelTwoIds.map((head) => clusterOf(head, 2)),
      ...levelOneIds.map((head) => clusterOf(head, 1)),
    ],
    levelOf,
    headOf,
  };
}

/** One on-chain step of building the hierarchy; see {@link planHierarchy}. */
export type HierarchyCall =
  /** `head` creates its group: a root group (parentGid = 0) without `parentHead`, else a child of `parentHead`'s group. */
  | { kind: "createGroup"; head: string; level: number; parentHead?: string }
  /** `member` associates into `head`'s group. */
  | { kind: "associate"; member: string; head: string };

/**
 * Order the group-registry calls that build the hierarchy of a {@link formClusters} result.
 *
 * The registry's rules shape the order: a root group is created by its head (parentGid = 0); a
 * child group may only be created by an active member of the parent group, and an address is a
 * member of at most one group. So, for each root (in `roots` order): the root's `createGroup`; then
 * for each member of its cluster, in `members` order, the member's `associate` into the root's
 * group, and, when the member heads a cluster itself, right away its `createGroup` (with
 * `parentHead`) followed by the same walk through its own members.
 *
 * Summary: one `createGroup` per cluster and one `associate` per id except the roots, i.e.
 * `clusters.length + Object.keys(levelOf).length - roots.length` calls in all.
 *
 * Pure: it only orders ids. Turning the calls into transactions (tokens, gids, oids) is the caller's job.
 *
 * @throws {ClusteringInputError} (field `clusters`) when the clustering is not one forest: a root
 *   without a cluster, an id placed twice, a cluster whose `parent` disagrees with where it is a
 *   member, or an id in `levelOf` or a cluster not reachable from any root.
 */
export function planHierarchy(clustering: FormClustersReturnType): HierarchyCall[] {
  const clusterByHead = new Map(clustering.clusters.map((cluster) => [cluster.head, cluster]));
  const placed = new Set<string>();
  const calls: HierarchyCall[] = [];
  const inconsistent = (id: string, reason: string): ClusteringInputError =>
    new ClusteringInputError(`Inconsistent clusters at "${id}": ${reason}`, { field: "clusters", nodeId: id });
  const place = (id: string): void => {
    if (placed.has(id)) throw inconsistent(id, "placed twice in the hierarchy");
    placed.add(id);
  };

  const buildGroup = (cluster: Cluster, parentHead: string | undefined): void => {
    if (cluster.parent !== parentHead) {
      const where = parentHead === undefined ? "it is a root" : `it is a member of "${parentHead}"`;
      throw inconsistent(cluster.head, `its cluster names parent "${cluster.parent ?? "none"}" but ${where}`);
    }
    calls.push(
      parentHead === undefined
        ? { kind: "createGroup", head: cluster.head, level: cluster.level }
        : { kind: "createGroup", head: cluster.head, level: cluster.level, parentHead },
    );
    for (const member of cluster.members) {
      place(member);
      calls.push({ kind: "associate", member, head: cluster.head });
      const memberCluster = clusterByHead.get(member);
      if (memberCluster !== undefined) buildGroup(memberCluster, cluster.head);
    }
  };

  for (const root of clustering.roots) {
    const rootCluster = clusterByHead.get(root);
    if (rootCluster === undefined) throw inconsistent(root, "a root without a cluster");
    place(root);
    buildGroup(rootCluster, undefined);
  }

  const unreached = [...clusterByHead.keys(), ...Object.keys(clustering.levelOf)].find((id) => !placed.has(id));
  if (unreached !== undefined) throw inconsistent(unreached, "not reachable from any root");
  return calls;
}

function assertValidInput(nodes: readonly ClusterNode[], range: number): void {
  if (!(Number.isFinite(range) && range > 0)) {
    throw new ClusteringInputError(`range must be a finite number > 0, got ${String(range)}`, { field: "range" });
  }
  const seen = new Set<string>();
  nodes.forEach((node, position) => {
    const { id } = node;
    if (typeof id !== "string" || id.length === 0) {
      throw new ClusteringInputError(`Node at position ${position}: id must be a non-empty string`, { field: "id" });
    }
    if (seen.has(id)) {
      throw new ClusteringInputError(`Node "${id}": id is a duplicate`, { field: "id", nodeId: id });
    }
    seen.add(id);
    const invalid = (field: "x" | "y" | "energy" | "processingIndex", expectation: string): ClusteringInputError =>
      new ClusteringInputError(`Node "${id}": ${field} must be ${expectation}, got ${String(node[field])}`, {
        field,
        nodeId: id,
      });
    if (!Number.isFinite(node.x)) throw invalid("x", "a finite number");
    if (!Number.isFinite(node.y)) throw invalid("y", "a finite number");
    if (!(Number.isFinite(node.energy) && node.energy >= 0)) throw invalid("energy", "a finite number ≥ 0");
    if (node.processingIndex !== 1 && node.processingIndex !== 2 && node.processingIndex !== 3) {
      throw invalid("processingIndex", "1, 2 or 3");
    }
  });
}

/** Plain code-unit order, so ids sort the same in every locale. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byCapabilityDescending(a: ClusterNode, b: ClusterNode): number {
  return b.processingIndex - a.processingIndex || b.energy - a.energy || compareIds(a.id, b.id);
}

function distanceSquared(a: ClusterNode, b: ClusterNode): number {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  return dx * dx + dy * dy;
}

/** Nearer first, then smaller id: the deterministic tie-break for every "nearest head" choice. */
function isBetterCandidate(candidate: ClusterNode, candidateDistance: number, best: ClusterNode | undefined, bestDistance: number): boolean {
  return best === undefined || candidateDistance < bestDistance || (candidateDistance === bestDistance && candidate.id < best.id);
}

interface Bounds {
  minX: number;
  minY: number;
  extent: number;
}

function boundsOf(nodes: readonly ClusterNode[]): Bounds {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const { x, y } of nodes) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  return nodes.length === 0 ? { minX: 0, minY: 0, extent: 0 } : { minX, minY, extent: Math.max(maxX - minX, maxY - minY) };
}

// Cells per axis are capped so that a cell key (column × stride + row) stays an exact integer
// even when the range is tiny compared with the field.
const MAX_CELLS_PER_AXIS = 2 ** 20;
const CELL_KEY_STRIDE = MAX_CELLS_PER_AXIS + 1;

function fineCellSize(bounds: Bounds, range: number): number {
  return Math.max(range, bounds.extent / MAX_CELLS_PER_AXIS);
}

/** Uniform grid of nodes: a disc query visits only the cells the disc's bounding square overlaps. */
class PointGrid {
  private readonly cells = new Map<number, ClusterNode[]>();
  private readonly lastCell: number;

  constructor(
    private readonly bounds: Bounds,
    private readonly cellSize: number,
  ) {
    this.lastCell = Math.min(MAX_CELLS_PER_AXIS, Math.floor(bounds.extent / cellSize));
  }

  add(node: ClusterNode): void {
    const key = this.column(node.x) * CELL_KEY_STRIDE + this.row(node.y);
    const cell = this.cells.get(key);
    if (cell === undefined) this.cells.set(key, [node]);
    else cell.push(node);
  }

  /** Calls `visit` for every node within `radius` of `centre` (inclusive), `centre` itself included if added. */
  forEachWithin(centre: ClusterNode, radius: number, visit: (node: ClusterNode) => void): void {
    this.scanWithin(centre, radius, (node) => {
      visit(node);
      return false;
    });
  }

  hasWithin(centre: ClusterNode, radius: number): boolean {
    return this.scanWithin(centre, radius, () => true);
  }

  /** Nearest node within `radius` of `centre`, ties to the smaller id. */
  nearestWithin(centre: ClusterNode, radius: number): ClusterNode | undefined {
    let best: ClusterNode | undefined;
    let bestDistance = Infinity;
    this.scanWithin(centre, radius, (node) => {
      const distance = distanceSquared(centre, node);
      if (isBetterCandidate(node, distance, best, bestDistance)) {
        best = node;
        bestDistance = distance;
      }
      return false;
    });
    return best;
  }

  /** Visits nodes within `radius` until `visit` returns true; returns whether it did. */
  private scanWithin(centre: ClusterNode, radius: number, visit: (node: ClusterNode) => boolean): boolean {
    const radiusSquared = radius * radius;
    // The padding keeps a neighbour at exactly `radius` from being lost to rounding at a cell border.
    const reach = radius * (1 + 1e-9);
    const lastColumn = this.column(centre.x + reach);
    const lastRow = this.row(centre.y + reach);
    for (let column = this.column(centre.x - reach); column <= lastColumn; column++) {
      for (let row = this.row(centre.y - reach); row <= lastRow; row++) {
        const cell = this.cells.get(column * CELL_KEY_STRIDE + row);
        if (cell === undefined) continue;
        for (const node of cell) {
          if (distanceSquared(centre, node) <= radiusSquared && visit(node)) return true;
        }
      }
    }
    return false;
  }

  // Clamped: every added node lies inside the bounds, so cells outside them are empty anyway.
  private column(x: number): number {
    return Math.min(this.lastCell, Math.max(0, Math.floor((x - this.bounds.minX) / this.cellSize)));
  }

  private row(y: number): number {
    return Math.min(this.lastCell, Math.max(0, Math.floor((y - this.bounds.minY) / this.cellSize)));
  }
}

/**
 * Nearest-node queries at any distance, over a grid of about one node per cell. A query searches
 * discs of doubling radius: the first disc that holds any node holds the nearest one (and all
 * those tied with it), so a dense field answers from the first few cells and a sparse one never
 * scans more cells than the grid has, which is about as many as there are nodes.
 */
class NearestPointIndex {
  private readonly grid: PointGrid;
  private readonly cellSize: number;
  private readonly isEmpty: boolean;

  constructor(bounds: Bounds, nodes: readonly ClusterNode[]) {
    const cellsPerAxis = Math.max(1, Math.ceil(Math.sqrt(nodes.length)));
    this.cellSize = bounds.extent > 0 ? bounds.extent / cellsPerAxis : 1;
    this.grid = new PointGrid(bounds, this.cellSize);
    for (const node of nodes) this.grid.add(node);
    this.isEmpty = nodes.length === 0;
  }

  nearest(centre: ClusterNode): ClusterNode | undefined {
    if (this.isEmpty) return undefined;
    for (let radius = this.cellSize; ; radius *= 2) {
      const best = this.grid.nearestWithin(centre, radius);
      if (best !== undefined) return best;
    }
  }
}
