import { join } from "node:path";

/**
 * Where the node agent keeps a pod's files under its root directory (kubelet's layout):
 *   <root>/pods/<uid>/volumes/<volume>      emptyDir, configMap and secret volumes
 *   <root>/claims/<namespace>/<claim>       persistentVolumeClaim volumes: node-local, kept when pods go
 *   <root>/logs/<namespace>_<name>_<uid>/<container>/<restartCount>.log   container logs (CRI format)
 */
export class NodePaths {
  /** @param cgroupRoot the cgroup parent pods go under, in every hierarchy ("corral"). */
  constructor(
    readonly root: string,
    readonly cgroupRoot = "corral",
  ) {}

  /** The pod's cgroup parent, relative to each cgroup hierarchy (cgroupfs driver). */
  podCgroup(uid: string): string {
    return `/${this.cgroupRoot}/pod${uid}`;
  }

  podDir(uid: string): string {
    return join(this.root, "pods", uid);
  }

  volumeDir(uid: string, volume: string): string {
    return join(this.podDir(uid), "volumes", volume);
  }

  /**
   * A persistentVolumeClaim volume's directory. Corral has no PersistentVolume objects yet: a
   * claim is a directory on the node (as k3s's local-path provisioner gives), made on first use
   * and kept when its pods go, so a StatefulSet's pod finds its data again on this node.
   */
  claimDir(namespace: string, claim: string): string {
    return join(this.root, "claims", namespace, claim);
  }

  /** The sandbox's log_directory. */
  podLogDir(namespace: string, name: string, uid: string): string {
    return join(this.root, "logs", `${namespace}_${name}_${uid}`);
  }

  /** A container's log_path, relative to the pod's log directory. */
  containerLogPath(container: string, restartCount: number): string {
    return join(container, `${restartCount}.log`);
  }

  logsRoot(): string {
    return join(this.root, "logs");
  }

  podsRoot(): string {
    return join(this.root, "pods");
  }
}

