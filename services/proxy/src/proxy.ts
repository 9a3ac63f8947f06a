// The node's service proxy: follows Services and Endpoints and keeps its nftables table in step.
import { EndpointsKind, Nodes, Services, type Endpoints, type Service } from "@corral/api";
import { Clientset, Informer, objectKey } from "@corral/client";
import { createLogger, type Logger } from "@corral/logging";
import { servicePorts, type ServicePortState } from "./model.js";
import { Nft, validTableName, type NftRunner } from "./nft.js";
import { DEFAULT_TABLE, commitPlan, emptyApplied, planUpdate, renderDelete, renderFull, type Applied, type RenderConfig } from "./render.js";

export interface ProxyOptions {
  /** host:port of the apiserver (or pass `clients`). */
  apiserver?: string;
  clients?: Clientset;
  /** This node's name: endpoints on it are local (externalTrafficPolicy/internalTrafficPolicy Local). */
  nodeName: string;
  /** The nftables table (family ip) the proxy owns; "corral" by default. */
  table?: string;
  /** The cluster's pod CIDR: ClusterIP traffic from outside it is masqueraded. */
  clusterCidr?: string;
  /** The Service CIDR: connections to its addresses that no Service answers for are refused. */
  serviceCidr?: string;
  /** Local addresses NodePorts answer on (CIDRs); default every local address but 127.0.0.0/8. */
  nodePortAddresses?: string[];
  /**
   * This node's pod CIDR (default: spec.podCIDR of the Node `nodeName`, read at start): the node's
   * own connections to its own pods are not masqueraded. Masquerade is for hairpin and off-node traffic.
   */
  nodePodCidr?: string;
  /** Packet-mark bit asking for masquerade (14 = 0x4000, as Kubernetes). */
  masqueradeBit?: number;
  /** How often the proxy checks that its table is still there (and rebuilds it if not); 0 = never. */
  checkIntervalMs?: number;
  nft?: NftRunner;
  log?: Logger;
  /** Called after every transaction (benchmarks and metrics). */
  onSync?: (s: SyncStats) => void;
}

export interface SyncStats {
  full: boolean;
  /** Service ports whose rules changed. */
  changed: number;
  statements: number;
  nftMs: number;
  /** The Services (namespace/name) this transaction was for, with when their change was first seen (performance.now()). */
  seen: Map<string, number>;
  /** performance.now() when the transaction was applied. */
  appliedAt: number;
}

export class Proxy {
  private readonly cfg: RenderConfig;
  private readonly nft: NftRunner;
  private readonly log: Logger;
  private readonly clients: Clientset;
  private readonly ownsClients: boolean;
  private readonly services: Informer<Service>;
  private readonly endpoints: Informer<Endpoints>;
  private applied: Applied = emptyApplied();
  /** Service key → the ids of its ports now in the table. */
  private readonly portsOf = new Map<string, Set<string>>();
  /** Service keys changed since the last transaction, with when each was first seen. */
  private dirty = new Map<string, number>();
  private needFull = true;
  private running?: Promise<void>;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private ready = false;
  private syncs = 0;

  private constructor(private readonly opts: ProxyOptions) {
    const table = opts.table ?? DEFAULT_TABLE;
    if (!validTableName(table)) throw new Error(`invalid table name "${table}": letters, digits, - and _ only, starting with a letter`);
    this.cfg = {
      table,
      masqueradeBit: opts.masqueradeBit ?? 14,
      clusterCidr: opts.clusterCidr,
      serviceCidr: opts.serviceCidr,
      nodePortAddresses: opts.nodePortAddresses,
      localPodCidr: opts.nodePodCidr,
    };
    this.nft = opts.nft ?? new Nft();
    this.log = opts.log ?? createLogger("proxy");
    if (!opts.clients && !opts.apiserver) throw new Error("the proxy needs an apiserver address or a Clientset");
    this.clients = opts.clients ?? Clientset.connect(opts.apiserver!);
    this.ownsClients = !opts.clients;
    const log = { warn: (o: object, m: string) => this.log.warn(o, m) };
    this.services = new Informer(this.clients.for(Services), { log });
    this.endpoints = new Informer(this.clients.for(EndpointsKind), { log });
  }

  get table(): string {
    return this.cfg.table;
  }

  /** Transactions applied so far (the first is the full one). */
  get transactions(): number {
    return this.syncs;
  }

