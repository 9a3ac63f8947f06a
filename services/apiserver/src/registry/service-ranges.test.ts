import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ServiceSchema, type Service } from "@corral/api";
import { formatFieldErrors } from "@corral/apimachinery";
import {
  IpRange,
  PortRange,
  checkRequested,
  claimDiff,
  claimsOf,
  keepAllocated,
  pickIpOffset,
  pickPort,
  unfilled,
} from "./service-ranges.js";

type Init = NonNullable<Parameters<typeof create<typeof ServiceSchema>>[1]>;
const svc = (spec: Init["spec"], name = "web", namespace = "default"): Service => create(ServiceSchema, { metadata: { name, namespace, uid: "u1" }, spec });
const ips = new IpRange("10.96.0.0/16");
const ports = new PortRange("30000-32767");

describe("IpRange", () => {
  it("knows its addresses", () => {
    assert.equal(ips.size, 65536);
    assert.equal(ips.offset("10.96.1.2"), 258);
    assert.equal(ips.offset("10.97.0.1"), undefined);
    assert.equal(ips.at(258), "10.96.1.2");
    assert.equal(ips.dnsIP, "10.96.0.10");
    assert.ok(!ips.usable(0) && !ips.usable(65535) && ips.usable(1));
  });
  it("refuses what is not an IPv4 CIDR", () => {
    assert.throws(() => new IpRange("10.96.0.1/16"), /host bits are set \(did you mean 10\.96\.0\.0\/16\?\)/);
    assert.throws(() => new IpRange("fd00::/108"), /IPv4 CIDR/);
    assert.throws(() => new IpRange("10.96.0.0/31"), /between \/8 and \/29/);
    assert.throws(() => new PortRange("32767-30000"), /MIN-MAX/);
  });
});

describe("requested addresses", () => {
  const errors = (s: Service) => formatFieldErrors(checkRequested(s, ips, ports));
  it("must be in the ranges", () => {
    assert.equal(errors(svc({ clusterIp: "10.96.3.4", ports: [{ port: 80 }] })), "");
    assert.match(errors(svc({ clusterIp: "10.97.0.5", ports: [{ port: 80 }] })), /spec\.clusterIP: Invalid value: "10\.97\.0\.5": provided IP is not in the valid range\. The range of valid IPs is 10\.96\.0\.0\/16/);
    assert.match(errors(svc({ clusterIp: "10.96.255.255", ports: [{ port: 80 }] })), /not in the valid range/);
    assert.match(errors(svc({ type: "NodePort", ports: [{ port: 80, nodePort: 8080 }] })), /spec\.ports\[0\]\.nodePort: Invalid value: 8080: provided port is not in the valid range\. The range of valid ports is 30000-32767/);
  });
  it("keeps .10 for the DNS Service", () => {
    assert.match(errors(svc({ clusterIp: "10.96.0.10", ports: [{ port: 53 }] })), /reserved for the cluster DNS Service corral-system\/corral-dns/);
    assert.equal(errors(svc({ clusterIp: "10.96.0.10", ports: [{ port: 53 }] }, "corral-dns", "corral-system")), "");
  });
});

describe("picking", () => {
  it("never hands out the network, broadcast, .1 or .10 addresses", () => {
    const small = new IpRange("10.0.0.0/28"); // 16 addresses: 0 and 15 are not usable, 1 and 10 are reserved
    const taken = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const o = pickIpOffset(small, taken)!;
      assert.ok(o !== undefined && ![0, 1, 10, 15].includes(o) && !taken.has(o), `offset ${o}`);
      taken.add(o);
    }
    assert.equal(pickIpOffset(small, taken), undefined, "the range is full");
  });
  it("finds the last free port by scanning when random probes miss", () => {
    const r = new PortRange("30000-30009");
    const taken = new Set([30000, 30001, 30002, 30003, 30004, 30005, 30006, 30008, 30009]);
    assert.equal(pickPort(r, taken, () => 0), 30007);
  });
});

describe("what a Service holds", () => {
  it("its ClusterIP and NodePorts (one per number), not a headless None", () => {
    const s = svc({ clusterIp: "10.96.0.7", type: "NodePort", ports: [{ port: 53, protocol: "UDP", nodePort: 30053 }, { port: 53, protocol: "TCP", nodePort: 30053, name: "tcp" }] });
    assert.deepEqual(claimsOf(s).map((c) => `${c.kind}/${c.value} ${c.field}`), ["ip/10.96.0.7 spec.clusterIP", "port/30053 spec.ports[0].nodePort"]);
    assert.deepEqual(claimsOf(svc({ clusterIp: "None" })), []);
    assert.deepEqual(unfilled(svc({ clusterIp: "None" })), { ip: false, ports: [] });
    assert.deepEqual(unfilled(svc({ type: "NodePort", ports: [{ port: 80 }, { port: 81, nodePort: 30001 }] })), { ip: true, ports: [0] });
  });
  it("an update that leaves them out keeps them (re-applying a manifest is not a change)", () => {
    const cur = svc({ clusterIp: "10.96.0.7", clusterIps: ["10.96.0.7"], type: "NodePort", ports: [{ name: "http", port: 80, nodePort: 30080 }] });
    const next = svc({ type: "NodePort", ports: [{ name: "http", port: 80 }] });
    keepAllocated(cur, next);
    assert.equal(next.spec!.clusterIp, "10.96.0.7");
    assert.deepEqual(next.spec!.clusterIps, ["10.96.0.7"]);
    assert.equal(next.spec!.ports[0]!.nodePort, 30080);
    // Changing to ClusterIP drops the NodePorts: they are released by the update.
    const toClusterIP = svc({ ports: [{ name: "http", port: 80 }] });
    keepAllocated(cur, toClusterIP);
    assert.equal(toClusterIP.spec!.ports[0]!.nodePort, 0);
    const d = claimDiff(claimsOf(cur), claimsOf(toClusterIP));
    assert.deepEqual(d.release.map((c) => c.value), ["30080"]);
    assert.deepEqual(d.acquire, []);
  });
});
