// Pod garbage collection (Kubernetes' podgc): a pod bound to a node that no longer exists has no
// agent to stop it or confirm its deletion; it is deleted at once (grace period 0), so that it
// stops counting anywhere and its controller replaces it.
import { Nodes, Pods, type Node, type Pod } from "@corral/api";
import { objectKey, type Informer } from "@corral/client";
import { Code, errorCode } from "@corral/grpc";
import { QueueController, type ControllerContext } from "../shared/controller.js";
import { BY_NODE } from "../shared/informers.js";

export class PodGCController extends QueueController {
  readonly name = "podgc";
  private readonly nodeInf: Informer<Node>;
  private readonly podInf: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    super(ctx, "pod-garbage-collector", 2);
    this.nodeInf = ctx.informers.get(Nodes);
    this.podInf = ctx.informers.get(Pods);
    this.podInf.addEventHandler({
      add: (p) => this.check(p),
      update: (o, p) => {
        if (o.spec?.nodeName !== p.spec?.nodeName) this.check(p);
      },
    });
    this.nodeInf.addEventHandler({
      delete: (n) => {
        for (const p of this.podInf.byIndex(BY_NODE, n.metadata!.name)) this.enqueue(objectKey(p));
      },
    });
  }

  private check(p: Pod): void {
    const node = p.spec?.nodeName;
    if (node && !this.nodeInf.get(node)) this.enqueue(objectKey(p));
  }

  async reconcile(key: string): Promise<void> {
    const pod = this.podInf.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName || this.nodeInf.get(nodeName)) return;
    // The cache may trail a node that was just registered: ask.
    try {
      await this.ctx.clients.for(Nodes).get({ name: nodeName }, { timeoutMs: 10_000 });
      return;
    } catch (err) {
      if (errorCode(err) !== Code.NOT_FOUND) throw err;
    }
    const m = pod.metadata!;
    try {
      await this.ctx.clients.for(Pods).delete({ namespace: m.namespace, name: m.name, gracePeriodSeconds: 0n, preconditions: { uid: m.uid } }, { timeoutMs: 30_000 });
      this.log.info({ pod: key, node: nodeName }, "deleted pod of a node that no longer exists");
    } catch (err) {
      if (errorCode(err) !== Code.NOT_FOUND && errorCode(err) !== Code.ABORTED) throw err;
    }
  }
}
