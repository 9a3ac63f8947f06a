import { ALL_KINDS, Namespaces, Services, type ApiObject, type Binding, type KindInfo } from "@corral/api";
import { Code, GrpcError } from "@corral/grpc";
import { createLogger, type Logger } from "@corral/logging";
import { Server, ServerCredentials, status } from "@grpc/grpc-js";
import { Etcd3, GRPCDeadlineExceededError, GRPCUnavailableError } from "etcd3";
import { HealthImplementation } from "grpc-health-check";
import { connect as natsConnect, type NatsConnection } from "nats";
import type { Server as HttpServer } from "node:http";
import { hostname } from "node:os";
import { bootstrapNamespaces } from "./bootstrap.js";
import { EventPublisher } from "./events/publisher.js";
import { DEFAULT_RETENTION, ensureStream, type RetentionOptions } from "./events/stream.js";
import { WatchFeed } from "./events/event-hub.js";
import { WatchSource } from "./events/watch-source.js";
import { addApiService, Encoded, requestBytes, type Reply, type StreamImpl, type UnaryImpl } from "./grpc-service.js";
import { ApiMetrics } from "./metrics.js";
import { addReflection } from "./reflection.js";
import { NamespaceGuard } from "./registry/namespace-guard.js";
import { ResourceRegistry } from "./registry/resource-registry.js";
import { ServiceAllocator } from "./registry/service-allocator.js";
import { DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR } from "./registry/service-ranges.js";
import { EtcdError, EtcdKv, GRPC_DEADLINE_EXCEEDED, GRPC_UNAVAILABLE } from "./storage/etcd-kv.js";
import { EtcdStore } from "./storage/etcd-store.js";
import { retry } from "./retry.js";

export interface ApiServerOptions {
  etcdEndpoints: string[];
  natsServers: string[];
  /** host:port for gRPC; port 0 picks a free one. */
  listen: string;
  /** host:port for /metrics and /healthz; omit to not serve them. */
  metricsListen?: string;
  /** Names this replica in logs and in the publisher election. */
  identity?: string;
  retention?: RetentionOptions;
  /** Largest encoded object accepted. */
  maxObjectBytes?: number;
  /** ClusterIPs are allocated from this range (--service-cluster-ip-range); 10.96.0.0/16 by default. */
  serviceClusterIPRange?: string;
  /** NodePorts are allocated from this range (--service-node-port-range); 30000-32767 by default. */
  serviceNodePortRange?: string;
  log?: Logger;
}

export const DEFAULT_MAX_OBJECT_BYTES = 1_536 * 1024;
/** gRPC refuses bigger requests with RESOURCE_EXHAUSTED before they are even decoded. */
const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

function storageError(err: unknown): unknown {
  if (
    err instanceof GRPCUnavailableError ||
    err instanceof GRPCDeadlineExceededError ||
    (err instanceof EtcdError && (err.code === GRPC_UNAVAILABLE || err.code === GRPC_DEADLINE_EXCEEDED))
  ) {
    return new GrpcError(Code.UNAVAILABLE, `storage is unavailable (etcd: ${err.message}); retry later`);
  }
  return err;
}

/** The Corral API server: gRPC in front, etcd behind, watch events out through NATS JetStream. */
export class ApiServer {
  private constructor(
    readonly address: string,
    readonly metricsAddress: string | undefined,
    readonly metrics: ApiMetrics,
    private readonly grpc: Server,
    private readonly http: HttpServer | undefined,
    private readonly etcd: Etcd3,
    private readonly etcdKv: EtcdKv,
    private readonly nc: NatsConnection,
    private readonly publisher: EventPublisher,
    private readonly health: HealthImplementation,
    private readonly namespaces: NamespaceGuard,
    private readonly log: Logger,
    private readonly feed: WatchFeed,
  ) {}

  get isPublisher(): boolean {
    return this.publisher.isLeader;
  }

