import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo } from "../framework/node-info.js";
import { CycleState, SKIP } from "../framework/types.js";
import { makeNode, podInfo } from "../test-fixtures.js";
import { normalizeSpread, ownerPodCount, selectorSpread } from "./selector-spread.js";

describe("SelectorSpread", () => {
  const a = NodeInfo.of(makeNode("a"), [podInfo("w1", { owner: "rs-web" }), podInfo("w2", { owner: "rs-web" }), podInfo("d1", { owner: "rs-db" })]);
  const b = NodeInfo.of(makeNode("b"), [podInfo("w3", { owner: "rs-web" })]);
  const c = NodeInfo.of(makeNode("c"));

  it("counts the owner's pods per node", () => {
    const web = podInfo("w9", { owner: "rs-web" }).ownerId;
    assert.ok(web > 0);
    assert.equal(ownerPodCount(web, a), 2);
    assert.equal(ownerPodCount(web, b), 1);
    assert.equal(ownerPodCount(web, c), 0);
  });

  it("scores nodes with fewer of the owner's pods higher", () => {
    const pl = selectorSpread();
    const s = new CycleState();
    const pod = podInfo("w4", { owner: "rs-web" });
    assert.equal(pl.preScore!(s, pod, [a, b, c]), undefined);
    const scores = [a, b, c].map((n) => pl.score!(s, pod, n));
    pl.normalizeScore!(s, pod, scores);
    assert.deepEqual(scores, [0, 50, 100]);
  });

  it("all equal when the owner has no pods yet; skipped for pods without an owner", () => {
    const scores = [0, 0];
    normalizeSpread(scores);
    assert.deepEqual(scores, [100, 100]);
    assert.equal(selectorSpread().preScore!(new CycleState(), podInfo("lone"), [a]), SKIP);
  });

  it("uses the controller owner reference", () => {
    assert.equal(podInfo("x", { owner: "rs-web" }).ownerUid, "uid-rs-web");
    assert.equal(podInfo("x").ownerUid, "");
    assert.equal(podInfo("x").ownerId, 0);
  });
});
