// What the proxy programs for a Service, derived from the Service and its Endpoints (pure).
import type { Endpoints, Service } from "@corral/api";

export type Proto = "tcp" | "udp" | "sctp";

export interface Backend {
  ip: string;
  port: number;
  /** On this node (Endpoints address nodeName == the proxy's node). */
  local: boolean;
}

/** One port of one Service, as the proxy programs it. */
export interface ServicePortState {
  /** "namespace/name/proto/port-name-or-number": stable, unique, and the name of its objects. */
  id: string;
  clusterIP: string;
  protocol: Proto;
  port: number;
  /** 0 when the Service is not a NodePort. */
  nodePort: number;
  /** internalTrafficPolicy Local: ClusterIP traffic goes to this node's endpoints only. */
  internalLocal: boolean;
  /** externalTrafficPolicy Local: NodePort traffic goes to this node's endpoints only and keeps its source. */
  externalLocal: boolean;
  /** sessionAffinity ClientIP timeout in seconds; 0 = no affinity. */
  affinitySeconds: number;
  /** Ready endpoints, sorted by address and port. */
  backends: Backend[];
}

/** Services with this label belong to another proxy (as in Kubernetes); Corral's cluster DNS is one. */
export const SERVICE_PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name";
/** Kubernetes' default ClientIP affinity timeout (3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

function proto(p: string): Proto | undefined {
  switch (p || "TCP") {
    case "TCP":
      return "tcp";
    case "UDP":
      return "udp";
    case "SCTP":
      return "sctp";
    default:
      return undefined;
  }
}

/** True when the proxy leaves this Service alone (headless, not yet allocated, or another proxy's). */
export function skipped(svc: Service): boolean {
  const ip = svc.spec?.clusterIp ?? "";
  if (ip === "" || ip === "None") return true;
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return true; // IPv6 is not programmed
  return (svc.metadata?.labels ?? {})[SERVICE_PROXY_NAME_LABEL] !== undefined;
}

/**
 * The ports of a Service with their ready endpoints. An Endpoints port matches a Service port by
 * name (and protocol), as the Endpoints controller names them after the Service's ports.
 */
export function servicePorts(svc: Service, eps: Endpoints | undefined, nodeName: string): ServicePortState[] {
  if (skipped(svc)) return [];
  const spec = svc.spec!;
  const m = svc.metadata!;
  const out: ServicePortState[] = [];
  const type = spec.type || "ClusterIP";
  const affinity = spec.sessionAffinity === "ClientIP" ? (spec.sessionAffinityConfig?.clientIp?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : 0;
  for (const sp of spec.ports) {
    const p = proto(sp.protocol);
    if (!p || sp.port <= 0) continue;
    const seen = new Set<string>();
    const backends: Backend[] = [];
    for (const subset of eps?.subsets ?? []) {
      const ep = subset.ports.find((x) => x.name === sp.name && (proto(x.protocol) ?? "tcp") === p);
      if (!ep || ep.port <= 0) continue;
      for (const a of subset.addresses) {
        const key = `${a.ip}:${ep.port}`;
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(a.ip) || seen.has(key)) continue;
        seen.add(key);
        backends.push({ ip: a.ip, port: ep.port, local: a.nodeName === nodeName });
      }
    }
    backends.sort(compareBackends);
    out.push({
      id: `${m.namespace}/${m.name}/${p}/${sp.name || sp.port}`,
      clusterIP: spec.clusterIp,
      protocol: p,
      port: sp.port,
      nodePort: type === "NodePort" ? sp.nodePort : 0,
      internalLocal: spec.internalTrafficPolicy === "Local",
      externalLocal: type === "NodePort" && spec.externalTrafficPolicy === "Local",
      affinitySeconds: affinity,
      backends,
    });
  }
  return out;
}

export function compareBackends(a: Backend, b: Backend): number {
  const x = ipNumber(a.ip);
  const y = ipNumber(b.ip);
  return x !== y ? x - y : a.port - b.port;
}

function ipNumber(ip: string): number {
  const p = ip.split(".").map(Number);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

/** The endpoints ClusterIP traffic goes to. */
export function clusterBackends(s: ServicePortState): Backend[] {
  return s.internalLocal ? s.backends.filter((b) => b.local) : s.backends;
}

/** The endpoints NodePort traffic goes to. */
export function externalBackends(s: ServicePortState): Backend[] {
  return s.externalLocal ? s.backends.filter((b) => b.local) : s.backends;
}

export function sameState(a: ServicePortState | undefined, b: ServicePortState | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
