import { fromBinary } from "@bufbuild/protobuf";
import { Namespaces, type KindInfo } from "@corral/api";
import { Code, GrpcError } from "@corral/grpc";
import type { Logger } from "@corral/logging";
import type { WatchFeed } from "../events/event-hub.js";
import type { EtcdStore } from "../storage/etcd-store.js";
import { listPrefix, objectKey } from "../storage/keys.js";

/** Namespaces that exist from the start and cannot be deleted. */
export const SYSTEM_NAMESPACES = ["default", "corral-system"] as const;

/** The rules that tie namespaced objects to their Namespace. */
export class NamespaceGuard {
  /** Namespaces known to be active, kept by watching them: the common create skips an etcd read. */
  private readonly active = new Set<string>();
  private readonly stopped = new AbortController();

  constructor(
    private readonly store: EtcdStore,
    private readonly namespacedKinds: readonly KindInfo[],
  ) {}

  /**
   * Follows the namespaces (list, then watch) to keep the set of active ones. Like Kubernetes'
   * namespace admission, the set may trail a deletion by the watch latency; anything not in it
   * (a new, missing or terminating namespace) is read from etcd.
   */
  follow(feed: WatchFeed, log: Logger): void {
    const run = async () => {
      while (!this.stopped.signal.aborted) {
        try {
          const prefix = listPrefix(Namespaces as unknown as KindInfo);
          const res = await this.store.range(prefix);
          this.active.clear();
          for (const kv of res.kvs) this.note(fromBinary(Namespaces.schema, kv.value));
          for await (const ev of feed.follow(Namespaces.resource, undefined, res.revision, this.stopped.signal)) {
            const ns = ev.object(Namespaces.schema);
            if (ev.type === "DELETED") this.active.delete(ns.metadata?.name ?? "");
            else this.note(ns);
          }
        } catch (err) {
          this.active.clear();
          if (!this.stopped.signal.aborted) log.warn({ err: (err as Error).message }, "namespace watch broke; relisting");
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void run();
  }

  private note(ns: { metadata?: { name: string; deletionTimestamp?: unknown } }): void {
    const name = ns.metadata?.name ?? "";
    if (ns.metadata?.deletionTimestamp) this.active.delete(name);
    else this.active.add(name);
  }

  /** Called when this replica marks a namespace for deletion: it must refuse new content at once. */
  forget(namespace: string): void {
    this.active.delete(namespace);
  }

  stop(): void {
    this.stopped.abort();
  }

  /** A namespaced object may be created only in a namespace that exists and is not being deleted. */
  async assertCanCreateIn(namespace: string): Promise<void> {
    if (this.active.has(namespace)) return;
    const kv = await this.store.get(objectKey(Namespaces as unknown as KindInfo, "", namespace));
    if (!kv) throw new GrpcError(Code.NOT_FOUND, `namespaces "${namespace}" not found`);
    const ns = fromBinary(Namespaces.schema, kv.value);
    if (ns.metadata?.deletionTimestamp) {
      throw new GrpcError(
        Code.FAILED_PRECONDITION,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  assertDeletable(namespace: string): void {
    if ((SYSTEM_NAMESPACES as readonly string[]).includes(namespace)) {
      throw new GrpcError(Code.PERMISSION_DENIED, `namespaces "${namespace}" is a system namespace and may not be deleted`);
    }
  }

  /** True while any object of any namespaced kind is left in the namespace. */
  async hasContent(namespace: string): Promise<boolean> {
    const found = await Promise.all(this.namespacedKinds.map((k) => this.store.anyWithPrefix(listPrefix(k, namespace))));
    return found.some(Boolean);
  }
}
