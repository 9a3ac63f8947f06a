// Pushing against a real registry: Debian's docker-registry (distribution 2.8), as `corral up` runs it.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BUSYBOX_PATH, corralImages, readBusybox } from "./busybox.js";
import { buildImage, MEDIA_TYPES } from "./image.js";
import { buildLayer } from "./layer.js";
import { publishImages } from "./publish.js";
import { RegistryClient, RegistryError } from "./registry.js";

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("RegistryClient against docker-registry", () => {
  let dir: string;
  let child: ChildProcess;
  let registry: string;
  let client: RegistryClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "corral-oci-registry-"));
    const port = await freePort();
    registry = `127.0.0.1:${port}`;
    await writeFile(
      join(dir, "config.yml"),
      `version: 0.1\nlog: { level: warn, accesslog: { disabled: true } }\nstorage: { filesystem: { rootdirectory: ${dir}/storage } }\nhttp: { addr: "${registry}", secret: test }\n`,
    );
    child = spawn("/usr/bin/docker-registry", ["serve", join(dir, "config.yml")], { stdio: "ignore" });
    client = new RegistryClient({ registry });
    for (let i = 0; !(await client.ping()); i++) {
      if (i > 100 || child.exitCode !== null) throw new Error("docker-registry did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    child?.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
    await rm(dir, { recursive: true, force: true });
  });

  it("pushes an image (layers, config, manifest) and reads the manifest back byte for byte", async () => {
    const layer = await buildLayer([{ type: "file", path: "hello", content: "world\n" }]);
    const image = buildImage([layer], { cmd: ["/hello"] });
    assert.equal(await client.manifestDigest("test/hello", "v1"), undefined);
    const first = await client.pushImage("test/hello", ["v1", "latest"], image);
    assert.deepEqual(first, { pushedTags: ["v1", "latest"], blobsPushed: 2 });
    assert.equal(await client.manifestDigest("test/hello", "v1"), image.manifest.digest);
    const got = await client.getManifest("test/hello", "latest");
    assert.equal(got?.mediaType, MEDIA_TYPES.manifest);
    assert.ok(got?.bytes.equals(image.manifest.bytes));
    assert.ok(await client.hasBlob("test/hello", layer.digest));
    assert.ok(await client.hasBlob("test/hello", image.config.digest));
    // Nothing to do the second time.
    assert.deepEqual(await client.pushImage("test/hello", ["v1", "latest"], image), { pushedTags: [], blobsPushed: 0 });
  });

  it("moves a tag to a new image, reusing the blobs the registry has", async () => {
    const layer = await buildLayer([{ type: "file", path: "hello", content: "world\n" }]);
    const image = buildImage([layer], { cmd: ["/hello", "again"] });
    const res = await client.pushImage("test/hello", ["v1", "v2"], image);
    assert.deepEqual(res, { pushedTags: ["v1", "v2"], blobsPushed: 1 }, "only the new config");
    assert.equal(await client.manifestDigest("test/hello", "v1"), image.manifest.digest);
  });

  it("a manifest naming a blob the registry lacks is refused with the registry's reason", async () => {
    const layer = await buildLayer([{ type: "file", path: "missing", content: "x" }]);
    const image = buildImage([layer], {});
    await assert.rejects(client.putManifest("test/broken", "v1", image.manifest), (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.status, 400);
      assert.match(err.message, /MANIFEST_BLOB_UNKNOWN|blob unknown/i);
      return true;
    });
  });

  it("publishes Corral's images from the host's busybox, once", { skip: !existsSync(BUSYBOX_PATH) && "no busybox-static" }, async () => {
    const src = await readBusybox();
    assert.ok(src.applets.includes("bin/sh") && src.applets.includes("usr/sbin/httpd"), "sh and httpd are applets");
    assert.match(src.version ?? "", /^1\.\d+/);
    const images = await corralImages(src);
    const first = await publishImages(registry, images);
    assert.deepEqual(
      first.map((r) => [r.ref, r.pushed]),
      [
        [`${registry}/corral/pause:3.9`, true],
        [`${registry}/corral/busybox:1.35`, true],
        [`${registry}/corral/busybox:latest`, true],
      ],
    );
    const again = await publishImages(registry, await corralImages(src));
    assert.deepEqual(again.map((r) => r.pushed), [false, false, false]);
  });

  it("names an unreachable registry", async () => {
    const port = await freePort();
    const c = new RegistryClient({ registry: `127.0.0.1:${port}`, timeoutMs: 2000 });
    assert.equal(await c.ping(), false);
    await assert.rejects(c.manifestDigest("x/y", "z"), /ECONNREFUSED/);
  });
});
