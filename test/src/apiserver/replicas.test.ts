import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, ConfigMaps } from "@corral/api";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";
import { ResumingWatch, strictlyIncreasing } from "../support/watch.js";

describe("two apiserver replicas", () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
    await cp.addServer();
  });
  after(async () => {
    await cp?.stop();
  });

  it("give every watcher the same events, in order, once, whichever replica took the write", async () => {
    const [a, b] = [cp.connect(cp.servers[0]), cp.connect(cp.servers[1])];
    const start = (await a.for(ConfigMaps).list({})).metadata!.resourceVersion;
    const watchers = [new ResumingWatch(a.for(ConfigMaps), start), new ResumingWatch(b.for(ConfigMaps), start)];
    const n = 60;
    // Writes go to both replicas at once, 4 at a time each.
    await Promise.all(
      [a, b].map(async (cs, side) => {
        for (let i = 0; i < n / 2; i += 4) {
          await Promise.all(
            [0, 1, 2, 3]
              .filter((j) => i + j < n / 2)
              .map((j) =>
                cs.for(ConfigMaps).create(create(ConfigMapSchema, { metadata: { name: `r${side}-${i + j}` } })),
              ),
          );
        }
      }),
    );
    const [ea, eb] = await Promise.all(watchers.map((w) => w.waitFor(n)));
    // Let any duplicate arrive before judging.
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all(watchers.map((w) => w.stop()));
    assert.equal(ea!.length, n);
    assert.equal(eb!.length, n);
    assert.ok(strictlyIncreasing(ea!));
    assert.deepEqual(ea, eb);
    assert.equal(new Set(ea!.map((e) => e.name)).size, n);
    assert.equal(cp.servers.filter((s) => s.isPublisher).length, 1, "exactly one replica publishes");
  });

  it("hands publishing over when the publishing replica stops", async () => {
    const leader = cp.servers.findIndex((s) => s.isPublisher);
    const other = cp.servers[1 - leader]!;
    const cs = cp.connect(other);
    const start = (await cs.for(ConfigMaps).list({})).metadata!.resourceVersion;
    const w = new ResumingWatch(cs.for(ConfigMaps), start);
    await cp.servers[leader]!.stop();
    cp.servers.splice(leader, 1);
    for (let i = 0; i < 5; i++) await cs.for(ConfigMaps).create(create(ConfigMapSchema, { metadata: { name: `handover-${i}` } }));
    const events = await w.waitFor(5, 30_000);
    await w.stop();
    assert.deepEqual(events.map((e) => e.name), [0, 1, 2, 3, 4].map((i) => `handover-${i}`));
    assert.ok(other.isPublisher);
  });
});
