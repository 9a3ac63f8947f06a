import { milliValue, tryParseQuantity, value } from "@corral/apimachinery";
import type { Container } from "@corral/api";

/** The cgroup settings a container's requests and limits become (cgroupfs driver, as the kubelet). */
export interface CgroupResources {
  cpuShares: bigint;
  cpuQuota: bigint;
  cpuPeriod: bigint;
  memoryLimitInBytes: bigint;
}

const CPU_PERIOD_US = 100_000;
const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;
const MIN_QUOTA_US = 1_000;

export function cgroupResources(c: Container): CgroupResources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  // A limit without a request implies the request, as Kubernetes defaults it.
  const cpuReq = milli(req["cpu"] ?? lim["cpu"]);
  const cpuLim = milli(lim["cpu"]);
  const memLim = bytes(lim["memory"]);
  const shares = cpuReq === undefined ? MIN_SHARES : Math.max(MIN_SHARES, Math.floor((cpuReq * SHARES_PER_CPU) / 1000));
  const quota = cpuLim === undefined ? 0 : Math.max(MIN_QUOTA_US, Math.floor((cpuLim * CPU_PERIOD_US) / 1000));
  return {
    cpuShares: BigInt(shares),
    cpuQuota: BigInt(quota),
    cpuPeriod: BigInt(cpuLim === undefined ? 0 : CPU_PERIOD_US),
    memoryLimitInBytes: BigInt(memLim ?? 0),
  };
}

function milli(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const q = tryParseQuantity(s);
  return q ? milliValue(q) : undefined;
}

function bytes(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const q = tryParseQuantity(s);
  return q ? value(q) : undefined;
}
