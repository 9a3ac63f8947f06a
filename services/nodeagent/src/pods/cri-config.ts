import { create, toBinary } from "@bufbuild/protobuf";
import { ContainerSchema, type Container, type Pod } from "@corral/api";
import {
  ContainerConfigSchema,
  NamespaceMode,
  PodSandboxConfigSchema,
  Protocol,
  type ContainerConfig,
  type DNSConfig,
  type PodSandboxConfig,
} from "@corral/cri";
import { createHash } from "node:crypto";
import type { NodePaths } from "../paths.js";
import * as L from "../cri/labels.js";
import { podDNSConfig } from "./dns.js";
import { cgroupResources } from "./resources.js";

export const DEFAULT_GRACE_SECONDS = 30;

export function podLabels(pod: Pod): Record<string, string> {
  const m = pod.metadata!;
  return {
    [L.POD_NAME]: m.name,
    [L.POD_NAMESPACE]: m.namespace,
    [L.POD_UID]: m.uid,
    [L.MANAGED_BY]: L.MANAGED_BY_VALUE,
  };
}

export function graceSeconds(pod: Pod): number {
  return Number(pod.spec?.terminationGracePeriodSeconds ?? BigInt(DEFAULT_GRACE_SECONDS));
}

/** The sandbox of a pod: its network namespace (from CNI, unless hostNetwork), cgroup parent, logs. */
export function sandboxConfig(pod: Pod, attempt: number, paths: NodePaths, dns?: DNSConfig): PodSandboxConfig {
  const m = pod.metadata!;
  const spec = pod.spec!;
  const portMappings = [...spec.initContainers, ...spec.containers].flatMap((c) =>
    c.ports
      .filter((p) => p.hostPort > 0)
      .map((p) => ({
        protocol: p.protocol === "UDP" ? Protocol.UDP : p.protocol === "SCTP" ? Protocol.SCTP : Protocol.TCP,
        containerPort: p.containerPort,
        hostPort: p.hostPort,
        hostIp: p.hostIp,
      })),
  );
  return create(PodSandboxConfigSchema, {
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, attempt },
    hostname: spec.hostNetwork ? "" : (spec.hostname || m.name).slice(0, 63),
    logDirectory: paths.podLogDir(m.namespace, m.name, m.uid),
    dnsConfig: podDNSConfig(pod, dns),
    portMappings,
    labels: podLabels(pod),
    annotations: { [L.TERMINATION_GRACE]: String(graceSeconds(pod)) },
    linux: {
      cgroupParent: paths.podCgroup(m.uid),
      securityContext: {
        namespaceOptions: {
          network: spec.hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD,
          pid: spec.shareProcessNamespace ? NamespaceMode.POD : NamespaceMode.CONTAINER,
          ipc: NamespaceMode.POD,
        },
      },
    },
  });
}

/** Changes when the container's spec changes: a running container with another hash is replaced. */
export function containerHash(c: Container): string {
  return createHash("sha256").update(toBinary(ContainerSchema, c)).digest("hex").slice(0, 16);
}

export interface ContainerInputs {
  restartCount: number;
  isInit: boolean;
  envs: { key: string; value: string }[];
  mounts: { containerPath: string; hostPath: string; readonly: boolean }[];
  /** The image reference to run (the resolved image id, or the spec's name). */
  image: string;
}

export function containerConfig(pod: Pod, c: Container, inp: ContainerInputs, paths: NodePaths): ContainerConfig {
  const sc = c.securityContext;
  const r = cgroupResources(c);
  return create(ContainerConfigSchema, {
    metadata: { name: c.name, attempt: inp.restartCount },
    image: { image: inp.image },
    command: c.command,
    args: c.args,
    workingDir: c.workingDir,
    envs: inp.envs,
    mounts: inp.mounts,
    labels: { ...podLabels(pod), [L.CONTAINER_NAME]: c.name },
    annotations: {
      [L.RESTART_COUNT]: String(inp.restartCount),
      [L.CONTAINER_TYPE]: inp.isInit ? "init" : "app",
      [L.CONTAINER_HASH]: containerHash(c),
      [L.TERMINATION_GRACE]: String(graceSeconds(pod)),
    },
    logPath: paths.containerLogPath(c.name, inp.restartCount),
    stdin: c.stdin,
    tty: c.tty,
    linux: {
      resources: r,
      securityContext: {
        privileged: sc?.privileged ?? false,
        runAsUser: sc?.runAsUser !== undefined ? { value: sc.runAsUser } : undefined,
        runAsGroup: sc?.runAsGroup !== undefined ? { value: sc.runAsGroup } : undefined,
        readonlyRootfs: sc?.readOnlyRootFilesystem ?? false,
        capabilities: sc?.capabilities ? { addCapabilities: sc.capabilities.add, dropCapabilities: sc.capabilities.drop } : undefined,
        namespaceOptions: {
          network: pod.spec?.hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD,
          pid: pod.spec?.shareProcessNamespace ? NamespaceMode.POD : NamespaceMode.CONTAINER,
          ipc: NamespaceMode.POD,
        },
      },
    },
  });
}
