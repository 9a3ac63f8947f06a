import { Code, GrpcError } from "@corral/grpc";

/** Where the next page of a list starts, and the revision every page is read at. */
export interface ContinueToken {
  revision: bigint;
  from: string;
}

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 1, rv: t.revision.toString(), start: t.from })).toString("base64url");
}

export function decodeContinue(token: string, prefix: string): ContinueToken {
  try {
    const raw = JSON.parse(Buffer.from(token, "base64url").toString()) as { v?: number; rv?: string; start?: string };
    if (raw.v === 1 && typeof raw.rv === "string" && /^\d+$/.test(raw.rv) && typeof raw.start === "string" && raw.start.startsWith(prefix)) {
      return { revision: BigInt(raw.rv), from: raw.start };
    }
  } catch {
    // fall through to the error below
  }
  throw new GrpcError(Code.INVALID_ARGUMENT, "continue: Invalid value: not a token returned by a list of this kind and namespace");
}
