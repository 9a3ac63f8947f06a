import { create } from "@bufbuild/protobuf";
import { OwnerReferenceSchema } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blocksOwner, decideDependent, type OwnerState } from "./logic.js";

const owner = (uid: string, state: OwnerState, block = true) => ({ ref: create(OwnerReferenceSchema, { uid, kind: "ReplicaSet", name: uid, blockOwnerDeletion: block }), state });
const item = { hasDependents: false, finalizers: [] as string[] };

describe("garbage collector decisions", () => {
  it("leaves an object with an owner that is there", () => {
    assert.deepEqual(decideDependent([owner("a", "solid")], item), { action: "none" });
    assert.deepEqual(decideDependent([], item), { action: "none" });
  });
  it("deletes an object whose owners are all gone, in the background by default", () => {
    assert.deepEqual(decideDependent([owner("a", "absent"), owner("b", "absent")], item), { action: "delete", propagationPolicy: "Background" });
    assert.deepEqual(decideDependent([owner("a", "absent")], { hasDependents: true, finalizers: ["orphan"] }), { action: "delete", propagationPolicy: "Orphan" });
  });
  it("with one owner left, drops the references to the gone (and waiting) ones", () => {
    assert.deepEqual(decideDependent([owner("a", "solid"), owner("b", "absent"), owner("c", "waiting")], item), { action: "removeOwnerRefs", uids: ["b", "c"] });
  });
  it("an owner deleted in the foreground has its dependents deleted, in the foreground when they have dependents", () => {
    assert.deepEqual(decideDependent([owner("a", "waiting")], { hasDependents: true, finalizers: [] }), { action: "delete", propagationPolicy: "Foreground" });
    assert.deepEqual(decideDependent([owner("a", "waiting")], item), { action: "delete", propagationPolicy: "Background" });
  });
  it("only references with blockOwnerDeletion hold up a foreground deletion", () => {
    assert.ok(blocksOwner("a", [owner("a", "solid").ref]));
    assert.ok(!blocksOwner("a", [owner("a", "solid", false).ref]));
    assert.ok(!blocksOwner("a", [owner("b", "solid").ref]));
  });
});
