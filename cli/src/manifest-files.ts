import { parseManifests, type ManifestObject } from "@corral/manifest";
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads `-f` arguments: files, directories (their .yaml/.yml/.json files, sorted) or "-" for stdin. */
export async function readManifests(paths: readonly string[]): Promise<ManifestObject[]> {
  const out: ManifestObject[] = [];
  for (const p of paths) {
    if (p === "-") {
      out.push(...parseManifests(await readStdin(), "<stdin>"));
      continue;
    }
    const st = await stat(p).catch(() => undefined);
    if (!st) throw new Error(`the path "${p}" does not exist`);
    if (st.isDirectory()) {
      const files = (await readdir(p)).filter((f) => [".yaml", ".yml", ".json"].includes(extname(f))).sort();
      for (const f of files) out.push(...parseManifests(await readFile(join(p, f), "utf8"), join(p, f)));
    } else {
      out.push(...parseManifests(await readFile(p, "utf8"), p));
    }
  }
  return out;
}
