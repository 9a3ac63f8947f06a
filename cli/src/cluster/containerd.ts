// The node's own containerd: configured as ../shared/MACHINE.md records (restrict_oom_score_adj,
// CNI plugins in /usr/lib/cni, its own root, state, socket and runc root) so that it never meets
// the containerd dockerd runs.
import { join } from "node:path";
import { stringify } from "smol-toml";

/** Where one node's containerd keeps everything, all under the cluster's state directory. */
export interface ContainerdPaths {
  dir: string;
  config: string;
  root: string;
  state: string;
  /** The gRPC (and CRI) socket. */
  socket: string;
  /** runc's state (the runc v2 shim's `Root` option; it adds the namespace below it). */
  runcRoot: string;
  /** hosts.toml files, one directory per registry host (containerd's `config_path`). */
  certsDir: string;
  optDir: string;
  /** The CNI network config containerd loads. */
  cniConfDir: string;
  /** host-local IPAM's allocations. */
  cniDataDir: string;
}

/** A unix socket path longer than this is refused by the kernel (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 100;

export function containerdPaths(stateDir: string): ContainerdPaths {
  const dir = join(stateDir, "containerd");
  const socket = join(dir, "containerd.sock");
  if (socket.length > MAX_SOCKET_PATH) {
    throw new Error(`containerd's socket path would be ${socket.length} characters (${socket}); use a shorter --state-dir`);
  }
  return {
    dir,
    config: join(dir, "config.toml"),
    root: join(dir, "root"),
    state: join(dir, "state"),
    socket,
    runcRoot: join(dir, "runc"),
    certsDir: join(dir, "certs.d"),
    optDir: join(dir, "opt"),
    cniConfDir: join(stateDir, "cni", "net.d"),
    cniDataDir: join(stateDir, "cni", "networks"),
  };
}

export interface ContainerdConfigOptions {
  paths: ContainerdPaths;
  /** The image every pod sandbox runs, e.g. localhost:5000/corral/pause:3.9. */
  sandboxImage: string;
  /** Where the CNI plugins are (Debian's containernetworking-plugins: /usr/lib/cni). */
  cniBinDir?: string;
}

/** Snapshotters that cannot work here (no btrfs, zfs, aufs or device-mapper pool): not loading them keeps the log quiet. */
const DISABLED_PLUGINS = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
];

/** containerd's config.toml (version 2). */
export function renderContainerdConfig(o: ContainerdConfigOptions): string {
  const p = o.paths;
  const config = {
    version: 2,
    root: p.root,
    state: p.state,
    disabled_plugins: DISABLED_PLUGINS,
    grpc: { address: p.socket },
    // An explicit ttrpc address: the default (the gRPC address + ".ttrpc") is ours anyway, but
    // saying so keeps it from ever following another default.
    ttrpc: { address: `${p.socket}.ttrpc` },
    // No debug or metrics listener: those would be TCP ports or sockets to collide on.
    debug: { address: "", level: "info" },
    metrics: { address: "" },
    plugins: {
      "io.containerd.grpc.v1.cri": {
        sandbox_image: o.sandboxImage,
        // The machine lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below the parent's.
        restrict_oom_score_adj: true,
        // Pods' network namespaces under this containerd's state, not /var/run/netns: they are
        // plainly ours, and `down` unmounts whatever a crash left.
        netns_mounts_under_state_dir: true,
        // exec, attach and port-forward streams: on loopback, a port of the kernel's choosing.
        stream_server_address: "127.0.0.1",
        stream_server_port: "0",
        enable_tls_streaming: false,
        disable_tcp_service: true,
        disable_apparmor: true,
        max_container_log_line_size: 16384,
        cni: {
          bin_dir: o.cniBinDir ?? "/usr/lib/cni",
          conf_dir: p.cniConfDir,
          max_conf_num: 1,
        },
        containerd: {
          snapshotter: "overlayfs",
          default_runtime_name: "runc",
          runtimes: {
            runc: {
              runtime_type: "io.containerd.runc.v2",
              options: { Root: p.runcRoot, SystemdCgroup: false },
            },
          },
        },
        // Registry hosts from hosts.toml files (one directory per host:port), which is how a
        // plain-HTTP local registry is reached.
        registry: { config_path: p.certsDir },
      },
      "io.containerd.internal.v1.opt": { path: p.optDir },
    },
  };
  return `# Written by corral up: the node's own containerd (not the one dockerd runs).\n${stringify(config)}\n`;
}

/** hosts.toml for a registry served over plain HTTP at host:port (it accepts pulls and resolves tags). */
export function renderRegistryHosts(hostPort: string): string {
  const server = `http://${hostPort}`;
  return `${stringify({ server, host: { [server]: { capabilities: ["pull", "resolve", "push"], skip_verify: true } } })}\n`;
}
