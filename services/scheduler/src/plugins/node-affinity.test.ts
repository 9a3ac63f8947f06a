import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo } from "../framework/node-info.js";
import { CycleState, SKIP } from "../framework/types.js";
import { makeNode, makePod, podInfo } from "../test-fixtures.js";
import { fitsNodeAffinity, nodeAffinity, preferredScore, preferredTerms, REASON } from "./node-affinity.js";

const ssdA = NodeInfo.of(makeNode("a", { labels: { disk: "ssd", zone: "z1" } }));
const hddB = NodeInfo.of(makeNode("b", { labels: { disk: "hdd", zone: "z2" } }));

describe("NodeAffinity filter", () => {
  it("nodeSelector", () => {
    assert.ok(fitsNodeAffinity(makePod("p", { nodeSelector: { disk: "ssd" } }), ssdA));
    assert.ok(!fitsNodeAffinity(makePod("p", { nodeSelector: { disk: "ssd" } }), hddB));
  });

  it("required node affinity: terms ORed, expressions ANDed", () => {
    const pod = makePod("p", {
      requiredNodeAffinity: [[{ key: "zone", operator: "In", values: ["z9"] }], [{ key: "disk", operator: "NotIn", values: ["ssd"] }]],
    });
    assert.ok(!fitsNodeAffinity(pod, ssdA));
    assert.ok(fitsNodeAffinity(pod, hddB));
  });

  it("nodeSelector and required affinity must both hold", () => {
    const pod = makePod("p", { nodeSelector: { zone: "z1" }, requiredNodeAffinity: [[{ key: "disk", operator: "In", values: ["hdd"] }]] });
    assert.ok(!fitsNodeAffinity(pod, ssdA));
    assert.ok(!fitsNodeAffinity(pod, hddB));
  });

  it("is skipped for unconstrained pods and gives Kubernetes' reason", () => {
    const pl = nodeAffinity();
    assert.equal(pl.preFilter!(new CycleState(), podInfo("p"), undefined as never), SKIP);
    const s = new CycleState();
    const pod = podInfo("p", { nodeSelector: { disk: "ssd" } });
    assert.equal(pl.preFilter!(s, pod, undefined as never), undefined);
    assert.equal(pl.filter!(s, pod, hddB), REASON);
    assert.equal(pl.filter!(s, pod, ssdA), undefined);
  });
});

describe("NodeAffinity score", () => {
  const pod = makePod("p", {
    preferredNodeAffinity: [
      { weight: 80, expressions: [{ key: "disk", operator: "In", values: ["ssd"] }] },
      { weight: 20, expressions: [{ key: "zone", operator: "In", values: ["z2"] }] },
    ],
  });
  it("sums the weights of the matching preferred terms", () => {
    const terms = preferredTerms(pod);
    assert.equal(preferredScore(terms, ssdA), 80);
    assert.equal(preferredScore(terms, hddB), 20);
  });
  it("normalizes so the best node gets 100", () => {
    const pl = nodeAffinity();
    const s = new CycleState();
    const pi = podInfo("p", {
      preferredNodeAffinity: [
        { weight: 80, expressions: [{ key: "disk", operator: "In", values: ["ssd"] }] },
        { weight: 20, expressions: [{ key: "zone", operator: "In", values: ["z2"] }] },
      ],
    });
    assert.equal(pl.preScore!(s, pi, [ssdA, hddB]), undefined);
    const scores = [pl.score!(s, pi, ssdA), pl.score!(s, pi, hddB)];
    pl.normalizeScore!(s, pi, scores);
    assert.deepEqual(scores, [100, 25]);
    assert.equal(pl.preScore!(new CycleState(), podInfo("q"), [ssdA]), SKIP);
  });
});
