// Kubernetes' ControllerExpectations (pkg/controller/controller_utils.go): what a controller has
// asked for and not yet seen in its cache. A controller that created 5 pods must not create them
// again because its cache does not show them yet; until its watch has delivered the 5 creations
// (or the expectation has expired), it only updates status.

export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation {
  adds: number;
  /** Uids of pods whose deletion was asked for and not yet observed. */
  dels: Set<string>;
  at: number;
}

export class Expectations {
  private readonly items = new Map<string, Expectation>();

  constructor(
    private readonly timeoutMs = EXPECTATIONS_TIMEOUT_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when nothing is pending for the key, or what is pending is too old to wait for. */
  satisfied(key: string): boolean {
    const e = this.items.get(key);
    if (!e) return true;
    if (e.adds <= 0 && e.dels.size === 0) return true;
    return this.now() - e.at > this.timeoutMs;
  }

  /** Expects `n` more creations (added to what one reconcile already expects). */
  expectCreations(key: string, n: number): void {
    this.fresh(key).adds += n;
  }

  expectDeletions(key: string, uids: readonly string[]): void {
    const e = this.fresh(key);
    for (const u of uids) e.dels.add(u);
  }

  /** The key's record, new when the old one is satisfied (or expired). */
  private fresh(key: string): Expectation {
    let e = this.items.get(key);
    if (!e || this.satisfied(key)) {
      e = { adds: 0, dels: new Set(), at: this.now() };
      this.items.set(key, e);
    }
    return e;
  }

  creationObserved(key: string, n = 1): void {
    const e = this.items.get(key);
    if (e) e.adds -= n;
  }

  deletionObserved(key: string, uid: string): void {
    this.items.get(key)?.dels.delete(uid);
  }

  delete(key: string): void {
    this.items.delete(key);
  }

  pending(key: string): { adds: number; dels: number } | undefined {
    const e = this.items.get(key);
    return e ? { adds: e.adds, dels: e.dels.size } : undefined;
  }
}
