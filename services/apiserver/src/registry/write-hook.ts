import type { ApiObject } from "@corral/api";

/**
 * A kind whose writes must change more than its own key, in the same etcd transaction (a Service
 * and the ClusterIP and NodePorts it holds). The registry calls it instead of the plain
 * compare-and-swap writes; each method returns the new revision, or undefined exactly where the
 * plain write would (the object's key exists, or was modified since `expected`).
 */
export interface WriteHook {
  /** Adjusts an update's merged object before it is validated (Services keep their allocated values). */
  mergeUpdate?(current: ApiObject, next: ApiObject): void;
  create(key: string, obj: ApiObject, encode: (o: ApiObject) => Uint8Array): Promise<bigint | undefined>;
  update(key: string, current: ApiObject, next: ApiObject, expected: bigint, encode: (o: ApiObject) => Uint8Array): Promise<bigint | undefined>;
  delete(key: string, current: ApiObject, expected: bigint): Promise<bigint | undefined>;
}
