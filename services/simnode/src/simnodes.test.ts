import { create } from "@bufbuild/protobuf";
import { PodSchema } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Limiter, qosClass, runningStatus } from "./simnodes.js";

const pod = (containers: { requests?: Record<string, string>; limits?: Record<string, string> }[], init: typeof containers = []) =>
  create(PodSchema, {
    metadata: { name: "p", namespace: "default", uid: "0123456789abcdef" },
    spec: {
      containers: containers.map((r, i) => ({ name: `c${i}`, image: `img${i}`, resources: { requests: r.requests ?? {}, limits: r.limits ?? {} } })),
      initContainers: init.map((r, i) => ({ name: `i${i}`, image: "init", resources: { requests: r.requests ?? {}, limits: r.limits ?? {} } })),
    },
  });

describe("qosClass", () => {
  it("is BestEffort without requests or limits, Guaranteed when limits equal requests for cpu and memory, else Burstable", () => {
    assert.equal(qosClass(pod([{}])), "BestEffort");
    assert.equal(qosClass(pod([{ limits: { cpu: "1", memory: "1Gi" } }])), "Guaranteed");
    assert.equal(qosClass(pod([{ requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } }])), "Guaranteed");
    assert.equal(qosClass(pod([{ requests: { cpu: "500m" }, limits: { cpu: "1", memory: "1Gi" } }])), "Burstable");
    assert.equal(qosClass(pod([{ limits: { cpu: "1", memory: "1Gi" } }, {}])), "Burstable");
  });
});

describe("runningStatus", () => {
  it("reports what a node agent reports for a started pod", () => {
    const st = runningStatus(pod([{}, {}], [{}]), "100.64.0.1", "10.128.0.2")!;
    assert.equal(st.phase, "Running");
    assert.equal(st.podIp, "10.128.0.2");
    assert.deepEqual(st.podIps.map((p) => p.ip), ["10.128.0.2"]);
    assert.equal(st.hostIp, "100.64.0.1");
    assert.deepEqual(st.conditions.map((c) => `${c.type}=${c.status}`), ["PodScheduled=True", "Initialized=True", "ContainersReady=True", "Ready=True"]);
    assert.deepEqual(st.containerStatuses.map((c) => [c.name, c.ready, !!c.state?.running]), [["c0", true, true], ["c1", true, true]]);
    assert.equal(st.initContainerStatuses[0]!.state?.terminated?.reason, "Completed");
    assert.ok(st.startTime);
  });
});

describe("Limiter", () => {
  it("keeps at most max calls in flight and runs the rest in order", async () => {
    const l = new Limiter(2);
    let inFlight = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        l.run(async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await new Promise((r) => setTimeout(r, 5));
          order.push(i);
          inFlight--;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("frees the slot when a call throws", async () => {
    const l = new Limiter(1);
    await assert.rejects(l.run(async () => Promise.reject(new Error("boom"))));
    assert.equal(await l.run(async () => 42), 42);
  });
});
