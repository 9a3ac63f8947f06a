import { Deployments, Events, Namespaces } from "@corral/api";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { finalizersForDeletion } from "./prepare.js";

describe("finalizersForDeletion (propagationPolicy for the garbage collector)", () => {
  it("Orphan and Foreground add their finalizer, each replacing the other; other finalizers stay", () => {
    assert.deepEqual(finalizersForDeletion(Deployments, ["example.com/x"], "Orphan"), ["example.com/x", "orphan"]);
    assert.deepEqual(finalizersForDeletion(Deployments, ["orphan"], "Foreground"), ["foregroundDeletion"]);
    assert.deepEqual(finalizersForDeletion(Deployments, ["foregroundDeletion"], "Orphan"), ["orphan"]);
  });
  it("Background removes both; no policy leaves the finalizers as they are", () => {
    assert.deepEqual(finalizersForDeletion(Deployments, ["orphan", "example.com/x"], "Background"), ["example.com/x"]);
    assert.deepEqual(finalizersForDeletion(Deployments, [], "Background"), []);
    assert.deepEqual(finalizersForDeletion(Deployments, ["foregroundDeletion"], ""), ["foregroundDeletion"]);
  });
  it("Namespaces and Events are not garbage collected", () => {
    assert.deepEqual(finalizersForDeletion(Namespaces, [], "Foreground"), []);
    assert.deepEqual(finalizersForDeletion(Events, [], "Orphan"), []);
  });
});
