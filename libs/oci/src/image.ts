import { sha256Digest, type Layer } from "./layer.js";

export const MEDIA_TYPES = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** What a container runs by default: the `config` part of an OCI image config. */
export interface ImageRunConfig {
  entrypoint?: string[];
  cmd?: string[];
  /** Environment as NAME=value; PATH is added when missing. */
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  stopSignal?: string;
}

/** A content-addressed JSON document: its exact bytes and their digest. */
export interface Blob {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

export interface Image {
  config: Blob;
  manifest: Blob;
  layers: Layer[];
}

export interface Platform {
  architecture: string;
  os: string;
}

/** The OCI name of the platform Node runs on (amd64, arm64, ...). */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return { architecture: arch[process.arch] ?? process.arch, os: "linux" };
}

function blob(value: unknown, mediaType: string): Blob {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, digest: sha256Digest(bytes), mediaType };
}

/** The image config JSON (application/vnd.oci.image.config.v1+json). */
export function imageConfig(layers: readonly Pick<Layer, "diffId">[], run: ImageRunConfig, platform: Platform = hostPlatform()): Blob {
  const env = [...(run.env ?? [])];
  if (!env.some((e) => e.startsWith("PATH="))) env.unshift(`PATH=${DEFAULT_PATH}`);
  const config: Record<string, unknown> = { Env: env };
  if (run.entrypoint) config.Entrypoint = run.entrypoint;
  if (run.cmd) config.Cmd = run.cmd;
  config.WorkingDir = run.workingDir ?? "/";
  if (run.user) config.User = run.user;
  if (run.labels) config.Labels = run.labels;
  if (run.stopSignal) config.StopSignal = run.stopSignal;
  return blob(
    {
      created: "1970-01-01T00:00:00Z",
      architecture: platform.architecture,
      os: platform.os,
      config,
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: "1970-01-01T00:00:00Z", created_by: "corral oci" })),
    },
    MEDIA_TYPES.config,
  );
}

/** The image manifest (application/vnd.oci.image.manifest.v1+json) naming the config and layers by digest. */
export function imageManifest(config: Pick<Blob, "digest" | "bytes">, layers: readonly Pick<Layer, "digest" | "blob" | "mediaType">[]): Blob {
  return blob(
    {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: { mediaType: MEDIA_TYPES.config, digest: config.digest, size: config.bytes.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
    },
    MEDIA_TYPES.manifest,
  );
}

/** A whole single-platform image from built layers (lowest first) and what it runs. */
export function buildImage(layers: Layer[], run: ImageRunConfig, platform?: Platform): Image {
  const config = imageConfig(layers, run, platform);
  return { config, manifest: imageManifest(config, layers), layers };
}
