import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampNow } from "@bufbuild/protobuf/wkt";
import { Leases, LeaseSchema, type Lease } from "@corral/api";
import { Code, errorCode } from "@corral/grpc";
import type { Clientset } from "./clientset.js";
import { sleep } from "./sleep.js";

export interface LeaderElectionOptions {
  /** The Lease that is the lock: corral-system/<name>. */
  name: string;
  namespace?: string;
  /** Unique per replica: hostname and pid, say. */
  identity: string;
  leaseDurationSeconds?: number;
  /** How often the leader renews and a follower retries. */
  retryPeriodMs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/**
 * Leader election over a Lease, as client-go's leaderelection: the holder renews the Lease every
 * retry period; a follower takes it over once it has seen no renewal for a whole lease duration,
 * judged by its own clock (when it last saw the Lease change), so clocks need not agree. Every
 * write carries the Lease's resourceVersion, so two candidates can never both win.
 *
 * `lead(signal)` runs while this replica leads; the signal aborts when leadership is lost, and
 * the returned promise of run() resolves only when `stop` aborts.
 */
export class LeaderElector {
  private observedRv = "";
  private observedAt = 0;
  private leading = false;
  private readonly durationS: number;
  private readonly retryMs: number;
  private readonly namespace: string;

  constructor(
    private readonly clients: Clientset,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.durationS = opts.leaseDurationSeconds ?? 10;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    this.namespace = opts.namespace ?? "corral-system";
  }

  get isLeader(): boolean {
    return this.leading;
  }

  async run(lead: (signal: AbortSignal) => Promise<void> | void, stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      if (!(await this.tryAcquireOrRenew())) {
        await sleep(this.retryMs, stop);
        continue;
      }
      this.leading = true;
      this.opts.log?.info({ lease: this.opts.name, identity: this.opts.identity }, "became leader");
      const ac = new AbortController();
      const onStop = () => ac.abort();
      stop.addEventListener("abort", onStop, { once: true });
      const work = Promise.resolve()
        .then(() => lead(ac.signal))
        .catch((err) => this.opts.log?.warn({ err: String(err) }, "leader work failed"));
      // Renew until a renewal fails for longer than the lease lasts, or we are told to stop.
      let lastRenew = Date.now();
      while (!stop.aborted) {
        await sleep(this.retryMs, stop);
        if (stop.aborted) break;
        if (await this.tryAcquireOrRenew()) lastRenew = Date.now();
        else if (Date.now() - lastRenew > (this.durationS * 1000 * 2) / 3 || this.heldByOther) break;
      }
      this.leading = false;
      ac.abort();
      stop.removeEventListener("abort", onStop);
      await work;
      if (stop.aborted) await this.release();
      else this.opts.log?.warn({ lease: this.opts.name, identity: this.opts.identity }, "lost leadership");
    }
  }

  private heldByOther = false;

  /** One attempt: create the Lease, renew it, or take it over if it has expired. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const leases = this.clients.for(Leases);
    const now = timestampNow();
    const me = this.opts.identity;
    try {
      let lease: Lease;
      try {
        lease = await leases.get({ namespace: this.namespace, name: this.opts.name }, { timeoutMs: this.retryMs * 2 });
      } catch (err) {
        if (errorCode(err) !== Code.NOT_FOUND) throw err;
        await leases.create(
          create(LeaseSchema, {
            metadata: { name: this.opts.name, namespace: this.namespace },
            spec: { holderIdentity: me, leaseDurationSeconds: this.durationS, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          }),
          { timeoutMs: this.retryMs * 2 },
        );
        this.heldByOther = false;
        return true;
      }
      const rv = lease.metadata?.resourceVersion ?? "";
      if (rv !== this.observedRv) {
        this.observedRv = rv;
        this.observedAt = Date.now();
      }
      const spec = lease.spec;
      const holder = spec?.holderIdentity ?? "";
      const duration = (spec?.leaseDurationSeconds ?? this.durationS) * 1000;
      const expired = holder === "" || Date.now() - this.observedAt > duration;
      if (holder !== me && !expired) {
        this.heldByOther = true;
        return false;
      }
      this.heldByOther = false;
      const next = create(LeaseSchema, {
        metadata: lease.metadata,
        spec: {
          holderIdentity: me,
          leaseDurationSeconds: this.durationS,
          acquireTime: holder === me ? spec?.acquireTime : now,
          renewTime: now,
          leaseTransitions: (spec?.leaseTransitions ?? 0) + (holder === me ? 0 : 1),
        },
      });
      const updated = await leases.update(next, { timeoutMs: this.retryMs * 2 });
      this.observedRv = updated.metadata?.resourceVersion ?? "";
      this.observedAt = Date.now();
      return true;
    } catch (err) {
      this.opts.log?.warn({ lease: this.opts.name, err: String(err) }, "lease update failed");
      return false;
    }
  }

  /** Gives the Lease up on a clean stop, so a follower takes over at once. */
  private async release(): Promise<void> {
    const leases = this.clients.for(Leases);
    try {
      const lease = await leases.get({ namespace: this.namespace, name: this.opts.name }, { timeoutMs: 2_000 });
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      lease.spec.holderIdentity = "";
      await leases.update(lease, { timeoutMs: 2_000 });
    } catch {
      // Best effort: the Lease expires on its own.
    }
  }
}

/** When a lease was last renewed, for status displays. */
export function leaseRenewedAt(lease: Lease): Date | undefined {
  return lease.spec?.renewTime ? timestampDate(lease.spec.renewTime) : undefined;
}