  /** Starts following the API; resolves once the whole table has been written from it. */
  static async start(opts: ProxyOptions): Promise<Proxy> {
    const p = new Proxy(opts);
    const mark = (obj: { metadata?: { namespace?: string; name?: string } }) => p.markDirty(objectKey(obj as Service));
    for (const inf of [p.services, p.endpoints] as Informer<Service | Endpoints>[]) {
      inf.addEventHandler({ add: mark, update: (_o, n) => mark(n), delete: mark });
    }
    p.services.start();
    p.endpoints.start();
    try {
      if (!p.cfg.localPodCidr) {
        const node = await p.clients.for(Nodes).get({ name: opts.nodeName }).catch(() => undefined);
        const cidr = node?.spec?.podCidr ?? "";
        if (/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr)) p.cfg.localPodCidr = cidr;
      }
      await Promise.all([p.services.waitForSync(), p.endpoints.waitForSync()]);
      p.ready = true;
      await p.kick();
      if (p.needFull) throw new Error(`cannot write the nftables table ${p.cfg.table}; see the log`);
    } catch (err) {
      await p.stop().catch(() => {});
      throw err;
    }
    const every = opts.checkIntervalMs ?? 30_000;
    if (every > 0) {
      p.timer = setInterval(() => void p.checkTable(), every);
      p.timer.unref();
    }
    p.log.info({ table: p.cfg.table, services: p.services.size, ports: p.applied.services.size }, "proxy programmed its table");
    return p;
  }

  private markDirty(key: string): void {
    if (!this.dirty.has(key)) this.dirty.set(key, performance.now());
    if (this.ready) void this.kick();
  }

  /** Runs syncs until nothing is left to do; concurrent calls share the running one. */
  private kick(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        while (!this.stopped && (this.needFull || this.dirty.size > 0)) await this.syncOnce();
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private desired(key: string): ServicePortState[] {
    const svc = this.services.get(key);
    if (!svc) return [];
    return servicePorts(svc, this.endpoints.get(key), this.opts.nodeName);
  }

  private async syncOnce(): Promise<void> {
    const seen = this.dirty;
    this.dirty = new Map();
    if (this.needFull) {
      const all: ServicePortState[] = [];
      const portsOf = new Map<string, Set<string>>();
      for (const svc of this.services.list()) {
        const key = objectKey(svc);
        const ports = this.desired(key);
        if (ports.length) portsOf.set(key, new Set(ports.map((p) => p.id)));
        all.push(...ports);
      }
      const { lines, applied } = renderFull(this.cfg, all);
      try {
        const ms = await this.nft.apply(lines);
        this.applied = applied;
        this.portsOf.clear();
        for (const [k, v] of portsOf) this.portsOf.set(k, v);
        this.needFull = false;
        this.syncs++;
        this.log.debug({ statements: lines.length, ms: Math.round(ms), ports: all.length }, "full sync");
        this.opts.onSync?.({ full: true, changed: all.length, statements: lines.length, nftMs: ms, seen, appliedAt: performance.now() });
      } catch (err) {
        this.log.error({ err: String(err) }, "full sync failed; retrying in 1 s");
        for (const [k, t] of seen) if (!this.dirty.has(k)) this.dirty.set(k, t);
        await new Promise((r) => setTimeout(r, 1000));
      }
      return;
    }
    const updates = new Map<string, ServicePortState | undefined>();
    const nextPortsOf = new Map<string, Set<string>>();
    for (const key of seen.keys()) {
      const ports = this.desired(key);
      const ids = new Set(ports.map((p) => p.id));
      for (const old of this.portsOf.get(key) ?? []) if (!ids.has(old)) updates.set(old, undefined);
      for (const p of ports) updates.set(p.id, p);
      nextPortsOf.set(key, ids);
    }
    const plan = planUpdate(this.cfg, this.applied, updates);
    try {
      const ms = await this.nft.apply(plan.lines);
      commitPlan(this.applied, plan);
      for (const [k, ids] of nextPortsOf) {
        if (ids.size) this.portsOf.set(k, ids);
        else this.portsOf.delete(k);
      }
      if (plan.lines.length) this.syncs++;
      this.opts.onSync?.({ full: false, changed: plan.changes.size, statements: plan.lines.length, nftMs: ms, seen, appliedAt: performance.now() });
    } catch (err) {
      // The kernel is not what we think (someone changed the table?): rebuild it whole.
      this.log.warn({ err: String(err) }, "incremental update failed; rebuilding the table");
      for (const [k, t] of seen) if (!this.dirty.has(k)) this.dirty.set(k, t);
      this.needFull = true;
    }
  }

  /** Rebuilds the table if someone removed it. */
  private async checkTable(): Promise<void> {
    if (this.stopped || !(this.nft instanceof Nft)) return;
    const exists = await this.nft.tableExists(this.cfg.table).catch(() => true);
    if (!exists && !this.stopped) {
      this.log.warn({ table: this.cfg.table }, "the table is gone; rebuilding it");
      this.needFull = true;
      void this.kick();
    }
  }

  /** Forces a full rebuild of the table from the caches (as on start). */
  async resync(): Promise<void> {
    this.needFull = true;
    await this.kick();
  }

  /**
   * Stops following the API. The table stays (traffic keeps flowing while the proxy restarts)
   * unless `removeTable`, for `corral down`.
   */
  async stop(opts: { removeTable?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([this.services.stop(), this.endpoints.stop()]);
    await this.running?.catch(() => {});
    if (this.ownsClients) this.clients.close();
    if (opts.removeTable) await this.nft.apply(renderDelete(this.cfg));
  }
}

export { renderDelete };
