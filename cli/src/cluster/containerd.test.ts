import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "smol-toml";
import { containerdPaths, renderContainerdConfig, renderRegistryHosts } from "./containerd.js";

// smol-toml makes objects without a prototype: spread them before a deep comparison.
type Table = Record<string, unknown>;
const at = (t: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v as Table | undefined)?.[k], t);

describe("containerd config", () => {
  const paths = containerdPaths("/root/.corral/cluster");
  const config = parse(renderContainerdConfig({ paths, sandboxImage: "localhost:5000/corral/pause:3.9" }));
  const cri = at(config, "plugins", "io.containerd.grpc.v1.cri") as Table;

  it("is version 2 with its own root, state, socket and ttrpc socket under the state dir", () => {
    assert.equal(config.version, 2);
    assert.equal(config.root, "/root/.corral/cluster/containerd/root");
    assert.equal(config.state, "/root/.corral/cluster/containerd/state");
    assert.equal(at(config, "grpc", "address"), "/root/.corral/cluster/containerd/containerd.sock");
    assert.equal(at(config, "ttrpc", "address"), "/root/.corral/cluster/containerd/containerd.sock.ttrpc");
    assert.equal(at(config, "debug", "address"), "");
    assert.equal(at(config, "metrics", "address"), "");
    assert.equal(at(config, "plugins", "io.containerd.internal.v1.opt", "path"), "/root/.corral/cluster/containerd/opt");
    assert.ok(!(config.disabled_plugins as string[]).includes("io.containerd.runtime.v1.linux"), "the tasks service needs it");
  });

  it("has the CRI settings this machine needs", () => {
    assert.equal(cri.sandbox_image, "localhost:5000/corral/pause:3.9");
    assert.equal(cri.restrict_oom_score_adj, true);
    assert.equal(cri.netns_mounts_under_state_dir, true);
    assert.equal(cri.stream_server_address, "127.0.0.1");
    assert.equal(cri.stream_server_port, "0");
    assert.deepEqual({ ...(cri.cni as Table) }, { bin_dir: "/usr/lib/cni", conf_dir: "/root/.corral/cluster/cni/net.d", max_conf_num: 1 });
  });

  it("runs runc through the v2 shim with its own root and cgroupfs", () => {
    const runc = at(cri, "containerd", "runtimes", "runc") as Table;
    assert.equal(at(cri, "containerd", "default_runtime_name"), "runc");
    assert.equal(runc.runtime_type, "io.containerd.runc.v2");
    assert.deepEqual({ ...(runc.options as Table) }, { Root: "/root/.corral/cluster/containerd/runc", SystemdCgroup: false });
  });

  it("finds registries through hosts.toml files, and a plain-HTTP registry has one", () => {
    assert.equal(at(cri, "registry", "config_path"), "/root/.corral/cluster/containerd/certs.d");
    assert.equal(at(cri, "registry", "mirrors"), undefined, "mirrors and config_path exclude each other");
    const hosts = parse(renderRegistryHosts("localhost:5000"));
    assert.equal(hosts.server, "http://localhost:5000");
    assert.deepEqual(at(hosts, "host", "http://localhost:5000", "capabilities"), ["pull", "resolve", "push"]);
  });

  it("refuses a state dir whose socket path the kernel would refuse", () => {
    assert.throws(() => containerdPaths(`/tmp/${"x".repeat(90)}`), /socket path would be \d+ characters/);
    assert.equal(containerdPaths("/tmp/corral-node-abc123").socket, "/tmp/corral-node-abc123/containerd/containerd.sock");
  });
});
