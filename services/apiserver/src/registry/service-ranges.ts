// Pure rules for Service address allocation: the ClusterIP range, the NodePort range, what a Service
// holds, what a create or an update must acquire and release. Kept apart from etcd (service-allocator.ts)
// so they are unit-tested without it.
import type { Service } from "@corral/api";
import { formatFieldErrors, invalid, type FieldError } from "@corral/apimachinery";

export const DEFAULT_SERVICE_CIDR = "10.96.0.0/16";
export const DEFAULT_NODE_PORT_RANGE = "30000-32767";
/** The cluster DNS Service, which gets the range's 10th address (10.96.0.10 by default). */
export const DNS_SERVICE = { namespace: "corral-system", name: "corral-dns" } as const;
/** Offsets into the range never handed out on their own: 1 (an API service, as Kubernetes' .1) and 10 (DNS). */
export const API_OFFSET = 1;
export const DNS_OFFSET = 10;

export function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** An IPv4 CIDR: its base and size. Only IPv4 is supported. */
export class IpRange {
  readonly base: number;
  readonly size: number;
  constructor(readonly cidr: string) {
    const [ip, bitsText] = cidr.split("/");
    const base = ipToInt(ip ?? "");
    const bits = Number(bitsText);
    if (base === undefined || !/^\d+$/.test(bitsText ?? "") || bits < 8 || bits > 29) {
      throw new Error(`invalid service CIDR "${cidr}": want an IPv4 CIDR with a prefix between /8 and /29, such as ${DEFAULT_SERVICE_CIDR}`);
    }
    this.size = 2 ** (32 - bits);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((base & mask) >>> 0 !== base) throw new Error(`invalid service CIDR "${cidr}": host bits are set (did you mean ${intToIp((base & mask) >>> 0)}/${bits}?)`);
    this.base = base;
  }

  /** Offset of ip in the range, or undefined when outside. */
  offset(ip: string): number | undefined {
    const n = ipToInt(ip);
    if (n === undefined) return undefined;
    const off = n - this.base;
    return off >= 0 && off < this.size ? off : undefined;
  }

  at(offset: number): string {
    return intToIp(this.base + offset);
  }

  /** The network and broadcast addresses are never Service addresses. */
  usable(offset: number): boolean {
    return offset > 0 && offset < this.size - 1;
  }

  get dnsIP(): string {
    return this.at(DNS_OFFSET);
  }
}

export class PortRange {
  readonly min: number;
  readonly max: number;
  constructor(readonly text: string) {
    const m = /^(\d+)-(\d+)$/.exec(text);
    const min = Number(m?.[1]);
    const max = Number(m?.[2]);
    if (!m || min < 1 || max > 65535 || min > max) throw new Error(`invalid NodePort range "${text}": want MIN-MAX, such as ${DEFAULT_NODE_PORT_RANGE}`);
    this.min = min;
    this.max = max;
  }
  get size(): number {
    return this.max - this.min + 1;
  }
  contains(p: number): boolean {
    return p >= this.min && p <= this.max;
  }
}

/** One address a Service holds, as kept in etcd: a ClusterIP or a NodePort, and where it sits in the spec. */
export interface Claim {
  kind: "ip" | "port";
  value: string;
  /** The field that holds it, for error messages: "spec.clusterIP", "spec.ports[1].nodePort". */
  field: string;
  /** True when the user asked for this value (a conflict is then an error, not a reason to pick again). */
  requested: boolean;
}

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIp === "None";
}

export function serviceType(svc: Service): string {
  return svc.spec?.type || "ClusterIP";
}

/** The addresses a stored Service holds. */
export function claimsOf(svc: Service): Claim[] {
  const out: Claim[] = [];
  const spec = svc.spec;
  if (!spec) return out;
  if (spec.clusterIp && spec.clusterIp !== "None") out.push({ kind: "ip", value: spec.clusterIp, field: "spec.clusterIP", requested: true });
  if (serviceType(svc) === "NodePort") {
    const seen = new Set<number>();
    spec.ports.forEach((p, i) => {
      if (p.nodePort > 0 && !seen.has(p.nodePort)) {
        seen.add(p.nodePort);
        out.push({ kind: "port", value: String(p.nodePort), field: `spec.ports[${i}].nodePort`, requested: true });
      }
    });
  }
  return out;
}

export function claimKey(c: Pick<Claim, "kind" | "value">): string {
  return `${c.kind}/${c.value}`;
}

/** A Service-shaped error: `Service "web" is invalid: spec.clusterIP: Invalid value: "10.96.0.5": provided IP is already allocated`. */
export function invalidService(svc: Service, errs: FieldError[]): string {
  return `Service "${svc.metadata?.name ?? ""}" is invalid: ${formatFieldErrors(errs)}`;
}

export function isDnsService(svc: Service): boolean {
  return svc.metadata?.namespace === DNS_SERVICE.namespace && svc.metadata?.name === DNS_SERVICE.name;
}

/**
 * Checks the values the user asked for against the ranges (before any etcd round trip): an IP
 * outside the range, the range's network or broadcast address, the DNS address for another Service,
 * a NodePort outside its range. Returns field errors.
 */
