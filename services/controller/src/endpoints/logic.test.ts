import { create } from "@bufbuild/protobuf";
import { ServiceSchema, type Service } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pod, T0 } from "../shared/test-fixtures.js";
import { endpointSubsets, findPort, podInEndpoints } from "./logic.js";

const svc = (ports: { name?: string; port: number; target?: number | string; protocol?: string }[], extra: Partial<Service["spec"]> = {}): Service =>
  create(ServiceSchema, {
    metadata: { name: "web", namespace: "default" },
    spec: {
      selector: { app: "web" },
      ports: ports.map((p) => ({
        name: p.name ?? "",
        port: p.port,
        protocol: p.protocol ?? "",
        targetPort: p.target === undefined ? undefined : typeof p.target === "number" ? { value: { case: "intVal" as const, value: p.target } } : { value: { case: "strVal" as const, value: p.target } },
      })),
      ...(extra as object),
    },
  });

const web = (name: string, ip: string, ready: boolean, ports: { name: string; containerPort: number }[] = [{ name: "http", containerPort: 8080 }], extra = {}) =>
  pod(name, { labels: { app: "web" }, node: "n1", ip, readySince: ready ? T0 : undefined, spec: { containers: [{ name: "c", ports }] }, ...extra });

describe("Endpoints", () => {
  it("lists ready pods as addresses and unready ones as notReadyAddresses, on the resolved named port", () => {
    const s = svc([{ name: "web", port: 80, target: "http" }]);
    const subsets = endpointSubsets(s, [web("a", "10.0.0.2", true), web("b", "10.0.0.10", true), web("c", "10.0.0.3", false), pod("other", { labels: { app: "db" }, ip: "10.0.0.9" })]);
    assert.equal(subsets.length, 1);
    assert.deepEqual(subsets[0]!.addresses.map((a) => a.ip), ["10.0.0.2", "10.0.0.10"]);
    assert.deepEqual(subsets[0]!.notReadyAddresses.map((a) => a.ip), ["10.0.0.3"]);
    assert.deepEqual(subsets[0]!.ports.map((p) => [p.name, p.port, p.protocol]), [["web", 8080, "TCP"]]);
    const a = subsets[0]!.addresses[0]!;
    assert.deepEqual([a.nodeName, a.targetRef?.kind, a.targetRef?.name], ["n1", "Pod", "a"]);
  });
  it("resolves target ports per pod: numbers as they are, unset as the service port, names by container port name and protocol", () => {
    const p = web("a", "10.0.0.2", true, [{ name: "http", containerPort: 9000 }]);
    assert.equal(findPort(p, svc([{ port: 80, target: 8080 }]).spec!.ports[0]!), 8080);
    assert.equal(findPort(p, svc([{ port: 80 }]).spec!.ports[0]!), 80);
    assert.equal(findPort(p, svc([{ port: 80, target: "http" }]).spec!.ports[0]!), 9000);
    assert.equal(findPort(p, svc([{ port: 80, target: "http", protocol: "UDP" }]).spec!.ports[0]!), undefined);
    assert.equal(findPort(p, svc([{ port: 80, target: "metrics" }]).spec!.ports[0]!), undefined);
  });
  it("groups ports offered by the same pods into one subset (RepackSubsets)", () => {
    const s = svc([{ name: "web", port: 80, target: "http" }, { name: "metrics", port: 9090, target: "metrics" }]);
    const both = web("a", "10.0.0.2", true, [{ name: "http", containerPort: 8080 }, { name: "metrics", containerPort: 9090 }]);
    const httpOnly = web("b", "10.0.0.3", true);
    const subsets = endpointSubsets(s, [both, httpOnly]);
    const byPorts = Object.fromEntries(subsets.map((x) => [x.ports.map((p) => p.name).join(), x.addresses.map((a) => a.ip).join()]));
    assert.deepEqual(byPorts, { metrics: "10.0.0.2", web: "10.0.0.2,10.0.0.3" });
  });
  it("leaves out pods without an IP, terminating ones and finished ones; publishNotReadyAddresses makes all ready", () => {
    assert.ok(!podInEndpoints(web("a", "", true), false));
    assert.ok(!podInEndpoints(web("a", "10.0.0.2", true, undefined, { deleting: true }), false));
    assert.ok(podInEndpoints(web("a", "10.0.0.2", true, undefined, { deleting: true }), true));
    const done = web("a", "10.0.0.2", false, undefined, { phase: "Succeeded" });
    done.spec!.restartPolicy = "Never";
    assert.ok(!podInEndpoints(done, false));
    const s = svc([{ port: 80 }], { publishNotReadyAddresses: true });
    assert.deepEqual(endpointSubsets(s, [web("c", "10.0.0.3", false)])[0]!.addresses.map((a) => a.ip), ["10.0.0.3"]);
  });
  it("is stable: the same pods in any order give the same subsets", () => {
    const s = svc([{ name: "web", port: 80, target: "http" }]);
    const pods = [web("a", "10.0.0.2", true), web("b", "10.0.1.1", false), web("c", "10.0.0.9", true)];
    assert.deepEqual(endpointSubsets(s, pods), endpointSubsets(s, [...pods].reverse()));
  });
});
