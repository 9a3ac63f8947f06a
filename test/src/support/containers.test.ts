// Checks the container helpers: etcd answers, NATS accepts connections, and JetStream data
// survives a NATS restart. Needs docker and the images from scripts/build-images.sh.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, Events, StringCodec, type NatsConnection } from "nats";
import { startEtcd, startNats, type EtcdHandle, type NatsHandle } from "./containers.js";

const sc = StringCodec();

describe("test containers", () => {
  let etcd: EtcdHandle | undefined;
  let nats: NatsHandle | undefined;
  const conns: NatsConnection[] = [];

  before(async () => {
    const t0 = performance.now();
    const timed = async <T>(what: string, p: Promise<T>): Promise<T> => {
      const v = await p;
      console.log(`${what} ready in ${Math.round(performance.now() - t0)} ms`);
      return v;
    };
    // Start both even if one fails, so after() can stop whichever started.
    const [e, n] = await Promise.allSettled([timed("etcd", startEtcd()), timed("nats", startNats())]);
    if (e.status === "fulfilled") etcd = e.value;
    if (n.status === "fulfilled") nats = n.value;
    if (e.status === "rejected") throw e.reason;
    if (n.status === "rejected") throw n.reason;
  });

  after(async () => {
    await Promise.allSettled(conns.map((c) => c.close()));
    await Promise.allSettled([etcd?.stop(), nats?.stop()]);
  });

  it("etcd answers /health and /version", async () => {
    assert.ok(etcd);
    const health = (await (await fetch(`${etcd.url}/health`)).json()) as { health: string };
    assert.equal(health.health, "true");
    const version = (await (await fetch(`${etcd.url}/version`)).json()) as { etcdserver: string };
    assert.match(version.etcdserver, /^3\.4\./);
    // A write and read through the v3 JSON gateway (keys and values are base64).
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const put = await fetch(`${etcd.url}/v3/kv/put`, {
      method: "POST",
      body: JSON.stringify({ key: b64("/corral/probe"), value: b64("ok") }),
    });
    assert.equal(put.status, 200);
    const range = (await (
      await fetch(`${etcd.url}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: b64("/corral/probe") }) })
    ).json()) as { kvs?: { value: string }[] };
    assert.equal(Buffer.from(range.kvs?.[0]?.value ?? "", "base64").toString(), "ok");
  });

  it("NATS JetStream data survives a restart, and clients reconnect to the same url", async () => {
    assert.ok(nats);
    const urlBefore = nats.url;
    const nc = await connect({ servers: urlBefore, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    conns.push(nc);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "PROBE", subjects: ["probe.>"] });
    const ack = await nc.jetstream().publish("probe.one", sc.encode("hello"));
    assert.equal(ack.seq, 1);

    // Watch the long-lived connection come back after the restart.
    let reconnected = false;
    void (async () => {
      for await (const s of nc.status()) if (s.type === Events.Reconnect) reconnected = true;
    })();

    const t0 = performance.now();
    await nats.restart();
    console.log(`nats restarted in ${Math.round(performance.now() - t0)} ms`);
    assert.equal(nats.url, urlBefore, "host port changed across restart");

    // A fresh connection sees the stream and its message.
    const nc2 = await connect({ servers: nats.url });
    conns.push(nc2);
    const jsm2 = await nc2.jetstreamManager();
    const info = await jsm2.streams.info("PROBE");
    assert.equal(info.state.messages, 1);
    const msg = await jsm2.streams.getMessage("PROBE", { seq: 1 });
    assert.equal(sc.decode(msg.data), "hello");

    // The original connection reconnected by itself and can keep publishing.
    const deadline = Date.now() + 10_000;
    while (!reconnected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(reconnected, "original connection did not reconnect");
    const ack2 = await nc.jetstream().publish("probe.two", sc.encode("again"));
    assert.equal(ack2.seq, 2);
  });
});
