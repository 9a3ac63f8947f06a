import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { EventSchema, Events, type ApiObject, type Event, type KindInfo } from "@corral/api";
import type { Clientset } from "./clientset.js";

export type EventType = "Normal" | "Warning";

/**
 * Records Events about objects, as client-go's EventRecorder: the same reason and message about
 * the same object within a while bumps the count of one Event instead of making a new one.
 * Recording never throws and never blocks its caller; a lost Event is only logged.
 */
export class EventRecorder {
  private readonly recent = new Map<string, Event>();
  private seq = 0;

  constructor(
    private readonly clients: Clientset,
    private readonly source: { component: string; host?: string },
    private readonly log?: { debug(obj: object, msg: string): void },
    private readonly maxRecent = 4096,
  ) {}

  event(kind: KindInfo, obj: ApiObject, type: EventType, reason: string, message: string): void {
    void this.record(kind, obj, type, reason, message);
  }

  /** The same as event(), awaited (tests, and callers about to exit). */
  async record(kind: KindInfo, obj: ApiObject, type: EventType, reason: string, message: string): Promise<void> {
    const m = obj.metadata;
    if (!m) return;
    const namespace = m.namespace || "default";
    const key = `${m.uid}\0${type}\0${reason}\0${message}`;
    const events = this.clients.for(Events);
    const now = timestampNow();
    const prior = this.recent.get(key);
    try {
      if (prior) {
        prior.count += 1;
        prior.lastTimestamp = now;
        const updated = await events.update(prior, { timeoutMs: 5_000 });
        this.remember(key, updated);
        return;
      }
    } catch {
      // The Event was removed or changed: make a new one below.
      this.recent.delete(key);
    }
    try {
      const ev = create(EventSchema, {
        metadata: { name: `${m.name}.${Date.now().toString(16)}${(this.seq++ % 4096).toString(16)}`, namespace },
        involvedObject: {
          kind: kind.kind,
          apiVersion: kind.apiVersion,
          namespace: m.namespace,
          name: m.name,
          uid: m.uid,
          resourceVersion: m.resourceVersion,
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.source.component, host: this.source.host ?? "" },
        reportingComponent: this.source.component,
        reportingInstance: this.source.host ?? "",
      });
      this.remember(key, await events.create(ev, { timeoutMs: 5_000 }));
    } catch (err) {
      this.log?.debug({ reason, object: `${namespace}/${m.name}`, err: String(err) }, "event not recorded");
    }
  }

  private remember(key: string, ev: Event): void {
    this.recent.delete(key);
    this.recent.set(key, ev);
    if (this.recent.size > this.maxRecent) this.recent.delete(this.recent.keys().next().value!);
  }
}
