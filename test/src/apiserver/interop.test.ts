// The API from the .proto files alone: reflection, health, and a client that never saw protobuf-es.
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { service as healthService } from "grpc-health-check";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";

const require = createRequire(import.meta.url);
const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "proto");
const REFLECTION_PROTO = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto/grpc/reflection/v1/reflection.proto");

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;

describe("gRPC interoperability", () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  it("serves the standard health service", async () => {
    const Health = grpc.makeGenericClientConstructor(healthService, "Health");
    const c = new Health(cp.servers[0]!.address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      check(req: { service: string }, cb: Callback<{ status: string }>): void;
    };
    const res = await new Promise<{ status: string }>((resolve, reject) => c.check({ service: "corral.v1.PodService" }, (e, r) => (e ? reject(e) : resolve(r))));
    c.close();
    assert.equal(res.status, "SERVING");
  });

  it("lists every kind's service through server reflection", async () => {
    const pkg = grpc.loadPackageDefinition(loadSync(REFLECTION_PROTO, { keepCase: true })) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    const c = new pkg.grpc.reflection.v1.ServerReflection(cp.servers[0]!.address, grpc.credentials.createInsecure());
    const call = (c as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }> }).ServerReflectionInfo();
    const answer = new Promise<string[]>((resolve, reject) => {
      call.on("data", (msg) => resolve(msg.list_services_response?.service.map((s: { name: string }) => s.name) ?? []));
      call.on("error", reject);
    });
    call.write({ list_services: "" });
    const names = await answer;
    call.end();
    c.close();
    for (const s of ["corral.v1.PodService", "corral.v1.DeploymentService", "corral.v1.LeaseService", "grpc.health.v1.Health"]) {
      assert.ok(names.includes(s), `${s} in ${names.join(", ")}`);
    }
  });

  it("takes calls from a client built from the .proto files alone", async () => {
    const def = loadSync(["corral/v1/api.proto"], { includeDirs: [PROTO_DIR], longs: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { corral: { v1: { ConfigMapService: grpc.ServiceClientConstructor } } };
    const c = new pkg.corral.v1.ConfigMapService(cp.servers[0]!.address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      Create(req: object, cb: Callback<{ metadata: { uid: string; resourceVersion: string } }>): void;
      Get(req: object, cb: Callback<{ data: Record<string, string> }>): void;
    };
    const created = await new Promise<{ metadata: { uid: string; resource_version?: string } }>((resolve, reject) =>
      c.Create({ metadata: { name: "from-proto" }, data: { hello: "world" } }, (e, r) => (e ? reject(e) : resolve(r as never))),
    );
    assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
    const got = await new Promise<{ data: Record<string, string> }>((resolve, reject) =>
      c.Get({ namespace: "default", name: "from-proto" }, (e, r) => (e ? reject(e) : resolve(r))),
    );
    c.close();
    assert.deepEqual(got.data, { hello: "world" });
  });
});
