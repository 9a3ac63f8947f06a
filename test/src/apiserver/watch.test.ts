import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, ConfigMaps, type ConfigMap } from "@corral/api";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";
import { ResumingWatch, strictlyIncreasing } from "../support/watch.js";

const cm = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): ConfigMap =>
  create(ConfigMapSchema, { metadata: { name, labels }, data });

describe("watch", () => {
  let cp: ControlPlane;
  before(async () => {
    // A short retention window, so "too old" can be reached in a test.
    cp = await startControlPlane({ retention: { maxAgeSeconds: 3600, maxMessages: 40 } });
  });
  after(async () => {
    await cp?.stop();
  });

  it("delivers ADDED, MODIFIED, DELETED in order from a resourceVersion, and resumes from any of them", async () => {
    const client = cp.clients.for(ConfigMaps);
    const start = (await client.list({ namespace: "default" })).metadata!.resourceVersion;
    const w = new ResumingWatch(client, start, { namespace: "default" });
    const a = await client.create(cm("order-a"));
    await client.create(cm("order-b"));
    await client.update({ ...a, data: { k: "v" } });
    await client.delete({ namespace: "default", name: "order-b" });
    const events = await w.waitFor(4);
    await w.stop();
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.name}`),
      ["ADDED order-a", "ADDED order-b", "MODIFIED order-a", "DELETED order-b"],
    );
    assert.ok(strictlyIncreasing(events));

    // Resume from the second event: exactly the events after it.
    const resumed = new ResumingWatch(client, events[1]!.rv.toString(), { namespace: "default" });
    const again = await resumed.waitFor(2);
    await resumed.stop();
    assert.deepEqual(again.map((e) => `${e.type} ${e.name} ${e.rv}`), events.slice(2).map((e) => `${e.type} ${e.name} ${e.rv}`));
  });

  it("sends the current objects first when no resourceVersion is given", async () => {
    const client = cp.clients.for(ConfigMaps);
    await client.create(cm("initial-1", {}, { set: "initial" }));
    await client.create(cm("initial-2", {}, { set: "initial" }));
    const w = new ResumingWatch(client, "", { labelSelector: "set=initial" });
    const events = await w.waitFor(2);
    assert.deepEqual(events.map((e) => `${e.type} ${e.name}`).sort(), ["ADDED initial-1", "ADDED initial-2"]);
    await client.create(cm("initial-3", {}, { set: "initial" }));
    assert.equal((await w.waitFor(3))[2]!.name, "initial-3");
    await w.stop();
  });

  it("shows an object leaving a label-filtered watch as DELETED and entering it as ADDED", async () => {
    const client = cp.clients.for(ConfigMaps);
    const start = (await client.list({})).metadata!.resourceVersion;
    const w = new ResumingWatch(client, start, { labelSelector: "stage=active" });
    const x = await client.create(cm("filtered", {}, { stage: "active" }));
    const y = await client.update({ ...x, metadata: { ...x.metadata!, labels: { stage: "retired" } } });
    await client.update({ ...y, metadata: { ...y.metadata!, labels: { stage: "active" } } });
    const events = await w.waitFor(3);
    await w.stop();
    assert.deepEqual(events.map((e) => e.type), ["ADDED", "DELETED", "ADDED"]);
  });

  it("answers OUT_OF_RANGE for a resourceVersion older than the retained events", async () => {
    const client = cp.clients.for(ConfigMaps);
    const old = (await client.create(cm("old-0"))).metadata!.resourceVersion;
    for (let i = 1; i <= 60; i++) await client.create(cm(`old-${i}`));
    // Wait until the newest write is watchable, so the stream has rolled past `old`.
    const newest = (await client.list({})).metadata!.resourceVersion;
    const probe = new ResumingWatch(client, (BigInt(newest) - 1n).toString());
    await client.create(cm("old-last"));
    await probe.waitFor(1);
    await probe.stop();

    const iter = client.watch({ resourceVersion: old })[Symbol.asyncIterator]();
    await assert.rejects(iter.next(), (err: unknown) => {
      assert.equal(errorCode(err), Code.OUT_OF_RANGE);
      assert.match(errorMessage(err), /too old resource version/);
      return true;
    });
  });
});
