// The scale simulation's arithmetic (scripts/lib/scale-model.ts) on a network small enough to work
// out by hand: two root trees, five clusters, ten devices, a chain of 200 gas every 2 s. Every
// expected figure below is computed in the comment beside it, not by the model.
import { expect } from "chai";
import {
  blocksFor,
  capacity,
  enrolment,
  groupAnchoring,
  hierarchicalAnchoring,
  networkSize,
  perClusterAnchoring,
  poisson,
  relayEveryMessage,
  sampleNetwork,
  saturationClusters,
  simulateQueue,
  type DataAssumptions,
  type DataGas,
  type EnrolmentGas,
  type Network,
} from "../lib/scale-model.js";
import { seededRandom } from "../../sdk/test/support/random.js";

// Root A heads two child groups (2 devices, none); root B one (3 devices).
const network: Network = { roots: [{ children: [2, 0] }, { children: [3] }] };
const chain = { gasLimit: 200, period: 2 };
const gas: EnrolmentGas = { createRoot: 100, createChild: 120, direct: { root: 50, child: 60 }, relayed: { root: 70, child: 80 }, batched: { root: 30, child: 40, batchSize: 2 } };
const dataGas: DataGas = { anchorChild: 20, anchorRoot: 10, anchorAggregate: 10, relaySingle: 5, relayBatched: 3, relayBatchSize: 2 };
// Every member sends every 2 s, so a group's rate is members / 2 per second: A 1, A's children 1 and 0, B 0.5, B's child 1.5.
const data: DataAssumptions = { messageInterval: 2, pollInterval: 1, batchMaxMessages: 10 };

