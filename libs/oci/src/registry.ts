// A client for the few calls of the Registry HTTP API v2 (the OCI distribution spec) that pushing
// an image needs: blob existence, monolithic blob upload, manifest put and head. Plain HTTP only:
// it talks to the local registry `corral up` runs, which has neither TLS nor auth.
import { MEDIA_TYPES, type Image } from "./image.js";

export interface RegistryOptions {
  /** host:port of the registry, e.g. 127.0.0.1:5000. */
  registry: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

const ACCEPT_MANIFESTS = [MEDIA_TYPES.manifest, MEDIA_TYPES.index, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerManifestList].join(", ");

/** An image reference split into registry, repository and tag. */
export interface Reference {
  registry: string;
  repository: string;
  tag: string;
}

/** Splits host:port/repo/path:tag (the first part is a registry only when it has a dot, a colon or is localhost). */
export function parseReference(ref: string): Reference {
  let rest = ref;
  let registry = "docker.io";
  const slash = rest.indexOf("/");
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  if (rest.includes("@")) throw new Error(`digest references are not supported here: ${ref}`);
  const colon = rest.lastIndexOf(":");
  const repository = colon > 0 ? rest.slice(0, colon) : rest;
  const tag = colon > 0 ? rest.slice(colon + 1) : "latest";
  if (registry === "docker.io" && !repository.includes("/")) return { registry, repository: `library/${repository}`, tag };
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
    throw new Error(`invalid repository name in ${ref}`);
  }
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`invalid tag in ${ref}`);
  return { registry, repository, tag };
}

export class RegistryClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(o: RegistryOptions) {
    this.base = `http://${o.registry}`;
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  private async request(method: string, pathOrUrl: string, init: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<Response> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${this.base}${pathOrUrl}`;
    try {
      return await fetch(url, {
        method,
        headers: init.headers,
        body: init.body,
        redirect: "follow",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new RegistryError(`${method} ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
  }

  private async fail(what: string, res: Response): Promise<never> {
    const body = (await res.text().catch(() => "")).trim().slice(0, 500);
    throw new RegistryError(`${what}: HTTP ${res.status}${body ? ` ${body}` : ""}`, res.status);
  }

  /** True once the registry answers its API version check. */
  async ping(): Promise<boolean> {
    try {
      const res = await this.request("GET", "/v2/");
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`);
    if (res.status === 404) return false;
    if (!res.ok) await this.fail(`HEAD blob ${digest}`, res);
    return true;
  }

  /** Uploads a blob in one request (POST to open the upload, PUT with the digest), unless it is there already. */
  async pushBlob(repository: string, digest: string, bytes: Buffer): Promise<"pushed" | "present"> {
    if (await this.hasBlob(repository, digest)) return "present";
    const start = await this.request("POST", `/v2/${repository}/blobs/uploads/`, {});
    if (start.status !== 202) await this.fail(`starting the upload of ${digest}`, start);
    await start.arrayBuffer();
    const location = start.headers.get("location");
    if (!location) throw new RegistryError(`starting the upload of ${digest}: no Location header`);
    const url = new URL(location, `${this.base}/`);
    url.searchParams.set("digest", digest);
    const put = await this.request("PUT", url.toString(), {
      headers: { "Content-Type": "application/octet-stream" },
      body: bytes,
    });
    if (put.status !== 201) await this.fail(`uploading ${digest}`, put);
    await put.arrayBuffer();
    return "pushed";
  }

  /** The digest the registry has for repository:reference, or undefined when it has none. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const res = await this.request("HEAD", `/v2/${repository}/manifests/${reference}`, { headers: { Accept: ACCEPT_MANIFESTS } });
    if (res.status === 404) return undefined;
    if (!res.ok) await this.fail(`HEAD manifest ${repository}:${reference}`, res);
    return res.headers.get("docker-content-digest") ?? undefined;
  }

  /** The manifest's bytes and media type, or undefined when the registry has none. */
  async getManifest(repository: string, reference: string): Promise<{ mediaType: string; digest?: string; bytes: Buffer } | undefined> {
    const res = await this.request("GET", `/v2/${repository}/manifests/${reference}`, { headers: { Accept: ACCEPT_MANIFESTS } });
    if (res.status === 404) return undefined;
    if (!res.ok) await this.fail(`GET manifest ${repository}:${reference}`, res);
    return {
      mediaType: res.headers.get("content-type") ?? "",
      digest: res.headers.get("docker-content-digest") ?? undefined,
      bytes: Buffer.from(await res.arrayBuffer()),
    };
  }

  async putManifest(repository: string, reference: string, manifest: { bytes: Buffer; mediaType: string; digest: string }): Promise<void> {
    const res = await this.request("PUT", `/v2/${repository}/manifests/${reference}`, {
      headers: { "Content-Type": manifest.mediaType },
      body: manifest.bytes,
    });
    if (res.status !== 201) await this.fail(`PUT manifest ${repository}:${reference}`, res);
    await res.arrayBuffer();
    const got = res.headers.get("docker-content-digest");
    if (got && got !== manifest.digest) {
      throw new RegistryError(`PUT manifest ${repository}:${reference}: the registry stored ${got}, not ${manifest.digest}`);
    }
  }

  /**
   * Pushes the image under each tag: layers and config first (each skipped when the registry has
   * it), then the manifest, which the registry accepts only once everything it names is there.
   * Tags that already point at this exact manifest are left alone.
   */
  async pushImage(repository: string, tags: readonly string[], image: Image): Promise<{ pushedTags: string[]; blobsPushed: number }> {
    const pending: string[] = [];
    for (const tag of tags) {
      if ((await this.manifestDigest(repository, tag)) !== image.manifest.digest) pending.push(tag);
    }
    let blobsPushed = 0;
    if (pending.length > 0) {
      for (const layer of image.layers) {
        if ((await this.pushBlob(repository, layer.digest, layer.blob)) === "pushed") blobsPushed++;
      }
      if ((await this.pushBlob(repository, image.config.digest, image.config.bytes)) === "pushed") blobsPushed++;
      for (const tag of pending) await this.putManifest(repository, tag, image.manifest);
    }
    return { pushedTags: pending, blobsPushed };
  }
}
