import { create } from "@bufbuild/protobuf";
import { ConfigMapSchema, ConfigMaps, DeploymentSchema, Deployments, EventSchema, Events, PodSchema, Pods } from "@corral/api";
import { Code, errorCode, errorMessage } from "@corral/grpc";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startControlPlane, type ControlPlane } from "../support/control-plane.js";

async function invalid(p: Promise<unknown>, ...fragments: RegExp[]): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.equal(errorCode(err), Code.INVALID_ARGUMENT, errorMessage(err));
    for (const f of fragments) assert.match(errorMessage(err), f);
    return true;
  });
}

const container = { name: "main", image: "localhost:5000/corral/busybox" };

describe("validation through the API", () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  it("names the field and the reason, and stores nothing", async () => {
    const pods = cp.clients.for(Pods);
    await invalid(pods.create(create(PodSchema, { metadata: { name: "Bad_Name" }, spec: { containers: [container] } })), /metadata\.name/, /RFC 1123/);
    await invalid(pods.create(create(PodSchema, { metadata: { name: "nocontainers" }, spec: {} })), /spec\.containers/, /Required/);
    await invalid(
      pods.create(
        create(PodSchema, {
          metadata: { name: "badqty" },
          spec: { containers: [{ ...container, resources: { limits: { memory: "12Q" } } }] },
        }),
      ),
      /spec\.containers\[0\]\.resources\.limits\[memory\]/,
    );
    await invalid(
      pods.create(create(PodSchema, { metadata: { name: "badlabel", labels: { "bad key!": "x" } }, spec: { containers: [container] } })),
      /metadata\.labels/,
    );
    const list = await pods.list({ namespace: "default" });
    assert.equal(list.items.length, 0, "no rejected pod was stored");
  });

  it("keeps immutable fields immutable, and the stored object intact", async () => {
    const pods = cp.clients.for(Pods);
    const p = await pods.create(create(PodSchema, { metadata: { name: "immutable" }, spec: { containers: [{ ...container, command: ["sleep", "1"] }] } }));
    await invalid(pods.update({ ...p, spec: { ...p.spec!, containers: [{ ...p.spec!.containers[0]!, command: ["sleep", "2"] }] } }), /spec/, /Forbidden|may not change/);
    const image = await pods.update({ ...p, spec: { ...p.spec!, containers: [{ ...p.spec!.containers[0]!, image: "localhost:5000/corral/busybox:2" }] } });
    assert.equal(image.spec!.containers[0]!.image, "localhost:5000/corral/busybox:2", "the image may change");
    assert.deepEqual((await pods.get({ namespace: "default", name: "immutable" })).spec!.containers[0]!.command, ["sleep", "1"]);

    const deps = cp.clients.for(Deployments);
    const d = await deps.create(
      create(DeploymentSchema, {
        metadata: { name: "sel" },
        spec: { selector: { matchLabels: { app: "a" } }, template: { metadata: { labels: { app: "a" } }, spec: { containers: [container] } } },
      }),
    );
    await invalid(
      deps.update({ ...d, spec: { ...d.spec!, selector: { ...d.spec!.selector!, matchLabels: { app: "b" } }, template: { ...d.spec!.template!, metadata: { ...d.spec!.template!.metadata!, labels: { app: "b" } } } } }),
      /spec\.selector/,
      /immutable/,
    );
    await invalid(
      deps.create(create(DeploymentSchema, { metadata: { name: "mismatch" }, spec: { selector: { matchLabels: { app: "a" } }, template: { metadata: { labels: { app: "z" } }, spec: { containers: [container] } } } })),
      /selector/,
    );
  });

  it("refuses an object above the size limit", async () => {
    // A ConfigMap has its own 1 MiB data limit; an Event's message has none but the request size.
    await invalid(cp.clients.for(ConfigMaps).create(create(ConfigMapSchema, { metadata: { name: "big" }, data: { big: "x".repeat(1_100_000) } })), /data/, /Too long/);
    const event = (name: string, size: number) =>
      create(EventSchema, { metadata: { name }, involvedObject: { kind: "Pod", name: "p", namespace: "default" }, reason: "Big", message: "x".repeat(size) });
    await invalid(cp.clients.for(Events).create(event("big-1", 1_600 * 1024)), /request entity too large/);
    await assert.rejects(cp.clients.for(Events).create(event("big-2", 4 * 1024 * 1024)), (err: unknown) => {
      assert.equal(errorCode(err), Code.RESOURCE_EXHAUSTED, errorMessage(err));
      return true;
    });
    assert.equal((await cp.clients.for(Events).list({ namespace: "default" })).items.length, 0);
  });
});
