import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, PodSchema, SecretSchema } from "@corral/api";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, resolveEnv, type EnvSources } from "./env.js";

const pod = create(PodSchema, {
  metadata: { name: "web-1", namespace: "shop", uid: "u", labels: { app: "web" } },
  spec: { containers: [] },
});
const src: EnvSources = {
  configMap: (n) => (n === "cfg" ? create(ConfigMapSchema, { data: { color: "blue", size: "L" } }) : undefined),
  secret: (n) => (n === "creds" ? create(SecretSchema, { data: { password: new TextEncoder().encode("s3cret") } }) : undefined),
  podIP: "10.244.0.7",
  hostIP: "127.0.0.1",
  nodeName: "n1",
};

describe("resolveEnv", () => {
  test("values, configMap and secret keys, fieldRefs and $(VAR) expansion", () => {
    const env = resolveEnv(
      pod,
      {
        envFrom: [{ prefix: "CFG_", configMapRef: { name: "cfg" } }],
        env: [
          { name: "A", value: "1" },
          { name: "B", value: "$(A)-$(NOPE)-$$(A)" },
          { name: "COLOR", valueFrom: { configMapKeyRef: { name: "cfg", key: "color" } } },
          { name: "PASS", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
          { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        ],
      } as never,
      src,
    );
    assert.deepEqual(Object.fromEntries(env.map((e) => [e.key, e.value])), {
      CFG_color: "blue",
      CFG_size: "L",
      A: "1",
      B: "1-$(NOPE)-$(A)",
      COLOR: "blue",
      PASS: "s3cret",
      NAME: "web-1",
      NS: "shop",
      IP: "10.244.0.7",
      APP: "web",
    });
  });

  test("a missing configMap or key is a config error naming it, unless optional", () => {
    assert.throws(
      () => resolveEnv(pod, { envFrom: [], env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "gone", key: "k" } } }] } as never, src),
      (e: unknown) => e instanceof ConfigError && /configmap "gone" not found/.test(e.message),
    );
    assert.throws(
      () => resolveEnv(pod, { envFrom: [], env: [{ name: "X", valueFrom: { secretKeyRef: { name: "creds", key: "nokey" } } }] } as never, src),
      /couldn't find key nokey in Secret shop\/creds/,
    );
    const env = resolveEnv(pod, { envFrom: [], env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "gone", key: "k", optional: true } } }] } as never, src);
    assert.deepEqual(env, []);
  });
});
