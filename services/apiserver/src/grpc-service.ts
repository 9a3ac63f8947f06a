import { create, fromBinary, toBinary, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { GrpcError, methodPath, type CallObserver } from "@corral/grpc";
import {
  status,
  type MethodDefinition,
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";

// The apiserver's own binding of protobuf-es services to grpc-js (libs/grpc's addService, tuned
// for the hot path): a handler may answer with bytes it already has (an object as stored in etcd
// plus its resourceVersion, one watch event encoded once for every watcher) instead of a message
// that grpc-js would encode again, and a unary call allocates no AbortController (grpc-js reports
// every finished call as "cancelled", and the apiserver's unary handlers never look at it).

/** The bytes each Create request was decoded from (stored, amended, instead of encoding the object again). */
export const requestBytes = new WeakMap<object, Buffer>();

/** A response already encoded as the method's output message: sent as it is. */
export class Encoded {
  constructor(readonly bytes: Uint8Array) {}
}

export type Reply = object | Encoded;
export type UnaryImpl = (req: never) => Promise<Reply>;
export type StreamImpl = (req: never, send: (msg: Reply) => Promise<void>, ctx: { signal: AbortSignal }) => Promise<void>;

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function definition(service: DescService): Record<string, MethodDefinition<unknown, unknown>> {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const out = method.output;
    def[method.localName] = {
      path: methodPath(service, method),
      originalName: method.name,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (msg: unknown) => asBuffer(toBinary(method.input, msg as never)),
      requestDeserialize:
        method.name === "Create"
          ? (buf: Buffer) => {
              const msg = fromBinary(method.input, buf);
              requestBytes.set(msg, buf);
              return msg;
            }
          : (buf: Buffer) => fromBinary(method.input, buf),
      responseSerialize: (msg: unknown) =>
        asBuffer(msg instanceof Encoded ? msg.bytes : toBinary(out, create(out, msg as never))),
      responseDeserialize: (buf: Buffer) => fromBinary(out, buf),
    };
  }
  return def;
}

function toStatus(err: unknown): { code: status; details: string } {
  if (err instanceof GrpcError) return { code: err.code, details: err.message };
  return { code: status.INTERNAL, details: `internal error: ${err instanceof Error ? err.message : String(err)}` };
}

/** Registers `impl` (methods by local name: create, get, watch, ...) for `service` on `server`. */
export function addApiService(
  server: Server,
  service: DescService,
  impl: Record<string, UnaryImpl | StreamImpl | undefined>,
  observe: CallObserver,
): void {
  const handlers: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = impl[method.localName];
    if (!handler) continue;
    const path = methodPath(service, method);
    if (method.methodKind === "unary") handlers[method.localName] = unary(path, handler as UnaryImpl, observe);
    else if (method.methodKind === "server_streaming") handlers[method.localName] = stream(path, method, handler as StreamImpl, observe);
  }
  server.addService(definition(service), handlers);
}

function unary(path: string, handler: UnaryImpl, observe: CallObserver) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const started = performance.now();
    handler(call.request as never).then(
      (res) => {
        observe(path, status.OK, (performance.now() - started) / 1000);
        callback(null, res);
      },
      (err: unknown) => {
        const s = toStatus(err);
        observe(path, s.code, (performance.now() - started) / 1000, err);
        callback({ code: s.code, details: s.details });
      },
    );
  };
}

function stream(path: string, _method: DescMethod, handler: StreamImpl, observe: CallObserver) {
  return (call: ServerWritableStream<unknown, unknown>) => {
    const started = performance.now();
    const ac = new AbortController();
    call.on("cancelled", () => ac.abort());
    call.on("close", () => ac.abort());
    // Honour back-pressure: a slow watcher slows its own stream, not the server.
    const send = (msg: Reply): Promise<void> =>
      new Promise((resolve, reject) => {
        if (ac.signal.aborted) return reject(new GrpcError(status.CANCELLED, "client went away"));
        if (call.write(msg)) resolve();
        else call.once("drain", () => resolve());
      });
    handler(call.request as never, send, { signal: ac.signal }).then(
      () => {
        observe(path, status.OK, (performance.now() - started) / 1000);
        call.end();
      },
      (err: unknown) => {
        if (ac.signal.aborted) {
          observe(path, status.CANCELLED, (performance.now() - started) / 1000);
          return;
        }
        const s = toStatus(err);
        observe(path, s.code, (performance.now() - started) / 1000, err);
        // grpc-js turns an 'error' event on a server stream into the call's final status.
        call.emit("error", { code: s.code, details: s.details });
      },
    );
  };
}
