// Creating and deleting a controller's pods with expectations and Events (Kubernetes' PodControl).
import { Pods, type ApiObject, type KindInfo, type Pod } from "@corral/api";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import type { ControllerContext } from "./controller.js";
import type { Expectations } from "./expectations.js";
import { slowStartBatch } from "./pods.js";

/** Events about single pods per reconcile; more are summed up in one. */
const EVENTS_PER_SYNC = 10;

/** The namespace is being deleted: creating anything in it is refused, and that is no error. */
export function isNamespaceTerminating(err: unknown): boolean {
  return errorCode(err) === Code.FAILED_PRECONDITION && /being terminated/.test(errorMessage(err));
}

export async function createPods(
  ctx: ControllerContext,
  ownerKind: KindInfo,
  owner: ApiObject,
  key: string,
  expectations: Expectations,
  count: number,
  make: (i: number) => Pod,
): Promise<void> {
  if (count <= 0) return;
  expectations.expectCreations(key, count);
  const created: string[] = [];
  let i = 0;
  const res = await slowStartBatch(count, 1, async () => {
    const pod = await ctx.clients.for(Pods).create(make(i++), { timeoutMs: 30_000 });
    created.push(pod.metadata!.name);
  });
  const skipped = count - res.successes;
  if (skipped > 0) expectations.creationObserved(key, skipped);
  created.slice(0, EVENTS_PER_SYNC).forEach((n) => ctx.recorder.event(ownerKind, owner, "Normal", "SuccessfulCreate", `Created pod: ${n}`));
  if (created.length > EVENTS_PER_SYNC) {
    ctx.recorder.event(ownerKind, owner, "Normal", "SuccessfulCreate", `Created ${created.length - EVENTS_PER_SYNC} more pods`);
  }
  if (res.error !== undefined && !isNamespaceTerminating(res.error)) {
    ctx.recorder.event(ownerKind, owner, "Warning", "FailedCreate", `Error creating: ${errorMessage(res.error)}`);
    throw res.error;
  }
}

export async function deletePods(
  ctx: ControllerContext,
  ownerKind: KindInfo,
  owner: ApiObject,
  key: string,
  expectations: Expectations,
  pods: readonly Pod[],
): Promise<void> {
  if (pods.length === 0) return;
  expectations.expectDeletions(key, pods.map((p) => p.metadata!.uid));
  let firstErr: unknown;
  let n = 0;
  await Promise.all(
    pods.map(async (p) => {
      const m = p.metadata!;
      try {
        await ctx.clients.for(Pods).delete({ namespace: m.namespace, name: m.name, preconditions: { uid: m.uid } }, { timeoutMs: 30_000 });
        if (n++ < EVENTS_PER_SYNC) ctx.recorder.event(ownerKind, owner, "Normal", "SuccessfulDelete", `Deleted pod: ${m.name}`);
      } catch (err) {
        // Gone already (or replaced by another of the same name): nothing to wait for.
        expectations.deletionObserved(key, m.uid);
        if (errorCode(err) === Code.NOT_FOUND || (errorCode(err) === Code.ABORTED && /UID/.test(errorMessage(err)))) return;
        ctx.recorder.event(ownerKind, owner, "Warning", "FailedDelete", `Error deleting: ${errorMessage(err)}`);
        firstErr ??= err;
      }
    }),
  );
  if (firstErr) throw firstErr;
}
