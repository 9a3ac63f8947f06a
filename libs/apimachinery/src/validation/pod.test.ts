import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type MessageInitShape, create } from "@bufbuild/protobuf";
import {
  AffinitySchema,
  ContainerPortSchema,
  ContainerSchema,
  EnvVarSchema,
  IntOrStringSchema,
  type PodSpec,
  ProbeSchema,
  ResourceRequirementsSchema,
  TolerationSchema,
  VolumeMountSchema,
  VolumeSchema,
} from "@corral/api";
import { formatFieldErrors } from "./errors.js";
import { validatePodSpec } from "./pod.js";
import { assertError, assertValid, validPod } from "./test-fixtures.js";

function spec(): PodSpec {
  const s = validPod().spec;
  assert.ok(s);
  return s;
}

const ports = (xs: Array<MessageInitShape<typeof ContainerPortSchema>>) => xs.map((x) => create(ContainerPortSchema, x));
const volumes = (...xs: Array<MessageInitShape<typeof VolumeSchema>>) => xs.map((x) => create(VolumeSchema, x));
const mounts = (...xs: Array<MessageInitShape<typeof VolumeMountSchema>>) => xs.map((x) => create(VolumeMountSchema, x));
const envs = (xs: Array<MessageInitShape<typeof EnvVarSchema>>) => xs.map((x) => create(EnvVarSchema, x));

const port = (v: number | string) =>
  create(IntOrStringSchema, { value: typeof v === "number" ? { case: "intVal", value: v } : { case: "strVal", value: v } });

