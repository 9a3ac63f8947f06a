import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import tar from "tar-stream";
import { buildLayer, layerEntries, layerTar, sha256Digest, type LayerEntry } from "./layer.js";

interface Read {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname?: string | null;
  content: string;
}

async function readTar(buf: Buffer): Promise<Read[]> {
  const extract = tar.extract();
  const out: Read[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c) => void chunks.push(c as Buffer));
      stream.on("end", () => {
        out.push({ name: h.name, type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime.getTime(), linkname: h.linkname, content: Buffer.concat(chunks).toString() });
        next();
      });
      stream.resume();
    });
    extract.on("finish", resolve);
    extract.on("error", reject);
  });
  extract.end(buf);
  await done;
  return out;
}

const entries: LayerEntry[] = [
  { type: "symlink", path: "/usr/bin/wget", target: "/bin/busybox" },
  { type: "file", path: "bin/busybox", content: "#!binary", mode: 0o755 },
  { type: "directory", path: "tmp", mode: 0o1777 },
  { type: "file", path: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" },
];

describe("layer", () => {
  it("adds missing parent directories and orders entries by path", () => {
    const got = layerEntries(entries).map((e) => `${e.type} ${e.path}`);
    assert.deepEqual(got, [
      "directory bin",
      "file bin/busybox",
      "directory etc",
      "file etc/passwd",
      "directory tmp",
      "directory usr",
      "directory usr/bin",
      "symlink usr/bin/wget",
    ]);
  });

  it("refuses duplicates, escapes and files used as directories", () => {
    assert.throws(() => layerEntries([...entries, { type: "directory", path: "/tmp/" }]), /duplicate layer path: tmp/);
    assert.throws(() => layerEntries([{ type: "file", path: "../etc/x", content: "" }]), /invalid layer path/);
    assert.throws(() => layerEntries([{ type: "file", path: "a", content: "" }, { type: "file", path: "a/b", content: "" }]), /a is a file but holds a\/b/);
  });

  it("writes a tar of root-owned entries with fixed times, modes, links and contents", async () => {
    const read = await readTar(await layerTar(entries));
    const byName = new Map(read.map((r) => [r.name, r]));
    assert.deepEqual([...byName.keys()], ["bin/", "bin/busybox", "etc/", "etc/passwd", "tmp/", "usr/", "usr/bin/", "usr/bin/wget"]);
    for (const r of read) {
      assert.equal(r.uid, 0);
      assert.equal(r.gid, 0);
      assert.equal(r.mtime, 0);
    }
    assert.equal(byName.get("bin/busybox")!.mode, 0o755);
    assert.equal(byName.get("bin/busybox")!.content, "#!binary");
    assert.equal(byName.get("etc/passwd")!.mode, 0o644);
    assert.equal(byName.get("tmp/")!.mode, 0o1777);
    assert.equal(byName.get("tmp/")!.type, "directory");
    assert.equal(byName.get("usr/bin/wget")!.type, "symlink");
    assert.equal(byName.get("usr/bin/wget")!.linkname, "/bin/busybox");
  });

  it("is reproducible, and its digests are those of the tar (diff_id) and the gzipped blob", async () => {
    const a = await buildLayer(entries);
    const b = await buildLayer([...entries].reverse());
    assert.equal(a.digest, b.digest);
    assert.ok(a.blob.equals(b.blob));
    assert.equal(a.diffId, `sha256:${createHash("sha256").update(a.tar).digest("hex")}`);
    assert.equal(a.digest, sha256Digest(a.blob));
    assert.ok(gunzipSync(a.blob).equals(a.tar));
    assert.equal(a.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    const c = await buildLayer([...entries, { type: "file", path: "etc/hostname", content: "x" }]);
    assert.notEqual(c.digest, a.digest);
  });
});
