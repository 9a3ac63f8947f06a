import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { NodeConditionSchema, type NodeCondition } from "@corral/api";
import type { MachineReadings } from "./readings.js";

/** The kubelet's default hard eviction thresholds, which the pressure conditions follow. */
export const THRESHOLDS = {
  memoryAvailableBytes: 100 * 1024 * 1024,
  diskAvailableFraction: 0.1,
  pidsFreeFraction: 0.1,
} as const;

export const MAX_PODS = 110;

export function capacity(r: MachineReadings): Record<string, string> {
  return {
    cpu: String(r.cpus),
    memory: `${Math.floor(r.memoryTotalBytes / 1024)}Ki`,
    pods: String(MAX_PODS),
    "ephemeral-storage": `${Math.floor(r.diskTotalBytes / 1024)}Ki`,
  };
}

/** Capacity less what the eviction threshold keeps back, as the kubelet's allocatable. */
export function allocatable(r: MachineReadings): Record<string, string> {
  return {
    ...capacity(r),
    memory: `${Math.max(0, Math.floor((r.memoryTotalBytes - THRESHOLDS.memoryAvailableBytes) / 1024))}Ki`,
  };
}

export interface RuntimeHealth {
  runtimeReady: boolean;
  networkReady: boolean;
  message: string;
}

type Cond = { type: string; /** The condition's status is True. */ ok: boolean; reason: string; message: string };

/** Ready and the pressure conditions, from readings and the runtime's health. Pure. */
export function nodeConditions(r: MachineReadings, h: RuntimeHealth, old: readonly NodeCondition[], now: number): NodeCondition[] {
  const memPressure = r.memoryAvailableBytes < THRESHOLDS.memoryAvailableBytes;
  const diskPressure = r.diskTotalBytes > 0 && r.diskAvailableBytes / r.diskTotalBytes < THRESHOLDS.diskAvailableFraction;
  const pidPressure = r.pidMax > 0 && (r.pidMax - r.pidsInUse) / r.pidMax < THRESHOLDS.pidsFreeFraction;
  const ready = h.runtimeReady && h.networkReady;
  const conds: Cond[] = [
    { type: "MemoryPressure", ok: memPressure, reason: memPressure ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory", message: memPressure ? "node has memory pressure" : "node has sufficient memory available" },
    { type: "DiskPressure", ok: diskPressure, reason: diskPressure ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure", message: diskPressure ? "node has disk pressure" : "node has no disk pressure" },
    { type: "PIDPressure", ok: pidPressure, reason: pidPressure ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID", message: pidPressure ? "node has PID pressure" : "node has sufficient PID available" },
    { type: "Ready", ok: ready, reason: ready ? "KubeletReady" : "KubeletNotReady", message: ready ? "node agent is posting ready status" : h.message },
  ];
  return conds.map((c) => {
    const status = c.ok ? "True" : "False";
    const prior = old.find((o) => o.type === c.type);
    const init: MessageInitShape<typeof NodeConditionSchema> = {
      type: c.type,
      status,
      reason: c.reason,
      message: c.message,
      lastHeartbeatTime: timestampFromMs(now),
      lastTransitionTime: prior && prior.status === status ? prior.lastTransitionTime : timestampFromMs(now),
    };
    return create(NodeConditionSchema, init);
  });
}

/** True when the conditions say something other than what was last written (heartbeat times aside). */
export function conditionsChanged(a: readonly NodeCondition[], b: readonly NodeCondition[]): boolean {
  if (a.length !== b.length) return true;
  return a.some((x) => {
    const y = b.find((c) => c.type === x.type);
    return !y || y.status !== x.status || y.reason !== x.reason || y.message !== x.message;
  });
}
