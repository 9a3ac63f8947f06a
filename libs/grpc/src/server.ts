import type { DescMethodServerStreaming, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import {
  status,
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { serviceDefinition } from "./definition.js";
import { GrpcError } from "./errors.js";

export interface CallContext {
  /** Aborted when the client cancels or goes away. */
  readonly signal: AbortSignal;
  /** "/corral.v1.PodService/Create" */
  readonly path: string;
}

type AnyMethod = DescService["method"][string];

export type UnaryHandler<M> = M extends DescMethodUnary<infer I, infer O>
  ? (req: MessageShape<I>, ctx: CallContext) => Promise<MessageInitShape<O> | MessageShape<O>>
  : never;
export type ServerStreamHandler<M> = M extends DescMethodServerStreaming<infer I, infer O>
  ? (req: MessageShape<I>, send: (msg: MessageShape<O>) => Promise<void>, ctx: CallContext) => Promise<void>
  : never;

export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary
    ? UnaryHandler<S["method"][K]>
    : S["method"][K] extends DescMethodServerStreaming
      ? ServerStreamHandler<S["method"][K]>
      : never;
};

/** Observes every call: used for metrics and logs. */
export type CallObserver = (path: string, code: status, seconds: number, err?: unknown) => void;

/**
 * Registers a typed implementation of a protobuf-es service on a grpc-js server.
 * Handlers throw GrpcError for expected failures; anything else becomes INTERNAL.
 */
export function addService<S extends DescService>(
  server: Server,
  service: S,
  impl: ServiceImpl<S>,
  observe?: CallObserver,
): void {
  const handlers: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = (impl as Record<string, unknown>)[method.localName] as
      | ((...args: never[]) => Promise<unknown>)
      | undefined;
    if (!handler) continue;
    const path = `/${service.typeName}/${method.name}`;
    if (method.methodKind === "unary") {
      handlers[method.localName] = unaryHandler(method, path, handler, observe);
    } else if (method.methodKind === "server_streaming") {
      handlers[method.localName] = streamHandler(method, path, handler, observe);
    }
  }
  server.addService(serviceDefinition(service), handlers);
}

function toStatus(err: unknown): { code: status; details: string } {
  if (err instanceof GrpcError) return { code: err.code, details: err.message };
  return { code: status.INTERNAL, details: `internal error: ${err instanceof Error ? err.message : String(err)}` };
}

function unaryHandler(
  method: AnyMethod,
  path: string,
  handler: (...args: never[]) => Promise<unknown>,
  observe?: CallObserver,
) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const started = performance.now();
    const ac = new AbortController();
    call.on("cancelled", () => ac.abort());
    const ctx: CallContext = { signal: ac.signal, path };
    (handler as (req: unknown, ctx: CallContext) => Promise<unknown>)(call.request, ctx).then(
      (res) => {
        observe?.(path, status.OK, (performance.now() - started) / 1000);
        callback(null, create(method.output, res as never));
      },
      (err: unknown) => {
        const s = toStatus(err);
        observe?.(path, s.code, (performance.now() - started) / 1000, err);
        callback({ code: s.code, details: s.details });
      },
    );
  };
}

function streamHandler(
  method: AnyMethod,
  path: string,
  handler: (...args: never[]) => Promise<unknown>,
  observe?: CallObserver,
) {
  return (call: ServerWritableStream<unknown, unknown>) => {
    const started = performance.now();
    const ac = new AbortController();
    call.on("cancelled", () => ac.abort());
    call.on("close", () => ac.abort());
    const ctx: CallContext = { signal: ac.signal, path };
    // Honour back-pressure: a slow watcher slows its own stream, not the server.
    const send = (msg: unknown): Promise<void> =>
      new Promise((resolve, reject) => {
        if (ac.signal.aborted) return reject(new GrpcError(status.CANCELLED, "client went away"));
        const ok = call.write(create(method.output, msg as never));
        if (ok) resolve();
        else call.once("drain", () => resolve());
      });
    (handler as (req: unknown, send: unknown, ctx: CallContext) => Promise<void>)(call.request, send, ctx).then(
      () => {
        observe?.(path, status.OK, (performance.now() - started) / 1000);
        call.end();
      },
      (err: unknown) => {
        if (ac.signal.aborted) {
          observe?.(path, status.CANCELLED, (performance.now() - started) / 1000);
          return;
        }
        const s = toStatus(err);
        observe?.(path, s.code, (performance.now() - started) / 1000, err);
        // grpc-js turns an 'error' event on a server stream into the call's final status.
        call.emit("error", { code: s.code, details: s.details });
      },
    );
  };
}
