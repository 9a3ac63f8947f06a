// Restart safety: the node agent is SIGKILLed and started again. Running pods keep running and
// are adopted (no duplicate sandboxes or containers); pods deleted meanwhile are cleaned up; and
// once every pod is gone nothing is left behind in CRI, cgroups, IPAM or on disk.
import { create } from "@bufbuild/protobuf";
import { Pods, PodSchema } from "@corral/api";
import { connectCri } from "@corral/cri";
import * as L from "@corral/nodeagent";
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startNode, type TestNode } from "../support/node.js";
import { isRunning, waitForPod, waitForPodGone } from "../support/pods.js";

let node: TestNode;
before(async () => {
  node = await startNode();
  await node.stopAgent();
});
after(async () => {
  await node?.stop();
});

const managed = { [L.criLabels.MANAGED_BY]: L.criLabels.MANAGED_BY_VALUE };

async function criState() {
  const c = connectCri(node.host.criSocket);
  try {
    const [sb, ct] = await Promise.all([
      c.runtime.listPodSandbox({ filter: { labelSelector: managed } }),
      c.runtime.listContainers({ filter: { labelSelector: managed } }),
    ]);
    return { sandboxes: sb.items, containers: ct.containers };
  } finally {
    c.close();
  }
}

async function dirEntries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function leftovers(): Promise<Record<string, string[]>> {
  const cg = node.host.cgroupParent;
  const cgroupDirs: string[] = [];
  for (const h of await readdir("/sys/fs/cgroup")) {
    for (const d of await dirEntries(join("/sys/fs/cgroup", h, cg))) if (d.startsWith("pod")) cgroupDirs.push(`${h}/${cg}/${d}`);
  }
  const ipam = join(node.host.stateDir, "cni", "networks", node.host.bridge);
  const { sandboxes, containers } = await criState();
  return {
    sandboxes: sandboxes.map((s) => s.id),
    containers: containers.map((c) => c.id),
    cgroups: cgroupDirs,
    ips: (await dirEntries(ipam)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)),
    volumes: await dirEntries(join(node.agentOptions.rootDir, "pods")),
    logs: await dirEntries(join(node.agentOptions.rootDir, "logs")),
  };
}

test("a SIGKILLed agent adopts running pods, cleans up pods deleted while it was down, and leaks nothing", { timeout: 240_000 }, async () => {
  const pods = node.cp.clients.for(Pods);
  const image = node.host.busyboxImage;
  const mk = (name: string) =>
    pods.create(
      create(PodSchema, {
        metadata: { name, namespace: "default" },
        spec: { nodeName: node.nodeName, terminationGracePeriodSeconds: 1n, containers: [{ name: "app", image, command: ["sleep", "3600"] }] },
      }),
    );
  let agent = node.spawnAgent();
  await Promise.all(["keep", "graceful", "forced"].map(mk));
  const before = await Promise.all(["keep", "graceful", "forced"].map((n) => waitForPod(node.cp.clients, "default", n, isRunning, "running")));
  const keepId = before[0]!.status!.containerStatuses[0]!.containerId;
  // What a running pod holds, so the final check for leftovers looks in the right places.
  const held = await leftovers();
  assert.deepEqual(
    Object.fromEntries(Object.entries(held).map(([k, v]) => [k, v.length > 0])),
    { sandboxes: true, containers: true, cgroups: true, ips: true, volumes: true, logs: true },
  );
  assert.equal(held.sandboxes.length, 3);
  assert.equal(held.ips.length, 3);

  agent.kill("SIGKILL");
  await once(agent, "exit");
  // While the agent is away: a graceful delete (the object waits for the agent) and a forced one
  // (the object is gone at once; its containers are orphans now).
  await pods.delete({ namespace: "default", name: "graceful" });
  await pods.delete({ namespace: "default", name: "forced", gracePeriodSeconds: 0n });
  assert.ok(existsSync(join(node.agentOptions.rootDir, "logs")));

  agent = node.spawnAgent();
  await waitForPodGone(node.cp.clients, "default", "graceful");
  // The orphan's sandbox goes too; the adopted pod keeps its one sandbox and container.
  const deadline = Date.now() + 30_000;
  let state = await criState();
  while (state.sandboxes.length > 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    state = await criState();
  }
  assert.equal(state.sandboxes.length, 1, "only the kept pod's sandbox is left");
  assert.equal(state.containers.length, 1, "no duplicate container");
  const keep = await pods.get({ namespace: "default", name: "keep" });
  assert.equal(keep.status!.phase, "Running");
  assert.equal(keep.status!.containerStatuses[0]!.containerId, keepId, "the same container, adopted");
  assert.equal(keep.status!.containerStatuses[0]!.restartCount, 0);

  await pods.delete({ namespace: "default", name: "keep" });
  await waitForPodGone(node.cp.clients, "default", "keep");
  assert.deepEqual(await leftovers(), { sandboxes: [], containers: [], cgroups: [], ips: [], volumes: [], logs: [] });
  agent.kill("SIGTERM");
  await once(agent, "exit");
});
