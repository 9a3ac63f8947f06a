import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The apiserver's Prometheus metrics, on their own registry so tests can run several servers. */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "corral_apiserver_requests_total",
    help: "gRPC requests by method and status code",
    labelNames: ["method", "code"] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: "corral_apiserver_request_duration_seconds",
    help: "gRPC request latency by method (watches: their whole life)",
    labelNames: ["method"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly watchers = new Gauge({
    name: "corral_apiserver_watchers",
    help: "Open watch streams by resource",
    labelNames: ["resource"] as const,
    registers: [this.registry],
  });
  readonly etcdSeconds = new Histogram({
    name: "corral_apiserver_etcd_request_duration_seconds",
    help: "etcd request latency by operation",
    labelNames: ["operation"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly publishedRevision = new Gauge({
    name: "corral_apiserver_published_revision",
    help: "The newest etcd revision this replica has published to NATS",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Serves /metrics and /healthz on host:port; port 0 picks a free one. */
  async serve(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url === "/metrics") {
        this.registry.metrics().then(
          (text) => {
            res.writeHead(200, { "content-type": this.registry.contentType });
            res.end(text);
          },
          (err: Error) => {
            res.writeHead(500);
            res.end(err.message);
          },
        );
      } else if (req.url === "/healthz") {
        res.writeHead(200);
        res.end("ok");
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  }
}
