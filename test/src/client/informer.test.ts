import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, ConfigMaps, type ConfigMap } from "@corral/api";
import { Informer, objectKey } from "@corral/client";
import { Code, errorCode } from "@corral/grpc";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";

const cm = (name: string, v: string) =>
  create(ConfigMapSchema, { metadata: { name, namespace: "default" }, data: { v } });

/** Retries a call while the server is unreachable (UNAVAILABLE), for up to 10 s. */
async function untilAvailable<T>(call: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (err) {
      if (errorCode(err) !== Code.UNAVAILABLE || i >= 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Records handler calls and resolves waiters when a predicate over them holds. */
class Recorder {
  readonly log: string[] = [];
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];
  push(s: string) {
    this.log.push(s);
    this.waiters = this.waiters.filter((w) => (w.pred() ? (w.resolve(), false) : true));
  }
  until(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; saw ${this.log.join(", ")}`)), ms);
      this.waiters.push({ pred, resolve: () => (clearTimeout(t), resolve()) });
    });
  }
}

describe("Informer", () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  test("caches what exists, then follows adds, updates and deletes, also across an apiserver restart", async () => {
    const client = cp.clients.for(ConfigMaps);
    await client.create(cm("inf-a", "1"));
    const rec = new Recorder();
    const inf = new Informer<ConfigMap>(client, { namespace: "default", retryMinMs: 50 });
    inf.addIndex("value", (o) => [o.data["v"] ?? ""]);
    inf.addEventHandler({
      add: (o) => rec.push(`add ${o.metadata!.name}`),
      update: (_, o) => rec.push(`update ${o.metadata!.name}=${o.data["v"]}`),
      delete: (o) => rec.push(`delete ${o.metadata!.name}`),
    });
    inf.start();
    try {
      await inf.waitForSync();
      assert.ok(inf.get("default/inf-a"), "existing object cached at sync");
      assert.ok(rec.log.includes("add inf-a"));

      const b = await client.create(cm("inf-b", "1"));
      b.data["v"] = "2";
      await client.update(b);
      await rec.until(() => rec.log.includes("update inf-b=2"), "update of inf-b");
      assert.deepEqual(inf.byIndex("value", "2").map(objectKey), ["default/inf-b"]);

      // Changes made while the apiserver is down and coming back are not lost.
      await cp.restartServer(0);
      // The client's channel may still be backing off from the restart: retry as a user would.
      await untilAvailable(() => client.delete({ namespace: "default", name: "inf-a" }));
      await untilAvailable(() => client.create(cm("inf-c", "3")));
      await rec.until(() => rec.log.includes("delete inf-a") && rec.log.includes("add inf-c"), "delete and add after restart");
      assert.equal(inf.get("default/inf-a"), undefined);
      assert.deepEqual(inf.list().map(objectKey).sort(), ["default/inf-b", "default/inf-c"]);
      assert.deepEqual(inf.byIndex("value", "1"), []);
    } finally {
      await inf.stop();
    }
  });
});