describe("validatePodSpec", () => {
  it("accepts a valid spec", () => {
    assertValid(validatePodSpec(spec()));
  });

  it("requires at least one container", () => {
    const s = spec();
    s.containers = [];
    assert.equal(formatFieldErrors(validatePodSpec(s)), "spec.containers: Required value");
  });

  it("reports a missing spec", () => {
    assertError(validatePodSpec(undefined, "spec.template.spec"), "spec.template.spec", "Required value");
  });

  it("checks container names: required, DNS-1123 label, unique across init and app containers", () => {
    const s = spec();
    s.initContainers = [create(ContainerSchema, { name: "app", image: "busybox" })];
    s.containers.push(create(ContainerSchema, { name: "Side_car", image: "x" }), create(ContainerSchema, { image: "x" }));
    const errs = validatePodSpec(s);
    assertError(errs, "spec.containers[0].name", 'Duplicate value: "app"');
    assertError(errs, "spec.containers[1].name", "a lowercase RFC 1123 label");
    assertError(errs, "spec.containers[2].name", "Required value");
  });

  it("requires an image and checks pull policy", () => {
    const s = spec();
    s.containers[0].image = "";
    s.containers[0].imagePullPolicy = "Sometimes";
    const errs = validatePodSpec(s);
    assertError(errs, "spec.containers[0].image", "Required value");
    assertError(
      errs,
      "spec.containers[0].imagePullPolicy",
      'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    );
  });

  it("checks restartPolicy and dnsPolicy", () => {
    const s = spec();
    s.restartPolicy = "Sometimes";
    s.dnsPolicy = "Google";
    const errs = validatePodSpec(s);
    assertError(errs, "spec.restartPolicy", 'Unsupported value: "Sometimes"');
    assertError(errs, "spec.dnsPolicy", 'Unsupported value: "Google"');
    s.restartPolicy = "";
    s.dnsPolicy = "None";
    assertError(validatePodSpec(s), "spec.dnsConfig", "Required value");
    s.dnsPolicy = "ClusterFirstWithHostNet";
    assertValid(validatePodSpec(s));
  });

  it("checks ports: range, protocol and unique IANA names", () => {
    const s = spec();
    s.containers[0].ports = ports([
      { name: "http", containerPort: 0, protocol: "TCP" },
      { name: "http", containerPort: 8080, hostPort: 70000, protocol: "ICMP" },
      { name: "way-too-long-port-name", containerPort: 9090 },
    ]);
    const errs = validatePodSpec(s);
    assertError(errs, "spec.containers[0].ports[0].containerPort", "Invalid value: 0: must be between 1 and 65535, inclusive");
    assertError(errs, "spec.containers[0].ports[1].name", 'Duplicate value: "http"');
    assertError(errs, "spec.containers[0].ports[1].hostPort", "Invalid value: 70000");
    assertError(errs, "spec.containers[0].ports[1].protocol", 'supported values: "TCP", "UDP", "SCTP"');
    assertError(errs, "spec.containers[0].ports[2].name", "must be no more than 15 characters");
  });

  it("checks resources: quantities parse, are non-negative, requests ≤ limits", () => {
    const s = spec();
    s.containers[0].resources = create(ResourceRequirementsSchema, {
      limits: { memory: "12Q", cpu: "500m", "example.com/gpu": "1" },
      requests: { cpu: "1", memory: "-1", gpu: "1" },
    });
    const errs = validatePodSpec(s);
    assertError(errs, "spec.containers[0].resources.limits[memory]", /^Invalid value: "12Q": unknown suffix "Q"/);
    assertError(
      errs,
      "spec.containers[0].resources.requests[cpu]",
      'Invalid value: "1": must be less than or equal to cpu limit of 500m',
    );
    assertError(errs, "spec.containers[0].resources.requests[memory]", "must be greater than or equal to 0");
    assertError(errs, "spec.containers[0].resources.requests[gpu]", "must be a standard resource type or fully qualified");
    assert.ok(!errs.some((e) => e.path.includes("example.com/gpu")));
  });

  it("accepts requests equal to limits in different notations", () => {
    const s = spec();
    s.containers[0].resources = create(ResourceRequirementsSchema, {
      limits: { cpu: "1", memory: "1Gi" },
      requests: { cpu: "1000m", memory: "1024Mi" },
    });
    assertValid(validatePodSpec(s));
  });

  it("checks volumes: unique DNS-1123 names and exactly one source", () => {
    const s = spec();
    s.volumes.push(
      ...volumes(
        { name: "data", emptyDir: {} },
        { name: "none" },
        { name: "Two_Sources", emptyDir: { sizeLimit: "1Gi" }, hostPath: { path: "/tmp" } },
      ),
    );
    const errs = validatePodSpec(s);
    assertError(errs, "spec.volumes[1].name", 'Duplicate value: "data"');
    assertError(errs, "spec.volumes[2]", "Required value: must specify a volume type");
    assertError(errs, "spec.volumes[3].name", "a lowercase RFC 1123 label");
    assertError(errs, "spec.volumes[3].hostPath", "Forbidden: may not specify more than 1 volume type");
  });

  it("checks volume sources", () => {
    const s = spec();
    s.volumes = volumes(
      { name: "a", configMap: { name: "" } },
      { name: "b", secret: { secretName: "s", defaultMode: 0o1777 } },
      { name: "c", hostPath: { path: "" } },
      { name: "data", persistentVolumeClaim: { claimName: "" } },
    );
    const errs = validatePodSpec(s);
    assertError(errs, "spec.volumes[0].configMap.name", "Required value");
    assertError(errs, "spec.volumes[1].secret.defaultMode", "must be a number between 0 and 0777");
    assertError(errs, "spec.volumes[2].hostPath.path", "Required value");
    assertError(errs, "spec.volumes[3].persistentVolumeClaim.claimName", "Required value");
  });

  it("checks volume mounts: existing volume, absolute unique path", () => {
    const s = spec();
    s.containers[0].volumeMounts.push(
      ...mounts({ name: "missing", mountPath: "relative" }, { name: "data", mountPath: "/data", subPath: "../x" }),
    );
    const errs = validatePodSpec(s);
    assertError(errs, "spec.containers[0].volumeMounts[1].name", 'Not found: "missing"');
    assertError(errs, "spec.containers[0].volumeMounts[1].mountPath", 'Invalid value: "relative": must be an absolute path');
    assertError(errs, "spec.containers[0].volumeMounts[2].mountPath", "must be unique");
    assertError(errs, "spec.containers[0].volumeMounts[2].subPath", "must not contain '..'");
  });

  it("checks env vars: names, value vs valueFrom, exactly one source", () => {
    const s = spec();
    s.containers[0].env = envs([
      { name: "GOOD", value: "1" },
      { name: "1BAD" },
      { name: "BOTH", value: "x", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "NONE", valueFrom: {} },
      { name: "TWO", valueFrom: { configMapKeyRef: { name: "cm", key: "k" }, secretKeyRef: { name: "s" } } },
      { name: "LABEL", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.labels['app']" } } },
    ]);
    const errs = validatePodSpec(s);
    const at = (i: number) => `spec.containers[0].env[${i}]`;
    assertError(errs, `${at(1)}.name`, "a valid environment variable name");
    assertError(errs, `${at(2)}.valueFrom`, "may not be specified when `value` is not empty");
    assertError(errs, `${at(3)}.valueFrom`, "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`");
    assertError(errs, `${at(4)}.valueFrom`, "may not have more than one field specified at a time");
    assertError(errs, `${at(4)}.valueFrom.secretKeyRef.key`, "Required value");
    assert.ok(!errs.some((e) => e.path.startsWith(at(0)) || e.path.startsWith(at(5))), formatFieldErrors(errs));
  });

  it("checks probes: one handler, ports by number or existing name", () => {
    const s = spec();
    const c = s.containers[0];
    c.livenessProbe = create(ProbeSchema, { httpGet: { path: "/healthz", port: port("http") } });
    c.readinessProbe = create(ProbeSchema, { tcpSocket: { port: port(8080) } });
    assertValid(validatePodSpec(s));

    c.livenessProbe = create(ProbeSchema, { httpGet: { port: port("metrics") }, exec: { command: ["true"] } });
    c.readinessProbe = create(ProbeSchema, { tcpSocket: { port: port(0) } });
    c.startupProbe = create(ProbeSchema, { periodSeconds: -1 });
    const errs = validatePodSpec(s);
    assertError(errs, "spec.containers[0].livenessProbe.httpGet", "may not specify more than 1 handler type");
    assertError(errs, "spec.containers[0].livenessProbe.httpGet.port", 'Invalid value: "metrics": must be the name of a port of this container');
    assertError(errs, "spec.containers[0].readinessProbe.tcpSocket.port", "must be between 1 and 65535, inclusive");
    assertError(errs, "spec.containers[0].startupProbe", "Required value: must specify a handler type");
    assertError(errs, "spec.containers[0].startupProbe.periodSeconds", "must be greater than or equal to 0");
  });

  it("checks tolerations", () => {
    const s = spec();
    const t = (x: MessageInitShape<typeof TolerationSchema>) => create(TolerationSchema, x);
    s.tolerations = [
      t({ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300n }),
      t({ operator: "Exists" }),
      t({ key: "k", operator: "Maybe" }),
      t({ key: "k", operator: "Exists", value: "v" }),
      t({ key: "k", value: "v", effect: "NoRun" }),
      t({ key: "k", value: "v", effect: "NoSchedule", tolerationSeconds: 10n }),
      t({ value: "v" }),
    ];
    const errs = validatePodSpec(s);
    assert.ok(!errs.some((e) => e.path.startsWith("spec.tolerations[0]") || e.path.startsWith("spec.tolerations[1]")), formatFieldErrors(errs));
    assertError(errs, "spec.tolerations[2].operator", 'Unsupported value: "Maybe": supported values: "Equal", "Exists"');
    assertError(errs, "spec.tolerations[3].value", "value must be empty when `operator` is 'Exists'");
    assertError(errs, "spec.tolerations[4].effect", 'Unsupported value: "NoRun"');
    assertError(errs, "spec.tolerations[5].effect", "effect must be 'NoExecute' when `tolerationSeconds` is set");
    assertError(errs, "spec.tolerations[6].operator", "operator must be Exists when `key` is empty");
  });

  it("checks terminationGracePeriodSeconds and activeDeadlineSeconds", () => {
    const s = spec();
    s.terminationGracePeriodSeconds = -1n;
    s.activeDeadlineSeconds = 0n;
    const errs = validatePodSpec(s);
    assertError(errs, "spec.terminationGracePeriodSeconds", "Invalid value: -1: must be greater than or equal to 0");
    assertError(errs, "spec.activeDeadlineSeconds", "must be between 1 and 2147483647, inclusive");
    s.terminationGracePeriodSeconds = 0n;
    s.activeDeadlineSeconds = 30n;
    assertValid(validatePodSpec(s));
  });

  it("checks nodeSelector and affinity", () => {
    const s = spec();
    s.nodeSelector = { "kubernetes.io/hostname": "-bad" };
    s.affinity = create(AffinitySchema, {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "Near" }] }],
        },
      },
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "web" } } }] },
    });
    const errs = validatePodSpec(s);
    assertError(errs, "spec.nodeSelector[kubernetes.io/hostname]", 'Invalid value: "-bad"');
    assertError(
      errs,
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator",
      'Unsupported value: "Near"',
    );
    assertError(
      errs,
      "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
      "Required value: can not be empty",
    );
  });

  it("uses the given path prefix", () => {
    const s = spec();
    s.containers[0].image = "";
    assertError(validatePodSpec(s, "spec.template.spec"), "spec.template.spec.containers[0].image", "Required value");
  });
});
