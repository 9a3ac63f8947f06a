import { createHash } from "node:crypto";
import { posix } from "node:path";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";

/** One thing in a layer. Paths are relative to the image root ("bin/sh"; a leading "/" is dropped). */
export type LayerEntry =
  | { type: "file"; path: string; content: Uint8Array | string; mode?: number }
  | { type: "directory"; path: string; mode?: number }
  | { type: "symlink"; path: string; target: string };

/** A built layer: the uncompressed tar (its digest is the config's diff_id) and the gzipped blob pushed to a registry. */
export interface Layer {
  tar: Buffer;
  blob: Buffer;
  /** sha256 of `tar`: what the image config lists in rootfs.diff_ids. */
  diffId: string;
  /** sha256 of `blob`: what the manifest and the registry know the layer by. */
  digest: string;
  mediaType: "application/vnd.oci.image.layer.v1.tar+gzip";
}

export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Every entry's time: a fixed one, so that the same files always give the same digests. */
const EPOCH = new Date(0);

function normalize(path: string): string {
  const p = posix.normalize(path).replace(/^\/+/, "").replace(/\/+$/, "");
  if (p === "" || p === "." || p.startsWith("../") || p === "..") throw new Error(`invalid layer path: ${JSON.stringify(path)}`);
  return p;
}

/**
 * The entries in the order they go into the tar: each parent directory (added with mode 0755 when
 * not given) before what it holds, then sorted by path. Duplicate paths are an error.
 */
export function layerEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const e of entries) {
    const path = normalize(e.path);
    if (byPath.has(path)) throw new Error(`duplicate layer path: ${path}`);
    byPath.set(path, { ...e, path });
  }
  for (const path of [...byPath.keys()]) {
    for (let dir = posix.dirname(path); dir !== "."; dir = posix.dirname(dir)) {
      const existing = byPath.get(dir);
      if (existing === undefined) byPath.set(dir, { type: "directory", path: dir });
      else if (existing.type !== "directory") throw new Error(`${dir} is a ${existing.type} but holds ${path}`);
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The uncompressed tar of the entries (owned by root, fixed times: reproducible byte for byte). */
export async function layerTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on("data", (c) => void chunks.push(c as Buffer));
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
  const common = { uid: 0, gid: 0, uname: "root", gname: "root", mtime: EPOCH };
  const add = (header: Partial<tar.Header> & { name: string }, content?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (content === undefined) pack.entry(header, cb);
      else pack.entry(header, content, cb);
    });
  for (const e of layerEntries(entries)) {
    switch (e.type) {
      case "directory":
        await add({ ...common, name: `${e.path}/`, type: "directory", mode: e.mode ?? 0o755 });
        break;
      case "symlink":
        await add({ ...common, name: e.path, type: "symlink", linkname: e.target, mode: 0o777 });
        break;
      case "file": {
        const content = typeof e.content === "string" ? Buffer.from(e.content) : Buffer.from(e.content.buffer, e.content.byteOffset, e.content.byteLength);
        await add({ ...common, name: e.path, type: "file", mode: e.mode ?? 0o644, size: content.length }, content);
        break;
      }
    }
  }
  pack.finalize();
  return done;
}

/** Builds a gzipped layer from the entries, with both digests. */
export async function buildLayer(entries: readonly LayerEntry[]): Promise<Layer> {
  const tarball = await layerTar(entries);
  // Node's gzip header has no name and a zero mtime, so equal tars give equal blobs.
  const blob = gzipSync(tarball, { level: 6 });
  return {
    tar: tarball,
    blob,
    diffId: sha256Digest(tarball),
    digest: sha256Digest(blob),
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  };
}
