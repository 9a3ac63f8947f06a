import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { EndpointsSchema, ServiceSchema } from "@corral/api";
import dnsPacket from "dns-packet";
import { encodeUdp, respond } from "./answer.js";
import { ClusterRecords } from "./records.js";
import { nameservers, parseUpstream } from "./resolv.js";

function records(): ClusterRecords {
  const r = new ClusterRecords("cluster.local");
  r.setService(create(ServiceSchema, { metadata: { name: "web", namespace: "default" }, spec: { clusterIp: "10.96.0.20", ports: [{ name: "http", port: 80 }] } }));
  r.setService(create(ServiceSchema, { metadata: { name: "db", namespace: "prod" }, spec: { clusterIp: "None", ports: [{ name: "pg", port: 5432 }] } }));
  r.setEndpoints(
    create(EndpointsSchema, {
      metadata: { name: "db", namespace: "prod" },
      subsets: [{ addresses: [{ ip: "10.244.0.5", hostname: "db-0" }, { ip: "10.244.0.6", hostname: "db-1" }], notReadyAddresses: [{ ip: "10.244.0.7" }], ports: [{ name: "pg", port: 5432 }] }],
    }),
  );
  return r;
}

describe("ClusterRecords", () => {
  const r = records();
  it("answers <service>.<namespace>.svc.<domain> with the ClusterIP, in any case, with or without the final dot", () => {
    assert.deepEqual(r.lookup("web.default.svc.cluster.local", "A"), { kind: "answer", a: ["10.96.0.20"], srv: [], ptr: [] });
    assert.deepEqual(r.lookup("WEB.Default.svc.cluster.local.", "A"), { kind: "answer", a: ["10.96.0.20"], srv: [], ptr: [] });
  });
  it("a headless Service answers with its ready endpoints, and each hostname on its own", () => {
    assert.deepEqual(r.lookup("db.prod.svc.cluster.local", "A"), { kind: "answer", a: ["10.244.0.5", "10.244.0.6"], srv: [], ptr: [] });
    assert.deepEqual(r.lookup("db-1.db.prod.svc.cluster.local", "A"), { kind: "answer", a: ["10.244.0.6"], srv: [], ptr: [] });
  });
  it("SRV for named ports, PTR for ClusterIPs, A for pod names", () => {
    assert.deepEqual(r.lookup("_http._tcp.web.default.svc.cluster.local", "SRV"), { kind: "answer", a: [], srv: [{ port: 80, target: "web.default.svc.cluster.local" }], ptr: [] });
    assert.deepEqual(r.lookup("20.0.96.10.in-addr.arpa", "PTR"), { kind: "answer", a: [], srv: [], ptr: ["web.default.svc.cluster.local"] });
    assert.deepEqual(r.lookup("10-244-0-9.default.pod.cluster.local", "A"), { kind: "answer", a: ["10.244.0.9"], srv: [], ptr: [] });
  });
  it("existing names without records of the type are NODATA; unknown ones NXDOMAIN; the rest is forwarded", () => {
    assert.equal(r.lookup("web.default.svc.cluster.local", "AAAA").kind, "nodata");
    assert.equal(r.lookup("default.svc.cluster.local", "A").kind, "nodata");
    assert.equal(r.lookup("nope.default.svc.cluster.local", "A").kind, "nxdomain");
    // What a pod's search list tries first for "example.com" (ndots:5): answered here, not forwarded.
    assert.equal(r.lookup("example.com.default.svc.cluster.local", "A").kind, "nxdomain");
    assert.equal(r.lookup("example.com", "A").kind, "forward");
    assert.equal(r.lookup("1.2.0.192.in-addr.arpa", "PTR").kind, "forward");
  });
  it("follows deletions", () => {
    const x = records();
    x.deleteService("default/web");
    assert.equal(x.lookup("web.default.svc.cluster.local", "A").kind, "nxdomain");
    assert.equal(x.lookup("20.0.96.10.in-addr.arpa", "PTR").kind, "forward");
  });
});

describe("respond (wire format through dns-packet)", () => {
  const r = records();
  const ask = (name: string, type: "A" | "AAAA" = "A") =>
    dnsPacket.decode(dnsPacket.encode({ type: "query", id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: "IN" }] }));
  it("an A answer is authoritative, keeps the id and the question", () => {
    const res = respond(ask("web.default.svc.cluster.local"), r);
    assert.notEqual(res, "forward");
    const back = dnsPacket.decode(encodeUdp(res as dnsPacket.Packet));
    assert.equal(back.id, 4242);
    assert.equal(back.flag_aa, true);
    assert.equal(back.flag_rd, true);
    assert.equal((back as { rcode?: string }).rcode, "NOERROR");
    assert.deepEqual(back.answers?.map((a) => [a.type, (a as { data: unknown }).data, (a as { ttl?: number }).ttl]), [["A", "10.96.0.20", 5]]);
  });
  it("an unknown cluster name is NXDOMAIN with the zone's SOA", () => {
    const back = dnsPacket.decode(encodeUdp(respond(ask("nope.default.svc.cluster.local"), r) as dnsPacket.Packet));
    assert.equal((back as { rcode?: string }).rcode, "NXDOMAIN");
    assert.equal(back.authorities?.[0]?.type, "SOA");
  });
  it("other names are forwarded", () => assert.equal(respond(ask("example.com"), r), "forward"));
  it("a UDP answer past 512 bytes is truncated so that the client asks again over TCP", () => {
    const big = new ClusterRecords();
    big.setService(create(ServiceSchema, { metadata: { name: "many", namespace: "d" }, spec: { clusterIp: "None" } }));
    big.setEndpoints(create(EndpointsSchema, { metadata: { name: "many", namespace: "d" }, subsets: [{ addresses: Array.from({ length: 60 }, (_, i) => ({ ip: `10.244.1.${i + 1}` })) }] }));
    const back = dnsPacket.decode(encodeUdp(respond(ask("many.d.svc.cluster.local"), big) as dnsPacket.Packet));
    assert.equal(back.flag_tc, true);
    assert.equal(back.answers?.length, 0);
  });
});

describe("resolv.conf", () => {
  it("takes the IPv4 nameservers but the cluster DNS itself", () => {
    assert.deepEqual(nameservers("search x\nnameserver 10.96.0.10\nnameserver 192.0.2.53\nnameserver fd00::1\n", ["10.96.0.10"]), [{ host: "192.0.2.53", port: 53 }]);
    assert.deepEqual(parseUpstream("127.0.0.1:5353"), { host: "127.0.0.1", port: 5353 });
    assert.throws(() => parseUpstream("dns.example"), /IPv4/);
  });
});
