import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, ConfigMaps, type ConfigMap, type KindInfo } from "@corral/api";
import { LAST_APPLIED_ANNOTATION, parseManifests } from "@corral/manifest";
import assert from "node:assert/strict";
import { test } from "node:test";
import { lastAppliedConfiguration, mergeForApply } from "./apply.js";

const manifest = (data: string) => parseManifests(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels: {app: web}\ndata: {${data}}\n`)[0]!;

test("apply merges with the live object and records the manifest for next time", () => {
  const first = manifest("a: '1', b: '2'");
  const live = create(ConfigMapSchema, {
    metadata: {
      name: "cfg",
      namespace: "team",
      resourceVersion: "42",
      uid: "u",
      annotations: { [LAST_APPLIED_ANNOTATION]: lastAppliedConfiguration(first), note: "by hand" },
      ownerReferences: [{ kind: "Deployment", name: "web", uid: "d" }],
      finalizers: ["example.com/keep"],
    },
    data: { a: "1", b: "2", c: "added by someone else" },
  });
  const second = manifest("a: '10'");
  const out = mergeForApply(ConfigMaps as unknown as KindInfo, live, second, lastAppliedConfiguration(second)) as ConfigMap;
  assert.deepEqual(out.data, { a: "10", c: "added by someone else" }, "b was applied before and is dropped now; c never was");
  assert.equal(out.metadata!.resourceVersion, "42", "the live version is the precondition");
  assert.equal(out.metadata!.namespace, "team");
  assert.equal(out.metadata!.annotations.note, "by hand");
  assert.equal(out.metadata!.finalizers[0], "example.com/keep");
  assert.equal(out.metadata!.ownerReferences[0]!.name, "web");
  assert.deepEqual(JSON.parse(out.metadata!.annotations[LAST_APPLIED_ANNOTATION]!), {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cfg", labels: { app: "web" } },
    data: { a: "10" },
  });
});

test("an unreadable last-applied annotation removes nothing", () => {
  const live = create(ConfigMapSchema, { metadata: { name: "cfg", annotations: { [LAST_APPLIED_ANNOTATION]: "{not json" } }, data: { a: "1", b: "2" } });
  const next = manifest("a: '3'");
  const out = mergeForApply(ConfigMaps as unknown as KindInfo, live, next, lastAppliedConfiguration(next)) as ConfigMap;
  assert.deepEqual(out.data, { a: "3", b: "2" });
});
