// `corral rollout status|history|undo|pause|resume`, as kubectl's: status follows a Deployment (or
// DaemonSet, or StatefulSet) until its rollout is done, printing each step; history lists the revisions kept in
// the Deployment's ReplicaSets; undo puts a revision's template back; pause and resume set
// spec.paused.
import { clone, equals } from "@bufbuild/protobuf";
import {
  DaemonSets,
  Deployments,
  PodTemplateSpecSchema,
  ReplicaSets,
  StatefulSets,
  type DaemonSet,
  type Deployment,
  type KindInfo,
  type PodTemplateSpec,
  type ReplicaSet,
  type StatefulSet,
} from "@corral/api";
import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { tabwrite } from "../print/tabwriter.js";
import { parseResourceArgs, qualifiedName, UsageError } from "../resource-args.js";
import { parseDuration } from "../duration.js";

// The annotations and label the Deployment controller keeps (services/controller/src/deployment/util.ts).
export const REVISION = "deployment.kubernetes.io/revision";
const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
const DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
const CHANGE_CAUSE = "kubernetes.io/change-cause";
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const POD_TEMPLATE_HASH = "pod-template-hash";
/** Annotations a rollback does not copy from the ReplicaSet back to the Deployment (kubectl's). */
const SKIP_ON_ROLLBACK = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to"]);

type Out = (s: string) => void;

/** One TYPE/NAME (or TYPE NAME) of the kinds a subcommand supports. */
function target(args: string[], kinds: readonly KindInfo[], verb: string): { kind: KindInfo; name: string } {
  const refs = parseResourceArgs(args);
  const names = refs.flatMap((r) => r.names.map((name) => ({ kind: r.kind, name })));
  if (names.length !== 1) throw new UsageError(`${verb} takes one resource: TYPE/NAME, e.g. deploy/web`);
  const t = names[0]!;
  if (!kinds.includes(t.kind)) {
    throw new UsageError(`${verb} is not supported for ${t.kind.resource} (only ${kinds.map((k) => k.resource).join(", ")})`);
  }
  return t;
}

// ---------- status ----------

export interface StatusResult {
  message: string;
  done: boolean;
  /** The rollout failed (progress deadline exceeded): message says so. */
  error?: boolean;
}

/** kubectl's DeploymentStatusViewer. */
export function deploymentRolloutStatus(d: Deployment, revision?: number): StatusResult {
  const name = d.metadata?.name ?? "";
  if (revision !== undefined && revision > 0) {
    const current = Number.parseInt(d.metadata?.annotations[REVISION] ?? "", 10);
    if (current !== revision) {
      return { message: `desired revision (${revision}) is different from the running revision (${Number.isNaN(current) ? 0 : current})`, done: true, error: true };
    }
  }
  const st = d.status;
  if ((d.metadata?.generation ?? 0n) > (st?.observedGeneration ?? 0n)) return { message: "Waiting for deployment spec update to be observed...\n", done: false };
  const cond = st?.conditions.find((c) => c.type === "Progressing");
  if (cond?.reason === "ProgressDeadlineExceeded") return { message: `deployment "${name}" exceeded its progress deadline`, done: true, error: true };
  const replicas = d.spec?.replicas ?? 1;
  const updated = st?.updatedReplicas ?? 0;
  if (updated < replicas) {
    return { message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...\n`, done: false };
  }
  if ((st?.replicas ?? 0) > updated) {
    return { message: `Waiting for deployment "${name}" rollout to finish: ${(st?.replicas ?? 0) - updated} old replicas are pending termination...\n`, done: false };
  }
  if ((st?.availableReplicas ?? 0) < updated) {
    return { message: `Waiting for deployment "${name}" rollout to finish: ${st?.availableReplicas ?? 0} of ${updated} updated replicas are available...\n`, done: false };
  }
  return { message: `deployment "${name}" successfully rolled out\n`, done: true };
}

/** kubectl's DaemonSetStatusViewer. */
export function daemonSetRolloutStatus(ds: DaemonSet): StatusResult {
  const name = ds.metadata?.name ?? "";
  if ((ds.spec?.updateStrategy?.type || "RollingUpdate") !== "RollingUpdate") {
    return { message: "rollout status is only available for RollingUpdate strategy type", done: true, error: true };
  }
  const st = ds.status;
  if ((ds.metadata?.generation ?? 0n) > (st?.observedGeneration ?? 0n)) return { message: "Waiting for daemon set spec update to be observed...\n", done: false };
  const desired = st?.desiredNumberScheduled ?? 0;
  const updated = st?.updatedNumberScheduled ?? 0;
  if (updated < desired) {
    return { message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...\n`, done: false };
  }
  if ((st?.numberAvailable ?? 0) < desired) {
    return { message: `Waiting for daemon set "${name}" rollout to finish: ${st?.numberAvailable ?? 0} of ${desired} updated pods are available...\n`, done: false };
  }
  return { message: `daemon set "${name}" successfully rolled out\n`, done: true };
}

