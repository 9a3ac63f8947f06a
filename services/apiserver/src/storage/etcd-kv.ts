// A small etcd KV client (Range and Txn) speaking gRPC over node:http2 directly, for the apiserver's
// hot path. Every create, update and read of an object is one of these calls; through etcd3 and
// grpc-js each cost about as much CPU as the rest of the request (call objects, interceptor and
// retry layers, a captured stack per call, protobufjs objects converted to plain ones). The
// messages are hand-encoded from etcd's rpc.proto (etcdserverpb); the few fields used are below.
// Leases, elections and the publisher's watch stay on etcd3.
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";

/** A gRPC status from etcd, or a transport failure (UNAVAILABLE, 14). */
export class EtcdError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "EtcdError";
  }
}

export const GRPC_DEADLINE_EXCEEDED = 4;
const STREAM_WINDOW = 4 << 20;
const CONNECTION_WINDOW = 32 << 20;
export const GRPC_UNAVAILABLE = 14;

export interface RawKeyValue {
  key: Buffer;
  value: Buffer;
  createRevision: bigint;
  modRevision: bigint;
}

export interface RangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  limit?: number;
  /** 0: now. */
  revision?: bigint;
  keysOnly?: boolean;
  /** Answered by the member without a quorum round trip. */
  serializable?: boolean;
}

export interface RangeResult {
  revision: bigint;
  kvs: RawKeyValue[];
  more: boolean;
}

export type Compare =
  | { target: "create"; key: Uint8Array; createRevision: bigint }
  | { target: "mod"; key: Uint8Array; modRevision: bigint };
export type Op = { put: { key: Uint8Array; value: Uint8Array } } | { deleteRange: { key: Uint8Array } };

export interface TxnResult {
  revision: bigint;
  succeeded: boolean;
}

const {
  HTTP2_HEADER_METHOD,
  HTTP2_HEADER_PATH,
  HTTP2_HEADER_SCHEME,
  HTTP2_HEADER_AUTHORITY,
  HTTP2_HEADER_CONTENT_TYPE,
  HTTP2_HEADER_TE,
  HTTP2_HEADER_STATUS,
} = constants;

function encodeRange(r: RangeRequest): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).bytes(r.key);
  if (r.rangeEnd) w.tag(2, WireType.LengthDelimited).bytes(r.rangeEnd);
  if (r.limit) w.tag(3, WireType.Varint).int64(r.limit);
  if (r.revision) w.tag(4, WireType.Varint).int64(r.revision);
  if (r.serializable) w.tag(7, WireType.Varint).bool(true);
  if (r.keysOnly) w.tag(8, WireType.Varint).bool(true);
  return w.finish();
}

function encodeTxn(compare: Compare[], success: Op[]): Uint8Array {
  const w = new BinaryWriter();
  for (const c of compare) {
    // Compare { result = 1 (EQUAL: 0, left out); target = 2; key = 3; create_revision = 5 | mod_revision = 6 }
    w.tag(1, WireType.LengthDelimited).fork();
    if (c.target === "create") {
      w.tag(2, WireType.Varint).int32(1).tag(3, WireType.LengthDelimited).bytes(c.key);
      w.tag(5, WireType.Varint).int64(c.createRevision);
    } else {
      w.tag(2, WireType.Varint).int32(2).tag(3, WireType.LengthDelimited).bytes(c.key);
      w.tag(6, WireType.Varint).int64(c.modRevision);
    }
    w.join();
  }
  for (const op of success) {
    // RequestOp { request_put = 2 (PutRequest { key = 1; value = 2 }) | request_delete_range = 3 (DeleteRangeRequest { key = 1 }) }
    w.tag(2, WireType.LengthDelimited).fork();
    if ("put" in op) {
      w.tag(2, WireType.LengthDelimited).fork();
      w.tag(1, WireType.LengthDelimited).bytes(op.put.key).tag(2, WireType.LengthDelimited).bytes(op.put.value);
      w.join();
    } else {
      w.tag(3, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).bytes(op.deleteRange.key).join();
    }
    w.join();
  }
  return w.finish();
}

