import { Clientset, readConfig, defaultConfigPath } from "@corral/client";
import { Code, codeName, errorCode, errorMessage, isServiceError } from "@corral/grpc";

/** Options every command shares. */
export interface GlobalOptions {
  config?: string;
  namespace?: string;
}

export interface CommandContext {
  clients: Clientset;
  /** The namespace from -n, else the config's, else "default". */
  namespace: string;
  close(): void;
}

export async function openContext(g: GlobalOptions): Promise<CommandContext> {
  const cfg = await readConfig(g.config ?? defaultConfigPath());
  const clients = Clientset.connect(cfg.server);
  return { clients, namespace: g.namespace ?? cfg.namespace ?? "default", close: () => clients.close() };
}

/** kubectl's reasons for the status codes users meet. */
const REASONS: Partial<Record<Code, string>> = {
  [Code.NOT_FOUND]: "NotFound",
  [Code.ALREADY_EXISTS]: "AlreadyExists",
  [Code.ABORTED]: "Conflict",
  [Code.INVALID_ARGUMENT]: "Invalid",
  [Code.FAILED_PRECONDITION]: "Forbidden",
  [Code.PERMISSION_DENIED]: "Forbidden",
  [Code.OUT_OF_RANGE]: "Expired",
  [Code.UNAVAILABLE]: "ServiceUnavailable",
  [Code.DEADLINE_EXCEEDED]: "Timeout",
  [Code.RESOURCE_EXHAUSTED]: "RequestEntityTooLarge",
};

/** One line a user can act on, in kubectl's words. */
export function describeError(err: unknown): string {
  if (isServiceError(err)) {
    const code = errorCode(err);
    if (code === Code.UNAVAILABLE && /ECONNREFUSED|No connection established|connect/i.test(errorMessage(err))) {
      return `Error: the apiserver is not reachable (${errorMessage(err)}); is the cluster up? (corral up)`;
    }
    return `Error from server (${REASONS[code] ?? codeName(code)}): ${errorMessage(err)}`;
  }
  return `error: ${errorMessage(err)}`;
}
