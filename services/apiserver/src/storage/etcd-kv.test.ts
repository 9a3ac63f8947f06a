import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createServer, type Http2Server, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { EtcdError, EtcdKv, GRPC_DEADLINE_EXCEEDED, GRPC_UNAVAILABLE } from "./etcd-kv.js";

// A stand-in for etcd's gRPC KV service: enough to check the client's framing, decoding and errors.

function frame(msg: Uint8Array): Buffer {
  const b = Buffer.alloc(5 + msg.length);
  b.writeUInt32BE(msg.length, 1);
  b.set(msg, 5);
  return b;
}

function rangeResponse(revision: bigint, kvs: { key: string; value: string; mod: bigint }[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint64(7n).tag(3, WireType.Varint).int64(revision).join();
  for (const kv of kvs) {
    w.tag(2, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).bytes(Buffer.from(kv.key));
    w.tag(2, WireType.Varint).int64(kv.mod).tag(3, WireType.Varint).int64(kv.mod).tag(4, WireType.Varint).int64(1);
    w.tag(5, WireType.LengthDelimited).bytes(Buffer.from(kv.value));
    w.join();
  }
  w.tag(3, WireType.Varint).bool(true);
  return w.finish();
}

function txnResponse(revision: bigint, succeeded: boolean): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).fork().tag(3, WireType.Varint).int64(revision).join();
  if (succeeded) w.tag(2, WireType.Varint).bool(true);
  return w.finish();
}

describe("EtcdKv", () => {
  let server: Http2Server;
  let url: string;
  const seen: { path: string; body: Buffer }[] = [];
  let reply: (stream: ServerHttp2Stream, path: string, body: Buffer) => void;

  before(async () => {
    server = createServer();
    server.on("stream", (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const body = Buffer.concat(chunks).subarray(5);
        seen.push({ path: String(headers[":path"]), body });
        reply(stream, String(headers[":path"]), body);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const ok = (msg: Uint8Array) => (stream: ServerHttp2Stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(frame(msg));
  };

  it("reads a range: revision, keys, values, revisions, more", async () => {
    reply = ok(rangeResponse(42n, [{ key: "/corral/pods/default/a", value: "A", mod: 40n }, { key: "/corral/pods/default/b", value: "B", mod: 41n }]));
    const kv = new EtcdKv([url]);
    const res = await kv.range({ key: Buffer.from("/corral/pods/"), rangeEnd: Buffer.from("/corral/pods0"), limit: 2, serializable: true });
    kv.close();
    assert.equal(res.revision, 42n);
    assert.equal(res.more, true);
    assert.deepEqual(res.kvs.map((k) => [k.key.toString(), k.value.toString(), k.modRevision, k.createRevision]), [
      ["/corral/pods/default/a", "A", 40n, 40n],
      ["/corral/pods/default/b", "B", 41n, 41n],
    ]);
    const req = seen.at(-1)!;
    assert.equal(req.path, "/etcdserverpb.KV/Range");
    // RangeRequest { key = 1; range_end = 2; limit = 3; serializable = 7 }
    const r = new BinaryReader(req.body);
    const fields: number[] = [];
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      fields.push(no);
      r.skip(wt);
    }
    assert.deepEqual(fields, [1, 2, 3, 7]);
  });

  it("sends a compare-and-swap transaction and reads whether it succeeded", async () => {
    reply = ok(txnResponse(43n, true));
    const kv = new EtcdKv([url]);
    const res = await kv.txn([{ target: "mod", key: Buffer.from("k"), modRevision: 41n }], [{ put: { key: Buffer.from("k"), value: Buffer.from("v") } }]);
    assert.deepEqual(res, { revision: 43n, succeeded: true });
    reply = ok(txnResponse(43n, false));
    assert.deepEqual(await kv.txn([{ target: "create", key: Buffer.from("k"), createRevision: 0n }], [{ deleteRange: { key: Buffer.from("k") } }]), {
      revision: 43n,
      succeeded: false,
    });
    kv.close();
    assert.equal(seen.at(-1)!.path, "/etcdserverpb.KV/Txn");
  });

  it("turns a gRPC status into an EtcdError with etcd's message", async () => {
    reply = (stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "11", "grpc-message": "etcdserver: mvcc: required revision has been compacted" }, { endStream: true });
    };
    const kv = new EtcdKv([url]);
    await assert.rejects(kv.range({ key: Buffer.from("k"), revision: 3n }), (err: unknown) => {
      assert.ok(err instanceof EtcdError);
      assert.equal(err.code, 11);
      assert.match(err.message, /compacted/);
      return true;
    });
    kv.close();
  });

  it("answers UNAVAILABLE when etcd cannot be reached, and DEADLINE_EXCEEDED when it does not answer", async () => {
    const down = new EtcdKv(["http://127.0.0.1:1"]);
    await assert.rejects(down.range({ key: Buffer.from("k") }), (err: unknown) => err instanceof EtcdError && err.code === GRPC_UNAVAILABLE);
    down.close();
    reply = () => {}; // never answers
    const slow = new EtcdKv([url], 200);
    await assert.rejects(slow.range({ key: Buffer.from("k") }), (err: unknown) => err instanceof EtcdError && err.code === GRPC_DEADLINE_EXCEEDED);
    slow.close();
  });
});
