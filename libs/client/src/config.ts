import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";

/** What the CLI needs to find a cluster: ~/.corral/config, or --config / CORRAL_CONFIG. */
export interface ClientConfig {
  /** host:port of the apiserver's gRPC endpoint. */
  server: string;
  /** Namespace used when -n is not given. */
  namespace?: string;
}

export function defaultConfigPath(): string {
  return process.env.CORRAL_CONFIG || join(homedir(), ".corral", "config");
}

export async function readConfig(path = defaultConfigPath()): Promise<ClientConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`no cluster configured: ${path} does not exist (run \`corral up\`, or pass --config)`);
    }
    throw err;
  }
  const doc = parse(text) as Partial<ClientConfig> | null;
  if (!doc || typeof doc.server !== "string" || doc.server === "") {
    throw new Error(`${path}: "server" (host:port of the apiserver) is missing`);
  }
  return { server: doc.server, namespace: doc.namespace };
}

export async function writeConfig(cfg: ClientConfig, path = defaultConfigPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, stringify({ apiVersion: "corral/v1", kind: "Config", ...cfg }), { mode: 0o600 });
}
