import { describe, it } from "node:test";
import { type MessageInitShape, create } from "@bufbuild/protobuf";
import { ServiceSchema, ServiceSpecSchema, Services } from "@corral/api";
import { validateObject } from "./index.js";
import { validateServiceSpec } from "./service.js";
import { assertError, assertValid } from "./test-fixtures.js";

const spec = (init: MessageInitShape<typeof ServiceSpecSchema>) => create(ServiceSpecSchema, init);
const target = (v: number | string) => ({
  value: typeof v === "number" ? { case: "intVal" as const, value: v } : { case: "strVal" as const, value: v },
});

describe("validateServiceSpec", () => {
  it("accepts ClusterIP and NodePort services", () => {
    assertValid(validateServiceSpec(spec({ selector: { app: "web" }, ports: [{ port: 80, targetPort: target("http") }] })));
    assertValid(
      validateServiceSpec(
        spec({
          type: "NodePort",
          clusterIp: "10.96.0.10",
          sessionAffinity: "ClientIP",
          ports: [
            { name: "http", port: 80, targetPort: target(8080), nodePort: 30080, protocol: "TCP" },
            { name: "dns", port: 53, protocol: "UDP" },
          ],
        }),
      ),
    );
    assertValid(validateServiceSpec(spec({ clusterIp: "None" })), );
  });

  it("requires ports", () => {
    assertError(validateServiceSpec(spec({})), "spec.ports", "Required value");
  });

  it("checks port numbers, names and protocols", () => {
    const errs = validateServiceSpec(
      spec({
        ports: [
          { port: 0 },
          { name: "web", port: 70000, protocol: "ICMP" },
          { name: "web", port: 81, targetPort: target(0) },
          { name: "x", port: 82, targetPort: target(99999) },
          { name: "y", port: 83, targetPort: target("Not_A_Name") },
        ],
      }),
    );
    assertError(errs, "spec.ports[0].name", "Required value");
    assertError(errs, "spec.ports[0].port", "must be between 1 and 65535, inclusive");
    assertError(errs, "spec.ports[1].port", "Invalid value: 70000");
    assertError(errs, "spec.ports[1].protocol", 'Unsupported value: "ICMP"');
    assertError(errs, "spec.ports[2].name", 'Duplicate value: "web"');
    assertError(errs, "spec.ports[3].targetPort", "Invalid value: 99999");
    assertError(errs, "spec.ports[4].targetPort", "must contain only alpha-numeric characters");
  });

  it("rejects two ports with the same number and protocol", () => {
    const errs = validateServiceSpec(spec({ ports: [{ name: "a", port: 80 }, { name: "b", port: 80, protocol: "TCP" }] }));
    assertError(errs, "spec.ports[1]", 'Duplicate value: "80/TCP"');
  });

  it("checks type and nodePort", () => {
    assertError(validateServiceSpec(spec({ type: "LoadBalancer", ports: [{ port: 80 }] })), "spec.type", 'supported values: "ClusterIP", "NodePort"');
    assertError(
      validateServiceSpec(spec({ ports: [{ port: 80, nodePort: 30080 }] })),
      "spec.ports[0].nodePort",
      "Forbidden: may not be used when `type` is 'ClusterIP'",
    );
    assertError(
      validateServiceSpec(spec({ type: "NodePort", ports: [{ port: 80, nodePort: 8080 }] })),
      "spec.ports[0].nodePort",
      "Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767",
    );
  });

  it("checks sessionAffinity, clusterIP and selector", () => {
    const errs = validateServiceSpec(
      spec({ sessionAffinity: "Sticky", clusterIp: "10.0.0", selector: { "bad key": "v" }, ports: [{ port: 80 }] }),
    );
    assertError(errs, "spec.sessionAffinity", 'Unsupported value: "Sticky": supported values: "ClientIP", "None"');
    assertError(errs, "spec.clusterIP", "must be a valid IP address");
    assertError(errs, "spec.selector", 'Invalid value: "bad key"');
  });

  it("runs under validateObject", () => {
    const svc = create(ServiceSchema, { metadata: { name: "web", namespace: "default" }, spec: { ports: [{ port: 0 }] } });
    assertError(validateObject(Services, svc), "spec.ports[0].port", "must be between 1 and 65535");
  });
});
