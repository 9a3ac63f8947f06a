// `corral logs` and `corral exec` as a user runs them, against a real node: a control plane, a
// node host (registry and containerd) and the node agent, found by the CLI through the Node object.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Pods, PodSchema, ReplicaSetSchema, ReplicaSets, type PodSpecSchema } from "@corral/api";
import { writeConfig } from "@corral/client";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startNode, type TestNode } from "../support/node.js";
import { isRunning, waitForPod } from "../support/pods.js";
import { CORRAL, corralRunner } from "../support/cli.js";



describe("corral logs and exec against a real node", { timeout: 300_000 }, () => {
  let node: TestNode;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  const corral = corralRunner(() => env);

  before(async () => {
    node = await startNode({ backoffBaseMs: 500 });
    dir = await mkdtemp(join(tmpdir(), "corral-logs-exec-"));
    env = { ...process.env, CORRAL_CONFIG: join(dir, "config") };
    await writeConfig({ server: node.cp.servers[0]!.address }, env.CORRAL_CONFIG);
    const image = node.host.busyboxImage;
    const pods = node.cp.clients.for(Pods);
    const pod = (name: string, spec: MessageInitShape<typeof PodSpecSchema>, labels = {}) =>
      pods.create(create(PodSchema, { metadata: { name, namespace: "default", labels }, spec: { nodeName: node.nodeName, ...spec } }));
    await Promise.all([
      pod(
        "hello",
        { containers: [{ name: "app", image, command: ["sh", "-c", 'echo "hello from corral"; i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done'] }] },
        { app: "hello" },
      ),
      pod("pair", {
        containers: [
          { name: "a", image, command: ["sleep", "3600"] },
          { name: "b", image, command: ["sh", "-c", "echo b-says-hi; exec sleep 3600"] },
        ],
      }),
      pod("crash", { containers: [{ name: "app", image, command: ["sh", "-c", "echo run $(cat /proc/uptime); exit 2"] }] }),
      pods.create(create(PodSchema, { metadata: { name: "unscheduled", namespace: "default" }, spec: { containers: [{ name: "app", image }] } })),
      node.cp.clients.for(ReplicaSets).create(
        create(ReplicaSetSchema, {
          metadata: { name: "hello-rs", namespace: "default" },
          spec: { replicas: 1, selector: { matchLabels: { app: "hello" } }, template: { metadata: { labels: { app: "hello" } }, spec: { containers: [{ name: "app", image }] } } },
        }),
      ),
    ]);
    await Promise.all(
      ["hello", "pair"].map((n) => waitForPod(node.cp.clients, "default", n, isRunning, "running")),
    );
    await waitForPod(node.cp.clients, "default", "crash", (p) => (p.status?.containerStatuses[0]?.restartCount ?? 0) >= 1, "restarted");
  });

  after(async () => {
    for (const name of ["hello", "pair", "crash", "unscheduled"]) {
      await node?.cp.clients.for(Pods).delete({ namespace: "default", name, gracePeriodSeconds: 0n }).catch(() => {});
    }
    await node?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("logs prints the container's log; --tail and --timestamps as kubectl's", async () => {
    const r = await corral("logs", "hello");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello from corral\ntick 0\n/);
    const tail = await corral("logs", "hello", "--tail", "1", "--timestamps");
    assert.equal(tail.code, 0, tail.stderr);
    assert.match(tail.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z tick \d+\n$/);
    const ns = await corral("-n", "default", "logs", "pod/hello", "--tail=1");
    assert.match(ns.stdout, /^tick \d+\n$/);
  });

  it("logs -f streams new lines as they come", async () => {
    const child = spawn(CORRAL, ["logs", "-f", "hello", "--tail", "0"], { env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const t0 = Date.now();
    while (out.split("\n").length < 4 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    await new Promise((r) => child.once("exit", r));
    const ticks = out.trim().split("\n").map((l) => Number(/^tick (\d+)$/.exec(l)?.[1]));
    assert.ok(ticks.length >= 3, out);
    for (let i = 1; i < ticks.length; i++) assert.equal(ticks[i], ticks[i - 1]! + 1, out);
  });

  it("logs names the containers to choose from, and reads one with -c", async () => {
    const r = await corral("logs", "pair");
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Error from server (BadRequest): a container name must be specified for pod pair, choose one of: [a b]\n");
    const b = await corral("logs", "pair", "-c", "b");
    assert.equal(b.stdout, "b-says-hi\n");
  });

  it("logs --previous reads the instance before the last restart", async () => {
    const prev = await corral("logs", "crash", "--previous");
    assert.equal(prev.code, 0, prev.stderr);
    assert.match(prev.stdout, /^run [\d.]+ [\d.]+\n$/);
    const none = await corral("logs", "hello", "--previous");
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'Error from server (BadRequest): previous terminated container "app" in pod "hello" not found\n');
  });

  it("logs finds a pod through its owner's selector (rs/NAME)", async () => {
    const r = await corral("logs", "rs/hello-rs", "--tail", "1");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tick \d+\n$/);
  });

  it("says plainly when a pod is not scheduled or does not exist", async () => {
    const r = await corral("logs", "unscheduled");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: pod "unscheduled" is not scheduled to a node yet/);
    const gone = await corral("exec", "nope", "--", "true");
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /pods "nope" not found/);
  });

  it("exec passes stdout, stderr and the exit code through", async () => {
    const r = await corral("exec", "hello", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\ncommand terminated with exit code 3\n");
    const ok = await corral("exec", "hello", "--", "cat", "/proc/1/cmdline");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^sh\0-c\0/);
  });

  it("exec defaults to the first container, saying so, and takes -c", async () => {
    const r = await corral("exec", "pair", "--", "hostname");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "pair\n");
    assert.equal(r.stderr, 'Defaulted container "a" out of: a, b\n');
    const b = await corral("exec", "pair", "-c", "b", "--", "cat", "/proc/1/cmdline");
    assert.match(b.stdout, /^sleep\x003600/);
    const missing = await corral("exec", "pair", "-c", "a", "--", "no-such-command");
    assert.equal(missing.code, 127);
  });
});
