import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo } from "../framework/node-info.js";
import { CycleState, SKIP } from "../framework/types.js";
import { makeNode, podInfo } from "../test-fixtures.js";
import { nodePorts, portConflicts, REASON } from "./node-ports.js";

describe("NodePorts", () => {
  const node = () => NodeInfo.of(makeNode("n"), [podInfo("web", { hostPorts: [80, { port: 53, protocol: "UDP", ip: "10.0.0.1" }] })]);

  it("conflicts on the same protocol and port", () => {
    assert.ok(portConflicts(podInfo("p", { hostPorts: [80] }).hostPorts, node()));
    assert.ok(!portConflicts(podInfo("p", { hostPorts: [8080] }).hostPorts, node()));
    assert.ok(!portConflicts(podInfo("p", { hostPorts: [{ port: 80, protocol: "UDP" }] }).hostPorts, node()));
  });

  it("0.0.0.0 conflicts with any address, a specific address only with itself", () => {
    assert.ok(portConflicts(podInfo("p", { hostPorts: [{ port: 53, protocol: "UDP" }] }).hostPorts, node()));
    assert.ok(portConflicts(podInfo("p", { hostPorts: [{ port: 53, protocol: "UDP", ip: "10.0.0.1" }] }).hostPorts, node()));
    assert.ok(!portConflicts(podInfo("p", { hostPorts: [{ port: 53, protocol: "UDP", ip: "10.0.0.2" }] }).hostPorts, node()));
    assert.ok(portConflicts(podInfo("p", { hostPorts: [{ port: 80, ip: "10.0.0.2" }] }).hostPorts, node()), "80 is bound on 0.0.0.0");
  });

  it("frees the port when the pod goes; skipped for pods without host ports", () => {
    const n = node();
    n.removePod("default/web");
    assert.ok(!portConflicts(podInfo("p", { hostPorts: [80] }).hostPorts, n));
    const pl = nodePorts();
    assert.equal(pl.preFilter!(new CycleState(), podInfo("p"), undefined as never), SKIP);
    assert.equal(pl.filter!(new CycleState(), podInfo("p", { hostPorts: [80] }), node()), REASON);
  });
});
