// The namespace controller: a namespace deleted while it has content is marked Terminating by the
// apiserver (which then refuses new content in it). This controller deletes everything inside
// (pods get their grace period, so their node agents stop them), reports what is left in the
// namespace controller's log, and once nothing is left deletes the namespace again, which now
// removes it.
import { ALL_KINDS, Namespaces, type ApiObject, type KindInfo, type Namespace } from "@corral/api";
import type { Informer, ReconcileResult } from "@corral/client";
import { Code, errorCode } from "@corral/grpc";
import { ignoreNotFound, QueueController, type ControllerContext } from "../shared/controller.js";

/** Namespaced kinds, the workload controllers first (so they do not recreate what goes after them). */
const FIRST = ["CronJob", "Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicaSet"];
const NAMESPACED: readonly KindInfo[] = ALL_KINDS.filter((k) => k.namespaced).sort(
  (a, b) => (FIRST.includes(a.kind) ? FIRST.indexOf(a.kind) : FIRST.length) - (FIRST.includes(b.kind) ? FIRST.indexOf(b.kind) : FIRST.length),
);

export class NamespaceController extends QueueController {
  readonly name = "namespace";
  private readonly nsInf: Informer<Namespace>;
  private readonly attempts = new Map<string, number>();

  constructor(ctx: ControllerContext) {
    super(ctx, "namespace-controller", 2);
    this.nsInf = ctx.informers.get(Namespaces);
    this.nsInf.addEventHandler({
      add: (n) => n.metadata?.deletionTimestamp && this.enqueue(n.metadata.name),
      update: (_o, n) => n.metadata?.deletionTimestamp && this.enqueue(n.metadata.name),
      delete: (n) => this.attempts.delete(n.metadata!.name),
    });
  }

  async reconcile(name: string): Promise<ReconcileResult | void> {
    const ns = this.nsInf.get(name);
    if (!ns?.metadata?.deletionTimestamp) return;
    const remaining = new Map<string, number>();
    for (const kind of NAMESPACED) {
      const c = this.ctx.clients.for(kind as KindInfo<ApiObject>);
      const list = await c.list({ namespace: name }, { timeoutMs: 30_000 });
      for (const o of list.items) {
        remaining.set(kind.resource, (remaining.get(kind.resource) ?? 0) + 1);
        if (o.metadata?.deletionTimestamp) continue;
        await c
          .delete({ namespace: name, name: o.metadata!.name, preconditions: { uid: o.metadata!.uid }, propagationPolicy: "Background" }, { timeoutMs: 30_000 })
          .catch((err) => {
            if (errorCode(err) === Code.ABORTED) return; // replaced meanwhile: seen next round
            ignoreNotFound(err);
          });
      }
    }
    if (remaining.size === 0) {
      try {
        await this.ctx.clients.for(Namespaces).delete({ name }, { timeoutMs: 30_000 });
      } catch (err) {
        ignoreNotFound(err);
      }
      this.attempts.delete(name);
      this.log.info({ namespace: name }, "namespace emptied and removed");
      return;
    }
    // What is left is mostly pods waiting out their grace period: look again soon. (No status is
    // written meanwhile: the apiserver removes a namespace marked for deletion on any write.)
    this.log.debug({ namespace: name, remaining: Object.fromEntries(remaining) }, "namespace content remaining");
    const n = this.attempts.get(name) ?? 0;
    this.attempts.set(name, n + 1);
    return { requeueAfterMs: Math.min(5_000, 250 * 2 ** n) };
  }
}
