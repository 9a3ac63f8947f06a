import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { ConfigMapListSchema, ConfigMapSchema, ConfigMapWatchEventSchema, ListMetaSchema, PodSchema } from "@corral/api";
import { field, namespacedName, watchEventBytes, withoutResourceVersion, withRepeated, withResourceVersion } from "./wire.js";

/** Field numbers at the top level of an encoded message, in order. */
function topLevelFields(bytes: Uint8Array): number[] {
  const r = new BinaryReader(bytes);
  const out: number[] = [];
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    out.push(no);
    r.skip(wt);
  }
  return out;
}

describe("withResourceVersion", () => {
  it("sets metadata.resourceVersion inside the one metadata field, whatever its size", () => {
    for (const n of [1, 100, 200, 20_000]) {
      const cm = create(ConfigMapSchema, { metadata: { name: "x".repeat(n), namespace: "default", labels: { a: "b" } }, data: { k: "v" } });
      const out = withResourceVersion(toBinary(ConfigMapSchema, cm), 123456789012n);
      assert.deepEqual(topLevelFields(out), [1, 2], "one metadata field, then data");
      const back = fromBinary(ConfigMapSchema, out);
      assert.equal(back.metadata?.resourceVersion, "123456789012");
      assert.equal(back.metadata?.name.length, n);
      assert.deepEqual(back.metadata?.labels, { a: "b" });
      assert.deepEqual(back.data, { k: "v" });
    }
  });

  it("adds a metadata field to an object without one", () => {
    const out = withResourceVersion(toBinary(PodSchema, create(PodSchema, { spec: { nodeName: "n" } })), "7");
    assert.deepEqual(topLevelFields(out), [1, 2]);
    const back = fromBinary(PodSchema, out);
    assert.equal(back.metadata?.resourceVersion, "7");
    assert.equal(back.spec?.nodeName, "n");
  });
});

describe("withoutResourceVersion", () => {
  it("gives back the stored bytes withResourceVersion started from, whatever the metadata's size", () => {
    for (const n of [1, 100, 200, 20_000]) {
      const stored = toBinary(ConfigMapSchema, create(ConfigMapSchema, { metadata: { name: "x".repeat(n), namespace: "default" }, data: { k: "v" } }));
      const out = withoutResourceVersion(withResourceVersion(stored, 123456789012n), 123456789012n);
      assert.deepEqual(out && Buffer.from(out), Buffer.from(stored));
    }
  });

  it("refuses bytes whose metadata does not end with that resourceVersion", () => {
    const stored = toBinary(ConfigMapSchema, create(ConfigMapSchema, { metadata: { name: "x", namespace: "default" } }));
    assert.equal(withoutResourceVersion(withResourceVersion(stored, 41n), 42n), undefined);
    assert.equal(withoutResourceVersion(stored, 42n), undefined);
    assert.equal(withoutResourceVersion(new Uint8Array(0), 1n), undefined);
  });
});

describe("namespacedName", () => {
  it("reads <namespace>/<name> off the wire, or nothing without a name", () => {
    const pod = create(PodSchema, { metadata: { name: "p", namespace: "team-a", labels: { a: "b" } }, spec: { nodeName: "n" } });
    assert.equal(namespacedName(withResourceVersion(toBinary(PodSchema, pod), 9n)), "team-a/p");
    assert.equal(namespacedName(toBinary(PodSchema, create(PodSchema, { metadata: { name: "node-1" } }))), "/node-1");
    assert.equal(namespacedName(toBinary(PodSchema, create(PodSchema, { spec: { nodeName: "n" } }))), undefined);
    assert.equal(namespacedName(new Uint8Array([0x0a, 0x05, 0x0a])), undefined);
  });
});

describe("watchEventBytes / withRepeated", () => {
  it("builds a watch event around encoded object bytes", () => {
    const obj = toBinary(ConfigMapSchema, create(ConfigMapSchema, { metadata: { name: "a", resourceVersion: "5" }, data: { k: "v".repeat(300) } }));
    const ev = fromBinary(ConfigMapWatchEventSchema, watchEventBytes("MODIFIED", obj));
    assert.equal(ev.type, "MODIFIED");
    assert.equal(ev.object?.metadata?.resourceVersion, "5");
    assert.equal(ev.object?.data.k?.length, 300);
  });

  it("builds a list from its metadata and encoded items", () => {
    const items = ["a", "b", "c"].map((name) => toBinary(ConfigMapSchema, create(ConfigMapSchema, { metadata: { name } })));
    const head = field(1, toBinary(ListMetaSchema, create(ListMetaSchema, { resourceVersion: "9", continue: "tok" })));
    const list = fromBinary(ConfigMapListSchema, withRepeated(head, 2, items));
    assert.equal(list.metadata?.resourceVersion, "9");
    assert.equal(list.metadata?.continue, "tok");
    assert.deepEqual(list.items.map((i) => i.metadata?.name), ["a", "b", "c"]);
    assert.equal(fromBinary(ConfigMapListSchema, withRepeated(head, 2, [])).items.length, 0);
  });
});
