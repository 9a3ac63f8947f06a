import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deployments, Namespaces, Nodes, Pods } from "@corral/api";
import { KEY_ROOT, listPrefix, objectKey, parseKey, prefixEnd } from "./keys.js";

describe("objectKey", () => {
  it("puts namespaced objects under /corral/<resource>/<namespace>/<name>", () => {
    assert.equal(objectKey(Pods, "default", "web-1"), "/corral/pods/default/web-1");
    assert.equal(objectKey(Deployments, "kube-system", "dns"), "/corral/deployments/kube-system/dns");
  });

  it("puts cluster-scoped objects under /corral/<resource>/<name>, ignoring any namespace", () => {
    assert.equal(objectKey(Nodes, "", "node-a"), "/corral/nodes/node-a");
    assert.equal(objectKey(Nodes, "default", "node-a"), "/corral/nodes/node-a");
    assert.equal(objectKey(Namespaces, "", "default"), "/corral/namespaces/default");
  });

  it("keeps dotted names intact", () => {
    assert.equal(objectKey(Pods, "default", "web.example.com"), "/corral/pods/default/web.example.com");
  });
});

describe("listPrefix", () => {
  it("covers one namespace of a namespaced kind", () => {
    assert.equal(listPrefix(Pods, "default"), "/corral/pods/default/");
  });

  it("covers every namespace when none is given", () => {
    assert.equal(listPrefix(Pods), "/corral/pods/");
    assert.equal(listPrefix(Pods, ""), "/corral/pods/");
  });

  it("ignores the namespace for cluster-scoped kinds", () => {
    assert.equal(listPrefix(Nodes), "/corral/nodes/");
    assert.equal(listPrefix(Nodes, "default"), "/corral/nodes/");
  });

  it("holds the keys of the objects it lists, and not those of another namespace or kind", () => {
    assert.ok(objectKey(Pods, "default", "web-1").startsWith(listPrefix(Pods, "default")));
    assert.ok(objectKey(Pods, "default", "web-1").startsWith(listPrefix(Pods)));
    assert.ok(!objectKey(Pods, "default-2", "web-1").startsWith(listPrefix(Pods, "default")));
    assert.ok(!objectKey(Deployments, "default", "web").startsWith(listPrefix(Pods)));
    assert.ok(objectKey(Nodes, "", "node-a").startsWith(listPrefix(Nodes)));
  });
});

describe("parseKey", () => {
  it("splits a namespaced key", () => {
    assert.deepEqual(parseKey("/corral/pods/default/web-1"), { resource: "pods", namespace: "default", name: "web-1" });
  });

  it("splits a cluster-scoped key with an empty namespace", () => {
    assert.deepEqual(parseKey("/corral/nodes/node-a"), { resource: "nodes", namespace: "", name: "node-a" });
  });

  it("inverts objectKey for both scopes", () => {
    assert.deepEqual(parseKey(objectKey(Pods, "ns1", "a.b.c")), { resource: "pods", namespace: "ns1", name: "a.b.c" });
    assert.deepEqual(parseKey(objectKey(Namespaces, "", "ns1")), { resource: "namespaces", namespace: "", name: "ns1" });
  });

  it("rejects keys outside the layout", () => {
    assert.equal(parseKey("/other/pods/default/web-1"), undefined);
    assert.equal(parseKey("pods/default/web-1"), undefined);
    assert.equal(parseKey("/corral/pods"), undefined);
    assert.equal(parseKey("/corral/pods/a/b/c"), undefined);
    assert.equal(parseKey(""), undefined);
  });
});

describe("prefixEnd", () => {
  it("increments the last byte of the prefix", () => {
    assert.equal(prefixEnd("/corral/pods/").toString(), "/corral/pods0");
    assert.equal(prefixEnd("/corral/pods/default/").toString(), "/corral/pods/default0");
    assert.equal(prefixEnd(KEY_ROOT).toString(), "/corral0");
  });

  it("is greater than every key with the prefix and not greater than the next prefix", () => {
    const prefix = listPrefix(Pods, "default");
    const end = prefixEnd(prefix);
    for (const key of [prefix, objectKey(Pods, "default", "a"), objectKey(Pods, "default", "zzzz"), `${prefix}\xff\xff`]) {
      assert.ok(Buffer.compare(Buffer.from(key), end) < 0, key);
    }
    assert.ok(Buffer.compare(Buffer.from(listPrefix(Pods, "default0")), end) >= 0);
    assert.ok(Buffer.compare(Buffer.from(listPrefix(Pods, "defaulu")), end) > 0);
  });

  it("works on the UTF-8 bytes of the prefix", () => {
    // "a" followed by U+00FF is 61 c3 bf.
    assert.deepEqual([...prefixEnd("a\u00ff")], [0x61, 0xc3, 0xc0]);
  });

  it("returns the single zero byte (everything) for an empty prefix", () => {
    assert.deepEqual([...prefixEnd("")], [0]);
  });
});
