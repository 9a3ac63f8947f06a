// `corral up` brings the node host up with the control plane (registry with Corral's images,
// containerd with CNI), a second `up` finds it running, and `corral down --purge` takes everything
// apart: pods, processes, the bridge, iptables rules, mounts, cgroups and state. Ports, bridge and
// pod CIDR are the test's own, so a developer's `corral up` can run beside it.
import { connectCri } from "@corral/cri";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { reserveHostSlot, type HostSlot } from "../support/node-host.js";
import { freePorts } from "../support/ports.js";
import { CORRAL, corralRunner, type CliResult } from "../support/cli.js";

const run = promisify(execFile);


describe("corral up and down with the node host", () => {
  let dir: string;
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  let slot: HostSlot;
  let flags: string[];
  let registryPort: number;
  let pod: { ip: string; uid: string } | undefined;

  const corral = corralRunner(() => env, 90_000);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "corral-updown-"));
    stateDir = join(dir, "state");
    env = { ...process.env, CORRAL_STATE_DIR: stateDir, CORRAL_CONFIG: join(dir, "config") };
    slot = await reserveHostSlot();
    const [api, metrics, registry, agent] = await freePorts(4);
    registryPort = registry!;
    // etcd's peer port is the next one, NATS monitoring is +4000: a base away from cli.test.ts's range.
    const base = 40000 + Math.floor(Math.random() * 10000);
    flags = [
      "--api-port", String(api), "--metrics-port", String(metrics),
      "--etcd-port", String(base), "--nats-port", String(base + 10),
      "--registry-port", String(registryPort), "--pod-cidr", slot.podCidr, "--bridge", slot.bridge,
      "--cgroup-parent", slot.cgroupParent, "--agent-port", String(agent), "--service-cidr", `10.100.${slot.n}.0/24`,
    ];
    await slot.remember({ stateDir, registryPort, podCidr: slot.podCidr, bridge: slot.bridge, cgroupParent: slot.cgroupParent });
  });
  after(async () => {
    await corral("down", "--purge");
    await slot?.release();
    await rm(dir, { recursive: true, force: true });
  });

  it("up starts the registry with Corral's images and containerd; a second up finds them running", async () => {
    const first = await corral("up", ...flags);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /registry\s+ready/);
    assert.match(first.stderr, /images\s+corral\/pause, corral\/busybox pushed \(3 tags\)/);
    assert.match(first.stderr, /containerd\s+ready/);
    assert.match(first.stderr, /apiserver\s+ready/);
    const second = await corral("up", ...flags);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /registry\s+already running/);
    assert.match(second.stderr, /images\s+.*up to date/);
    assert.match(second.stderr, /containerd\s+already running/);
    console.log(`corral up: ${(first.ms / 1000).toFixed(1)}s cold, ${(second.ms / 1000).toFixed(1)}s warm`);
  });

  it("refuses to change the pod CIDR under a running node host", async () => {
    const other = flags.map((f) => (f === slot.podCidr ? "10.245.255.0/24" : f));
    const res = await corral("up", ...other);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /running with podCidr .*; run `corral down`/);
  });

  it("another cluster on this machine may not take the same bridge or pod CIDR", async () => {
    const otherState = join(dir, "other");
    const res = await new Promise<CliResult>((resolve) =>
      execFile(CORRAL, ["up", "--state-dir", otherState, "--registry-port", "1", "--bridge", slot.bridge, "--pod-cidr", "10.245.255.0/24"], { env, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? 1 : 0, stdout, stderr, ms: 0 }),
      ),
    );
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`bridge ${slot.bridge} and pod CIDR .* belong to the cluster running from ${stateDir}`));
    assert.equal(existsSync(join(otherState, "node-host.json")), false, "nothing recorded");
    assert.equal(existsSync(join(otherState, "run")), false, "nothing started");
  });

  it("the node's containerd runs a pod from the registry's busybox image", async () => {
    const cri = connectCri(join(stateDir, "containerd", "containerd.sock"));
    try {
      const image = `localhost:${registryPort}/corral/busybox:1.35`;
      await cri.image.pullImage({ image: { image } }, { timeoutMs: 30_000 });
      const uid = `updown-${Date.now()}`;
      const config = {
        metadata: { name: "web", namespace: "default", uid, attempt: 0 },
        hostname: "web",
        logDirectory: join(stateDir, "pods", uid),
        linux: { cgroupParent: `/${slot.cgroupParent}/pod${uid}` },
      };
      const { podSandboxId } = await cri.runtime.runPodSandbox({ config }, { timeoutMs: 30_000 });
      const { containerId } = await cri.runtime.createContainer({
        podSandboxId,
        sandboxConfig: config,
        config: { metadata: { name: "web" }, image: { image }, command: ["sh", "-c", "echo up > /tmp/i && exec httpd -f -p 8080 -h /tmp"], logPath: "web.log" },
      });
      await cri.runtime.startContainer({ containerId });
      const ip = (await cri.runtime.podSandboxStatus({ podSandboxId })).status?.network?.ip ?? "";
      assert.ok(ip.startsWith(slot.podCidr.replace(/0\/24$/, "")), `pod IP ${ip} in ${slot.podCidr}`);
      let body = "";
      for (let i = 0; i < 20 && body !== "up"; i++) {
        body = await fetch(`http://${ip}:8080/i`, { signal: AbortSignal.timeout(1000) }).then(
          async (r) => (await r.text()).trim(),
          async () => (await new Promise((r) => setTimeout(r, 100)), ""),
        );
      }
      assert.equal(body, "up");
      pod = { ip, uid };
    } finally {
      cri.close();
    }
  });

  it("down --purge removes the pod, every process, the bridge, rules, mounts, cgroups and state", async () => {
    const down = await corral("down", "--purge");
    assert.equal(down.code, 0, down.stderr);
    console.log(`corral down --purge: ${(down.ms / 1000).toFixed(1)}s`);
    assert.match(down.stderr, /containerd\s+stopped \(removed 1 pod sandboxes\)/);
    assert.match(down.stderr, new RegExp(`host\\s+removed bridge ${slot.bridge}`));
    assert.equal(existsSync(`/sys/class/net/${slot.bridge}`), false, "no bridge");
    assert.equal((await readFile("/proc/self/mountinfo", "utf8")).includes(dir), false, "no mounts");
    const procs: string[] = [];
    for (const pid of await readdir("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      if (cmd.includes(dir)) procs.push(cmd.replaceAll("\0", " "));
    }
    assert.deepEqual(procs, [], "no process of this cluster (containerd, shims, registry, etcd, NATS, apiserver)");
    const rules = (await run("iptables-save")).stdout;
    assert.equal(rules.includes(slot.bridge), false, "no iptables rule naming the network");
    if (pod) assert.equal(rules.includes(`${pod.ip}/32`), false, "no iptables rule for the pod's IP");
    for (const h of await readdir("/sys/fs/cgroup")) {
      if (pod) assert.equal(existsSync(join("/sys/fs/cgroup", h, slot.cgroupParent, `pod${pod.uid}`)), false, `no ${h} cgroup for the pod`);
    }
    assert.equal(existsSync(stateDir), false, "state removed");
    const again = await corral("down", "--purge");
    assert.equal(again.code, 0, again.stderr);
  });
});
