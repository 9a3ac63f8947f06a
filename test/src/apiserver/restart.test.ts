import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, ConfigMaps } from "@corral/api";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";
import { ResumingWatch, strictlyIncreasing } from "../support/watch.js";

/** Creates n config maps one after another, retrying each while the apiserver is away. */
async function writeMany(cp: ControlPlane, prefix: string, n: number): Promise<string[]> {
  const client = cp.clients.for(ConfigMaps);
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}-${i}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await client.create(create(ConfigMapSchema, { metadata: { name }, data: { i: String(i) } }), { timeoutMs: 2000 });
        break;
      } catch (err) {
        if (/already exists/.test(String(err))) break; // an earlier attempt landed
        if (attempt > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    names.push(name);
  }
  return names;
}

describe("watch across restarts", () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  it("loses and repeats no event when the apiserver restarts", async () => {
    const client = cp.clients.for(ConfigMaps);
    const start = (await client.list({})).metadata!.resourceVersion;
    const w = new ResumingWatch(client, start);
    const before = await writeMany(cp, "api-before", 10);
    await w.waitFor(10);
    await cp.restartServer(0);
    const afterRestart = await writeMany(cp, "api-after", 10);
    const events = await w.waitFor(20);
    await w.stop();
    assert.ok(w.reconnects >= 1, "the watch stream broke and was resumed");
    assert.deepEqual(events.map((e) => e.name), [...before, ...afterRestart]);
    assert.ok(strictlyIncreasing(events));
  });

  it("loses and repeats no event when NATS restarts, even for writes made while it was down", async () => {
    const client = cp.clients.for(ConfigMaps);
    const start = (await client.list({})).metadata!.resourceVersion;
    const w = new ResumingWatch(client, start);
    const first = await writeMany(cp, "nats-before", 5);
    await w.waitFor(5);
    const restarting = cp.nats.restart();
    const during = await writeMany(cp, "nats-during", 5);
    await restarting;
    const later = await writeMany(cp, "nats-after", 5);
    const events = await w.waitFor(15, 30_000);
    await w.stop();
    assert.deepEqual(events.map((e) => e.name), [...first, ...during, ...later]);
    assert.ok(strictlyIncreasing(events));
  });
});
