// The node's image registry: Debian's docker-registry (distribution 2.8), filesystem storage under
// the cluster's state directory, plain HTTP on loopback, no auth. Pods pull from it exactly as
// from a public registry.
import { join } from "node:path";
import { stringify } from "yaml";

export interface RegistryConfigOptions {
  /** Where blobs and manifests are kept. */
  rootDirectory: string;
  /** host:port to listen on, e.g. 127.0.0.1:5000. */
  addr: string;
}

export function registryPaths(stateDir: string): { dir: string; config: string; storage: string } {
  const dir = join(stateDir, "registry");
  return { dir, config: join(dir, "config.yml"), storage: join(dir, "storage") };
}

/** docker-registry's config.yml. */
export function renderRegistryConfig(o: RegistryConfigOptions): string {
  const config = {
    version: 0.1,
    log: { level: "warn", formatter: "text", accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: o.rootDirectory },
      cache: { blobdescriptor: "inmemory" },
      delete: { enabled: true },
      // Nothing else writes to this storage, so no upload purging runs while corral pushes.
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: o.addr,
      headers: { "X-Content-Type-Options": ["nosniff"] },
    },
  };
  return `# Written by corral up.\n${stringify(config)}`;
}
