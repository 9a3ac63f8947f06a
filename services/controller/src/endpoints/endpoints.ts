// The Endpoints controller: for each Service with a selector, an Endpoints object of the same name
// listing the selected pods' IPs and ports, following pods as they come, go and change readiness.
import { clone, create, equals } from "@bufbuild/protobuf";
import { EndpointsKind, EndpointsSchema, EndpointSubsetSchema, Pods, Services, type Endpoints, type Pod, type Service } from "@corral/api";
import { objectKey, type Informer } from "@corral/client";
import { Code, errorCode } from "@corral/grpc";
import { ignoreNotFound, QueueController, type ControllerContext } from "../shared/controller.js";
import { BY_NAMESPACE } from "../shared/informers.js";
import { sameStringMap } from "../shared/meta.js";
import { isNamespaceTerminating } from "../shared/podcontrol.js";
import { endpointSubsets, serviceSelects } from "./logic.js";

function sameSubsets(a: Endpoints, subsets: ReturnType<typeof endpointSubsets>): boolean {
  return a.subsets.length === subsets.length && a.subsets.every((s, i) => equals(EndpointSubsetSchema, s, subsets[i]!));
}

/** Fields of a pod the endpoints depend on. */
function endpointRelevant(a: Pod, b: Pod): boolean {
  return (
    a.status?.podIp !== b.status?.podIp ||
    a.status?.phase !== b.status?.phase ||
    (a.metadata?.deletionTimestamp === undefined) !== (b.metadata?.deletionTimestamp === undefined) ||
    a.spec?.nodeName !== b.spec?.nodeName ||
    !sameStringMap(a.metadata?.labels, b.metadata?.labels) ||
    a.status?.conditions.find((c) => c.type === "Ready")?.status !== b.status?.conditions.find((c) => c.type === "Ready")?.status
  );
}

export class EndpointsController extends QueueController {
  readonly name = "endpoints";
  private readonly svcInf: Informer<Service>;
  private readonly podInf: Informer<Pod>;
  private readonly epInf: Informer<Endpoints>;

  constructor(ctx: ControllerContext) {
    super(ctx, "endpoints-controller", 5);
    this.svcInf = ctx.informers.get(Services);
    this.podInf = ctx.informers.get(Pods);
    this.epInf = ctx.informers.get(EndpointsKind);
    this.svcInf.addEventHandler({
      add: (s) => this.enqueue(objectKey(s)),
      update: (_o, s) => this.enqueue(objectKey(s)),
      delete: (s) => this.enqueue(objectKey(s)),
    });
    this.podInf.addEventHandler({
      add: (p) => this.podChanged(p),
      update: (o, p) => {
        if (!endpointRelevant(o, p)) return;
        this.podChanged(p);
        if (!sameStringMap(o.metadata?.labels, p.metadata?.labels)) this.podChanged(o);
      },
      delete: (p) => this.podChanged(p),
    });
    // Someone else changed or removed an Endpoints object of ours: put it back.
    this.epInf.addEventHandler({
      update: (_o, ep) => {
        if (this.svcInf.get(objectKey(ep))) this.enqueue(objectKey(ep));
      },
      delete: (ep) => {
        if (this.svcInf.get(objectKey(ep))) this.enqueue(objectKey(ep));
      },
    });
  }

  private podChanged(p: Pod): void {
    for (const svc of this.svcInf.byIndex(BY_NAMESPACE, p.metadata?.namespace ?? "")) {
      if (serviceSelects(svc, p.metadata?.labels)) this.enqueue(objectKey(svc));
    }
  }

  async reconcile(key: string): Promise<void> {
    const svc = this.svcInf.get(key);
    const [namespace, name] = key.split("/") as [string, string];
    const eps = this.ctx.clients.for(EndpointsKind);
    if (!svc) {
      // The Service is gone: so are its Endpoints.
      if (this.epInf.get(key)) await eps.delete({ namespace, name }).catch(ignoreNotFound);
      return;
    }
    if (Object.keys(svc.spec?.selector ?? {}).length === 0) return; // Endpoints managed by hand
    const subsets = endpointSubsets(svc, this.podInf.byIndex(BY_NAMESPACE, namespace));
    const labels = { ...(svc.metadata?.labels ?? {}) };
    if (svc.spec?.clusterIp === "None") labels["service.kubernetes.io/headless"] = "";
    let cur = this.epInf.get(key);
    if (!cur) {
      try {
        await eps.create(create(EndpointsSchema, { metadata: { name, namespace, labels }, subsets }), { timeoutMs: 30_000 });
        return;
      } catch (err) {
        if (isNamespaceTerminating(err)) return;
        if (errorCode(err) !== Code.ALREADY_EXISTS) throw err;
        // Ours, written a moment ago, not in the cache yet (or someone else's): update it.
        cur = await eps.get({ namespace, name }, { timeoutMs: 30_000 });
      }
    }
    if (sameSubsets(cur, subsets) && sameStringMap(cur.metadata?.labels, labels)) return;
    const next = clone(EndpointsSchema, cur);
    next.subsets = subsets;
    next.metadata!.labels = labels;
    await eps.update(next, { timeoutMs: 30_000 });
  }
}