export function checkRequested(svc: Service, ips: IpRange, ports: PortRange): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec;
  if (!spec) return errs;
  const ip = spec.clusterIp;
  if (ip && ip !== "None") {
    const off = ips.offset(ip);
    if (off === undefined || !ips.usable(off)) {
      errs.push(invalid("spec.clusterIP", ip, `provided IP is not in the valid range. The range of valid IPs is ${ips.cidr}`));
    } else if (off === DNS_OFFSET && !isDnsService(svc)) {
      errs.push(invalid("spec.clusterIP", ip, `provided IP is reserved for the cluster DNS Service ${DNS_SERVICE.namespace}/${DNS_SERVICE.name}`));
    }
  }
  if (spec.clusterIps.length > 0 && ip && spec.clusterIps[0] !== ip) {
    errs.push(invalid("spec.clusterIPs[0]", spec.clusterIps[0], "must match `clusterIP`"));
  }
  if (serviceType(svc) === "NodePort") {
    spec.ports.forEach((p, i) => {
      if (p.nodePort !== 0 && !ports.contains(p.nodePort)) {
        errs.push(invalid(`spec.ports[${i}].nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${ports.text}`));
      }
    });
  }
  return errs;
}

/**
 * Kubernetes' patchAllocatedValues: an update that leaves clusterIP or a nodePort empty keeps the
 * one already allocated (so re-applying a manifest without them is not a change). Mutates `next`.
 */
export function keepAllocated(current: Service, next: Service): void {
  const cs = current.spec;
  const ns = next.spec;
  if (!cs || !ns) return;
  if (ns.clusterIp === "" && cs.clusterIp !== "") ns.clusterIp = cs.clusterIp;
  if (ns.clusterIps.length === 0 && cs.clusterIps.length > 0 && ns.clusterIp === cs.clusterIp) ns.clusterIps = [...cs.clusterIps];
  if (serviceType(next) !== "NodePort" || serviceType(current) !== "NodePort") return;
  for (const p of ns.ports) {
    if (p.nodePort !== 0) continue;
    const proto = p.protocol || "TCP";
    const old =
      cs.ports.find((o) => o.name === p.name && o.port === p.port && (o.protocol || "TCP") === proto) ??
      cs.ports.find((o) => o.port === p.port && (o.protocol || "TCP") === proto) ??
      (p.name ? cs.ports.find((o) => o.name === p.name) : undefined);
    if (old?.nodePort) p.nodePort = old.nodePort;
  }
}

/** What still needs choosing in a Service: an IP (when not headless and none is set) and the NodePorts left at 0. */
export function unfilled(svc: Service): { ip: boolean; ports: number[] } {
  const spec = svc.spec;
  if (!spec) return { ip: false, ports: [] };
  const ip = !isHeadless(svc) && spec.clusterIp === "";
  const ports: number[] = [];
  if (serviceType(svc) === "NodePort") spec.ports.forEach((p, i) => p.nodePort === 0 && ports.push(i));
  return { ip, ports };
}

/** Sets clusterIPs from clusterIP, as Kubernetes' defaulting does. */
export function syncClusterIps(svc: Service): void {
  const spec = svc.spec;
  if (!spec) return;
  if (spec.clusterIp && spec.clusterIps.length === 0) spec.clusterIps = [spec.clusterIp];
}

/** A random usable offset that is not reserved (1 and 10) and not in `taken`; undefined when none is left. */
export function pickIpOffset(ips: IpRange, taken: ReadonlySet<number>, random: () => number = Math.random): number | undefined {
  const free = (o: number) => ips.usable(o) && o !== API_OFFSET && o !== DNS_OFFSET && !taken.has(o);
  // Random probes first (the range is mostly free), then a scan from a random start.
  for (let i = 0; i < 16; i++) {
    const o = Math.floor(random() * ips.size);
    if (free(o)) return o;
  }
  const start = Math.floor(random() * ips.size);
  for (let i = 0; i < ips.size; i++) {
    const o = (start + i) % ips.size;
    if (free(o)) return o;
  }
  return undefined;
}

export function pickPort(ports: PortRange, taken: ReadonlySet<number>, random: () => number = Math.random): number | undefined {
  for (let i = 0; i < 16; i++) {
    const p = ports.min + Math.floor(random() * ports.size);
    if (!taken.has(p)) return p;
  }
  const start = Math.floor(random() * ports.size);
  for (let i = 0; i < ports.size; i++) {
    const p = ports.min + ((start + i) % ports.size);
    if (!taken.has(p)) return p;
  }
  return undefined;
}

/** Acquire and release sets between two versions of a Service (by claim key). */
export function claimDiff(before: Claim[], after: Claim[]): { acquire: Claim[]; release: Claim[] } {
  const b = new Map(before.map((c) => [claimKey(c), c]));
  const a = new Map(after.map((c) => [claimKey(c), c]));
  return {
    acquire: [...a].filter(([k]) => !b.has(k)).map(([, c]) => c),
    release: [...b].filter(([k]) => !a.has(k)).map(([, c]) => c),
  };
}
