// End to end: a pod created without a node is placed by the scheduler on the real node, whose
// agent runs it through containerd; the scheduler's decision shows in the pod's Events.
import { create } from "@bufbuild/protobuf";
import { Events, Pods, PodSchema } from "@corral/api";
import { Scheduler } from "@corral/scheduler";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startNode, type TestNode } from "../support/node.js";
import { isRunning, waitForPod } from "../support/pods.js";

let node: TestNode;
let scheduler: Scheduler;
before(async () => {
  node = await startNode();
  scheduler = await Scheduler.start({ apiserver: node.cp.servers[0]!.address, leaderElect: false });
});
after(async () => {
  await node?.cp.clients.for(Pods).delete({ namespace: "default", name: "unbound", gracePeriodSeconds: 0n }).catch(() => {});
  await scheduler?.stop();
  await node?.stop();
});

test("a pod without nodeName is scheduled onto the real node and runs there", { timeout: 120_000 }, async () => {
  await node.cp.clients.for(Pods).create(
    create(PodSchema, {
      metadata: { name: "unbound", namespace: "default" },
      spec: { containers: [{ name: "app", image: node.host.busyboxImage, command: ["sleep", "3600"], resources: { requests: { cpu: "100m", memory: "16Mi" } } }] },
    }),
  );
  const pod = await waitForPod(node.cp.clients, "default", "unbound", isRunning, "running");
  assert.equal(pod.spec!.nodeName, node.nodeName);
  assert.match(pod.status!.podIp, /^10\.245\./);
  const events = await node.cp.clients.for(Events).list({ namespace: "default", fieldSelector: "involvedObject.name=unbound" });
  const reasons = events.items.map((e) => e.reason);
  for (const r of ["Scheduled", "Pulled", "Created", "Started"]) assert.ok(reasons.includes(r), `${r} event recorded (saw ${reasons.join(", ")})`);
});
