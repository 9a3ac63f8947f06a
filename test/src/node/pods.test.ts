// The node agent against a real containerd: what a user sees of pods on a node.
import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, ConfigMaps, Events, Pods, PodSchema, SecretSchema, Secrets, type Pod } from "@corral/api";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startNode, type TestNode } from "../support/node.js";
import { isReady, isRunning, waitForPod, waitForPodGone } from "../support/pods.js";

type PodSpecInit = NonNullable<Parameters<typeof create<typeof PodSchema>>[1]>["spec"];

describe("pods on a real node", { timeout: 300_000 }, () => {
  let node: TestNode;
  let image: string;
  const made: string[] = [];
  before(async () => {
    node = await startNode({ backoffBaseMs: 1_000 });
    image = node.host.busyboxImage;
  });
  after(async () => {
    // Every test's pods go, and the agent cleans them up before the host is taken apart.
    for (const name of made) await node.cp.clients.for(Pods).delete({ namespace: "default", name, gracePeriodSeconds: 0n }).catch(() => {});
    await node?.stop();
  });

  const pods = () => node.cp.clients.for(Pods);
  async function run(name: string, spec: PodSpecInit): Promise<Pod> {
    made.push(name);
    return pods().create(create(PodSchema, { metadata: { name, namespace: "default" }, spec: { nodeName: node.nodeName, ...spec } }));
  }
  async function exec(pod: Pod, container: string, cmd: string[]): Promise<{ stdout: string; exitCode: number }> {
    const id = pod.status!.containerStatuses.find((c) => c.name === container)!.containerId.replace("containerd://", "");
    const res = await node.agent!.cri.runtime.execSync({ containerId: id, cmd, timeout: 10n });
    return { stdout: new TextDecoder().decode(res.stdout), exitCode: res.exitCode };
  }

  test("two containers share localhost and an emptyDir; the pod's HTTP server answers on its pod IP", async () => {
    await run("pair", {
      volumes: [{ name: "www", emptyDir: {} }],
      containers: [
        { name: "server", image, command: ["httpd", "-f", "-p", "8080", "-h", "/www"], volumeMounts: [{ name: "www", mountPath: "/www" }] },
        { name: "writer", image, command: ["sh", "-c", "echo hello-from-writer > /shared/index.html && sleep 3600"], volumeMounts: [{ name: "www", mountPath: "/shared" }] },
      ],
    });
    const pod = await waitForPod(node.cp.clients, "default", "pair", (p) => isRunning(p) && isReady(p), "running and ready");
    assert.match(pod.status!.podIp, /^10\.245\.\d+\.\d+$/);
    assert.equal(pod.status!.hostIp, "127.0.0.1");
    // From the host, on the pod IP: the file the other container wrote.
    let body = "";
    for (let i = 0; i < 50 && !body.includes("hello"); i++) {
      body = await fetch(`http://${pod.status!.podIp}:8080/index.html`).then((r) => r.text(), () => "");
      if (!body.includes("hello")) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body.trim(), "hello-from-writer");
    // From the other container, over localhost.
    const viaLocalhost = await exec(pod, "writer", ["wget", "-qO-", "http://127.0.0.1:8080/index.html"]);
    assert.equal(viaLocalhost.stdout.trim(), "hello-from-writer");
  });

  test("an init container runs to completion before the app starts", async () => {
    await run("init", {
      volumes: [{ name: "work", emptyDir: {} }],
      initContainers: [{ name: "setup", image, command: ["sh", "-c", "sleep 1; echo prepared > /work/state"], volumeMounts: [{ name: "work", mountPath: "/work" }] }],
      containers: [{ name: "app", image, command: ["sh", "-c", "cat /work/state > /work/seen; sleep 3600"], volumeMounts: [{ name: "work", mountPath: "/work" }] }],
    });
    const pending = await waitForPod(node.cp.clients, "default", "init", (p) => !!p.status?.initContainerStatuses[0]?.state?.running, "initializing");
    assert.equal(pending.status!.phase, "Pending");
    assert.equal(pending.status!.containerStatuses[0]!.state?.waiting?.reason, "PodInitializing");
    const pod = await waitForPod(node.cp.clients, "default", "init", isRunning, "running");
    const init = pod.status!.initContainerStatuses[0]!.state!.terminated!;
    assert.equal(init.exitCode, 0);
    const appStarted = timestampDate(pod.status!.containerStatuses[0]!.state!.running!.startedAt!);
    assert.ok(timestampDate(init.finishedAt!) <= appStarted, "app started after init finished");
    assert.equal((await exec(pod, "app", ["cat", "/work/seen"])).stdout.trim(), "prepared");
  });

  test("a crashing container goes to CrashLoopBackOff, with growing delays between restarts", async () => {
    await run("crash", { containers: [{ name: "app", image, command: ["sh", "-c", "exit 3"] }] });
    const restartsAt: number[] = [];
    let sawBackoff = false;
    await waitForPod(
      node.cp.clients,
      "default",
      "crash",
      (p) => {
        const s = p.status?.containerStatuses[0];
        if (!s) return false;
        if (s.state?.waiting?.reason === "CrashLoopBackOff") sawBackoff = true;
        if (s.restartCount > restartsAt.length) restartsAt.push(Date.now());
        return s.restartCount >= 4;
      },
      "restarted 4 times",
      90_000,
    );
    assert.ok(sawBackoff, "status showed CrashLoopBackOff");
    const gaps = restartsAt.slice(1).map((t, i) => t - restartsAt[i]!);
    // Back-off of 1 s, 2 s, 4 s between restarts (the base is 1 s in this test).
    assert.ok(gaps[2]! > gaps[0]! + 1_000, `gaps between restarts grow: ${gaps.join(", ")} ms`);
    const pod = await pods().get({ namespace: "default", name: "crash" });
    assert.equal(pod.status!.containerStatuses[0]!.lastState?.terminated?.exitCode, 3);
    const events = await node.cp.clients.for(Events).list({ namespace: "default", fieldSelector: "involvedObject.name=crash" });
    assert.ok(events.items.some((e) => e.reason === "BackOff"), "a BackOff event was recorded");
  });

  test("a failing liveness probe restarts its container", async () => {
    await run("liveness", {
      // The probe's kill honours the grace period; sh as PID 1 ignores SIGTERM, so keep it short.
      terminationGracePeriodSeconds: 1n,
      containers: [
        {
          name: "app",
          image,
          command: ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600"],
          livenessProbe: { exec: { command: ["cat", "/tmp/healthy"] }, periodSeconds: 1, failureThreshold: 2 },
        },
      ],
    });
    const pod = await waitForPod(node.cp.clients, "default", "liveness", (p) => (p.status?.containerStatuses[0]?.restartCount ?? 0) >= 1, "restarted", 60_000);
    assert.ok(pod.status!.containerStatuses[0]!.lastState?.terminated, "the killed container is the last state");
    const events = await node.cp.clients.for(Events).list({ namespace: "default", fieldSelector: "involvedObject.name=liveness" });
    assert.ok(events.items.some((e) => e.reason === "Unhealthy"), "an Unhealthy event was recorded");
    assert.ok(events.items.some((e) => e.reason === "Killing" && /liveness/.test(e.message)), "a Killing event names the probe");
  });

  test("a readiness probe flips Ready both ways", async () => {
    await run("readiness", {
      containers: [{ name: "app", image, command: ["sleep", "3600"], readinessProbe: { exec: { command: ["cat", "/tmp/ready"] }, periodSeconds: 1 } }],
    });
    const notReady = await waitForPod(node.cp.clients, "default", "readiness", isRunning, "running");
    assert.equal(isReady(notReady), false);
    await exec(notReady, "app", ["touch", "/tmp/ready"]);
    const ready = await waitForPod(node.cp.clients, "default", "readiness", isReady, "ready", 20_000);
    await exec(ready, "app", ["rm", "/tmp/ready"]);
    await waitForPod(node.cp.clients, "default", "readiness", (p) => isRunning(p) && !isReady(p), "not ready again", 20_000);
  });

  test("a memory limit is enforced: the container is OOMKilled", async () => {
    await run("oom", {
      restartPolicy: "Never",
      containers: [{ name: "app", image, command: ["tail", "/dev/zero"], resources: { limits: { memory: "16Mi" } } }],
    });
    const pod = await waitForPod(node.cp.clients, "default", "oom", (p) => p.status?.phase === "Failed", "failed", 60_000);
    assert.equal(pod.status!.containerStatuses[0]!.state?.terminated?.reason, "OOMKilled");
  });

  test("a configMap and a secret are visible as env and as files", async () => {
    await node.cp.clients.for(ConfigMaps).create(create(ConfigMapSchema, { metadata: { name: "cfg", namespace: "default" }, data: { color: "blue" } }));
    await node.cp.clients.for(Secrets).create(
      create(SecretSchema, { metadata: { name: "creds", namespace: "default" }, data: { password: new TextEncoder().encode("s3cret") } }),
    );
    await run("config", {
      volumes: [
        { name: "cfg", configMap: { name: "cfg" } },
        { name: "sec", secret: { secretName: "creds" } },
      ],
      containers: [
        {
          name: "app",
          image,
          command: ["sleep", "3600"],
          env: [
            { name: "COLOR", valueFrom: { configMapKeyRef: { name: "cfg", key: "color" } } },
            { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
            { name: "MY_POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          ],
          volumeMounts: [
            { name: "cfg", mountPath: "/etc/cfg" },
            { name: "sec", mountPath: "/etc/sec", readOnly: true },
          ],
        },
      ],
    });
    const pod = await waitForPod(node.cp.clients, "default", "config", isRunning, "running");
    const out = await exec(pod, "app", ["sh", "-c", 'echo "$COLOR $PASSWORD $MY_POD $(cat /etc/cfg/color) $(cat /etc/sec/password)"']);
    assert.equal(out.stdout.trim(), "blue s3cret config blue s3cret");
  });

  test("a missing configMap keeps the container waiting with CreateContainerConfigError", async () => {
    await run("noconfig", {
      containers: [{ name: "app", image, command: ["sleep", "3600"], env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "absent", key: "k" } } }] }],
    });
    const pod = await waitForPod(
      node.cp.clients,
      "default",
      "noconfig",
      (p) => p.status?.containerStatuses[0]?.state?.waiting?.reason === "CreateContainerConfigError",
      "waiting on its config",
    );
    assert.match(pod.status!.containerStatuses[0]!.state!.waiting!.message, /configmap "absent" not found/);
  });

  test("graceful deletion: SIGTERM first, SIGKILL after the grace period, then the pod is gone", async () => {
    await run("polite", { terminationGracePeriodSeconds: 30n, containers: [{ name: "app", image, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"] }] });
    await run("stubborn", { terminationGracePeriodSeconds: 3n, containers: [{ name: "app", image, command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"] }] });
    await Promise.all(["polite", "stubborn"].map((n) => waitForPod(node.cp.clients, "default", n, isRunning, "running")));
    const timeDelete = async (name: string) => {
      const t0 = Date.now();
      await pods().delete({ namespace: "default", name });
      await waitForPodGone(node.cp.clients, "default", name);
      return Date.now() - t0;
    };
    const [polite, stubborn] = await Promise.all([timeDelete("polite"), timeDelete("stubborn")]);
    assert.ok(polite < 5_000, `a pod that exits on SIGTERM goes at once (${polite} ms), not after its 30 s grace`);
    assert.ok(stubborn >= 3_000 && stubborn < 10_000, `a pod ignoring SIGTERM is killed after its 3 s grace (${stubborn} ms)`);
  });
});
