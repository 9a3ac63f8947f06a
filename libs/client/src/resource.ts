import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  ApiObject,
  BindingSchema,
  DeleteRequestSchema,
  GetRequestSchema,
  KindInfo,
  ListRequestSchema,
  ObjectList,
  WatchEvent,
  WatchRequestSchema,
} from "@corral/api";
import { createClient, type CallOpts, type Connection } from "@corral/grpc";

export type GetRequestInit = MessageInitShape<typeof GetRequestSchema>;
export type ListRequestInit = MessageInitShape<typeof ListRequestSchema>;
export type DeleteRequestInit = MessageInitShape<typeof DeleteRequestSchema>;
export type WatchRequestInit = MessageInitShape<typeof WatchRequestSchema>;
export type BindingInit = MessageInitShape<typeof BindingSchema>;

/** The same seven verbs for every kind, typed by the kind's message. */
export interface ResourceClient<T extends ApiObject> {
  readonly kind: KindInfo<T>;
  create(obj: T, opts?: CallOpts): Promise<T>;
  get(req: GetRequestInit, opts?: CallOpts): Promise<T>;
  list(req?: ListRequestInit, opts?: CallOpts): Promise<ObjectList<T>>;
  update(obj: T, opts?: CallOpts): Promise<T>;
  updateStatus(obj: T, opts?: CallOpts): Promise<T>;
  delete(req: DeleteRequestInit, opts?: CallOpts): Promise<T>;
  watch(req?: WatchRequestInit, opts?: CallOpts): AsyncIterable<WatchEvent<T>>;
  /**
   * Pods only: assigns the pod `binding.metadata` names to the node `binding.target.name`
   * (Kubernetes' pods/binding). Fails with FAILED_PRECONDITION when the pod already has a node
   * or is being deleted, and with ABORTED when binding.metadata's uid or resourceVersion, if
   * given, no longer match. Returns the bound pod.
   */
  bind(binding: BindingInit, opts?: CallOpts): Promise<T>;
}

type Untyped = {
  create(o: unknown, opts?: CallOpts): Promise<unknown>;
  get(o: unknown, opts?: CallOpts): Promise<unknown>;
  list(o: unknown, opts?: CallOpts): Promise<unknown>;
  update(o: unknown, opts?: CallOpts): Promise<unknown>;
  updateStatus?(o: unknown, opts?: CallOpts): Promise<unknown>;
  delete(o: unknown, opts?: CallOpts): Promise<unknown>;
  watch(o: unknown, opts?: CallOpts): AsyncIterable<unknown>;
  bind?(o: unknown, opts?: CallOpts): Promise<unknown>;
};

export function resourceClient<T extends ApiObject>(kind: KindInfo<T>, conn: Connection): ResourceClient<T> {
  // Every kind's service has the same method names, so one generic wrapper serves them all.
  const c = createClient(kind.service, conn) as unknown as Untyped;
  return {
    kind,
    create: (obj, opts) => c.create(obj, opts) as Promise<T>,
    get: (req, opts) => c.get(req, opts) as Promise<T>,
    list: (req = {}, opts) => c.list(req, opts) as Promise<ObjectList<T>>,
    update: (obj, opts) => c.update(obj, opts) as Promise<T>,
    updateStatus: (obj, opts) => {
      if (!c.updateStatus) return Promise.reject(new Error(`${kind.kind} has no status subresource`));
      return c.updateStatus(obj, opts) as Promise<T>;
    },
    delete: (req, opts) => c.delete(req, opts) as Promise<T>,
    watch: (req = {}, opts) => c.watch(req, opts) as AsyncIterable<WatchEvent<T>>,
    bind: (binding, opts) => {
      if (!c.bind) return Promise.reject(new Error(`${kind.kind} has no binding subresource`));
      return c.bind(binding, opts) as Promise<T>;
    },
  };
}
