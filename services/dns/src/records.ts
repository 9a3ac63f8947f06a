// The cluster's DNS names, from Services and Endpoints (pure), after Kubernetes' DNS specification:
//   <service>.<namespace>.svc.<domain>                A   the ClusterIP; for a headless Service the ready endpoint IPs
//   <hostname>.<service>.<namespace>.svc.<domain>     A   a headless Service's endpoint that has a hostname
//   _<port>._<proto>.<service>.<namespace>.svc.<domain> SRV each named port
//   <a-b-c-d>.<namespace>.pod.<domain>                A   a.b.c.d
//   <d>.<c>.<b>.<a>.in-addr.arpa                      PTR a ClusterIP's Service name
import type { Endpoints, Service } from "@corral/api";

export interface SrvTarget {
  port: number;
  target: string;
}

export type Lookup =
  | { kind: "answer"; a: string[]; srv: SrvTarget[]; ptr: string[] }
  /** The name exists but has no records of the asked type (or is an empty non-terminal). */
  | { kind: "nodata" }
  | { kind: "nxdomain" }
  /** Not in the cluster's zones: ask the node's resolver. */
  | { kind: "forward" };

interface ServiceEntry {
  namespace: string;
  name: string;
  clusterIP: string;
  headless: boolean;
  ports: { name: string; protocol: string; port: number }[];
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

export class ClusterRecords {
  private readonly services = new Map<string, ServiceEntry>();
  private readonly endpoints = new Map<string, { ips: string[]; hosts: Map<string, string[]> }>();
  private readonly reverse = new Map<string, string>();
  private readonly namespaces = new Map<string, number>();
  readonly domain: string;

  constructor(domain = "cluster.local") {
    this.domain = normalizeName(domain);
  }

  get size(): number {
    return this.services.size;
  }

  private serviceName(e: { namespace: string; name: string }): string {
    return `${e.name}.${e.namespace}.svc.${this.domain}`;
  }

  setService(svc: Service): void {
    const m = svc.metadata!;
    const key = `${m.namespace}/${m.name}`;
    this.deleteService(key);
    const ip = svc.spec?.clusterIp ?? "";
    const e: ServiceEntry = {
      namespace: m.namespace,
      name: m.name,
      clusterIP: ip === "None" ? "" : ip,
      headless: ip === "None",
      ports: (svc.spec?.ports ?? []).map((p) => ({ name: p.name, protocol: (p.protocol || "TCP").toLowerCase(), port: p.port })),
    };
    this.services.set(key, e);
    this.namespaces.set(m.namespace, (this.namespaces.get(m.namespace) ?? 0) + 1);
    if (IPV4.test(e.clusterIP)) this.reverse.set(e.clusterIP, this.serviceName(e));
  }

  deleteService(key: string): void {
    const old = this.services.get(key);
    if (!old) return;
    this.services.delete(key);
    const n = (this.namespaces.get(old.namespace) ?? 1) - 1;
    if (n > 0) this.namespaces.set(old.namespace, n);
    else this.namespaces.delete(old.namespace);
    if (this.reverse.get(old.clusterIP) === this.serviceName(old)) this.reverse.delete(old.clusterIP);
  }

  setEndpoints(eps: Endpoints): void {
    const m = eps.metadata!;
    const ips: string[] = [];
    const hosts = new Map<string, string[]>();
    for (const s of eps.subsets) {
      for (const a of s.addresses) {
        if (!IPV4.test(a.ip) || ips.includes(a.ip)) continue;
        ips.push(a.ip);
        if (a.hostname) hosts.set(a.hostname.toLowerCase(), [...(hosts.get(a.hostname.toLowerCase()) ?? []), a.ip]);
      }
    }
    this.endpoints.set(`${m.namespace}/${m.name}`, { ips, hosts });
  }

  deleteEndpoints(key: string): void {
    this.endpoints.delete(key);
  }

  /** Answers a question about `name` (any case, with or without the final dot) of type A, SRV, PTR or another. */
  lookup(rawName: string, type: string): Lookup {
    const name = normalizeName(rawName);
    if (name.endsWith(".in-addr.arpa")) return this.lookupReverse(name, type);
    const d = this.domain;
    if (name !== d && !name.endsWith(`.${d}`)) return { kind: "forward" };
    const rel = name === d ? [] : name.slice(0, -(d.length + 1)).split(".");
    // rel is read from the right: [..., namespace, "svc"] or [..., namespace, "pod"].
    const n = rel.length;
    if (n === 0) return { kind: "nodata" };
    const zone = rel[n - 1];
    if (zone === "pod") {
      if (n === 1) return { kind: "nodata" };
      if (n !== 3) return { kind: "nxdomain" };
      const ip = rel[0]!.replace(/-/g, ".");
      if (!IPV4.test(ip)) return { kind: "nxdomain" };
      return type === "A" ? { kind: "answer", a: [ip], srv: [], ptr: [] } : { kind: "nodata" };
    }
    if (zone !== "svc") return { kind: "nxdomain" };
    if (n === 1) return { kind: "nodata" };
    const namespace = rel[n - 2]!;
    if (n === 2) return this.namespaces.has(namespace) ? { kind: "nodata" } : { kind: "nxdomain" };
    const svcName = rel[n - 3]!;
    const svc = this.services.get(`${namespace}/${svcName}`);
    if (!svc) return { kind: "nxdomain" };
    const eps = this.endpoints.get(`${namespace}/${svcName}`);
    if (n === 3) {
      if (type !== "A") return { kind: "nodata" };
      const a = svc.headless ? (eps?.ips ?? []) : svc.clusterIP ? [svc.clusterIP] : [];
      return a.length ? { kind: "answer", a, srv: [], ptr: [] } : { kind: "nodata" };
    }
    if (n === 4 && svc.headless) {
      const ips = eps?.hosts.get(rel[0]!);
      if (!ips) return { kind: "nxdomain" };
      return type === "A" ? { kind: "answer", a: ips, srv: [], ptr: [] } : { kind: "nodata" };
    }
    if (n === 5 && rel[0]!.startsWith("_") && rel[1]!.startsWith("_")) {
      const portName = rel[0]!.slice(1);
      const proto = rel[1]!.slice(1);
      const ports = svc.ports.filter((p) => p.name === portName && p.protocol === proto);
      if (ports.length === 0) return { kind: "nxdomain" };
      if (type !== "SRV") return { kind: "nodata" };
      return { kind: "answer", a: [], srv: ports.map((p) => ({ port: p.port, target: this.serviceName(svc) })), ptr: [] };
    }
    return { kind: "nxdomain" };
  }

  private lookupReverse(name: string, type: string): Lookup {
    const parts = name.slice(0, -".in-addr.arpa".length).split(".");
    if (parts.length !== 4) return { kind: "forward" };
    const ip = parts.reverse().join(".");
    const target = this.reverse.get(ip);
    if (!target) return { kind: "forward" };
    return type === "PTR" ? { kind: "answer", a: [], srv: [], ptr: [target] } : { kind: "nodata" };
  }
}
