// Which container of a pod a request means, and how to say why it cannot be served (kubectl's words).
import type { Container, ContainerStatus, Pod } from "@corral/api";
import { Code, GrpcError } from "@corral/grpc";

export interface ChosenContainer {
  name: string;
  init: boolean;
  spec: Container;
}

/**
 * The named container (app or init), or the only app container when none is named; otherwise an
 * INVALID_ARGUMENT that lists the choices, as kubectl does.
 */
export function pickContainer(pod: Pod, requested: string): ChosenContainer {
  const name = pod.metadata?.name ?? "";
  const apps = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  if (!requested) {
    if (apps.length === 1) return { name: apps[0]!.name, init: false, spec: apps[0]! };
    const initNote = inits.length ? ` or one of the init containers: [${inits.map((c) => c.name).join(" ")}]` : "";
    throw new GrpcError(
      Code.INVALID_ARGUMENT,
      `a container name must be specified for pod ${name}, choose one of: [${apps.map((c) => c.name).join(" ")}]${initNote}`,
    );
  }
  const app = apps.find((c) => c.name === requested);
  if (app) return { name: app.name, init: false, spec: app };
  const init = inits.find((c) => c.name === requested);
  if (init) return { name: init.name, init: true, spec: init };
  const all = [...inits, ...apps].map((c) => c.name).join(" ");
  throw new GrpcError(Code.NOT_FOUND, `container "${requested}" not found in pod "${name}" (containers: [${all}])`);
}

/** The container's status in the pod's status, if the agent has reported one. */
export function containerStatus(pod: Pod, c: ChosenContainer): ContainerStatus | undefined {
  const list = c.init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses;
  return list?.find((s) => s.name === c.name);
}

/** "is waiting to start: CrashLoopBackOff", "has terminated (exit code 1)", ... for messages about a container that is not running. */
export function describeNotRunning(pod: Pod, c: ChosenContainer): string {
  const s = containerStatus(pod, c);
  const w = s?.state?.waiting;
  if (w) return `is waiting to start: ${w.reason || "ContainerCreating"}${w.message ? ` (${w.message})` : ""}`;
  const t = s?.state?.terminated;
  if (t) return `has terminated (${t.reason || "Completed"}, exit code ${t.exitCode})`;
  if (!pod.status?.podIp && (pod.status?.phase || "Pending") === "Pending") {
    return `is waiting to start: ${c.init ? "PodInitializing" : "ContainerCreating"}`;
  }
  return "is not running";
}
