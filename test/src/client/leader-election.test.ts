import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Leases, LeaseSchema } from "@corral/api";
import { LeaderElector } from "@corral/client";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";

/** A candidate whose leadership can be awaited. */
function candidate(cp: ControlPlane, name: string, identity: string) {
  const elector = new LeaderElector(cp.clients, { name, identity, leaseDurationSeconds: 2, retryPeriodMs: 200 });
  const stop = new AbortController();
  let onLead: () => void = () => {};
  const leading = new Promise<void>((r) => (onLead = r));
  const done = elector.run(async (signal) => {
    onLead();
    await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
  }, stop.signal);
  return { elector, leading, stop: async () => (stop.abort(), await done) };
}

describe("LeaderElector", () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  test("one of two candidates leads; the other takes over when it stops", async () => {
    const a = candidate(cp, "le-test", "a");
    await a.leading;
    const b = candidate(cp, "le-test", "b");
    try {
      const lease = await cp.clients.for(Leases).get({ namespace: "corral-system", name: "le-test" });
      assert.equal(lease.spec?.holderIdentity, "a");
      assert.equal(b.elector.isLeader, false);
      const t0 = Date.now();
      await a.stop();
      await b.leading;
      assert.ok(Date.now() - t0 < 2_000, `released lease taken over in ${Date.now() - t0} ms`);
      const after = await cp.clients.for(Leases).get({ namespace: "corral-system", name: "le-test" });
      assert.equal(after.spec?.holderIdentity, "b");
      assert.equal(after.spec?.leaseTransitions, 1);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test("a lease its holder stopped renewing is taken over after the lease duration", async () => {
    const now = timestampNow();
    await cp.clients.for(Leases).create(
      create(LeaseSchema, {
        metadata: { name: "le-dead", namespace: "corral-system" },
        spec: { holderIdentity: "crashed", leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
      }),
    );
    const t0 = Date.now();
    const c = candidate(cp, "le-dead", "c");
    try {
      await c.leading;
      const waited = Date.now() - t0;
      assert.ok(waited >= 1_000, `took over after ${waited} ms, before the lease expired`);
      assert.ok(waited < 3_000, `took over after ${waited} ms`);
    } finally {
      await c.stop();
    }
  });
});