/** ResponseHeader { revision = 3 } */
function readHeaderRevision(r: BinaryReader, end: number): bigint {
  let revision = 0n;
  while (r.pos < end) {
    const [no, wt] = r.tag();
    if (no === 3) revision = BigInt(r.int64());
    else r.skip(wt);
  }
  return revision;
}

function decodeKeyValue(buf: Buffer, r: BinaryReader, end: number): RawKeyValue {
  // mvccpb.KeyValue { key = 1; create_revision = 2; mod_revision = 3; version = 4; value = 5; lease = 6 }
  const kv: RawKeyValue = { key: EMPTY, value: EMPTY, createRevision: 0n, modRevision: 0n };
  while (r.pos < end) {
    const [no, wt] = r.tag();
    if (no === 1 || no === 5) {
      const len = r.uint32();
      // Views into the response buffer: no copies.
      const b = buf.subarray(r.pos, r.pos + len);
      r.pos += len;
      if (no === 1) kv.key = b;
      else kv.value = b;
    } else if (no === 2) kv.createRevision = BigInt(r.int64());
    else if (no === 3) kv.modRevision = BigInt(r.int64());
    else r.skip(wt);
  }
  return kv;
}

const EMPTY = Buffer.alloc(0);

function decodeRange(buf: Buffer): RangeResult {
  const r = new BinaryReader(buf);
  const out: RangeResult = { revision: 0n, kvs: [], more: false };
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) {
      const len = r.uint32();
      out.revision = readHeaderRevision(r, r.pos + len);
    } else if (no === 2) {
      const len = r.uint32();
      out.kvs.push(decodeKeyValue(buf, r, r.pos + len));
    } else if (no === 3) out.more = r.bool();
    else r.skip(wt);
  }
  return out;
}

function decodeTxn(buf: Buffer): TxnResult {
  const r = new BinaryReader(buf);
  const out: TxnResult = { revision: 0n, succeeded: false };
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1) {
      const len = r.uint32();
      out.revision = readHeaderRevision(r, r.pos + len);
    } else if (no === 2) out.succeeded = r.bool();
    else r.skip(wt);
  }
  return out;
}

/** The two calls the apiserver's store makes (EtcdKv; an in-memory one in tests). */
export interface KvClient {
  range(req: RangeRequest): Promise<RangeResult>;
  txn(compare: Compare[], success: Op[]): Promise<TxnResult>;
}

interface Call {
  stream: ClientHttp2Stream;
  started: number;
  fail(err: Error): void;
}

/**
 * One HTTP/2 connection to etcd at a time (the next endpoint on failure). A call that sees the
 * connection fail gets UNAVAILABLE; a call over `timeoutMs` gets DEADLINE_EXCEEDED.
 */
