import { create } from "@bufbuild/protobuf";
import { ObjectMetaSchema } from "@corral/api";
import assert from "node:assert/strict";
import { test } from "node:test";
import { keepServerManagedMetadata } from "./apply.js";

test("apply keeps annotations, owners and finalizers others wrote, and the manifest's own values win", () => {
  const meta = create(ObjectMetaSchema, { name: "web", annotations: { team: "blue" } });
  const live = create(ObjectMetaSchema, {
    name: "web",
    resourceVersion: "42",
    annotations: { team: "red", "deployment.kubernetes.io/revision": "3" },
    finalizers: ["foregroundDeletion"],
    ownerReferences: [{ kind: "Deployment", name: "web", uid: "u" }],
  });
  keepServerManagedMetadata(meta, live);
  assert.equal(meta.resourceVersion, "42");
  assert.deepEqual(meta.annotations, { team: "blue", "deployment.kubernetes.io/revision": "3" });
  assert.deepEqual(meta.finalizers, ["foregroundDeletion"]);
  assert.equal(meta.ownerReferences[0]!.name, "web");
});
