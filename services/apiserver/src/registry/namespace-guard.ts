import { fromBinary } from "@bufbuild/protobuf";
import { Namespaces, type KindInfo } from "@corral/api";
import { Code, GrpcError } from "@corral/grpc";
import type { EtcdStore } from "../storage/etcd-store.js";
import { listPrefix, objectKey } from "../storage/keys.js";

/** Namespaces that exist from the start and cannot be deleted. */
export const SYSTEM_NAMESPACES = ["default", "corral-system"] as const;

/** The rules that tie namespaced objects to their Namespace. */
export class NamespaceGuard {
  constructor(
    private readonly store: EtcdStore,
    private readonly namespacedKinds: readonly KindInfo[],
  ) {}

  /** A namespaced object may be created only in a namespace that exists and is not being deleted. */
  async assertCanCreateIn(namespace: string): Promise<void> {
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
