import { ALL_KINDS, Namespaces, type ApiObject, type KindInfo } from "@corral/api";
import { addService, Code, GrpcError, type ServiceImpl } from "@corral/grpc";
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
import { WatchSource } from "./events/watch-source.js";
import { ApiMetrics } from "./metrics.js";
import { addReflection } from "./reflection.js";
import { NamespaceGuard } from "./registry/namespace-guard.js";
import { ResourceRegistry } from "./registry/resource-registry.js";
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
  log?: Logger;
}

export const DEFAULT_MAX_OBJECT_BYTES = 1_536 * 1024;
/** gRPC refuses bigger requests with RESOURCE_EXHAUSTED before they are even decoded. */
const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

function storageError(err: unknown): unknown {
  if (err instanceof GRPCUnavailableError || err instanceof GRPCDeadlineExceededError) {
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
    private readonly nc: NatsConnection,
    private readonly publisher: EventPublisher,
    private readonly health: HealthImplementation,
    private readonly namespaces: NamespaceGuard,
    private readonly log: Logger,
  ) {}

  get isPublisher(): boolean {
    return this.publisher.isLeader;
  }

  static async start(opts: ApiServerOptions): Promise<ApiServer> {
    const log = opts.log ?? createLogger("apiserver");
    const identity = opts.identity ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const metrics = new ApiMetrics();

    const etcd = new Etcd3({ hosts: opts.etcdEndpoints, dialTimeout: 3000 });
    const store = new EtcdStore(etcd, (op, s) => metrics.etcdSeconds.observe({ operation: op }, s));
    await retry("reach etcd", log, () => store.currentRevision());

    const nc = await retry("reach NATS", log, () =>
      natsConnect({ servers: opts.natsServers, name: `corral-apiserver ${identity}`, maxReconnectAttempts: -1, reconnectTimeWait: 250 }),
    );
    void (async () => {
      for await (const s of nc.status()) log.info({ nats: s.type, data: String(s.data) }, "NATS connection status");
    })();
    const jsm = await nc.jetstreamManager();
    await retry("create the event stream", log, () => ensureStream(jsm, opts.retention ?? DEFAULT_RETENTION));

    const namespaced = ALL_KINDS.filter((k) => k.namespaced);
    const deps = {
      store,
      watchSource: new WatchSource(nc.jetstream(), jsm, () => store.currentRevision()),
      namespaces: new NamespaceGuard(store, namespaced),
      log,
      maxObjectBytes: opts.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES,
    };
    deps.namespaces.follow(deps.watchSource, log);
    const registries = new Map(ALL_KINDS.map((k) => [k.kind, new ResourceRegistry(k, deps)]));
    await retry("create the system namespaces", log, () =>
      bootstrapNamespaces(registries.get(Namespaces.kind)! as unknown as ResourceRegistry),
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
      "grpc.http2.min_ping_interval_without_data_ms": 5000,
    });
    const observe = (path: string, code: status, seconds: number, err?: unknown) => {
      const method = path.slice(1).replace("corral.v1.", "");
      metrics.requests.inc({ method, code: Code[code] });
      metrics.requestSeconds.observe({ method }, seconds);
      if (code === Code.INTERNAL || code === Code.UNKNOWN) log.error({ method, err }, "request failed");
    };
    for (const kind of ALL_KINDS) addService(grpc, kind.service, serviceImpl(kind, registries.get(kind.kind)!, metrics), observe);
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
    return new ApiServer(address, metricsAddress, metrics, grpc, http, etcd, nc, publisher, health, deps.namespaces, log);
  }

  async stop(): Promise<void> {
    this.health.setStatus("", "NOT_SERVING");
    this.namespaces.stop();
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
    this.log.info("apiserver stopped");
  }
}

/** Binds a kind's gRPC service to its registry. */
function serviceImpl(kind: KindInfo, reg: ResourceRegistry<ApiObject>, metrics: ApiMetrics): ServiceImpl<KindInfo["service"]> {
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        return await fn(...a);
      } catch (err) {
        throw storageError(err);
      }
    };
  const impl: Record<string, unknown> = {
    create: wrap((req: ApiObject) => reg.create(req)),
    get: wrap((req: Parameters<typeof reg.get>[0]) => reg.get(req)),
    list: wrap((req: Parameters<typeof reg.list>[0]) => reg.list(req)),
    update: wrap((req: ApiObject) => reg.update(req)),
    delete: wrap((req: Parameters<typeof reg.delete>[0]) => reg.delete(req)),
    watch: wrap(async (req: Parameters<typeof reg.watch>[0], send: Parameters<typeof reg.watch>[1], ctx: { signal: AbortSignal }) => {
      metrics.watchers.inc({ resource: kind.resource });
      try {
        await reg.watch(req, send, ctx.signal);
      } finally {
        metrics.watchers.dec({ resource: kind.resource });
      }
    }),
  };
  if (kind.hasStatus) impl.updateStatus = wrap((req: ApiObject) => reg.updateStatus(req));
  return impl as ServiceImpl<KindInfo["service"]>;
}