/** kubectl's StatefulSetStatusViewer. */
export function statefulSetRolloutStatus(sts: StatefulSet): StatusResult {
  const type = sts.spec?.updateStrategy?.type || "RollingUpdate";
  if (type !== "RollingUpdate") return { message: "rollout status is only available for RollingUpdate strategy type", done: true, error: true };
  const st = sts.status;
  const observed = st?.observedGeneration ?? 0n;
  if (observed === 0n || (sts.metadata?.generation ?? 0n) > observed) return { message: "Waiting for statefulset spec update to be observed...\n", done: false };
  const replicas = sts.spec?.replicas ?? 1;
  const ready = st?.readyReplicas ?? 0;
  if (ready < replicas) return { message: `Waiting for ${replicas - ready} pods to be ready...\n`, done: false };
  const updated = st?.updatedReplicas ?? 0;
  const partition = sts.spec?.updateStrategy?.rollingUpdate?.partition;
  if (partition !== undefined) {
    if (updated < replicas - partition) {
      return { message: `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...\n`, done: false };
    }
    return { message: `partitioned roll out complete: ${updated} new pods have been updated...\n`, done: true };
  }
  if (st?.updateRevision !== st?.currentRevision) {
    return { message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${st?.updateRevision}...\n`, done: false };
  }
  return { message: `statefulset rolling update complete ${st?.currentReplicas ?? 0} pods at revision ${st?.currentRevision}...\n`, done: true };
}

export interface RolloutStatusOptions {
  watch?: boolean;
  timeout?: string;
  revision?: string;
}

export async function rolloutStatus(ctx: CommandContext, args: string[], o: RolloutStatusOptions, out: Out): Promise<void> {
  const { kind, name } = target(args, [Deployments, DaemonSets, StatefulSets], "rollout status");
  const revision = o.revision !== undefined ? Number(o.revision) : undefined;
  if (revision !== undefined && (!Number.isInteger(revision) || revision < 0)) throw new UsageError("--revision must be a non-negative integer");
  if (revision && kind !== Deployments) throw new UsageError("--revision is only supported for deployments");
  const timeoutMs = o.timeout ? parseDuration(o.timeout) : 0;
  type Rollable = Deployment | DaemonSet | StatefulSet;
  const view = (obj: Rollable) =>
    kind === Deployments
      ? deploymentRolloutStatus(obj as Deployment, revision)
      : kind === DaemonSets
        ? daemonSetRolloutStatus(obj as DaemonSet)
        : statefulSetRolloutStatus(obj as StatefulSet);
  const client = ctx.clients.for(kind as KindInfo<Rollable>);
  const first = await client.get({ namespace: ctx.namespace, name });
  let last = "";
  const show = (obj: Rollable): boolean => {
    const r = view(obj);
    if (r.error) throw new UsageError(r.message);
    if (r.message !== last) out(r.message);
    last = r.message;
    return r.done;
  };
  if (show(first) || o.watch === false) return;
  const ac = new AbortController();
  const timer = timeoutMs > 0 ? setTimeout(() => ac.abort(), timeoutMs) : undefined;
  try {
    // Watch from the version read, so no change in between is missed.
    const stream = client.watch({ namespace: ctx.namespace, fieldSelector: `metadata.name=${name}`, resourceVersion: first.metadata!.resourceVersion }, { signal: ac.signal });
    for await (const ev of stream) {
      if (ev.type === "DELETED") throw new UsageError(`${kind.singular} "${name}" was deleted`);
      if (ev.object && show(ev.object)) return;
    }
  } catch (err) {
    if (ac.signal.aborted) throw new UsageError(`timed out waiting for the condition`);
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
    ac.abort();
  }
}

// ---------- history and undo ----------

function revisionOf(rs: ReplicaSet): number {
  const n = Number.parseInt(rs.metadata?.annotations[REVISION] ?? "", 10);
  return Number.isNaN(n) ? 0 : n;
}

/** The Deployment's ReplicaSets (those whose controller reference is it), by revision. */
async function history(ctx: CommandContext, d: Deployment): Promise<ReplicaSet[]> {
  const { items } = await ctx.clients.for(ReplicaSets).list({ namespace: d.metadata!.namespace });
  return items
    .filter((rs) => rs.metadata?.ownerReferences.some((r) => r.controller && r.uid === d.metadata!.uid))
    .filter((rs) => revisionOf(rs) > 0)
    .sort((a, b) => revisionOf(a) - revisionOf(b));
}

function withoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec | undefined {
  if (!t) return undefined;
  const c = clone(PodTemplateSpecSchema, t);
  if (c.metadata) delete c.metadata.labels[POD_TEMPLATE_HASH];
  return c;
}

function templatesEqual(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  const x = withoutHash(a);
  const y = withoutHash(b);
  return x && y ? equals(PodTemplateSpecSchema, x, y) : x === y;
}

/** A pod template, as kubectl rollout history --revision shows it. */
export function describeTemplate(t: PodTemplateSpec | undefined): string {
  let s = "Pod Template:\n";
  const kv = (m: Record<string, string> | undefined) => Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`);
  const labels = kv(t?.metadata?.labels);
  s += `  Labels:\t${labels[0] ?? "<none>"}\n${labels.slice(1).map((l) => `\t${l}\n`).join("")}`;
  const annotations = Object.entries(t?.metadata?.annotations ?? {}).map(([k, v]) => `${k}: ${v}`);
  if (annotations.length) s += `  Annotations:\t${annotations.join("\n\t")}\n`;
  s += "  Containers:\n";
  for (const c of t?.spec?.containers ?? []) {
    s += `   ${c.name}:\n`;
    s += `    Image:\t${c.image}\n`;
    const ports = c.ports.map((p) => `${p.containerPort}/${p.protocol || "TCP"}`);
    s += `    Port:\t${ports.length ? ports.join(", ") : "<none>"}\n`;
    if (c.command.length) s += `    Command:\n${c.command.map((x) => `      ${x}\n`).join("")}`;
    if (c.args.length) s += `    Args:\n${c.args.map((x) => `      ${x}\n`).join("")}`;
    s += `    Environment:\t${c.env.length ? "" : "<none>"}\n${c.env.map((e) => `      ${e.name}:\t${e.value}\n`).join("")}`;
  }
  return tabwrite(s);
}

export interface RolloutHistoryOptions {
  revision?: string;
}

export async function rolloutHistory(ctx: CommandContext, args: string[], o: RolloutHistoryOptions, out: Out): Promise<void> {
  const { name } = target(args, [Deployments], "rollout history");
  const d = await ctx.clients.for(Deployments).get({ namespace: ctx.namespace, name });
  const revs = await history(ctx, d);
  const q = qualifiedName(Deployments, name);
  if (o.revision !== undefined && o.revision !== "0") {
    const want = Number(o.revision);
    const rs = revs.find((r) => revisionOf(r) === want);
    if (!rs) throw new UsageError(`unable to find the specified revision`);
    out(`${q} with revision #${want}\n${describeTemplate(rs.spec?.template)}`);
    return;
  }
  let table = "REVISION\tCHANGE-CAUSE\n";
  for (const rs of revs) table += `${revisionOf(rs)}\t${rs.metadata?.annotations[CHANGE_CAUSE] || "<none>"}\n`;
  out(`${q}\n${tabwrite(table)}\n`);
}

export interface RolloutUndoOptions {
  toRevision?: string;
}

export async function rolloutUndo(ctx: CommandContext, args: string[], o: RolloutUndoOptions, out: Out): Promise<void> {
  const { name } = target(args, [Deployments], "rollout undo");
  const toRevision = o.toRevision !== undefined ? Number(o.toRevision) : 0;
  if (!Number.isInteger(toRevision) || toRevision < 0) throw new UsageError("--to-revision must be a non-negative integer");
  const deployments = ctx.clients.for(Deployments);
  const d = await deployments.get({ namespace: ctx.namespace, name });
  const q = qualifiedName(Deployments, name);
  if (d.spec?.paused) {
    throw new UsageError(`you cannot rollback a paused deployment; resume it first with 'corral rollout resume deployment/${name}' and try again`);
  }
  const revs = await history(ctx, d);
  let rs: ReplicaSet | undefined;
  if (toRevision === 0) {
    // The revision before the current (highest) one.
    const sorted = [...revs].sort((a, b) => revisionOf(b) - revisionOf(a));
    if (sorted.length < 2) throw new UsageError(`no rollout history found for ${q}`);
    rs = sorted[1];
  } else {
    rs = revs.find((r) => revisionOf(r) === toRevision);
    if (!rs) throw new UsageError(`unable to find specified revision ${toRevision} in history`);
  }
  if (templatesEqual(rs!.spec?.template, d.spec?.template)) {
    out(`${q} skipped rollback (current template already matches revision ${revisionOf(rs!)})\n`);
    return;
  }
  const next = clone(Deployments.schema, d);
  next.spec!.template = withoutHash(rs!.spec?.template);
  const annotations = next.metadata!.annotations;
  for (const k of Object.keys(annotations)) if (!SKIP_ON_ROLLBACK.has(k)) delete annotations[k];
  for (const [k, v] of Object.entries(rs!.metadata?.annotations ?? {})) if (!SKIP_ON_ROLLBACK.has(k)) annotations[k] = v;
  next.status = undefined;
  await deployments.update(next);
  out(`${q} rolled back\n`);
}

// ---------- pause and resume ----------

async function setPaused(ctx: CommandContext, args: string[], paused: boolean, out: Out): Promise<void> {
  const verb = paused ? "pause" : "resume";
  const { name } = target(args, [Deployments], `rollout ${verb}`);
  const deployments = ctx.clients.for(Deployments);
  const d = await deployments.get({ namespace: ctx.namespace, name });
  if ((d.spec?.paused ?? false) === paused) throw new UsageError(`deployments.apps "${name}" is ${paused ? "already paused" : "not paused"}`);
  const next = clone(Deployments.schema, d);
  next.spec!.paused = paused;
  next.status = undefined;
  await deployments.update(next);
  out(`${qualifiedName(Deployments, name)} ${paused ? "paused" : "resumed"}\n`);
}

export const rolloutPause = (ctx: CommandContext, args: string[], out: Out) => setPaused(ctx, args, true, out);
export const rolloutResume = (ctx: CommandContext, args: string[], out: Out) => setPaused(ctx, args, false, out);

type WithContext = <A extends unknown[]>(fn: (ctx: CommandContext, ...a: A) => Promise<void>) => (...a: A) => Promise<void>;

/** Adds `rollout` and its subcommands to the program. */
export function registerRollout(program: Command, withContext: WithContext, out: Out): void {
  const rollout = program.command("rollout").description("manage the rollout of a deployment (status, history, undo, pause, resume)");
  rollout
    .command("status")
    .description("follow a rollout until it is done (deployments and daemonsets)")
    .argument("<resource...>", "TYPE/NAME, e.g. deploy/web")
    .option("-w, --watch <bool>", "watch until the rollout is done (default true; --watch=false prints the status once)")
    .option("--timeout <duration>", "give up after this long (e.g. 5m; 0: never)")
    .option("--revision <n>", "pin to this revision: fail if another one is running")
    .action(
      withContext((ctx, args: string[], o: { watch?: string; timeout?: string; revision?: string }) => {
        if (o.watch !== undefined && o.watch !== "true" && o.watch !== "false") throw new UsageError(`--watch must be true or false, not "${o.watch}"`);
        return rolloutStatus(ctx, args, { ...o, watch: o.watch !== "false" }, out);
      }),
    );
  rollout
    .command("history")
    .description("list a deployment's revisions, or show one")
    .argument("<resource...>", "TYPE/NAME, e.g. deploy/web")
    .option("--revision <n>", "show the pod template of this revision")
    .action(withContext((ctx, args: string[], o: RolloutHistoryOptions) => rolloutHistory(ctx, args, o, out)));
  rollout
    .command("undo")
    .description("roll back to the previous revision (or --to-revision)")
    .argument("<resource...>", "TYPE/NAME, e.g. deploy/web")
    .option("--to-revision <n>", "the revision to roll back to (default: the previous one)")
    .action(withContext((ctx, args: string[], o: RolloutUndoOptions) => rolloutUndo(ctx, args, o, out)));
  rollout
    .command("pause")
    .description("pause a deployment: template changes do not roll out until it is resumed")
    .argument("<resource...>", "TYPE/NAME, e.g. deploy/web")
    .action(withContext((ctx, args: string[]) => rolloutPause(ctx, args, out)));
  rollout
    .command("resume")
    .description("resume a paused deployment")
    .argument("<resource...>", "TYPE/NAME, e.g. deploy/web")
    .action(withContext((ctx, args: string[]) => rolloutResume(ctx, args, out)));
}
