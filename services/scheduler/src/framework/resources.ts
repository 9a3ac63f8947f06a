// Resource arithmetic for scheduling: quantities parsed once into plain numbers (CPU in
// millicores, everything else in whole units), and a pod's request computed as Kubernetes does.
import type { Container, Pod } from "@corral/api";
import { milliValue, tryParseQuantity, value } from "@corral/apimachinery";

export const CPU = "cpu";
export const MEMORY = "memory";
export const EPHEMERAL_STORAGE = "ephemeral-storage";
export const PODS = "pods";

/** What a container without a request counts as when scoring (Kubernetes' non-zero defaults). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** A node with no "pods" in allocatable nor capacity is taken to hold the kubelet's default. */
export const DEFAULT_MAX_PODS = 110;

/** An amount of each resource: cpu in millicores, the rest in units (bytes, devices). */
export interface Resources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended resources ("nvidia.com/gpu", "hugepages-2Mi"): only the ones present. */
  scalar?: Record<string, number>;
}

export function emptyResources(): Resources {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0 };
}

const parsed = new Map<string, number>();
const parsedMilli = new Map<string, number>();

/** Parses a quantity into units (milli for cpu), memoised: the same few strings recur in every pod. */
export function quantityValue(resource: string, s: string): number {
  const milli = resource === CPU;
  const memo = milli ? parsedMilli : parsed;
  let v = memo.get(s);
  if (v === undefined) {
    const q = tryParseQuantity(s);
    v = q ? (milli ? milliValue(q) : value(q)) : 0;
    if (memo.size < 10_000) memo.set(s, v);
  }
  return v;
}

/** Adds one resource's amount into `r`. */
export function addResource(r: Resources, name: string, amount: number): void {
  switch (name) {
    case CPU:
      r.milliCPU += amount;
      return;
    case MEMORY:
      r.memory += amount;
      return;
    case EPHEMERAL_STORAGE:
      r.ephemeralStorage += amount;
      return;
    case PODS:
      return;
    default:
      r.scalar ??= {};
      r.scalar[name] = (r.scalar[name] ?? 0) + amount;
  }
}

export function addResources(into: Resources, r: Resources, sign = 1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  if (r.scalar) {
    into.scalar ??= {};
    for (const [k, v] of Object.entries(r.scalar)) into.scalar[k] = (into.scalar[k] ?? 0) + sign * v;
  }
}

function maxInto(into: Resources, r: Resources): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  if (r.scalar) {
    into.scalar ??= {};
    for (const [k, v] of Object.entries(r.scalar)) into.scalar[k] = Math.max(into.scalar[k] ?? 0, v);
  }
}

/** One container's requests; a resource with a limit but no request requests its limit (Kubernetes' defaulting). */
export function containerRequests(c: Container): Resources {
  const r = emptyResources();
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  for (const [name, s] of Object.entries(req)) addResource(r, name, quantityValue(name, s));
  for (const [name, s] of Object.entries(lim)) if (!(name in req)) addResource(r, name, quantityValue(name, s));
  return r;
}

/**
 * The pod's effective request, as Kubernetes computes it: init containers run one at a time
 * before the app containers, which then run together, so per resource it is
 * max(max over init containers, sum over app containers).
 */
export function podRequests(pod: Pod): Resources {
  const sum = emptyResources();
  for (const c of pod.spec?.containers ?? []) addResources(sum, containerRequests(c));
  for (const c of pod.spec?.initContainers ?? []) maxInto(sum, containerRequests(c));
  return sum;
}

/**
 * The request used for scoring: as podRequests, but a container that requests no cpu (memory)
 * counts as 100m (200Mi), so best-effort pods still spread (Kubernetes' GetNonzeroRequests).
 */
export function podNonZeroRequests(pod: Pod): { milliCPU: number; memory: number } {
  let cpu = 0;
  let mem = 0;
  const nz = (c: Container) => {
    const r = containerRequests(c);
    return { cpu: r.milliCPU || DEFAULT_MILLI_CPU_REQUEST, mem: r.memory || DEFAULT_MEMORY_REQUEST };
  };
  for (const c of pod.spec?.containers ?? []) {
    const r = nz(c);
    cpu += r.cpu;
    mem += r.mem;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = nz(c);
    cpu = Math.max(cpu, r.cpu);
    mem = Math.max(mem, r.mem);
  }
  return { milliCPU: cpu, memory: mem };
}

/** A node's allocatable resources (capacity where allocatable is empty) and its pod limit. */
export function nodeAllocatable(
  allocatable: Record<string, string>,
  capacity: Record<string, string>,
): Resources & { pods: number } {
  const src = Object.keys(allocatable).length > 0 ? allocatable : capacity;
  const r = emptyResources() as Resources & { pods: number };
  r.pods = DEFAULT_MAX_PODS;
  for (const [name, s] of Object.entries(src)) {
    if (name === PODS) r.pods = quantityValue(name, s);
    else addResource(r, name, quantityValue(name, s));
  }
  return r;
}
