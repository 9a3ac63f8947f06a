import type { Container, Probe } from "@corral/api";
import { nextRunAt, probeSettings, ThresholdState, type ProbeKind, type ProbeOutcome, type ProbeSettings } from "./state.js";

export interface WorkerDeps {
  /** Runs one attempt of the probe (I/O). */
  run(probe: Probe, settings: ProbeSettings): Promise<ProbeOutcome>;
  /** Whether the worker may probe now (liveness and readiness wait for the startup probe). */
  mayProbe(): boolean;
  /** Called after every attempt, with whether the reported result flipped. */
  onResult(worker: ProbeWorker, outcome: ProbeOutcome, changed: boolean): void;
  /** Milliseconds in a probe-schedule second (1000; tests shrink it). */
  secondMs: number;
  now(): number;
}

/** One timer-driven worker per (container id, probe kind), as the kubelet's probe worker. */
export class ProbeWorker {
  readonly settings: ProbeSettings;
  readonly state: ThresholdState;
  private timer: NodeJS.Timeout | undefined;
  private lastStart: number | undefined;
  private running = false;
  private stopped = false;

  constructor(
    readonly kind: ProbeKind,
    readonly container: Container,
    readonly containerId: string,
    readonly startedAt: number,
    readonly probe: Probe,
    private readonly deps: WorkerDeps,
  ) {
    this.settings = probeSettings(probe, kind);
    this.state = new ThresholdState(kind, this.settings);
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Probe as soon as allowed (still not before initialDelaySeconds): the startup probe just succeeded. */
  kick(): void {
    if (this.stopped || this.running || this.state.done) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const at = nextRunAt(this.deps.now(), this.startedAt, this.settings, undefined, this.deps.secondMs);
    this.arm(at);
  }

  private schedule(): void {
    if (this.stopped || this.state.done) return;
    const at = nextRunAt(this.deps.now(), this.startedAt, this.settings, this.lastStart, this.deps.secondMs);
    this.arm(at);
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => void this.tick(), Math.max(0, at - this.deps.now()));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped || this.running) return;
    this.lastStart = this.deps.now();
    if (this.deps.mayProbe()) {
      this.running = true;
      try {
        const outcome = await this.deps.run(this.probe, this.settings);
        if (this.stopped) return;
        const { changed } = this.state.record(outcome);
        this.deps.onResult(this, outcome, changed);
      } finally {
        this.running = false;
      }
    }
    this.schedule();
  }
}
