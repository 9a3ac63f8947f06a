// The CLI as a user runs it: `corral up` on this machine (etcd and NATS from the Debian packages),
// apply, get, describe, delete, down --purge. Ports and state are the test's own.
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { reserveHostSlot, type HostSlot } from "../support/node-host.js";
import { freePorts } from "../support/ports.js";
import { ROOT, corralRunner } from "../support/cli.js";



describe("corral CLI against a local cluster", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const base = 20000 + Math.floor(Math.random() * 20000);
  // Its own ports, bridge, pod CIDR and cgroup: a developer's `corral up` (or another test) can run beside it.
  const ports = ["--api-port", String(base), "--metrics-port", String(base + 1), "--etcd-port", String(base + 2), "--nats-port", String(base + 10)];
  let slot: HostSlot;

  const corral = corralRunner(() => env);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "corral-cli-"));
    env = { ...process.env, CORRAL_STATE_DIR: join(dir, "state"), CORRAL_CONFIG: join(dir, "config") };
    slot = await reserveHostSlot();
    const [registry, agent] = await freePorts(2);
    ports.push("--registry-port", String(registry), "--pod-cidr", slot.podCidr, "--bridge", slot.bridge, "--cgroup-parent", slot.cgroupParent, "--agent-port", String(agent), "--service-cidr", `10.100.${slot.n}.0/24`);
    await slot.remember({ stateDir: join(dir, "state"), registryPort: registry!, podCidr: slot.podCidr, bridge: slot.bridge, cgroupParent: slot.cgroupParent });
  });
  after(async () => {
    await corral("down", "--purge");
    await slot?.release();
    await rm(dir, { recursive: true, force: true });
  });

  it("up starts the control plane, writes the config, and a second up finds it running", async () => {
    const first = await corral("up", ...ports);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /apiserver\s+ready/);
    assert.ok(existsSync(join(dir, "config")));
    const second = await corral("up", ...ports);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /apiserver\s+already running/);
  });

  it("applies the sample app and shows it the way kubectl would", async () => {
    const applied = await corral("apply", "-f", join(ROOT, "examples", "hello.yaml"));
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /deployment\.apps\/hello created/);
    assert.match((await corral("apply", "-f", join(ROOT, "examples"))).stdout, /deployment\.apps\/hello unchanged/);

    const table = await corral("get", "deploy");
    assert.match(table.stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/m);
    assert.match(table.stdout, /^hello\s+0\/3/m);

    const json = JSON.parse((await corral("get", "deploy", "hello", "-o", "json")).stdout) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; resourceVersion: string };
      spec: { replicas: number; strategy: { rollingUpdate: { maxSurge: number } } };
    };
    assert.equal(json.apiVersion, "apps/v1");
    assert.equal(json.kind, "Deployment");
    assert.equal(json.spec.replicas, 3);
    assert.equal(json.spec.strategy.rollingUpdate.maxSurge, 1);

    const yaml = await corral("get", "svc", "-l", "app!=nothing", "-o", "yaml");
    assert.match(yaml.stdout, /kind: List/);
    assert.match(yaml.stdout, /targetPort: http/);

    const described = await corral("describe", "svc/hello");
    assert.match(described.stdout, /^Name:\s+hello/m);
  });

  it("apply merges as kubectl's does: a hand scaling survives, a dropped field goes", async () => {
    const file = join(dir, "merge.yaml");
    const manifest = (labels: string) =>
      [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  name: merge",
        `  labels: {${labels}}`,
        "spec:",
        "  selector: {matchLabels: {app: merge}}",
        "  template:",
        "    metadata: {labels: {app: merge}}",
        "    spec: {containers: [{name: c, image: busybox, command: [sleep, '3600']}]}",
        "",
      ].join("\n");
    await writeFile(file, manifest("app: merge, tier: back"));
    assert.match((await corral("apply", "-f", file)).stdout, /deployment\.apps\/merge created/);
    const scaled = await corral("scale", "deployment/merge", "--replicas=2");
    assert.equal(scaled.code, 0, scaled.stderr);
    // The manifest says nothing about replicas: the scaling stays, and nothing else changed.
    assert.match((await corral("apply", "-f", file)).stdout, /deployment\.apps\/merge unchanged/);
    await writeFile(file, manifest("app: merge"));
    assert.match((await corral("apply", "-f", file)).stdout, /deployment\.apps\/merge configured/);
    const got = JSON.parse((await corral("get", "deploy", "merge", "-o", "json")).stdout) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: { replicas: number };
    };
    assert.equal(got.spec.replicas, 2);
    assert.deepEqual(got.metadata.labels, { app: "merge" }, "the label dropped from the manifest is gone");
    assert.match(got.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]!, /"labels":\{"app":"merge"\}/);
    assert.equal((await corral("delete", "deployment", "merge")).code, 0);
  });

  it("names what is wrong in a bad manifest and changes nothing", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndatta: {}\n");
    const res = await corral("apply", "-f", bad);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /datta: unknown field/);
    const got = await corral("get", "cm", "ok");
    assert.equal(got.code, 1, "the valid document before the bad one was not applied either");
    assert.match(got.stderr, /NotFound/);
  });

  it("deletes, and down stops everything", async () => {
    const del = await corral("delete", "-f", join(ROOT, "examples", "hello.yaml"));
    assert.equal(del.code, 0, del.stderr);
    assert.match((await corral("get", "deploy")).stdout, /No resources found/);
    const down = await corral("down");
    assert.match(down.stderr, /apiserver\s+stopped/);
    const after = await corral("get", "ns");
    assert.equal(after.code, 1);
    assert.match(after.stderr, /not reachable/);
  });
});
