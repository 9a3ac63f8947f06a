// One informer per kind for the whole controller manager (client-go's SharedInformerFactory): each
// kind is listed and watched once, whichever controllers read it, with the indexes they share.
import type { ApiObject, KindInfo, Pod } from "@corral/api";
import { Informer, type Clientset } from "@corral/client";
import type { Logger } from "@corral/logging";
import { controllerRef } from "./meta.js";

/** Objects by namespace. */
export const BY_NAMESPACE = "namespace";
/** Objects by the uid of their controller, or `orphan/<namespace>` for those without one. */
export const BY_CONTROLLER = "controller";
/** Objects by the uid of each of their owners. */
export const BY_OWNER = "owner";
/** Pods by spec.nodeName (bound pods only). */
export const BY_NODE = "node";

export function orphanIndexKey(namespace: string): string {
  return `orphan/${namespace}`;
}

export class SharedInformers {
  private readonly informers = new Map<string, Informer<ApiObject>>();
  private started = false;

  constructor(
    private readonly clients: Clientset,
    private readonly log: Logger,
  ) {}

  get<T extends ApiObject>(kind: KindInfo<T>): Informer<T> {
    let inf = this.informers.get(kind.kind);
    if (!inf) {
      const log = this.log;
      inf = new Informer(this.clients.for(kind as unknown as KindInfo<ApiObject>), {
        log: { warn: (o, m) => log.warn({ ...o, kind: kind.kind }, m), debug: (o, m) => log.debug({ ...o, kind: kind.kind }, m) },
      });
      inf.addIndex(BY_NAMESPACE, (o) => [o.metadata?.namespace ?? ""]);
      inf.addIndex(BY_CONTROLLER, (o) => {
        const ref = controllerRef(o);
        return [ref ? ref.uid : orphanIndexKey(o.metadata?.namespace ?? "")];
      });
      inf.addIndex(BY_OWNER, (o) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid));
      if (kind.kind === "Pod") {
        inf.addIndex(BY_NODE, (o) => {
          const n = (o as Pod).spec?.nodeName ?? "";
          return n ? [n] : [];
        });
      }
      this.informers.set(kind.kind, inf);
      if (this.started) inf.start();
    }
    return inf as unknown as Informer<T>;
  }

  /** The informers asked for so far. */
  all(): Informer<ApiObject>[] {
    return [...this.informers.values()];
  }

  start(): void {
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
