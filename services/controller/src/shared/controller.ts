// What every controller is made of: informers feeding a work queue of keys, and workers calling
// reconcile(key) (level-based: it reads the current state and acts on it; an error requeues the
// key with back-off; one key is never reconciled by two workers at once).
import { clone } from "@bufbuild/protobuf";
import type { ApiObject, KindInfo } from "@corral/api";
import { runWorkers, WorkQueue, type Clientset, type EventRecorder, type ReconcileResult } from "@corral/client";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import type { Logger } from "@corral/logging";
import type { SharedInformers } from "./informers.js";

export interface ControllerConfig {
  /** A node whose Lease (or Ready heartbeat) is older than this is marked Unknown and tainted unreachable. */
  nodeMonitorGracePeriodMs: number;
  /** The same for a node that has never reported Ready. */
  nodeStartupGracePeriodMs: number;
  /**
   * tolerationSeconds for the not-ready and unreachable NoExecute taints, for pods that do not
   * tolerate them explicitly (Kubernetes' DefaultTolerationSeconds admission plugin adds 300 s).
   */
  defaultTolerationSeconds: number;
  /** A Job's delay before replacing a failed pod: base × 2^(failures-1), capped at max. */
  jobBackoffBaseMs: number;
  jobBackoffMaxMs: number;
  /** Workers per controller (keys reconciled at once). */
  workers: Readonly<Record<string, number>>;
}

export const DEFAULT_CONFIG: ControllerConfig = {
  nodeMonitorGracePeriodMs: 20_000,
  nodeStartupGracePeriodMs: 60_000,
  defaultTolerationSeconds: 10,
  jobBackoffBaseMs: 10_000,
  jobBackoffMaxMs: 360_000,
  workers: {},
};

export interface ControllerContext {
  clients: Clientset;
  informers: SharedInformers;
  recorder: EventRecorder;
  log: Logger;
  config: ControllerConfig;
}

export interface Controller {
  readonly name: string;
  /** Runs until the signal aborts (after the shared informers have synced). */
  run(signal: AbortSignal): Promise<void>;
}

/** Conflicts are part of the job (another writer got there first): they are retried quietly. */
function isConflict(err: unknown): boolean {
  return errorCode(err) === Code.ABORTED;
}

export abstract class QueueController implements Controller {
  abstract readonly name: string;
  readonly queue = new WorkQueue({ baseMs: 50, maxMs: 30_000 });
  protected readonly log: Logger;

  constructor(
    protected readonly ctx: ControllerContext,
    component: string,
    private readonly defaultWorkers: number,
  ) {
    this.log = ctx.log.child({ controller: component });
  }

  abstract reconcile(key: string): Promise<ReconcileResult | void>;

  enqueue(key: string): void {
    this.queue.add(key);
  }

  async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const stop = () => this.queue.shutDown();
    signal.addEventListener("abort", stop, { once: true });
    const workers = this.ctx.config.workers[this.name] ?? this.defaultWorkers;
    await runWorkers(
      this.queue,
      async (key) => {
        try {
          return await this.reconcile(key);
        } catch (err) {
          if (isConflict(err)) this.log.debug({ key, err: errorMessage(err) }, "conflict; retrying");
          throw err;
        }
      },
      {
        workers,
        log: {
          warn: (o, m) => {
            const e = (o as { err?: string }).err ?? "";
            // Conflicts, and objects deleted under a reconcile: the retry sorts them out.
            if (/object has been modified|being written by others|NOT_FOUND/.test(e)) this.log.debug(o, m);
            else this.log.warn(o, m);
          },
        },
      },
    );
    signal.removeEventListener("abort", stop);
  }
}

/**
 * Read-modify-write of one object with its resourceVersion, retried on conflicts: `change` edits a
 * fresh copy and says whether anything changed. Returns the stored object, or undefined when the
 * object is gone (or is another object of the same name: `uid`).
 */
export async function mutate<T extends ApiObject>(
  clients: Clientset,
  kind: KindInfo<T>,
  namespace: string,
  name: string,
  change: (obj: T) => boolean,
  uid?: string,
): Promise<T | undefined> {
  const c = clients.for(kind);
  for (let attempt = 0; ; attempt++) {
    let cur: T;
    try {
      cur = await c.get({ namespace: kind.namespaced ? namespace : "", name }, { timeoutMs: 10_000 });
    } catch (err) {
      if (errorCode(err) === Code.NOT_FOUND) return undefined;
      throw err;
    }
    if (uid && cur.metadata?.uid !== uid) return undefined;
    const next = clone(kind.schema, cur);
    if (!change(next)) return cur;
    try {
      return await c.update(next, { timeoutMs: 10_000 });
    } catch (err) {
      if (errorCode(err) === Code.NOT_FOUND) return undefined;
      if (!isConflict(err) || attempt >= 5) throw err;
    }
  }
}

/** NOT_FOUND is success for a delete. */
export function ignoreNotFound(err: unknown): void {
  if (errorCode(err) !== Code.NOT_FOUND) throw err;
}
