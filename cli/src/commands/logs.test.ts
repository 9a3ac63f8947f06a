import { create } from "@bufbuild/protobuf";
import { NodeSchema } from "@corral/api";
import { Code, GrpcError } from "@corral/grpc";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { agentAddress, agentError } from "./logs.js";

describe("agentAddress", () => {
  const node = (addresses: { type: string; address: string }[], port: number) =>
    create(NodeSchema, { metadata: { name: "n1" }, status: { addresses, daemonEndpoints: { kubeletEndpoint: { port } } } });

  it("takes the InternalIP, else the Hostname, and the kubelet endpoint port", () => {
    assert.equal(agentAddress(node([{ type: "Hostname", address: "n1" }, { type: "InternalIP", address: "10.0.0.7" }], 10250)), "10.0.0.7:10250");
    assert.equal(agentAddress(node([{ type: "Hostname", address: "n1" }], 10250)), "n1:10250");
    assert.equal(agentAddress(node([{ type: "InternalIP", address: "fd00::7" }], 10250)), "[fd00::7]:10250");
  });

  it("gives nothing when the node does not publish its endpoint", () => {
    assert.equal(agentAddress(node([{ type: "InternalIP", address: "10.0.0.7" }], 0)), undefined);
    assert.equal(agentAddress(node([], 10250)), undefined);
  });
});

describe("agentError", () => {
  const ep = { node: "n1", address: "10.0.0.7:10250" };
  const serviceError = (code: Code, details: string) => Object.assign(new Error(details), { code, details, metadata: {} });

  it("words the agent's answers as kubectl does", () => {
    assert.equal(
      agentError(serviceError(Code.FAILED_PRECONDITION, 'previous terminated container "a" in pod "web" not found'), ep).message,
      'Error from server (BadRequest): previous terminated container "a" in pod "web" not found',
    );
    assert.equal(agentError(serviceError(Code.NOT_FOUND, 'pods "web" not found'), ep).message, 'Error from server (NotFound): pods "web" not found');
    assert.match(agentError(serviceError(Code.UNAVAILABLE, "No connection established"), ep).message, /^error: cannot reach the node agent of node "n1" at 10\.0\.0\.7:10250/);
  });

  it("leaves other errors alone", () => {
    const e = new GrpcError(Code.INTERNAL, "x");
    assert.equal(agentError(e, ep), e);
  });
});
