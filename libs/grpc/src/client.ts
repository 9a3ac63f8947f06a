import type {
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import {
  makeGenericClientConstructor,
  type CallOptions,
  type Channel,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from "@grpc/grpc-js";
import { serviceDefinition } from "./definition.js";

export interface CallOpts {
  /** Milliseconds until DEADLINE_EXCEEDED. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type UnaryFn<M> = M extends DescMethodUnary<infer I, infer O>
  ? (req: MessageInitShape<I>, opts?: CallOpts) => Promise<MessageShape<O>>
  : never;
export type ServerStreamFn<M> = M extends DescMethodServerStreaming<infer I, infer O>
  ? (req: MessageInitShape<I>, opts?: CallOpts) => AsyncIterable<MessageShape<O>>
  : never;

export type ServiceClient<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary
    ? UnaryFn<S["method"][K]>
    : S["method"][K] extends DescMethodServerStreaming
      ? ServerStreamFn<S["method"][K]>
      : never;
};

/** A channel of grpc-js plus the options every Corral client uses. */
export interface Connection {
  readonly address: string;
  readonly credentials: ChannelCredentials;
  readonly options: ChannelOptions;
  /** The grpc-js channel shared by every service client of this connection. */
  readonly channel: Channel;
  close(): void;
}

export const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  "grpc.max_send_message_length": 8 * 1024 * 1024,
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.enable_channelz": 0,
};

function callOptions(opts?: CallOpts): CallOptions {
  return opts?.timeoutMs ? { deadline: Date.now() + opts.timeoutMs } : {};
}

/** A promise-and-async-iterator client for a protobuf-es service over a shared grpc-js channel. */
export function createClient<S extends DescService>(service: S, conn: Connection): ServiceClient<S> {
  const Ctor = makeGenericClientConstructor(serviceDefinition(service), service.typeName);
  const raw = new Ctor(conn.address, conn.credentials, { ...conn.options, channelOverride: conn.channel }) as Client &
    Record<string, (...args: unknown[]) => unknown>;
  const out: Record<string, unknown> = {};
  for (const method of service.methods) {
    const fn = raw[method.localName]!.bind(raw);
    if (method.methodKind === "unary") {
      out[method.localName] = (req: unknown, opts?: CallOpts) =>
        new Promise((resolve, reject) => {
          const signal = opts?.signal;
          const onAbort = () => call.cancel();
          const call = fn(create(method.input, req as never), callOptions(opts), (err: ServiceError | null, res: unknown) => {
            // A long-lived signal (a controller's) sees many calls: each takes its listener back.
            signal?.removeEventListener("abort", onAbort);
            if (err) reject(err);
            else resolve(res);
          }) as { cancel(): void };
          signal?.addEventListener("abort", onAbort, { once: true });
          if (signal?.aborted) call.cancel();
        });
    } else if (method.methodKind === "server_streaming") {
      out[method.localName] = (req: unknown, opts?: CallOpts) => {
        const call = fn(create(method.input, req as never), callOptions(opts)) as ClientReadableStream<unknown>;
        opts?.signal?.addEventListener("abort", () => call.cancel(), { once: true });
        return streamIterable(call);
      };
    }
  }
  return out as ServiceClient<S>;
}

/** Cancels the call when the consumer stops iterating early (break/return). */
async function* streamIterable<T>(call: ClientReadableStream<T>): AsyncGenerator<T> {
  let done = false;
  try {
    for await (const msg of call) yield msg as T;
    done = true;
  } finally {
    if (!done) call.cancel();
  }
}
