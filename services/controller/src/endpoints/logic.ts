// The Endpoints controller's decisions (k8s.io/kubernetes/pkg/controller/endpoint): which pods of a
// Service are its endpoints, on which ports (named target ports resolved per pod), ready or not,
// packed into subsets by port set. Pure.
import { create } from "@bufbuild/protobuf";
import {
  EndpointAddressSchema,
  EndpointPortSchema,
  EndpointSubsetSchema,
  type EndpointAddress,
  type EndpointPort,
  type EndpointSubset,
  type Pod,
  type Service,
  type ServicePort,
} from "@corral/api";
import { isReady } from "../shared/pods.js";

/** The Service selects these labels (a Service without a selector selects nothing). */
export function serviceSelects(svc: Service, labels: Readonly<Record<string, string>> | undefined): boolean {
  const sel = svc.spec?.selector ?? {};
  const keys = Object.keys(sel);
  if (keys.length === 0) return false;
  const l = labels ?? {};
  return keys.every((k) => l[k] === sel[k]);
}

/** Kubernetes' ShouldPodBeInEndpoints. */
export function podInEndpoints(p: Pod, includeTerminating: boolean): boolean {
  if (!p.status?.podIp) return false;
  if (!includeTerminating && p.metadata?.deletionTimestamp) return false;
  const phase = p.status.phase;
  switch (p.spec?.restartPolicy) {
    case "Never":
      return phase !== "Failed" && phase !== "Succeeded";
    case "OnFailure":
      return phase !== "Succeeded";
    default:
      return true;
  }
}

const proto = (s: string | undefined) => s || "TCP";

/** The container port a service port reaches on this pod (Kubernetes' FindPort), or undefined. */
export function findPort(p: Pod, sp: ServicePort): number | undefined {
  const tp = sp.targetPort?.value;
  if (!tp || tp.case === undefined) return sp.port;
  if (tp.case === "intVal") return tp.value === 0 ? sp.port : tp.value;
  if (/^\d+$/.test(tp.value)) return Number(tp.value);
  for (const c of [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])]) {
    for (const port of c.ports) {
      if (port.name === tp.value && proto(port.protocol) === proto(sp.protocol)) return port.containerPort;
    }
  }
  return undefined;
}

function address(svc: Service, p: Pod): EndpointAddress {
  const m = p.metadata!;
  const a = create(EndpointAddressSchema, {
    ip: p.status!.podIp,
    targetRef: { kind: "Pod", namespace: m.namespace, name: m.name, uid: m.uid },
  });
  if (p.spec?.nodeName) a.nodeName = p.spec.nodeName;
  if (p.spec?.hostname && p.spec.subdomain === svc.metadata?.name) a.hostname = p.spec.hostname;
  return a;
}

function portKey(ports: readonly EndpointPort[]): string {
  return ports.map((p) => `${p.name}/${p.port}/${p.protocol}`).join(",");
}

function ipOrder(a: EndpointAddress, b: EndpointAddress): number {
  const pa = a.ip.split(".").map(Number);
  const pb = b.ip.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0 && Number.isFinite(d)) return d;
  }
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0;
}

/**
 * The Endpoints subsets of a Service over the pods of its namespace: every selected pod with an IP
 * (not terminating, not finished), as a ready address or, when not ready, a not-ready address
 * (ready anyway with publishNotReadyAddresses); a pod whose named target port does not resolve is
 * left out of that port. Packed as Kubernetes' RepackSubsets: ports offered by the same addresses
 * share a subset. Sorted, so equal input gives equal output.
 */
export function endpointSubsets(svc: Service, pods: readonly Pod[]): EndpointSubset[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses ?? false;
  const svcPorts = svc.spec?.ports ?? [];
  const headless = svc.spec?.clusterIp === "None";
  // port key -> the port, and its addresses by IP (with readiness)
  const byPort = new Map<string, { port?: EndpointPort; addrs: Map<string, { a: EndpointAddress; ready: boolean }> }>();
  const offer = (key: string, port: EndpointPort | undefined, a: EndpointAddress, ready: boolean) => {
    let e = byPort.get(key);
    if (!e) byPort.set(key, (e = { port, addrs: new Map() }));
    const prior = e.addrs.get(a.ip);
    e.addrs.set(a.ip, { a, ready: ready || (prior?.ready ?? false) });
  };
  for (const p of pods) {
    if (!serviceSelects(svc, p.metadata?.labels) || !podInEndpoints(p, publishNotReady)) continue;
    const a = address(svc, p);
    const ready = publishNotReady || isReady(p);
    if (svcPorts.length === 0) {
      // A headless Service may have no ports: its addresses are kept with none.
      if (headless) offer("", undefined, a, ready);
      continue;
    }
    for (const sp of svcPorts) {
      const port = findPort(p, sp);
      if (port === undefined) continue;
      const ep = create(EndpointPortSchema, { name: sp.name, port, protocol: proto(sp.protocol) });
      if (sp.appProtocol !== undefined) ep.appProtocol = sp.appProtocol;
      offer(portKey([ep]), ep, a, ready);
    }
  }
  // Ports offered by the same set of addresses go into one subset.
  const groups = new Map<string, { ports: EndpointPort[]; addrs: { a: EndpointAddress; ready: boolean }[] }>();
  for (const e of byPort.values()) {
    const addrs = [...e.addrs.values()].sort((x, y) => ipOrder(x.a, y.a));
    const key = addrs.map((x) => `${x.a.ip}:${x.ready ? 1 : 0}`).join(",");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports: [], addrs }));
    if (e.port) g.ports.push(e.port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    g.ports.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.port - y.port || (x.protocol < y.protocol ? -1 : 1)));
    out.push(
      create(EndpointSubsetSchema, {
        addresses: g.addrs.filter((x) => x.ready).map((x) => x.a),
        notReadyAddresses: g.addrs.filter((x) => !x.ready).map((x) => x.a),
        ports: g.ports,
      }),
    );
  }
  return out.sort((x, y) => {
    const kx = portKey(x.ports);
    const ky = portKey(y.ports);
    if (kx !== ky) return kx < ky ? -1 : 1;
    const ax = [...x.addresses, ...x.notReadyAddresses][0]?.ip ?? "";
    const ay = [...y.addresses, ...y.notReadyAddresses][0]?.ip ?? "";
    return ax < ay ? -1 : ax > ay ? 1 : 0;
  });
}
