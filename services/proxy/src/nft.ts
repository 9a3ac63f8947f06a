// Applies rendered statements with `nft -f -`: one invocation is one atomic kernel transaction.
import { spawn } from "node:child_process";

export class NftError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface NftRunner {
  /** Applies the statements as one transaction; resolves with the time it took. */
  apply(lines: readonly string[]): Promise<number>;
}

function run(nftPath: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(nftPath, args, { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    p.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (input !== undefined) {
      p.stdin!.on("error", () => {}); // nft may exit before reading everything; its stderr says why
      p.stdin!.end(input);
    }
  });
}

/** The `nft` command line tool (nftables 1.0.6 on these machines). */
export class Nft implements NftRunner {
  constructor(readonly nftPath = "nft") {}

  async apply(lines: readonly string[]): Promise<number> {
    if (lines.length === 0) return 0;
    const t = performance.now();
    const res = await run(this.nftPath, ["-f", "-"], lines.join("\n") + "\n");
    if (res.code !== 0) {
      const first = res.stderr.split("\n").slice(0, 6).join("\n");
      throw new NftError(`nft rejected a transaction of ${lines.length} statements: ${first}`, res.stderr);
    }
    return performance.now() - t;
  }

  /** `nft list table ip NAME`, or undefined when there is no such table. */
  async listTable(table: string): Promise<string | undefined> {
    const res = await run(this.nftPath, ["list", "table", "ip", table]);
    return res.code === 0 ? res.stdout : undefined;
  }

  /** True when `table ip NAME` exists (`nft list tables`, cheap whatever the table's size). */
  async tableExists(table: string): Promise<boolean> {
    const res = await run(this.nftPath, ["list", "tables", "ip"]);
    if (res.code !== 0) throw new NftError(`nft list tables failed: ${res.stderr.trim()}`, res.stderr);
    return res.stdout.split("\n").some((l) => l.trim() === `table ip ${table}`);
  }

  /** Deletes `table ip NAME` if it exists (never any other table). */
  async deleteTable(table: string): Promise<void> {
    await this.apply([`add table ip ${table}`, `delete table ip ${table}`]);
  }
}

/** Table names the proxy accepts: nft identifiers, so the name can go into statements as is. */
export function validTableName(name: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/.test(name);
}
