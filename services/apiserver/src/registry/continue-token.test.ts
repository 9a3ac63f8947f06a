import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, GrpcError } from "@corral/grpc";
import { decodeContinue, encodeContinue } from "./continue-token.js";

function invalidArgument(err: unknown): boolean {
  assert.ok(err instanceof GrpcError, `expected a GrpcError, got ${String(err)}`);
  assert.equal(err.code, Code.INVALID_ARGUMENT);
  assert.match(err.message, /^continue: Invalid value/);
  return true;
}

describe("continue tokens", () => {
  it("round-trip the revision and the next key", () => {
    const t = { revision: 12345n, from: "/corral/pods/default/web-1\0" };
    assert.deepEqual(decodeContinue(encodeContinue(t), "/corral/pods/default/"), t);
  });

  it("keep revisions beyond Number.MAX_SAFE_INTEGER exact", () => {
    const t = { revision: 2n ** 62n + 7n, from: "/corral/nodes/node-a\0" };
    assert.equal(decodeContinue(encodeContinue(t), "/corral/nodes/").revision, t.revision);
  });

  it("are opaque, URL-safe strings", () => {
    const s = encodeContinue({ revision: 7n, from: "/corral/pods/default/a?b+c/\0" });
    assert.match(s, /^[A-Za-z0-9_-]+$/);
  });

  it("are accepted by the all-namespaces list of the same kind", () => {
    const t = { revision: 9n, from: "/corral/pods/default/web-1\0" };
    assert.deepEqual(decodeContinue(encodeContinue(t), "/corral/pods/"), t);
  });

  it("are rejected by a list of another kind or namespace", () => {
    const s = encodeContinue({ revision: 9n, from: "/corral/pods/default/web-1\0" });
    assert.throws(() => decodeContinue(s, "/corral/deployments/default/"), invalidArgument);
    assert.throws(() => decodeContinue(s, "/corral/pods/kube-system/"), invalidArgument);
    assert.throws(() => decodeContinue(s, "/corral/nodes/"), invalidArgument);
  });

  it("reject garbage", () => {
    for (const bad of ["garbage", "!!!", "bnVsbA", Buffer.from("42").toString("base64url"), Buffer.from("[]").toString("base64url")]) {
      assert.throws(() => decodeContinue(bad, "/corral/pods/"), invalidArgument, bad);
    }
  });

  it("reject well-formed JSON with the wrong shape", () => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const prefix = "/corral/pods/";
    assert.throws(() => decodeContinue(enc({ v: 2, rv: "1", start: prefix }), prefix), invalidArgument);
    assert.throws(() => decodeContinue(enc({ v: 1, rv: 1, start: prefix }), prefix), invalidArgument);
    assert.throws(() => decodeContinue(enc({ v: 1, rv: "-1", start: prefix }), prefix), invalidArgument);
    assert.throws(() => decodeContinue(enc({ v: 1, rv: "1e3", start: prefix }), prefix), invalidArgument);
    assert.throws(() => decodeContinue(enc({ v: 1, rv: "1" }), prefix), invalidArgument);
    assert.deepEqual(decodeContinue(enc({ v: 1, rv: "1", start: `${prefix}x` }), prefix), { revision: 1n, from: `${prefix}x` });
  });
});
