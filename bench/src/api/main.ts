// bench/api: apiserver create throughput and latency against raw etcd puts of the same bytes,
// and watch delivery latency with 100 watchers. Prints its figures and the reference's.
import { create, toBinary } from "@bufbuild/protobuf";
import { ConfigMapSchema, ConfigMaps } from "@corral/api";
import { Clientset } from "@corral/client";
import { Etcd3 } from "etcd3";
import { closedLoop, fmt, percentile } from "../support/stats.js";
import { CpuMeter, histogramTotals, startServers, waitForApi } from "../support/servers.js";

const CONCURRENCY = 32;
const CREATES = Number(process.env.BENCH_CREATES ?? 20_000);
const WATCHERS = 100;
const WATCH_WRITES = Number(process.env.BENCH_WATCH_WRITES ?? 300);

const payload = (i: number) =>
  create(ConfigMapSchema, {
    metadata: { name: `bench-${i}`, namespace: "default", labels: { app: "bench", shard: String(i % 16) } },
    data: { "config.yaml": "x".repeat(256) },
  });


const servers = await startServers();
try {
  // 32 clients: one channel each, as 32 separate programs would have.
  const clients = Array.from({ length: CONCURRENCY }, () => Clientset.connect(servers.apiAddress));
  await waitForApi(clients[0]!);
  process.stderr.write(`warming up...\n`);
  await closedLoop(500, CONCURRENCY, (i) => clients[i % CONCURRENCY]!.for(ConfigMaps).create(payload(1e9 + i)));

  process.stderr.write(`apiserver: ${CREATES} creates, ${CONCURRENCY} concurrent clients...\n`);
  const cpu = new CpuMeter(servers.pids);
  const h0 = await histogramTotals(servers.metricsUrl);
  cpu.begin();
  const api = await closedLoop(CREATES, CONCURRENCY, (i) => clients[i % CONCURRENCY]!.for(ConfigMaps).create(payload(i)));
  const apiCpu = cpu.end();
  const h1 = await histogramTotals(servers.metricsUrl);
  // Mean latency inside the apiserver during the creates: the whole request, and its etcd write.
  const mean = (key: string) => {
    const a = h0.get(key) ?? { sum: 0, count: 0 };
    const b = h1.get(key) ?? { sum: 0, count: 0 };
    return b.count > a.count ? ((b.sum - a.sum) / (b.count - a.count)) * 1000 : NaN;
  };
  const inside = {
    request: mean('corral_apiserver_request_duration_seconds{method="ConfigMapService/Create"}'),
    etcd: mean('corral_apiserver_etcd_request_duration_seconds{operation="create"}'),
  };

  process.stderr.write(`etcd: ${CREATES} puts, ${CONCURRENCY} concurrent...\n`);
  const etcd = new Etcd3({ hosts: servers.etcdUrl });
  const etcdClients = Array.from({ length: CONCURRENCY }, () => new Etcd3({ hosts: servers.etcdUrl }));
  const value = Buffer.from(toBinary(ConfigMapSchema, payload(0)));
  cpu.begin();
  const raw = await closedLoop(CREATES, CONCURRENCY, (i) => etcdClients[i % CONCURRENCY]!.put(`/bench/raw/${i}`).value(value).exec());
  const rawCpu = cpu.end();

  process.stderr.write(`watch: ${WATCHERS} watchers, ${WATCH_WRITES} writes...\n`);
  const writer = clients[0]!.for(ConfigMaps);
  const startRv = (await writer.list({ namespace: "default", limit: 1n })).metadata!.resourceVersion;
  const acked = new Map<string, number>();
  const received: { rv: string; at: number }[] = [];
  const ac = new AbortController();
  let ready = 0;
  const watchers = Array.from({ length: WATCHERS }, async (_, w) => {
    const cs = clients[w % CONCURRENCY]!;
    try {
      const stream = cs.for(ConfigMaps).watch({ namespace: "default", labelSelector: "app=watch", resourceVersion: startRv }, { signal: ac.signal });
      ready++;
      for await (const ev of stream) received.push({ rv: ev.object!.metadata!.resourceVersion, at: performance.now() });
    } catch {
      // aborted at the end
    }
  });
  await new Promise((r) => setTimeout(r, 1000)); // let every watch stream open
  for (let i = 0; i < WATCH_WRITES; i++) {
    const obj = payload(2e9 + i);
    obj.metadata!.labels = { app: "watch" };
    const res = await writer.create(obj);
    acked.set(res.metadata!.resourceVersion, performance.now());
    await new Promise((r) => setTimeout(r, 5));
  }
  const deadline = Date.now() + 10_000;
  while (received.length < WATCHERS * WATCH_WRITES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  ac.abort();
  await Promise.allSettled(watchers);
  const delays = received.filter((r) => acked.has(r.rv)).map((r) => Math.max(0, r.at - acked.get(r.rv)!));

  const apiRate = CREATES / api.seconds;
  const rawRate = CREATES / raw.seconds;
  console.log(`bench/api (${CONCURRENCY} concurrent clients, ${CREATES} objects of ${value.length} bytes)`);
  console.log(`  apiserver creates: ${apiRate.toFixed(0)}/s  p50 ${fmt(percentile(api.latencies, 50))}  p99 ${fmt(percentile(api.latencies, 99))}`);
  console.log(`  raw etcd puts:     ${rawRate.toFixed(0)}/s  p50 ${fmt(percentile(raw.latencies, 50))}  p99 ${fmt(percentile(raw.latencies, 99))}`);
  console.log(`  ratio apiserver/etcd: ${(apiRate / rawRate).toFixed(2)} (target >= 0.50)`);
  // CPU per operation by process: the machine is CPU-bound, so this is where the time goes.
  const perOp = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, s]) => `${k} ${((s * 1000) / CREATES).toFixed(3)}`)
      .join(", ");
  console.log(`  CPU ms per create: ${perOp(apiCpu)}; per raw put: ${perOp(rawCpu)}`);
  console.log(`  mean time of a create inside the apiserver: ${fmt(inside.request)}, of which its etcd write ${fmt(inside.etcd)}`);
  console.log(
    `  watch delivery (write acked -> event received), ${WATCHERS} watchers (${ready} open), ${delays.length}/${WATCHERS * WATCH_WRITES} events:` +
      ` p50 ${fmt(percentile(delays, 50))}  p99 ${fmt(percentile(delays, 99))} (target p99 <= 20 ms)`,
  );
  for (const c of clients) c.close();
  for (const c of etcdClients) c.close();
  etcd.close();
} finally {
  await servers.stop();
}
