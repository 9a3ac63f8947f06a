import type { CriClient, PodSandboxConfig, ContainerConfig } from "@corral/cri";
import { ContainerState, PodSandboxState } from "@corral/cri";
import * as L from "./labels.js";
import type { ObservedContainer, ObservedPod, ObservedSandbox, ObservedState } from "../pods/observed.js";

const CALL_MS = 30_000;

function ms(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

function stateName(s: ContainerState): ObservedState {
  switch (s) {
    case ContainerState.CONTAINER_CREATED:
      return "created";
    case ContainerState.CONTAINER_RUNNING:
      return "running";
    case ContainerState.CONTAINER_EXITED:
      return "exited";
    default:
      return "unknown";
  }
}

/** The node agent's view of containerd: everything it made, read back through CRI. */
export class Runtime {
  constructor(readonly cri: CriClient) {}

  async version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    const v = await this.cri.runtime.version({}, { timeoutMs: 5_000 });
    return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion };
  }

  /** The uids of every pod that has a sandbox or a container made by this agent. */
  async managedPodUids(): Promise<Set<string>> {
    const sel = { [L.MANAGED_BY]: L.MANAGED_BY_VALUE };
    const [sbs, cts] = await Promise.all([
      this.cri.runtime.listPodSandbox({ filter: { labelSelector: sel } }, { timeoutMs: CALL_MS }),
      this.cri.runtime.listContainers({ filter: { labelSelector: sel } }, { timeoutMs: CALL_MS }),
    ]);
    const out = new Set<string>();
    for (const s of sbs.items) if (s.labels[L.POD_UID]) out.add(s.labels[L.POD_UID]!);
    for (const c of cts.containers) if (c.labels[L.POD_UID]) out.add(c.labels[L.POD_UID]!);
    return out;
  }

  /** A fingerprint of every managed container's id and state, by pod uid (the PLEG's relist). */
  async containerStates(): Promise<Map<string, string>> {
    const sel = { [L.MANAGED_BY]: L.MANAGED_BY_VALUE };
    const [sbs, cts] = await Promise.all([
      this.cri.runtime.listPodSandbox({ filter: { labelSelector: sel } }, { timeoutMs: CALL_MS }),
      this.cri.runtime.listContainers({ filter: { labelSelector: sel } }, { timeoutMs: CALL_MS }),
    ]);
    const out = new Map<string, string[]>();
    const add = (uid: string | undefined, s: string) => {
      if (!uid) return;
      let l = out.get(uid);
      if (!l) out.set(uid, (l = []));
      l.push(s);
    };
    for (const s of sbs.items) add(s.labels[L.POD_UID], `s:${s.id}:${s.state}`);
    for (const c of cts.containers) add(c.labels[L.POD_UID], `c:${c.id}:${c.state}`);
    return new Map([...out].map(([uid, l]) => [uid, l.sort().join(",")]));
  }

  /** Everything CRI has for one pod, newest first. */
  async inspect(uid: string): Promise<ObservedPod> {
    const sel = { [L.POD_UID]: uid, [L.MANAGED_BY]: L.MANAGED_BY_VALUE };
    const [sbs, cts] = await Promise.all([
      this.cri.runtime.listPodSandbox({ filter: { labelSelector: sel } }, { timeoutMs: CALL_MS }),
      this.cri.runtime.listContainers({ filter: { labelSelector: sel } }, { timeoutMs: CALL_MS }),
    ]);
    const sandboxes: ObservedSandbox[] = await Promise.all(
      sbs.items.map(async (s) => {
        const ready = s.state === PodSandboxState.SANDBOX_READY;
        const ip = ready ? await this.sandboxIP(s.id) : "";
        return { id: s.id, ready, attempt: s.metadata?.attempt ?? 0, createdAt: ms(s.createdAt), ip };
      }),
    );
    sandboxes.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
    const containers: ObservedContainer[] = [];
    await Promise.all(
      cts.containers.map(async (c) => {
        let st;
        try {
          st = (await this.cri.runtime.containerStatus({ containerId: c.id }, { timeoutMs: CALL_MS })).status;
        } catch {
          return; // removed meanwhile
        }
        if (!st) return;
        containers.push({
          id: c.id,
          sandboxId: c.podSandboxId,
          name: c.labels[L.CONTAINER_NAME] ?? c.metadata?.name ?? "",
          isInit: c.annotations[L.CONTAINER_TYPE] === "init",
          restartCount: Number(c.annotations[L.RESTART_COUNT] ?? c.metadata?.attempt ?? 0),
          hash: c.annotations[L.CONTAINER_HASH] ?? "",
          state: stateName(st.state),
          exitCode: st.exitCode,
          reason: st.reason,
          message: st.message,
          createdAt: ms(st.createdAt),
          startedAt: ms(st.startedAt),
          finishedAt: ms(st.finishedAt),
          imageRef: st.imageRef,
        });
      }),
    );
    containers.sort((a, b) => b.createdAt - a.createdAt || b.restartCount - a.restartCount);
    return { uid, sandboxes, containers };
  }

  /** True when the image is present (IfNotPresent/Never never pull an image that is). */
  async hasImage(image: string): Promise<string | undefined> {
    const st = await this.cri.image.imageStatus({ image: { image } }, { timeoutMs: CALL_MS });
    return st.image?.id || undefined;
  }

  async pullImage(image: string, sandbox: PodSandboxConfig): Promise<string> {
    const res = await this.cri.image.pullImage({ image: { image }, sandboxConfig: sandbox }, { timeoutMs: 10 * 60_000 });
    return res.imageRef;
  }

  /** The sandbox's pod IP from CNI ("" with host networking). */
  async sandboxIP(id: string): Promise<string> {
    const st = await this.cri.runtime.podSandboxStatus({ podSandboxId: id }, { timeoutMs: CALL_MS });
    return st.status?.network?.ip ?? "";
  }

  async runSandbox(config: PodSandboxConfig): Promise<string> {
    const res = await this.cri.runtime.runPodSandbox({ config }, { timeoutMs: 2 * 60_000 });
    return res.podSandboxId;
  }

  async startContainer(sandboxId: string, sandbox: PodSandboxConfig, config: ContainerConfig): Promise<string> {
    const { containerId } = await this.cri.runtime.createContainer(
      { podSandboxId: sandboxId, config, sandboxConfig: sandbox },
      { timeoutMs: 2 * 60_000 },
    );
    try {
      await this.cri.runtime.startContainer({ containerId }, { timeoutMs: 2 * 60_000 });
    } catch (err) {
      await this.cri.runtime.removeContainer({ containerId }, { timeoutMs: CALL_MS }).catch(() => {});
      throw err;
    }
    return containerId;
  }

  /** SIGTERM, then SIGKILL after `graceSeconds` (CRI's StopContainer does both). */
  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    await this.cri.runtime.stopContainer({ containerId: id, timeout: BigInt(graceSeconds) }, { timeoutMs: (graceSeconds + 30) * 1000 });
  }

  async removeContainer(id: string): Promise<void> {
    await this.cri.runtime.removeContainer({ containerId: id }, { timeoutMs: CALL_MS });
  }

  /** Stops every container of the pod (each with the grace period), then its sandboxes. */
  async killPod(o: ObservedPod, graceSeconds: number): Promise<void> {
    await Promise.all(
      o.containers.filter((c) => c.state === "running" || c.state === "created").map((c) => this.stopContainer(c.id, graceSeconds)),
    );
    for (const s of o.sandboxes) {
      if (s.ready) await this.cri.runtime.stopPodSandbox({ podSandboxId: s.id }, { timeoutMs: 2 * 60_000 });
    }
  }

  async removeSandbox(id: string): Promise<void> {
    await this.cri.runtime.stopPodSandbox({ podSandboxId: id }, { timeoutMs: 2 * 60_000 }).catch(() => {});
    await this.cri.runtime.removePodSandbox({ podSandboxId: id }, { timeoutMs: 2 * 60_000 });
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds: number) {
    return this.cri.runtime.execSync({ containerId, cmd, timeout: BigInt(timeoutSeconds) }, { timeoutMs: (timeoutSeconds + 10) * 1000 });
  }
}