export class EtcdKv implements KvClient {
  private session?: ClientHttp2Session;
  private next = 0;
  private readonly calls = new Set<Call>();
  private readonly inFlight = new Map<ClientHttp2Session, number>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly endpoints: readonly string[],
    private readonly timeoutMs = 30_000,
  ) {
    if (endpoints.length === 0) throw new Error("no etcd endpoint");
    this.sweeper = setInterval(() => this.expire(), 1000);
    this.sweeper.unref();
  }

  range(req: RangeRequest): Promise<RangeResult> {
    return this.call("/etcdserverpb.KV/Range", encodeRange(req)).then(decodeRange);
  }

  txn(compare: Compare[], success: Op[]): Promise<TxnResult> {
    return this.call("/etcdserverpb.KV/Txn", encodeTxn(compare, success)).then(decodeTxn);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    this.session?.close();
    this.session = undefined;
  }

  private connection(): ClientHttp2Session {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const url = this.endpoints[this.next++ % this.endpoints.length]!;
    // Hundreds of calls share the connection: HTTP/2's default 64 KiB receive windows would hold
    // etcd's answers back until we acknowledge the earlier ones.
    const session = connect(/^https?:\/\//.test(url) ? url : `http://${url}`, { settings: { initialWindowSize: STREAM_WINDOW } });
    session.once("connect", () => session.setLocalWindowSize(CONNECTION_WINDOW));
    const drop = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on("error", drop);
    session.on("close", drop);
    session.on("goaway", drop);
    session.unref(); // an idle connection must not keep the process alive; calls ref it (track)
    this.session = session;
    return session;
  }

  /** Calls in flight keep the process alive (as grpc-js calls do); an idle connection does not. */
  private track(call: Call, session: ClientHttp2Session): void {
    const n = this.inFlight.get(session) ?? 0;
    if (n === 0) session.ref();
    this.inFlight.set(session, n + 1);
    this.calls.add(call);
  }

  private untrack(call: Call, session: ClientHttp2Session): void {
    this.calls.delete(call);
    const n = (this.inFlight.get(session) ?? 1) - 1;
    if (n > 0) this.inFlight.set(session, n);
    else {
      this.inFlight.delete(session);
      if (!session.destroyed) session.unref();
    }
  }

  private expire(): void {
    const now = performance.now();
    for (const c of this.calls) {
      if (now - c.started > this.timeoutMs) c.fail(new EtcdError(GRPC_DEADLINE_EXCEEDED, `etcd did not answer within ${this.timeoutMs} ms`));
    }
  }

  private call(path: string, message: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new EtcdError(GRPC_UNAVAILABLE, "the etcd client is closed"));
      let stream: ClientHttp2Stream;
      const session = this.connection();
      try {
        stream = session.request(
          {
            [HTTP2_HEADER_METHOD]: "POST",
            [HTTP2_HEADER_PATH]: path,
            [HTTP2_HEADER_SCHEME]: "http",
            [HTTP2_HEADER_AUTHORITY]: "etcd",
            [HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
            [HTTP2_HEADER_TE]: "trailers",
          },
          { endStream: false },
        );
      } catch (err) {
        return reject(new EtcdError(GRPC_UNAVAILABLE, `cannot reach etcd: ${(err as Error).message}`));
      }
      let done = false;
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let grpcStatus: number | undefined;
      let grpcMessage = "";
      const call: Call = {
        stream,
        started: performance.now(),
        fail: (err) => {
          if (done) return;
          done = true;
          this.untrack(call, session);
          stream.close(constants.NGHTTP2_CANCEL);
          reject(err);
        },
      };
      this.track(call, session);
      const readStatus = (h: Record<string, unknown>) => {
        if (h["grpc-status"] !== undefined) grpcStatus = Number(h["grpc-status"]);
        if (h["grpc-message"] !== undefined) {
          const raw = String(h["grpc-message"]);
          try {
            grpcMessage = decodeURIComponent(raw);
          } catch {
            grpcMessage = raw;
          }
        }
      };
      stream.on("response", (h) => {
        status = Number(h[HTTP2_HEADER_STATUS]);
        readStatus(h); // trailers-only responses carry the status in the headers
      });
      stream.on("trailers", readStatus);
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", (err) => call.fail(new EtcdError(GRPC_UNAVAILABLE, `etcd connection failed: ${err.message}`)));
      stream.on("close", () => {
        if (done) return;
        done = true;
        this.untrack(call, session);
        if (grpcStatus === undefined) {
          reject(new EtcdError(GRPC_UNAVAILABLE, `etcd closed the call without a status (HTTP ${status ?? "none"})`));
        } else if (grpcStatus !== 0) {
          reject(new EtcdError(grpcStatus, `etcd: ${grpcMessage || `gRPC status ${grpcStatus}`}`));
        } else {
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          // One message: 1 byte compressed flag (0), 4 bytes length, the message.
          if (body.length < 5 || body[0] !== 0) reject(new EtcdError(13, "etcd sent an unreadable reply"));
          else resolve(body.subarray(5, 5 + body.readUInt32BE(1)));
        }
      });
      const frame = Buffer.allocUnsafe(5 + message.length);
      frame[0] = 0;
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      stream.end(frame);
    });
  }
}
