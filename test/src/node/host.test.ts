// The node's host runtime against the real thing: docker-registry with Corral's images, the node's
// own containerd with CNI, pods run straight through the CRI (no node agent), and a stop() that
// leaves nothing behind, even after containerd was killed with pods running.
import { connectCri, type CriClient } from "@corral/cri";
import { MEDIA_TYPES, RegistryClient } from "@corral/oci";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
// As in the other integration tests: importing testcontainers makes undici 7 the dispatcher of
// Node's fetch, which is stricter (e.g. about Content-Length); the registry client must work under it.
import "../support/containers.js";
import { freePorts } from "../support/ports.js";
import { startNodeHost, type NodeHost } from "../support/node-host.js";

const run = promisify(execFile);

/** Runs a pod of one busybox container with the given command; returns its ids and IP. */
async function runPod(cri: CriClient, host: NodeHost, name: string, command: string[], hostPort?: number) {
  const uid = `${name}-${Math.random().toString(36).slice(2, 10)}`;
  const config = {
    metadata: { name, namespace: "default", uid, attempt: 0 },
    hostname: name,
    logDirectory: join(host.stateDir, "pods", uid),
    portMappings: hostPort ? [{ containerPort: 8080, hostPort, hostIp: "127.0.0.1" }] : [],
    linux: { cgroupParent: `/${host.cgroupParent}/pod${uid}` },
  };
  await cri.image.pullImage({ image: { image: host.busyboxImage } }, { timeoutMs: 30_000 });
  const { podSandboxId } = await cri.runtime.runPodSandbox({ config }, { timeoutMs: 30_000 });
  const { containerId } = await cri.runtime.createContainer(
    { podSandboxId, sandboxConfig: config, config: { metadata: { name: "main" }, image: { image: host.busyboxImage }, command, logPath: "main.log" } },
    { timeoutMs: 30_000 },
  );
  await cri.runtime.startContainer({ containerId }, { timeoutMs: 30_000 });
  const status = await cri.runtime.podSandboxStatus({ podSandboxId }, { timeoutMs: 5000 });
  const ip = status.status?.network?.ip ?? "";
  return { podSandboxId, containerId, ip };
}

/** An HTTP server in a pod: busybox httpd serving a file that names the pod. */
const httpd = (text: string) => ["sh", "-c", `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 8080 -h /www`];

async function fetchText(url: string): Promise<string> {
  // The server may need a moment after the container starts.
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return (await res.text()).trim();
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Asserts the machine holds nothing of this node host any more. */
async function assertNothingLeft(host: NodeHost): Promise<void> {
  assert.equal(existsSync(`/sys/class/net/${host.bridge}`), false, `bridge ${host.bridge} is gone`);
  const mounts = await readFile("/proc/self/mountinfo", "utf8");
  assert.equal(mounts.includes(host.stateDir), false, "no mount under the state dir");
  const procs: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(host.stateDir)) procs.push(cmd.replaceAll("\0", " "));
  }
  assert.deepEqual(procs, [], "no process of this node host");
  const rules = (await run("iptables-save")).stdout.split("\n");
  const prefix = host.podCidr.split(".").slice(0, 3).join(".") + ".";
  assert.deepEqual(
    rules.filter((l) => l.includes(`name: \\"${host.bridge}\\"`) || l.includes(` ${prefix}`)),
    [],
    "no iptables rule of this network",
  );
  for (const h of await readdir("/sys/fs/cgroup")) {
    assert.equal(existsSync(join("/sys/fs/cgroup", h, host.cgroupParent)), false, `no ${h} cgroup ${host.cgroupParent}`);
  }
  assert.equal(existsSync(host.stateDir), false, "state dir removed");
}

