import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { EndpointsSchema, ServiceSchema } from "@corral/api";
import { servicePorts, type ServicePortState } from "./model.js";
import { baseLines, commitPlan, planUpdate, renderFull, type RenderConfig } from "./render.js";

const cfg: RenderConfig = { table: "corral", masqueradeBit: 14, clusterCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/16" };

function state(id: string, ip: string, backends: [string, number][], extra: Partial<ServicePortState> = {}): ServicePortState {
  return {
    id,
    clusterIP: ip,
    protocol: "tcp",
    port: 80,
    nodePort: 0,
    internalLocal: false,
    externalLocal: false,
    affinitySeconds: 0,
    backends: backends.map(([a, port]) => ({ ip: a, port, local: true })),
    ...extra,
  };
}

describe("servicePorts (Service + Endpoints → what is programmed)", () => {
  const svc = create(ServiceSchema, {
    metadata: { name: "web", namespace: "default" },
    spec: {
      clusterIp: "10.96.0.20",
      type: "NodePort",
      ports: [
        { name: "http", port: 80, nodePort: 30080 },
        { name: "dns", port: 53, protocol: "UDP" },
      ],
    },
  });
  const eps = create(EndpointsSchema, {
    metadata: { name: "web", namespace: "default" },
    subsets: [
      {
        addresses: [{ ip: "10.244.0.7", nodeName: "n1" }, { ip: "10.244.0.5", nodeName: "n2" }],
        notReadyAddresses: [{ ip: "10.244.0.9", nodeName: "n1" }],
        ports: [{ name: "http", port: 8080 }, { name: "dns", port: 5353, protocol: "UDP" }],
      },
    ],
  });
  it("matches ports by name and protocol, keeps only ready addresses, sorted", () => {
    const [http, dns] = servicePorts(svc, eps, "n1");
    assert.equal(http!.id, "default/web/tcp/http");
    assert.deepEqual(http!.backends, [
      { ip: "10.244.0.5", port: 8080, local: false },
      { ip: "10.244.0.7", port: 8080, local: true },
    ]);
    assert.equal(http!.nodePort, 30080);
    assert.equal(dns!.protocol, "udp");
    assert.deepEqual(dns!.backends.map((b) => b.port), [5353, 5353]);
  });
  it("leaves headless, unallocated and other proxies' Services alone", () => {
    const headless = create(ServiceSchema, { metadata: { name: "h", namespace: "d" }, spec: { clusterIp: "None", ports: [{ port: 80 }] } });
    const none = create(ServiceSchema, { metadata: { name: "n", namespace: "d" }, spec: { ports: [{ port: 80 }] } });
    const dns = create(ServiceSchema, {
      metadata: { name: "corral-dns", namespace: "corral-system", labels: { "service.kubernetes.io/service-proxy-name": "corral-dns" } },
      spec: { clusterIp: "10.96.0.10", ports: [{ port: 53, protocol: "UDP" }] },
    });
    for (const s of [headless, none, dns]) assert.deepEqual(servicePorts(s, undefined, "n1"), []);
  });
  it("sessionAffinity ClientIP defaults to Kubernetes' 3 hours", () => {
    const s = create(ServiceSchema, { metadata: { name: "s", namespace: "d" }, spec: { clusterIp: "10.96.0.3", sessionAffinity: "ClientIP", ports: [{ port: 80 }] } });
    assert.equal(servicePorts(s, undefined, "n1")[0]!.affinitySeconds, 10800);
  });
});

describe("renderFull", () => {
  it("replaces the table in one transaction: add, delete, then the whole table", () => {
    const { lines, applied } = renderFull(cfg, [state("default/web/tcp/80", "10.96.0.20", [["10.244.0.5", 8080], ["10.244.0.6", 8080]])]);
    assert.deepEqual(lines.slice(0, 2), ["add table ip corral", "delete table ip corral"]);
    const text = lines.join("\n");
    assert.match(text, /add chain ip corral nat-output \{ type nat hook output priority -100 ; policy accept ; \}/);
    assert.match(text, /add chain ip corral lb-2\nadd rule ip corral lb-2 ip saddr != 10\.244\.0\.0\/16 jump mark-for-masquerade\nadd rule ip corral lb-2 dnat ip to ip daddr \. meta l4proto \. th dport \. numgen random mod 2 map @backends/);
    assert.match(text, /add element ip corral service-ips \{ 10\.96\.0\.20 \. tcp \. 80 : goto lb-2 \}/);
    assert.match(text, /add element ip corral backends \{ 10\.96\.0\.20 \. tcp \. 80 \. 0 : 10\.244\.0\.5 \. 8080, 10\.96\.0\.20 \. tcp \. 80 \. 1 : 10\.244\.0\.6 \. 8080 \}/);
    assert.match(text, /add element ip corral hairpin \{ 10\.244\.0\.5 \. 10\.244\.0\.5, 10\.244\.0\.6 \. 10\.244\.0\.6 \}/);
    assert.deepEqual([...applied.shared], ["lb-2"]);
    // Every statement names this table and no other.
    for (const l of lines) assert.match(l, /^(add|delete|flush) (table|chain|rule|map|set|element) ip corral\b/, l);
  });
  it("rejects unallocated Service addresses only when the Service CIDR is known", () => {
    assert.ok(baseLines(cfg).some((l) => l.includes("ip daddr 10.96.0.0/16 goto reject-chain")));
    assert.ok(!baseLines({ table: "t", masqueradeBit: 14 }).some((l) => l.includes("reject-chain") && l.includes("ip daddr 10.")));
  });
  it("masquerade is for hairpin and off-node traffic: the node's own connections to its own pods keep their source", () => {
    const lines = baseLines({ ...cfg, localPodCidr: "10.244.3.0/24" });
    const i = lines.indexOf("add rule ip corral masquerading ip daddr 10.244.3.0/24 fib saddr type local return");
    assert.ok(i > 0 && i < lines.indexOf("add rule ip corral masquerading masquerade"));
    assert.ok(lines.indexOf("add rule ip corral masquerading ct status dnat ip saddr . ip daddr @hairpin masquerade") < i, "hairpin first");
  });
  it("NodePorts answer on the given addresses, else on every local address but loopback", () => {
    assert.ok(baseLines(cfg).some((l) => l.includes("fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports")));
    assert.ok(baseLines({ ...cfg, nodePortAddresses: ["192.168.5.0/24"] }).some((l) => l.includes("ip daddr { 192.168.5.0/24 } fib daddr type local")));
  });
});

describe("planUpdate (incremental)", () => {
  const web = (eps: [string, number][]) => state("default/web/tcp/80", "10.96.0.20", eps);
  const other = state("default/other/tcp/80", "10.96.0.30", [["10.244.0.9", 80]]);

  it("an endpoint change touches only that Service's elements", () => {
    const { applied } = renderFull(cfg, [web([["10.244.0.5", 8080], ["10.244.0.6", 8080]]), other]);
    const plan = planUpdate(cfg, applied, new Map([["default/web/tcp/80", web([["10.244.0.5", 8080]])]]));
    // lb-1 exists already (other has one endpoint): four statements, whatever the number of Services.
    assert.deepEqual(plan.lines, [
      "delete element ip corral service-ips { 10.96.0.20 . tcp . 80 }",
      "delete element ip corral backends { 10.96.0.20 . tcp . 80 . 1 }",
      "add element ip corral service-ips { 10.96.0.20 . tcp . 80 : goto lb-1 }",
      "delete element ip corral hairpin { 10.244.0.6 . 10.244.0.6 }",
    ]);
    commitPlan(applied, plan);
    // Scaling back and forth adds no chain.
    const back = planUpdate(cfg, applied, new Map([["default/web/tcp/80", web([["10.244.0.5", 8080], ["10.244.0.6", 8080]])]]));
    assert.ok(!back.lines.some((l) => l.includes("add chain")));
    assert.equal(back.lines.length, 4);
  });

  it("an unchanged Service produces nothing", () => {
    const { applied } = renderFull(cfg, [other]);
    assert.deepEqual(planUpdate(cfg, applied, new Map([[other.id, { ...other }]])).lines, []);
  });

  it("a Service losing its last endpoint rejects at once; deleting it removes its elements", () => {
    const { applied } = renderFull(cfg, [web([["10.244.0.5", 8080]])]);
    const empty = planUpdate(cfg, applied, new Map([["default/web/tcp/80", web([])]]));
    assert.ok(empty.lines.includes("add element ip corral no-endpoint-services { 10.96.0.20 . tcp . 80 : goto reject-chain }"));
    commitPlan(applied, empty);
    const gone = planUpdate(cfg, applied, new Map([["default/web/tcp/80", undefined]]));
    assert.deepEqual(gone.lines, ["delete element ip corral no-endpoint-services { 10.96.0.20 . tcp . 80 }"]);
    commitPlan(applied, gone);
    assert.equal(applied.services.size, 0);
    assert.equal(applied.hairpin.size, 0);
  });

  it("hairpin elements are counted: an IP shared by two Services stays until both let go", () => {
    const a = state("d/a/tcp/80", "10.96.0.40", [["10.244.0.5", 80]]);
    const b = state("d/b/tcp/80", "10.96.0.41", [["10.244.0.5", 80]]);
    const { applied } = renderFull(cfg, [a, b]);
    const p1 = planUpdate(cfg, applied, new Map([[a.id, undefined]]));
    assert.ok(!p1.lines.some((l) => l.includes("hairpin")));
    commitPlan(applied, p1);
    const p2 = planUpdate(cfg, applied, new Map([[b.id, undefined]]));
    assert.ok(p2.lines.includes("delete element ip corral hairpin { 10.244.0.5 . 10.244.0.5 }"));
  });

  it("NodePorts: masqueraded (np-N), or Local (npl-N) with only this node's endpoints", () => {
    const s = state("d/np/tcp/80", "10.96.0.50", [], { nodePort: 30080 });
    s.backends = [
      { ip: "10.244.0.5", port: 80, local: true },
      { ip: "10.244.1.5", port: 80, local: false },
    ];
    const text = renderFull(cfg, [s]).lines.join("\n");
    assert.match(text, /add element ip corral service-nodeports \{ tcp \. 30080 : goto np-2 \}/);
    assert.match(text, /add rule ip corral np-2 jump mark-for-masquerade/);
    const local = renderFull(cfg, [{ ...s, externalLocal: true }]).lines.join("\n");
    assert.match(local, /service-nodeports \{ tcp \. 30080 : goto npl-1 \}/);
    assert.match(local, /nodeport-backends \{ tcp \. 30080 \. 0 : 10\.244\.0\.5 \. 80 \}/);
    assert.doesNotMatch(local, /add rule ip corral npl-1 jump mark-for-masquerade/);
  });

  it("sessionAffinity ClientIP: per-endpoint chains and timeout sets, removed in a safe order", () => {
    const s = state("d/sticky/tcp/80", "10.96.0.60", [["10.244.0.5", 80], ["10.244.0.6", 80]], { affinitySeconds: 600 });
    const { lines, applied } = renderFull(cfg, [s]);
    const text = lines.join("\n");
    assert.match(text, /add set ip corral aff600-d\/sticky\/tcp\/80\/10\.244\.0\.5\/80 \{ type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; \}/);
    assert.match(text, /add rule ip corral svc-d\/sticky\/tcp\/80 ip saddr @aff600-d\/sticky\/tcp\/80\/10\.244\.0\.5\/80 goto ep-d\/sticky\/tcp\/80\/10\.244\.0\.5\/80/);
    assert.match(text, /add rule ip corral ep-d\/sticky\/tcp\/80\/10\.244\.0\.5\/80 update @aff600-d\/sticky\/tcp\/80\/10\.244\.0\.5\/80 \{ ip saddr \}/);
    const gone = planUpdate(cfg, applied, new Map([[s.id, { ...s, backends: s.backends.slice(0, 1) }]]));
    const i = (re: RegExp) => gone.lines.findIndex((l) => re.test(l));
    assert.ok(i(/^flush chain ip corral svc-/) < i(/^delete chain ip corral ep-.*10\.244\.0\.6/), "the service chain stops pointing at the endpoint before it goes");
    assert.ok(i(/^delete chain ip corral ep-.*10\.244\.0\.6/) < i(/^delete set ip corral aff600-.*10\.244\.0\.6/), "the chain that updates the set goes before the set");
    assert.equal(i(/^delete chain ip corral ep-.*10\.244\.0\.5/), -1, "the endpoint that stays keeps its chain");
  });
});