describe("the scale model, by hand on a tiny network", () => {
  it("counts the network: 2 root + 3 child groups, 3 level-1 heads, 5 level-0 devices, 10 devices, 8 members sending data", () => {
    expect(networkSize(network)).to.deep.equal({ clusters: 5, rootGroups: 2, childGroups: 3, levelOneHeads: 3, levelZeroDevices: 5, devices: 10, senders: 8 });
    expect(capacity(chain), "200 gas / 2 s").to.equal(100);
  });

  it("enrols directly in 7 blocks: 2 roots in 1, 3 heads in 1, 3 child groups in 3 (one fits), 5 devices in 2 (three fit)", () => {
    const direct = enrolment(network, gas, "direct", chain);
    expect(direct.phases.map((phase) => phase.blocks)).to.deep.equal([1, 1, 3, 2]);
    // 13 transactions; 2·100 + 3·50 + 3·120 + 5·60 = 200 + 150 + 360 + 300 gas; 7 blocks of 2 s.
    expect({ transactions: direct.transactions, gas: direct.gas, blocks: direct.blocks, seconds: direct.seconds }).to.deep.equal({ transactions: 13, gas: 1010, blocks: 7, seconds: 14 });
    const relayed = enrolment(network, gas, "relayed", chain);
    // 3 heads × 70 fit in one block (2 per block: 2 blocks); 5 devices × 80 (2 per block: 3 blocks).
    expect(relayed.phases.map((phase) => phase.blocks)).to.deep.equal([1, 2, 3, 3]);
    expect(relayed.gas).to.equal(200 + 3 * 70 + 360 + 5 * 80);
  });

  it("enrols in batches of 2: ceil(3/2) head batches of 60 gas, ceil(5/2) device batches of 80, partial batches counted full", () => {
    const batched = enrolment(network, gas, "batched", chain);
    expect(batched.phases.map((phase) => [phase.transactions, phase.gasPerTransaction, phase.blocks])).to.deep.equal([
      [2, 100, 1],
      [2, 60, 1],
      [3, 120, 3],
      [3, 80, 2],
    ]);
    expect({ transactions: batched.transactions, gas: batched.gas, seconds: batched.seconds }).to.deep.equal({ transactions: 10, gas: 200 + 120 + 360 + 240, seconds: 14 });
    expect(() => blocksFor(1, 300, chain), "a transaction larger than a block").to.throw(/does not fit/);
    expect(blocksFor(0, 300, chain)).to.equal(0);
  });

  it("batches by age or size as the gateway does", () => {
    // rate 0.5/s, age 2, poll 1: a cycle of 2 + 0.5 + 2 = 4.5 s; wait (2 + 0.5·4/2)/(1 + 1) + 0.5 = 2.
    const byAge = groupAnchoring(0.5, 2, data);
    expect(byAge.anchorsPerSecond).to.be.closeTo(1 / 4.5, 1e-12);
    expect(byAge.meanBatchWait).to.be.closeTo(2, 1e-12);
    // rate 10/s fills 10 messages before 2 s: one batch per second, a message waits 9 / 20 s.
    expect(groupAnchoring(10, 2, data)).to.deep.equal({ anchorsPerSecond: 1, meanBatchWait: 0.45 });
    expect(groupAnchoring(0, 2, data)).to.deep.equal({ anchorsPerSecond: 0, meanBatchWait: 0 });
  });

  it("anchors per cluster at age 2: 17.109 gas/s (root anchors 1/3.5 + 1/4.5 per s at 10 gas, child 1/3.5 + 1/3.1667 at 20), busy 40 gas/s", () => {
    const load = perClusterAnchoring(network, 2, dataGas, data);
    const [roots, children] = load.transactions;
    expect(roots.perSecond).to.be.closeTo(1 / 3.5 + 1 / 4.5, 1e-9);
    expect(children.perSecond).to.be.closeTo(1 / 3.5 + 1 / (2.5 + 1 / 1.5), 1e-9);
    expect(load.gasPerSecond).to.be.closeTo(10 * (1 / 3.5 + 1 / 4.5) + 20 * (1 / 3.5 + 1 / (2.5 + 1 / 1.5)), 1e-9);
    expect(load.gasPerSecond).to.be.closeTo(17.10945, 1e-5);
    // Busy: (2 roots · 10 + 3 children · 20) gas every 2 s.
    expect(load.busyGasPerSecond).to.equal(40);
    // Waits by rate: 1/s → 4/3 + 0.5, 0.5/s → 2, 1.5/s → 5/4 + 0.5; weighted by rate (1, 1, 0.5, 1.5) over 4 messages/s.
    expect(load.meanWaitBeforeChain).to.be.closeTo((2 * (4 / 3 + 0.5) + 0.5 * 2 + 1.5 * 1.75) / 4, 1e-12);
    // Saturation: 5 clusters offer 17.109 of 100 gas/s: 5 · 100 / 17.109 ≈ 29.2 clusters.
    expect(saturationClusters(load, 5, chain)).to.be.closeTo((5 * 100) / 17.10945, 1e-3);
  });

  it("relays 8 members' 4 messages/s at 5 gas each (20 gas/s), or in pairs at 3 gas a message (2 tx/s, 12 gas/s), half a poll after arrival", () => {
    const single = relayEveryMessage(network, false, dataGas, data);
    expect(single.transactions).to.deep.equal([{ label: "recordDataBySig", perSecond: 4, gas: 5 }]);
    expect(single.gasPerSecond).to.equal(20);
    const paired = relayEveryMessage(network, true, dataGas, data);
    expect(paired.transactions[0]).to.include({ perSecond: 2, gas: 6 });
    expect(paired.gasPerSecond).to.equal(12);
    expect(paired.meanWaitBeforeChain).to.equal(0.5);
  });

  it("anchors hierarchically once per root group per interval: 2 roots / 2 s · 10 gas = 10 gas/s, and a message waits its batch plus half an interval", () => {
    const load = hierarchicalAnchoring(network, 2, dataGas, data);
    expect(load.transactions).to.deep.equal([{ label: "aggregate anchor, root group", perSecond: 1, gas: 10 }]);
    expect(load.gasPerSecond).to.equal(10);
    expect(load.meanWaitBeforeChain).to.be.closeTo((2 * (4 / 3 + 0.5) + 0.5 * 2 + 1.5 * 1.75) / 4 + 1, 1e-12);
  });

  it("queues what does not fit: 3 × 40 gas a second into 100-gas blocks leaves one transaction behind every second block", () => {
    const result = simulateQueue({ gasLimit: 100, period: 1 }, 3, () => [{ count: 3, gas: 40 }]);
    // Block 0 takes 2 of interval 0 (mean wait 1 − 1/3); block 1 its third (2 − 2.5/3) and 1 of interval 1 (2 − 1 − 0.5/3);
    // block 2 the other 2 of interval 1 (3 − 1 − 2/3). Interval 2's three are left: 120 gas, 1.2 s of blocks.
    expect({ arrived: result.arrived, included: result.included, queued: result.queued, queuedGas: result.queuedGas }).to.deep.equal({ arrived: 9, included: 6, queued: 3, queuedGas: 120 });
    expect(result.meanWait).to.be.closeTo((2 * (2 / 3) + (2 - 2.5 / 3) + (1 - 0.5 / 3) + 2 * (4 / 3)) / 6, 1e-12);
    expect(result.meanWait).to.be.closeTo(1, 1e-12);
    expect(result.utilisation).to.be.closeTo(360 / 300, 1e-12);
    expect(result.drainSeconds).to.be.closeTo(1.2, 1e-12);
    // 99 % of 6: 5.94 transactions waited at most w; the last chunk spreads 2 over [1, 5/3]: 4 + 3(w − 1) = 5.94.
    expect(result.p99Wait).to.be.closeTo(1 + 1.94 / 3, 1e-9);
  });

  it("waits half a block on average when the chain keeps up", () => {
    const result = simulateQueue({ gasLimit: 100, period: 2 }, 50, () => [{ count: 4, gas: 10 }]);
    expect(result.queued).to.equal(0);
    expect(result.meanWait).to.be.closeTo(1, 1e-12);
    expect(result.p99Wait).to.be.closeTo(2 - 0.02 * 2, 0.06);
  });

  it("samples whole root trees until the cluster count is reached, cutting the last", () => {
    const draws = [0.1, 0.9, 0.1];
    const sampled = sampleNetwork([{ children: [1, 2, 3] }, { children: [] }], 6, () => draws.shift()!);
    // Tree 0 (4 clusters), tree 1 (1), then tree 0 cut to its root alone.
    expect(sampled.roots).to.deep.equal([{ children: [1, 2, 3] }, { children: [] }, { children: [] }]);
    expect(networkSize(sampled).clusters).to.equal(6);
  });

  it("draws Poisson counts with the right mean, small and large (seeded)", () => {
    const draw = seededRandom(7);
    for (const mean of [0.3, 3, 300]) {
      const n = 20_000;
      let total = 0;
      for (let i = 0; i < n; i++) total += poisson(mean, draw);
      expect(total / n, `mean ${mean}`).to.be.closeTo(mean, 0.05 * mean + 0.02);
    }
    expect(poisson(0, draw)).to.equal(0);
  });
});
