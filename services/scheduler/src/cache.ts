// The scheduler's view of the cluster: nodes, and the pods on them, both those the apiserver says
// are bound and those this scheduler has just placed ("assumed") and is still binding. Assuming
// counts a pod's requests against its node the moment the decision is made, so the next pod sees
// them without waiting for the binding to be written and watched back (kube-scheduler's assume
// cache). The watch confirms the assumed pod later; a failed binding forgets it.
import type { Node, Pod } from "@corral/api";
import { objectKey } from "@corral/client";
import { NodeInfo } from "./framework/node-info.js";
import { newPodInfo, type PodInfo } from "./framework/pod-info.js";
import type { ClusterView } from "./framework/types.js";

interface PodState {
  info: PodInfo;
  nodeName: string;
  /** Placed by this scheduler, not yet seen bound in the watch. */
  assumed: boolean;
}

export class SchedulerCache implements ClusterView {
  private readonly nodes = new Map<string, NodeInfo>();
  /** Nodes with a Node object, for iteration; `position` maps a name to its index. */
  private readonly list: NodeInfo[] = [];
  private readonly position = new Map<string, number>();
  private readonly pods = new Map<string, PodState>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly antiAffinity = new Set<string>();

  // ---- nodes ----

  /** Adds or updates a node; returns its NodeInfo. */
  setNode(node: Node): NodeInfo {
    const name = node.metadata!.name;
    let ni = this.nodes.get(name);
    if (!ni) this.nodes.set(name, (ni = new NodeInfo(name)));
    ni.setNode(node);
    if (!this.position.has(name)) {
      this.position.set(name, this.list.length);
      this.list.push(ni);
    }
    return ni;
  }

  removeNode(name: string): void {
    const ni = this.nodes.get(name);
    if (!ni) return;
    ni.node = undefined;
    const i = this.position.get(name);
    if (i !== undefined) {
      const last = this.list.pop()!;
      if (last !== ni) {
        this.list[i] = last;
        this.position.set(last.name, i);
      }
      this.position.delete(name);
    }
    // Pods still bound to a deleted node keep their NodeInfo until they go too.
    if (ni.pods.size === 0) this.drop(ni);
  }

  private drop(ni: NodeInfo): void {
    this.nodes.delete(ni.name);
    ni.release();
  }

  nodeInfos(): readonly NodeInfo[] {
    return this.list;
  }

  getNodeInfo(name: string): NodeInfo | undefined {
    const ni = this.nodes.get(name);
    return ni?.node ? ni : undefined;
  }

  get nodeCount(): number {
    return this.list.length;
  }

  // ---- pods ----

  get podCount(): number {
    return this.pods.size;
  }

  isAssumed(key: string): boolean {
    return this.pods.get(key)?.assumed ?? false;
  }

  /** Where the cache has the pod (assumed or bound), if anywhere. */
  nodeOf(key: string): string | undefined {
    return this.pods.get(key)?.nodeName;
  }

  /** Counts the pod on the node now, before its binding is written. */
  assume(info: PodInfo, nodeName: string): void {
    if (this.pods.has(info.key)) throw new Error(`pod ${info.key} is already in the cache`);
    this.place({ info, nodeName, assumed: true });
  }

  /** Takes an assumed pod back out (its binding failed). A pod the watch has confirmed stays. */
  forget(key: string): void {
    const st = this.pods.get(key);
    if (st?.assumed) this.unplace(key);
  }

  /** A bound, running (not finished) pod from the watch: added, or moved, or confirming what was assumed. */
  addPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName ?? "";
    if (!nodeName) return;
    const key = objectKey(pod);
    if (this.pods.has(key)) this.unplace(key);
    this.place({ info: newPodInfo(pod), nodeName, assumed: false });
  }

  updatePod(pod: Pod): void {
    this.addPod(pod);
  }

  removePod(key: string): void {
    this.unplace(key);
  }

  private place(st: PodState): void {
    const { info } = st;
    this.pods.set(info.key, st);
    let ni = this.nodes.get(st.nodeName);
    if (!ni) this.nodes.set(st.nodeName, (ni = new NodeInfo(st.nodeName)));
    ni.addPod(info);
    let ns = this.byNamespace.get(info.namespace);
    if (!ns) this.byNamespace.set(info.namespace, (ns = new Set()));
    ns.add(info.key);
    if (info.requiredAntiAffinity.length > 0) this.antiAffinity.add(info.key);
  }

  private unplace(key: string): void {
    const st = this.pods.get(key);
    if (!st) return;
    this.pods.delete(key);
    const ni = this.nodes.get(st.nodeName);
    if (ni) {
      ni.removePod(key);
      if (!ni.node && ni.pods.size === 0) this.drop(ni);
    }
    const ns = this.byNamespace.get(st.info.namespace);
    if (ns) {
      ns.delete(key);
      if (ns.size === 0) this.byNamespace.delete(st.info.namespace);
    }
    this.antiAffinity.delete(key);
  }

  *podsInNamespace(namespace: string): Iterable<readonly [PodInfo, NodeInfo]> {
    const keys = this.byNamespace.get(namespace);
    if (!keys) return;
    for (const key of keys) {
      const st = this.pods.get(key)!;
      const ni = this.nodes.get(st.nodeName);
      if (ni?.node) yield [st.info, ni] as const;
    }
  }

  *podsWithRequiredAntiAffinity(): Iterable<readonly [PodInfo, NodeInfo]> {
    for (const key of this.antiAffinity) {
      const st = this.pods.get(key)!;
      const ni = this.nodes.get(st.nodeName);
      if (ni?.node) yield [st.info, ni] as const;
    }
  }
}
