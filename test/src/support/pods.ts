import type { Pod } from "@corral/api";
import { Pods } from "@corral/api";
import type { Clientset } from "@corral/client";

/**
 * Waits until the pod satisfies `pred`, following a watch (no polling). Rejects after `timeoutMs`
 * with the pod's last status, so a failure says where the pod got stuck.
 */
export async function waitForPod(
  clients: Clientset,
  namespace: string,
  name: string,
  pred: (p: Pod) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<Pod> {
  const ac = new AbortController();
  let last: Pod | undefined;
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    for await (const ev of clients.for(Pods).watch({ namespace, fieldSelector: `metadata.name=${name}` }, { signal: ac.signal })) {
      if (ev.type === "DELETED") {
        if (pred(ev.object!)) return ev.object!;
        continue;
      }
      last = ev.object;
      if (last && pred(last)) return last;
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for pod ${namespace}/${name} to be ${what}; last status: ${JSON.stringify(summary(last))}`);
}

/** Waits until the pod is gone. */
export async function waitForPodGone(clients: Clientset, namespace: string, name: string, timeoutMs = 60_000): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    for await (const ev of clients.for(Pods).watch({ namespace, fieldSelector: `metadata.name=${name}` }, { signal: ac.signal })) {
      if (ev.type === "DELETED") return;
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for pod ${namespace}/${name} to be deleted`);
}

export function summary(p: Pod | undefined) {
  if (!p) return undefined;
  return {
    phase: p.status?.phase,
    podIP: p.status?.podIp,
    conditions: p.status?.conditions.map((c) => `${c.type}=${c.status}`),
    containers: [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].map((c) => ({
      name: c.name,
      ready: c.ready,
      restarts: c.restartCount,
      state: c.state?.running ? "running" : c.state?.waiting ? `waiting:${c.state.waiting.reason}:${c.state.waiting.message}` : c.state?.terminated ? `terminated:${c.state.terminated.reason}:${c.state.terminated.exitCode}` : "?",
    })),
  };
}

export const isRunning = (p: Pod) => p.status?.phase === "Running";
export const isReady = (p: Pod) => p.status?.conditions.some((c) => c.type === "Ready" && c.status === "True") ?? false;
