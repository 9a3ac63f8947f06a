// A cluster for the controllers' end-to-end tests: a control plane and one real node (containerd,
// node agent), the scheduler and the controller manager in-process, and simulated nodes when a
// test needs more than one node. Objects are waited on through watches (Watched), never by sleeps.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  DeploymentSchema,
  DeploymentSpecSchema,
  Deployments,
  Namespaces,
  NamespaceSchema,
  Pods,
  type Deployment,
  type Pod,
  type PodSpecSchema,
} from "@corral/api";
import type { Clientset } from "@corral/client";
import { Code, errorCode } from "@corral/grpc";
import { ControllerManager, type ControllerManagerOptions } from "@corral/controller";
import { createLogger } from "@corral/logging";
import { Scheduler } from "@corral/scheduler";
import { SIMULATED_TAINT } from "@corral/simnode";
import { startNode, type TestNode } from "../support/node.js";
import { Watched } from "../scheduler/until.js";

export const log = createLogger("controller-test", { level: process.env.CORRAL_LOG_LEVEL ?? "warn" });

export const TOLERATE_SIMULATED = { key: SIMULATED_TAINT.key, operator: "Exists", effect: SIMULATED_TAINT.effect };

export interface Cluster {
  node: TestNode;
  clients: Clientset;
  scheduler: Scheduler;
  /** The in-process controller manager (unless the test runs its own). */
  cm?: ControllerManager;
  /** busybox 1.35 from the node's registry, and the same image under another tag. */
  image: string;
  image2: string;
  pods: Watched<Pod>;
  /** Starts (or restarts) the controller manager with these options. */
  restartControllers(o?: Partial<ControllerManagerOptions>): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(o: { controllers?: Partial<ControllerManagerOptions>; inProcessControllers?: boolean } = {}): Promise<Cluster> {
  const node = await startNode({ backoffBaseMs: 500 });
  const clients = node.cp.connect();
  let scheduler: Scheduler | undefined;
  let cm: ControllerManager | undefined;
  let pods: Watched<Pod> | undefined;
  try {
    scheduler = await Scheduler.start({ clients, leaderElect: false, log });
    if (o.inProcessControllers !== false) {
      cm = await ControllerManager.start({ clients, leaderElect: false, log, jobBackoffBaseMs: 500, ...o.controllers });
      await cm.whenLeading();
    }
    pods = await Watched.start(clients.for(Pods));
  } catch (err) {
    await cm?.stop();
    await scheduler?.stop();
    await node.stop();
    throw err;
  }
  const image = node.host.busyboxImage;
  const c: Cluster = {
    node,
    clients,
    scheduler,
    cm,
    image,
    image2: image.replace(/:[^:/]+$/, ":latest"),
    pods,
    async restartControllers(opts = {}) {
      await c.cm?.stop();
      c.cm = await ControllerManager.start({ clients, leaderElect: false, log, jobBackoffBaseMs: 500, ...o.controllers, ...opts });
      await c.cm.whenLeading();
    },
    async stop() {
      await c.pods.stop();
      await c.cm?.stop();
      await c.scheduler.stop();
      // Whatever pods are left are stopped by the agent before the host is taken apart.
      await node.stop();
    },
  };
  return c;
}

export async function createNamespace(clients: Clientset, name: string): Promise<void> {
  await clients.for(Namespaces).create(create(NamespaceSchema, { metadata: { name } }));
}

/** A web server that is ready once it listens (TCP probe on 8080). */
export function webSpec(image: string, extra: MessageInitShape<typeof PodSpecSchema> = {}): MessageInitShape<typeof PodSpecSchema> {
  return {
    terminationGracePeriodSeconds: 2n,
    containers: [
      {
        name: "web",
        image,
        command: ["httpd", "-f", "-p", "8080", "-h", "/tmp"],
        ports: [{ name: "http", containerPort: 8080 }],
        readinessProbe: { tcpSocket: { port: { value: { case: "intVal", value: 8080 } } }, periodSeconds: 1 },
      },
    ],
    ...extra,
  };
}

export function deployment(
  namespace: string,
  name: string,
  replicas: number,
  spec: MessageInitShape<typeof PodSpecSchema>,
  extra: Omit<MessageInitShape<typeof DeploymentSpecSchema>, "$typeName"> = {},
): Deployment {
  const spec_: MessageInitShape<typeof DeploymentSpecSchema> = {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec },
    ...extra,
  };
  return create(DeploymentSchema, { metadata: { name, namespace }, spec: spec_ });
}

export const isReady = (p: Pod) => p.status?.conditions.some((c) => c.type === "Ready" && c.status === "True") ?? false;
export const live = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
export const inNamespace = (ns: string) => (p: Pod) => p.metadata?.namespace === ns;

/** A deployment's state as a test reads it: pods by readiness, and the status. */
export function podsOf(pods: readonly Pod[], ns: string, app: string): Pod[] {
  return pods.filter((p) => p.metadata?.namespace === ns && p.metadata?.labels.app === app);
}

export async function deployments(clients: Clientset, ns: string): Promise<Watched<Deployment>> {
  return Watched.start(clients.for(Deployments), { namespace: ns });
}

/** Compact state for timeout messages. */
export function describePods(pods: readonly Pod[]) {
  return pods.map((p) => ({
    name: p.metadata?.name,
    node: p.spec?.nodeName,
    phase: p.status?.phase,
    ready: isReady(p),
    deleting: !!p.metadata?.deletionTimestamp,
    image: p.spec?.containers[0]?.image,
  }));
}

/** A change to a Deployment as a user makes it: read, change, write; again on a conflict. */
export async function editDeployment(clients: Clientset, namespace: string, name: string, change: (d: Deployment) => void): Promise<Deployment> {
  for (let attempt = 0; ; attempt++) {
    const d = await clients.for(Deployments).get({ namespace, name });
    change(d);
    d.status = undefined;
    try {
      return await clients.for(Deployments).update(d);
    } catch (err) {
      if (errorCode(err) !== Code.ABORTED || attempt > 5) throw err;
    }
  }
}
