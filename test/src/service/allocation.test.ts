// ClusterIP and NodePort allocation in the apiserver, against real etcd: unique under concurrent
// creates, released on delete, requested values honoured or refused by field, kept across restarts.
import { create } from "@bufbuild/protobuf";
import { ServiceSchema, Services, type Service } from "@corral/api";
import { errorMessage } from "@corral/grpc";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";

type Spec = NonNullable<Parameters<typeof create<typeof ServiceSchema>>[1]>["spec"];

describe("Service address allocation", { timeout: 180_000 }, () => {
  let cp: ControlPlane;
  const CIDR = "10.101.0.0/24";
  before(async () => {
    cp = await startControlPlane({ serviceClusterIPRange: CIDR, serviceNodePortRange: "30000-30099" });
  });
  after(async () => {
    await cp?.stop();
  });

  const svcs = () => cp.clients.for(Services);
  const make = (name: string, spec: Spec, namespace = "default") =>
    svcs().create(create(ServiceSchema, { metadata: { name, namespace }, spec: { ports: [{ port: 80 }], ...spec } }), { timeoutMs: 20_000 });
  const refused = async (p: Promise<unknown>, re: RegExp) => {
    await assert.rejects(p, (err: unknown) => {
      assert.match(errorMessage(err), re);
      return true;
    });
  };

  test("60 concurrent creates get 60 different addresses of the range, never .1 or .10", async () => {
    const created = await Promise.all(Array.from({ length: 60 }, (_, i) => make(`c${i}`, {})));
    const ips = created.map((s) => s.spec!.clusterIp);
    assert.equal(new Set(ips).size, 60, "no duplicates");
    for (const ip of ips) {
      assert.match(ip, /^10\.101\.0\.\d+$/);
      assert.ok(!["10.101.0.0", "10.101.0.1", "10.101.0.10", "10.101.0.255"].includes(ip), ip);
    }
    assert.deepEqual(created[0]!.spec!.clusterIps, [created[0]!.spec!.clusterIp]);
    await Promise.all(created.map((s) => svcs().delete({ namespace: "default", name: s.metadata!.name })));
  });

  test("concurrent NodePort Services get different ports of the range", async () => {
    const created = await Promise.all(Array.from({ length: 30 }, (_, i) => make(`np${i}`, { type: "NodePort", ports: [{ name: "a", port: 80 }, { name: "b", port: 81 }] })));
    const ports = created.flatMap((s) => s.spec!.ports.map((p) => p.nodePort));
    assert.equal(new Set(ports).size, 60);
    for (const p of ports) assert.ok(p >= 30000 && p <= 30099, String(p));
    await Promise.all(created.map((s) => svcs().delete({ namespace: "default", name: s.metadata!.name })));
  });

  test("a requested address is honoured, or refused with the field and the reason", async () => {
    const a = await make("want-ip", { clusterIp: "10.101.0.77", type: "NodePort", ports: [{ port: 80, nodePort: 30077 }] });
    assert.equal(a.spec!.clusterIp, "10.101.0.77");
    assert.equal(a.spec!.ports[0]!.nodePort, 30077);
    await refused(make("dup-ip", { clusterIp: "10.101.0.77" }), /^Service "dup-ip" is invalid: spec\.clusterIP: Invalid value: "10\.101\.0\.77": provided IP is already allocated$/);
    await refused(
      make("dup-port", { type: "NodePort", ports: [{ port: 80, nodePort: 30077 }] }),
      /spec\.ports\[0\]\.nodePort: Invalid value: 30077: provided port is already allocated/,
    );
    await refused(make("outside", { clusterIp: "10.102.0.5" }), /spec\.clusterIP: Invalid value: "10\.102\.0\.5": provided IP is not in the valid range\. The range of valid IPs is 10\.101\.0\.0\/24/);
    await refused(make("dns-ip", { clusterIp: "10.101.0.10" }), /reserved for the cluster DNS Service corral-system\/corral-dns/);
    // A refused create leaves nothing behind: the name is free, and so is any address it picked.
    await assert.rejects(svcs().get({ namespace: "default", name: "dup-ip" }), /not found/);
    // Released on delete: the same address and port can be asked for again.
    await svcs().delete({ namespace: "default", name: "want-ip" });
    const again = await make("want-ip-again", { clusterIp: "10.101.0.77", type: "NodePort", ports: [{ port: 80, nodePort: 30077 }] });
    assert.equal(again.spec!.clusterIp, "10.101.0.77");
    await svcs().delete({ namespace: "default", name: "want-ip-again" });
  });

  test("the DNS Service gets .10; a headless Service gets nothing", async () => {
    const dns = await make("corral-dns", { ports: [{ port: 53, protocol: "UDP" }] }, "corral-system");
    assert.equal(dns.spec!.clusterIp, "10.101.0.10");
    const headless = await make("headless", { clusterIp: "None" });
    assert.equal(headless.spec!.clusterIp, "None");
    await svcs().delete({ namespace: "corral-system", name: "corral-dns" });
    await svcs().delete({ namespace: "default", name: "headless" });
  });

  test("updates keep what was allocated; changing the type allocates or releases NodePorts", async () => {
    const s = await make("upd", { ports: [{ name: "http", port: 80 }] });
    const ip = s.spec!.clusterIp;
    // A manifest applied again has no clusterIP: it is kept, not an error.
    const reapplied = create(ServiceSchema, { metadata: { name: "upd", namespace: "default", labels: { v: "2" } }, spec: { ports: [{ name: "http", port: 80 }] } });
    const u1 = await svcs().update(reapplied);
    assert.equal(u1.spec!.clusterIp, ip);
    const toNodePort = create(ServiceSchema, { metadata: { name: "upd", namespace: "default" }, spec: { type: "NodePort", ports: [{ name: "http", port: 80 }] } });
    const u2 = await svcs().update(toNodePort);
    const np = u2.spec!.ports[0]!.nodePort;
    assert.ok(np >= 30000 && np <= 30099);
    // Same manifest again: the same NodePort.
    assert.equal((await svcs().update(toNodePort)).spec!.ports[0]!.nodePort, np);
    const back = await svcs().update(create(ServiceSchema, { metadata: { name: "upd", namespace: "default" }, spec: { ports: [{ name: "http", port: 80 }] } }));
    assert.equal(back.spec!.ports[0]!.nodePort, 0);
    // The port is free again.
    const taker = await make("taker", { type: "NodePort", ports: [{ port: 80, nodePort: np }] });
    assert.equal(taker.spec!.ports[0]!.nodePort, np);
    await refused(
      svcs().update(create(ServiceSchema, { metadata: { name: "upd", namespace: "default" }, spec: { clusterIp: "10.101.0.99", ports: [{ port: 80 }] } })),
      /spec\.clusterIP: Invalid value: "10\.101\.0\.99": field is immutable/,
    );
    await svcs().delete({ namespace: "default", name: "upd" });
    await svcs().delete({ namespace: "default", name: "taker" });
  });

  test("allocations survive an apiserver restart", async () => {
    const kept: Service = await make("kept", { clusterIp: "10.101.0.55", type: "NodePort", ports: [{ port: 80, nodePort: 30055 }] });
    await cp.restartServer(0);
    // The client's channel may still be backing off from the restart: wait until it answers.
    for (let i = 0; ; i++) {
      try {
        await svcs().get({ namespace: "default", name: "kept" }, { timeoutMs: 2_000 });
        break;
      } catch (err) {
        if (i >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await refused(make("after-restart", { clusterIp: kept.spec!.clusterIp }), /provided IP is already allocated/);
    await refused(make("after-restart", { type: "NodePort", ports: [{ port: 80, nodePort: 30055 }] }), /provided port is already allocated/);
    const fresh = await Promise.all(Array.from({ length: 20 }, (_, i) => make(`fresh${i}`, {})));
    assert.ok(!fresh.some((s) => s.spec!.clusterIp === "10.101.0.55"));
  });
});