  static async start(opts: ApiServerOptions): Promise<ApiServer> {
    const log = opts.log ?? createLogger("apiserver");
    const identity = opts.identity ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const metrics = new ApiMetrics();

    const etcd = new Etcd3({ hosts: opts.etcdEndpoints, dialTimeout: 3000 });
    // The objects' reads and writes go through a lean client of our own; etcd3 keeps the rest.
    const etcdKv = new EtcdKv(opts.etcdEndpoints);
    const store = new EtcdStore(etcdKv, (op, s) => metrics.etcdSeconds.observe({ operation: op }, s));
    await retry("reach etcd", log, () => store.currentRevision());

    const nc = await retry("reach NATS", log, () =>
      natsConnect({ servers: opts.natsServers, name: `corral-apiserver ${identity}`, maxReconnectAttempts: -1, reconnectTimeWait: 250 }),
    );
    void (async () => {
      for await (const s of nc.status()) log.info({ nats: s.type, data: String(s.data) }, "NATS connection status");
    })();
    const jsm = await nc.jetstreamManager();
    await retry("create the event stream", log, () => ensureStream(jsm, opts.retention ?? DEFAULT_RETENTION));

    const serviceAllocator = new ServiceAllocator(
      etcd,
      { serviceCidr: opts.serviceClusterIPRange ?? DEFAULT_SERVICE_CIDR, nodePortRange: opts.serviceNodePortRange ?? DEFAULT_NODE_PORT_RANGE },
      log,
    );
    const namespaced = ALL_KINDS.filter((k) => k.namespaced);
    const currentRevision = () => store.currentRevision();
    // One reader of a kind's events for all its watches (see events/event-hub.ts).
    const feed = new WatchFeed(nc.jetstream(), jsm, currentRevision, new WatchSource(nc.jetstream(), jsm, currentRevision), log);
    const deps = {
      store,
      feed,
      namespaces: new NamespaceGuard(store, namespaced),
      log,
      maxObjectBytes: opts.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES,
      hooks: new Map([[Services.kind, serviceAllocator]]),
    };
    deps.namespaces.follow(deps.feed, log);
    const registries = new Map(ALL_KINDS.map((k) => [k.kind, new ResourceRegistry(k, deps)]));
    await retry("create the system namespaces", log, () =>
      bootstrapNamespaces(registries.get(Namespaces.kind)! as unknown as ResourceRegistry),
    );
    void serviceAllocator.repair().then(
      (r) => (r.recorded || r.released || r.allocated) && log.info(r, "service address allocations repaired"),
      (err) => log.warn({ err: String(err) }, "cannot check service address allocations"),
    );

    const publisher = new EventPublisher(
      etcd,
      nc,
      jsm,
      new Map(ALL_KINDS.map((k) => [k.resource, k])),
      identity,
      log,
      (rev) => metrics.publishedRevision.set(Number(rev)),
    );
    publisher.start();

    const grpc = new Server({
      "grpc.max_receive_message_length": MAX_REQUEST_BYTES,
      "grpc.keepalive_permit_without_calls": 1,
      // Channelz (call counters and traces per channel, for grpc's debugging service, which Corral
      // does not serve) costs on every call.
      "grpc.enable_channelz": 0,
      "grpc.http2.min_ping_interval_without_data_ms": 5000,
    });
    const observe = (path: string, code: status, seconds: number, err?: unknown) => {
      const method = path.slice(1).replace("corral.v1.", "");
      metrics.requests.inc({ method, code: Code[code] });
      metrics.requestSeconds.observe({ method }, seconds);
      if (code === Code.INTERNAL || code === Code.UNKNOWN) log.error({ method, err }, "request failed");
    };
    for (const kind of ALL_KINDS) addApiService(grpc, kind.service, serviceImpl(kind, registries.get(kind.kind)!, metrics), observe);
    const health = new HealthImplementation({ "": "SERVING" });
    for (const kind of ALL_KINDS) health.setStatus(kind.service.typeName, "SERVING");
    health.addToServer(grpc);
    addReflection(grpc);

    const port = await new Promise<number>((resolve, reject) =>
      grpc.bindAsync(opts.listen, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const host = opts.listen.slice(0, opts.listen.lastIndexOf(":"));
    const address = `${host}:${port}`;

    let http: HttpServer | undefined;
    let metricsAddress: string | undefined;
    if (opts.metricsListen) {
      const i = opts.metricsListen.lastIndexOf(":");
      const mhost = opts.metricsListen.slice(0, i);
      http = await metrics.serve(mhost, Number(opts.metricsListen.slice(i + 1)));
      const a = http.address();
      metricsAddress = typeof a === "object" && a ? `${mhost}:${a.port}` : opts.metricsListen;
    }
    log.info({ address, metricsAddress, identity }, "apiserver serving");
    return new ApiServer(address, metricsAddress, metrics, grpc, http, etcd, etcdKv, nc, publisher, health, deps.namespaces, log, feed);
  }

  async stop(): Promise<void> {
    this.health.setStatus("", "NOT_SERVING");
    this.namespaces.stop();
    this.feed.stop();
    await this.publisher.stop();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.grpc.forceShutdown();
        resolve();
      }, 2000);
      this.grpc.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    this.http?.close();
    await this.nc.drain().catch(() => this.nc.close());
    this.etcd.close();
    this.etcdKv.close();
    this.log.info("apiserver stopped");
  }
}

/**
 * Binds a kind's gRPC service to its registry. Requests are decoded for one call, so the registry
 * may change them in place; replies are the bytes the registry already has (see grpc-service.ts).
 */
function serviceImpl(kind: KindInfo, reg: ResourceRegistry<ApiObject>, metrics: ApiMetrics): Record<string, UnaryImpl | StreamImpl> {
  const wrap =
    <A extends unknown[]>(fn: (...a: A) => Promise<Reply | undefined>) =>
    async (...a: A): Promise<Reply> => {
      try {
        return (await fn(...a)) ?? {};
      } catch (err) {
        throw storageError(err);
      }
    };
  const bytes = (w: { bytes: Uint8Array }) => new Encoded(w.bytes);
  const impl: Record<string, UnaryImpl | StreamImpl> = {
    create: wrap(async (req: ApiObject) => bytes(await reg.createOwned(req, requestBytes.get(req)))),
    get: wrap(async (req: Parameters<typeof reg.get>[0]) => new Encoded(await reg.getBytes(req))),
    list: wrap(async (req: Parameters<typeof reg.list>[0]) => new Encoded(await reg.listBytes(req))),
    update: wrap(async (req: ApiObject) => bytes(await reg.updateOwned(req))),
    delete: wrap((req: Parameters<typeof reg.delete>[0]) => reg.delete(req)),
    watch: (async (req: Parameters<typeof reg.watch>[0], send: Parameters<typeof reg.watch>[1], ctx: { signal: AbortSignal }) => {
      metrics.watchers.inc({ resource: kind.resource });
      try {
        await reg.watch(req, send, ctx.signal);
      } catch (err) {
        throw storageError(err);
      } finally {
        metrics.watchers.dec({ resource: kind.resource });
      }
    }) as StreamImpl,
  };
  if (kind.hasStatus) impl.updateStatus = wrap(async (req: ApiObject) => bytes(await reg.updateStatusOwned(req)));
  if (kind.kind === "Pod") impl.bind = wrap(async (req: Binding) => bytes(await reg.bind(req)));
  return impl;
}
