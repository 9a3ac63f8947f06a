// Shared fixtures and assertions for the validation tests (not exported by the package).
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { type Pod, PodSchema, type PodTemplateSpec, PodTemplateSpecSchema } from "@corral/api";
import { type FieldError, formatFieldErrors } from "./errors.js";

/** A valid pod; `spec` fields given override the defaults. */
export function validPod(): Pod {
  return create(PodSchema, {
    metadata: { name: "web-1", namespace: "default", labels: { app: "web" } },
    spec: {
      containers: [
        {
          name: "app",
          image: "nginx:1.27",
          ports: [{ name: "http", containerPort: 80, protocol: "TCP" }],
          resources: { requests: { cpu: "250m", memory: "64Mi" }, limits: { cpu: "1", memory: "128Mi" } },
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
      ],
      volumes: [{ name: "data", emptyDir: {} }],
      restartPolicy: "Always",
    },
  });
}

export function validTemplate(labels: Record<string, string> = { app: "web" }): PodTemplateSpec {
  return create(PodTemplateSpecSchema, {
    metadata: { labels },
    spec: { containers: [{ name: "app", image: "nginx:1.27" }] },
  });
}

export function assertValid(errs: readonly FieldError[]): void {
  assert.deepEqual(errs, [], formatFieldErrors(errs));
}

/** Asserts that one of the errors is at `path` with a reason matching `reason`. */
export function assertError(errs: readonly FieldError[], path: string, reason: RegExp | string): void {
  const hit = errs.some((e) => e.path === path && (typeof reason === "string" ? e.reason.includes(reason) : reason.test(e.reason)));
  assert.ok(hit, `expected an error at ${path} matching ${String(reason)}, got: ${formatFieldErrors(errs) || "none"}`);
}
