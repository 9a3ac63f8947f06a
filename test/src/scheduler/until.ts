// A watched set of objects that tests wait on: each change re-checks the condition, so a test
// waits exactly as long as the cluster takes, never a fixed sleep.
import type { ApiObject } from "@corral/api";
import { Informer, type InformerOptions, type ResourceClient } from "@corral/client";

export class Watched<T extends ApiObject> {
  readonly informer: Informer<T>;
  private readonly checks = new Set<() => void>();

  private constructor(client: ResourceClient<T>, opts: InformerOptions) {
    this.informer = new Informer(client, opts);
    const poke = () => {
      for (const c of [...this.checks]) c();
    };
    this.informer.addEventHandler({ add: poke, update: poke, delete: poke });
  }

  static async start<T extends ApiObject>(client: ResourceClient<T>, opts: InformerOptions = {}): Promise<Watched<T>> {
    const w = new Watched(client, opts);
    w.informer.start();
    await w.informer.waitForSync();
    return w;
  }

  list(): T[] {
    return this.informer.list();
  }

  /**
   * Resolves with the first truthy value of `f` over the current objects, re-evaluated on every
   * change; rejects after `timeoutMs` naming what it waited for and what it last saw.
   */
  until<R>(what: string, f: (items: T[]) => R | undefined | false | null, timeoutMs = 30_000, describe?: (items: T[]) => unknown): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const check = () => {
        let r: R | undefined | false | null;
        try {
          r = f(this.informer.list());
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (r) {
          done();
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        done();
        const seen = describe ? JSON.stringify(describe(this.informer.list()), (_k, v) => (typeof v === "bigint" ? v.toString() : v)) : "";
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `; last seen: ${seen}` : ""}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.checks.delete(check);
      };
      this.checks.add(check);
      check();
    });
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}