describe("node host: registry and containerd", () => {
  let host: NodeHost;
  let cri: CriClient;

  before(async () => {
    const t = performance.now();
    host = await startNodeHost();
    console.log(`node host up in ${((performance.now() - t) / 1000).toFixed(2)}s: ${host.registry}, ${host.criSocket}, ${host.bridge} ${host.podCidr}`);
    cri = connectCri(host.criSocket);
  });
  after(async () => {
    cri?.close();
    await host?.stop();
  });

  it("containerd serves the CRI on its own socket, runtime and network ready", async () => {
    const v = await cri.runtime.version({});
    assert.equal(v.runtimeName, "containerd");
    assert.equal(v.runtimeApiVersion, "v1");
    const { status } = await cri.runtime.status({});
    const ready = Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, c.status]));
    assert.deepEqual(ready, { RuntimeReady: true, NetworkReady: true });
  });

  it("the registry serves Corral's images as OCI manifests", async () => {
    const reg = new RegistryClient({ registry: host.registryAddress });
    const busybox = await reg.getManifest("corral/busybox", "1.35");
    assert.ok(busybox, "corral/busybox:1.35 is there");
    assert.equal(busybox.mediaType, MEDIA_TYPES.manifest);
    assert.equal(await reg.manifestDigest("corral/busybox", "latest"), busybox.digest);
    const pause = await reg.getManifest("corral/pause", "3.9");
    assert.ok(pause, "corral/pause:3.9 is there");
    const layers = (JSON.parse(busybox.bytes.toString()) as { layers: { digest: string }[] }).layers;
    assert.equal(layers.length, 1);
    assert.ok(await reg.hasBlob("corral/busybox", layers[0]!.digest));
    assert.equal(host.busyboxImage, `${host.registry}/corral/busybox:1.35`);
    assert.equal(host.pauseImage, `${host.registry}/corral/pause:3.9`);
  });

  it("pulls the busybox image through the CRI as from any registry", async () => {
    const { imageRef } = await cri.image.pullImage({ image: { image: host.busyboxImage } }, { timeoutMs: 30_000 });
    assert.match(imageRef, /^sha256:[0-9a-f]{64}$/);
    const { image } = await cri.image.imageStatus({ image: { image: host.busyboxImage } });
    assert.ok(image?.repoTags.includes(host.busyboxImage));
  });

  it("runs pods that answer on their IPs from the host, on a host port, and from each other", async () => {
    const [hostPort] = await freePorts(1);
    const a = await runPod(cri, host, "web-a", httpd("hello-from-a"), hostPort);
    const b = await runPod(cri, host, "web-b", httpd("hello-from-b"));
    const prefix = host.podCidr.split(".").slice(0, 3).join(".") + ".";
    assert.ok(a.ip.startsWith(prefix), `pod IP ${a.ip} in ${host.podCidr}`);
    assert.equal(await fetchText(`http://${a.ip}:8080/`), "hello-from-a");
    assert.equal(await fetchText(`http://${b.ip}:8080/`), "hello-from-b");
    assert.equal(await fetchText(`http://127.0.0.1:${hostPort}/`), "hello-from-a", "portmap on loopback");
    // Pod to pod: dropped by dockerd's FORWARD policy unless the firewall plugin lets it through.
    // (No `wget -T`: busybox 1.35's wget crashes with it.)
    const res = await cri.runtime.execSync({ containerId: b.containerId, cmd: ["wget", "-qO-", `http://${a.ip}:8080/`], timeout: 10n });
    assert.equal(res.exitCode, 0, Buffer.from(res.stderr).toString());
    assert.equal(Buffer.from(res.stdout).toString().trim(), "hello-from-a");
    // The sandbox (pause) stops promptly: it exits on SIGTERM.
    const t = performance.now();
    await cri.runtime.stopPodSandbox({ podSandboxId: b.podSandboxId });
    assert.ok(performance.now() - t < 5000, "pod stopped in under 5 s");
    await cri.runtime.removePodSandbox({ podSandboxId: b.podSandboxId });
    // Pod a stays running: stop() must remove it.
  });

  it("stop() removes the pods, processes, bridge, rules, mounts, cgroups and state", async () => {
    cri.close();
    await host.stop();
    await assertNothingLeft(host);
  });
});

describe("node host: cleanup after containerd was killed with pods running", () => {
  let host: NodeHost | undefined;
  after(async () => {
    await host?.stop();
  });

  it("stop() still removes everything", async () => {
    host = await startNodeHost();
    const cri = connectCri(host.criSocket);
    try {
      const pod = await runPod(cri, host, "orphan", ["sleep", "3600"]);
      assert.ok(pod.ip);
    } finally {
      cri.close();
    }
    const pid = Number((await readFile(join(host.stateDir, "run", "containerd.pid"), "utf8")).trim());
    process.kill(pid, "SIGKILL");
    await host.stop();
    await assertNothingLeft(host);
  });
});
