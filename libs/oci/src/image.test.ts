import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildImage, DEFAULT_PATH, hostPlatform, imageConfig, imageManifest, MEDIA_TYPES } from "./image.js";
import { buildLayer, sha256Digest } from "./layer.js";
import { parseReference } from "./registry.js";

describe("image config and manifest", () => {
  it("the config names the layers by diff_id, the platform, and what to run with PATH set", () => {
    const cfg = imageConfig([{ diffId: "sha256:aa" }, { diffId: "sha256:bb" }], { cmd: ["sh"], env: ["A=1"] }, { architecture: "amd64", os: "linux" });
    const json = JSON.parse(cfg.bytes.toString());
    assert.equal(cfg.mediaType, MEDIA_TYPES.config);
    assert.equal(cfg.digest, sha256Digest(cfg.bytes));
    assert.equal(json.architecture, "amd64");
    assert.equal(json.os, "linux");
    assert.deepEqual(json.rootfs, { type: "layers", diff_ids: ["sha256:aa", "sha256:bb"] });
    assert.deepEqual(json.config.Env, [`PATH=${DEFAULT_PATH}`, "A=1"]);
    assert.deepEqual(json.config.Cmd, ["sh"]);
    assert.equal(json.config.Entrypoint, undefined);
    assert.equal(json.history.length, 2);
  });

  it("keeps a PATH that is given, and sets the entrypoint and stop signal", () => {
    const json = JSON.parse(imageConfig([], { env: ["PATH=/bin"], entrypoint: ["/bin/sh", "-c", "x"], stopSignal: "SIGTERM" }).bytes.toString());
    assert.deepEqual(json.config.Env, ["PATH=/bin"]);
    assert.deepEqual(json.config.Entrypoint, ["/bin/sh", "-c", "x"]);
    assert.equal(json.config.StopSignal, "SIGTERM");
  });

  it("the manifest points at the config and layers with their digests and sizes", async () => {
    const layer = await buildLayer([{ type: "file", path: "hello", content: "world" }]);
    const image = buildImage([layer], { cmd: ["/hello"] });
    const m = JSON.parse(image.manifest.bytes.toString());
    assert.equal(m.schemaVersion, 2);
    assert.equal(m.mediaType, MEDIA_TYPES.manifest);
    assert.deepEqual(m.config, { mediaType: MEDIA_TYPES.config, digest: image.config.digest, size: image.config.bytes.length });
    assert.deepEqual(m.layers, [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layer.digest, size: layer.blob.length }]);
    assert.equal(image.manifest.digest, sha256Digest(image.manifest.bytes));
    assert.deepEqual(imageManifest(image.config, [layer]), image.manifest);
  });

  it("knows the host platform by its OCI name", () => {
    const p = hostPlatform();
    assert.equal(p.os, "linux");
    if (process.arch === "x64") assert.equal(p.architecture, "amd64");
  });
});

describe("parseReference", () => {
  it("splits registry, repository and tag", () => {
    assert.deepEqual(parseReference("localhost:5000/corral/busybox:1.35"), { registry: "localhost:5000", repository: "corral/busybox", tag: "1.35" });
    assert.deepEqual(parseReference("localhost/corral/pause"), { registry: "localhost", repository: "corral/pause", tag: "latest" });
    assert.deepEqual(parseReference("registry.example:443/a/b/c:v1"), { registry: "registry.example:443", repository: "a/b/c", tag: "v1" });
    assert.deepEqual(parseReference("busybox"), { registry: "docker.io", repository: "library/busybox", tag: "latest" });
    assert.deepEqual(parseReference("corral/busybox:1"), { registry: "docker.io", repository: "corral/busybox", tag: "1" });
  });

  it("refuses what a registry would", () => {
    assert.throws(() => parseReference("localhost:5000/Corral/x"), /invalid repository/);
    assert.throws(() => parseReference("localhost:5000/x:bad tag"), /invalid tag/);
    assert.throws(() => parseReference("localhost:5000/x@sha256:00"), /digest references/);
  });
});
