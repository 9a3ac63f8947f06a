// A real control plane for integration tests: etcd and NATS in containers, apiservers in-process.
import { ApiServer, type ApiServerOptions } from "@corral/apiserver";
import { Clientset } from "@corral/client";
import { createLogger } from "@corral/logging";
import { startEtcd, startNats, type EtcdHandle, type NatsHandle } from "./containers.js";

export interface ControlPlane {
  etcd: EtcdHandle;
  nats: NatsHandle;
  /** The apiservers running now; [0] is the first. */
  servers: ApiServer[];
  /** A client of servers[0]. */
  clients: Clientset;
  /** Starts another apiserver replica against the same etcd and NATS. */
  addServer(): Promise<ApiServer>;
  /** Stops servers[i] and starts a new one in its place (clients of it reconnect on their own). */
  restartServer(i?: number): Promise<ApiServer>;
  connect(server?: ApiServer): Clientset;
  stop(): Promise<void>;
}

export async function startControlPlane(extra: Partial<ApiServerOptions> = {}): Promise<ControlPlane> {
  const [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
  const log = createLogger("apiserver-test", { level: process.env.CORRAL_LOG_LEVEL ?? "warn" });
  const clientsets: Clientset[] = [];
  const options = (listen: string): ApiServerOptions => ({
    etcdEndpoints: [etcd.url],
    natsServers: [nats.url],
    listen,
    log,
    ...extra,
  });
  const first = await ApiServer.start(options("127.0.0.1:0"));
  const cp: ControlPlane = {
    etcd,
    nats,
    servers: [first],
    clients: undefined as unknown as Clientset,
    async addServer() {
      const s = await ApiServer.start(options("127.0.0.1:0"));
      cp.servers.push(s);
      return s;
    },
    async restartServer(i = 0) {
      const old = cp.servers[i]!;
      await old.stop();
      // Same port, so existing clients find the new process.
      const s = await ApiServer.start(options(old.address));
      cp.servers[i] = s;
      return s;
    },
    connect(server = cp.servers[0]!) {
      const c = Clientset.connect(server.address);
      clientsets.push(c);
      return c;
    },
    async stop() {
      for (const c of clientsets) c.close();
      await Promise.allSettled(cp.servers.map((s) => s.stop()));
      await Promise.allSettled([etcd.stop(), nats.stop()]);
    },
  };
  cp.clients = cp.connect(first);
  return cp;
}
