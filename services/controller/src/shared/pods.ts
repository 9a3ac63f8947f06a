// Pod helpers, after k8s.io/kubernetes/pkg/api/v1/pod and pkg/controller (FilterActivePods,
// IsPodAvailable, ActivePods ranking). Pure.
import { clone, create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ObjectMetaSchema, PodSchema, PodSpecSchema, type OwnerReference, type Pod, type PodTemplateSpec } from "@corral/api";
import { createdMs } from "./meta.js";

export function isTerminal(p: Pod): boolean {
  const phase = p.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/** Counted by controllers: not finished and not being deleted (Kubernetes' IsPodActive). */
export function isActive(p: Pod): boolean {
  return !isTerminal(p) && p.metadata?.deletionTimestamp === undefined;
}

export function readyCondition(p: Pod) {
  return p.status?.conditions.find((c) => c.type === "Ready");
}

export function isReady(p: Pod): boolean {
  return readyCondition(p)?.status === "True";
}

/** When the pod last became Ready (ms), or undefined if it is not ready. */
export function readySinceMs(p: Pod): number | undefined {
  const c = readyCondition(p);
  if (c?.status !== "True") return undefined;
  return c.lastTransitionTime ? timestampDate(c.lastTransitionTime).getTime() : 0;
}

/** Ready for at least minReadySeconds (Kubernetes' IsPodAvailable). */
export function isAvailable(p: Pod, minReadySeconds: number, nowMs: number): boolean {
  const since = readySinceMs(p);
  if (since === undefined) return false;
  return minReadySeconds <= 0 || since + minReadySeconds * 1000 <= nowMs;
}

/**
 * How long until the pod becomes available (ms), 0 if it is, undefined if it is not ready (so
 * only an event can make it available).
 */
export function msUntilAvailable(p: Pod, minReadySeconds: number, nowMs: number): number | undefined {
  const since = readySinceMs(p);
  if (since === undefined) return undefined;
  return Math.max(0, since + minReadySeconds * 1000 - nowMs);
}

/** When to look again so that a ready pod is reported available after minReadySeconds (ms), if ever. */
export function availabilityRecheckMs(pods: readonly Pod[], minReadySeconds: number, nowMs: number): number | undefined {
  if (minReadySeconds <= 0) return undefined;
  let soonest: number | undefined;
  for (const p of pods) {
    const ms = msUntilAvailable(p, minReadySeconds, nowMs);
    if (ms !== undefined && ms > 0 && (soonest === undefined || ms < soonest)) soonest = ms;
  }
  return soonest === undefined ? undefined : soonest + 50;
}

export function restartCount(p: Pod): number {
  let n = 0;
  for (const c of p.status?.containerStatuses ?? []) n += c.restartCount;
  for (const c of p.status?.initContainerStatuses ?? []) n += c.restartCount;
  return n;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Orders pods so that the ones to delete first come first (Kubernetes' ActivePods sort used by
 * getPodsToDelete): not scheduled < scheduled; Pending < Unknown < Running; not ready < ready;
 * ready for less time < ready for longer; more restarts < fewer; newer < older.
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const assigned = (p: Pod) => ((p.spec?.nodeName ?? "") !== "" ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const pa = PHASE_RANK[a.status?.phase ?? "Pending"] ?? 0;
  const pb = PHASE_RANK[b.status?.phase ?? "Pending"] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isReady(a) ? 1 : 0;
  const rb = isReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  if (ra && rb) {
    const sa = readySinceMs(a) ?? 0;
    const sb = readySinceMs(b) ?? 0;
    if (sa !== sb) return sb - sa; // more recently ready first
  }
  const xa = restartCount(a);
  const xb = restartCount(b);
  if (xa !== xb) return xb - xa;
  const ca = createdMs(a);
  const cb = createdMs(b);
  if (ca !== cb) return cb - ca; // newer first
  const na = a.metadata?.name ?? "";
  const nb = b.metadata?.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** The `n` pods to delete first. */
export function podsToDelete(pods: readonly Pod[], n: number): Pod[] {
  if (n <= 0) return [];
  return [...pods].sort(deletionOrder).slice(0, n);
}

/** A pod made from a template, as controllers make them (Kubernetes' GetPodFromTemplate). */
export function podFromTemplate(
  template: PodTemplateSpec | undefined,
  namespace: string,
  generateName: string,
  owner: OwnerReference,
  extraLabels: Readonly<Record<string, string>> = {},
): Pod {
  const tm = template?.metadata;
  return create(PodSchema, {
    metadata: create(ObjectMetaSchema, {
      generateName,
      namespace,
      labels: { ...(tm?.labels ?? {}), ...extraLabels },
      annotations: { ...(tm?.annotations ?? {}) },
      finalizers: [...(tm?.finalizers ?? [])],
      ownerReferences: [owner],
    }),
    spec: template?.spec ? clone(PodSpecSchema, template.spec) : create(PodSpecSchema, {}),
  });
}

/** Slow start (Kubernetes' slowStartBatch): 1, 2, 4, ... at once, stopping at the first failure. */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    successes += results.filter((r) => r.status === "fulfilled").length;
    if (failed) return { successes, error: failed.reason };
    remaining -= batch;
  }
  return { successes };
}
