import type { ApiObject, KindInfo } from "@corral/api";
import { Code, errorCode } from "@corral/grpc";
import type { CommandContext } from "../context.js";
import { parseDuration } from "../duration.js";
import { parseResourceArgs, qualifiedName, UsageError } from "../resource-args.js";

export interface WaitOptions {
  for: string;
  timeout: string;
  selector?: string;
}

/** What `--for` asks: a condition with a status (default "True"), or the object's deletion. */
export type WaitFor = { condition: string; status: string } | { delete: true };

export function parseWaitFor(s: string): WaitFor {
  if (s === "delete") return { delete: true };
  const m = /^condition=([^=]+)(?:=(.+))?$/.exec(s);
  if (!m) throw new UsageError(`--for: "${s}" is not condition=NAME[=VALUE] or delete`);
  return { condition: m[1]!.toLowerCase(), status: (m[2] ?? "true").toLowerCase() };
}

interface Condition {
  type: string;
  status: string;
}

function conditionsOf(obj: ApiObject): readonly Condition[] {
  const status = (obj as { status?: { conditions?: Condition[] } }).status;
  return status?.conditions ?? [];
}

export function satisfied(obj: ApiObject, want: { condition: string; status: string }): boolean {
  return conditionsOf(obj).some((c) => c.type.toLowerCase() === want.condition && c.status.toLowerCase() === want.status);
}

/** kubectl wait: blocks until each named object meets the condition (or is deleted), by watching it. */
export async function wait(ctx: CommandContext, args: string[], o: WaitOptions, out: (s: string) => void): Promise<void> {
  const want = parseWaitFor(o.for);
  const deadline = Date.now() + parseDuration(o.timeout);
  const targets: { kind: KindInfo; name: string }[] = [];
  for (const ref of parseResourceArgs(args)) {
    const namespace = ref.kind.namespaced ? ctx.namespace : "";
    const names = ref.names.length
      ? ref.names
      : (await ctx.clients.for(ref.kind).list({ namespace, labelSelector: o.selector ?? "" })).items.map((i) => i.metadata!.name);
    if (names.length === 0) throw new UsageError(`no matching resources found`);
    for (const name of names) targets.push({ kind: ref.kind, name });
  }
  for (const t of targets) {
    await waitOne(ctx, t.kind, t.name, want, deadline);
    out(`${qualifiedName(t.kind, t.name)} ${"delete" in want ? "deleted" : `condition met`}\n`);
  }
}

async function waitOne(ctx: CommandContext, kind: KindInfo, name: string, want: WaitFor, deadline: number): Promise<void> {
  const client = ctx.clients.for(kind);
  const namespace = kind.namespaced ? ctx.namespace : "";
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), Math.max(0, deadline - Date.now()));
  try {
    for await (const ev of client.watch({ namespace, fieldSelector: `metadata.name=${name}` }, { signal: ac.signal })) {
      if ("delete" in want) {
        if (ev.type === "DELETED") return;
      } else if (ev.type !== "DELETED" && ev.object && satisfied(ev.object, want)) return;
    }
  } catch (err) {
    if (!ac.signal.aborted) {
      if (errorCode(err) === Code.NOT_FOUND && "delete" in want) return;
      throw err;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  throw new UsageError(`timed out waiting for the condition on ${qualifiedName(kind, name)}`);
}
