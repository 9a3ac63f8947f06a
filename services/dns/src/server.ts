// The cluster DNS: one process per node, on UDP and TCP port 53 of the cluster DNS address (the
// ClusterIP of corral-system/corral-dns, 10.96.0.10 by default), which it puts on the node's lo as a
// /32. Pods' resolv.conf names that address; their queries reach the node and are answered here,
// without the proxy (the Service carries service.kubernetes.io/service-proxy-name, so the proxy
// leaves it alone), on every node alike.
import { create } from "@bufbuild/protobuf";
import { EndpointsKind, ServiceSchema, Services, type Endpoints, type Service } from "@corral/api";
import { Clientset, Informer, objectKey } from "@corral/client";
import { Code, errorCode } from "@corral/grpc";
import { createLogger, type Logger } from "@corral/logging";
import dnsPacket, { type DecodedPacket } from "dns-packet";
import { execFile } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { connect, createServer, type Server } from "node:net";
import { promisify } from "node:util";
import { encodeUdp, respond, serverFailure } from "./answer.js";
import { ClusterRecords } from "./records.js";
import { parseUpstream, readNameservers, type Upstream } from "./resolv.js";

const run = promisify(execFile);

export const DNS_SERVICE = { namespace: "corral-system", name: "corral-dns" } as const;
export const SERVICE_PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name";
export const DEFAULT_ADDRESS_LABEL = "lo:corral-dns";

export interface ClusterDnsOptions {
  /** host:port of the apiserver (or pass `clients`). */
  apiserver?: string;
  clients?: Clientset;
  /** Where to answer, "ip:port"; default the corral-dns Service's ClusterIP, port 53. */
  listen?: string;
  /** Put the listen address on lo when no interface has it, labelled `addressLabel`. Default true. */
  addAddress?: boolean;
  /** The label of the address on lo ("lo:" and at most 12 more characters); default lo:corral-dns. */
  addressLabel?: string;
  /** Create corral-system/corral-dns if missing (its ClusterIP is the DNS address). Default true. */
  ensureService?: boolean;
  /** The cluster domain; default cluster.local. */
  domain?: string;
  /** Resolvers for other names ("ip" or "ip:port"); default the nameservers of /etc/resolv.conf. */
  upstreams?: string[];
  resolvConf?: string;
  /** How long one upstream gets to answer before the next is asked. */
  forwardTimeoutMs?: number;
  log?: Logger;
}

async function sh(args: string[]): Promise<string> {
  const { stdout } = await run("ip", args);
  return stdout;
}

/** The lines of `ip -o -4 addr show` that hold ip/32 (any interface). */
async function addressLines(ip: string): Promise<string[]> {
  const out = await sh(["-o", "-4", "addr", "show"]);
  return out.split("\n").filter((l) => l.includes(` inet ${ip}/`));
}

/** Removes ip/32 from lo if it carries `label` (it was put there by a cluster DNS); true when removed. */
export async function removeDnsAddress(ip: string, label = DEFAULT_ADDRESS_LABEL): Promise<boolean> {
  const lines = await addressLines(ip);
  if (!lines.some((l) => /\blo\b/.test(l) && l.includes(` ${label}`))) return false;
  await sh(["addr", "del", `${ip}/32`, "dev", "lo"]);
  return true;
}

export class ClusterDns {
  readonly records: ClusterRecords;
  private readonly log: Logger;
  private readonly clients: Clientset;
  private readonly ownsClients: boolean;
  private services!: Informer<Service>;
  private endpoints!: Informer<Endpoints>;
  private udp?: Socket;
  private tcp?: Server;
  private upstreams: Upstream[] = [];
  private addedAddress = false;
  address = "";
  port = 0;
  /** Queries answered here and forwarded upstream. */
  readonly stats = { answered: 0, forwarded: 0, failed: 0 };

  private constructor(private readonly opts: ClusterDnsOptions) {
    this.records = new ClusterRecords(opts.domain ?? "cluster.local");
    this.log = opts.log ?? createLogger("dns");
    if (!opts.clients && !opts.apiserver) throw new Error("the cluster DNS needs an apiserver address or a Clientset");
    this.clients = opts.clients ?? Clientset.connect(opts.apiserver!);
    this.ownsClients = !opts.clients;
  }

  static async start(opts: ClusterDnsOptions): Promise<ClusterDns> {
    const d = new ClusterDns(opts);
    try {
      await d.init();
    } catch (err) {
      await d.stop().catch(() => {});
      throw err;
    }
    return d;
  }

  private async init(): Promise<void> {
    const opts = this.opts;
    let host: string;
    let port = 53;
    if (opts.listen) {
      const i = opts.listen.lastIndexOf(":");
      host = i > 0 ? opts.listen.slice(0, i) : opts.listen;
      if (i > 0) port = Number(opts.listen.slice(i + 1));
    } else {
      host = await this.serviceAddress();
    }
    if (opts.ensureService !== false && opts.listen) await this.serviceAddress().catch((err) => this.log.warn({ err: String(err) }, "cannot check the corral-dns Service"));
    this.upstreams = opts.upstreams?.length ? opts.upstreams.map(parseUpstream) : await readNameservers(opts.resolvConf, [host]);
    if (this.upstreams.length === 0) this.log.warn("no upstream resolver: names outside the cluster will fail (SERVFAIL)");

    this.services = new Informer(this.clients.for(Services), { log: this.log });
    this.endpoints = new Informer(this.clients.for(EndpointsKind), { log: this.log });
    this.services.addEventHandler({
      add: (s) => this.records.setService(s),
      update: (_o, s) => this.records.setService(s),
      delete: (s) => this.records.deleteService(objectKey(s)),
    });
    this.endpoints.addEventHandler({
      add: (e) => this.records.setEndpoints(e),
      update: (_o, e) => this.records.setEndpoints(e),
      delete: (e) => this.records.deleteEndpoints(objectKey(e)),
    });
    this.services.start();
    this.endpoints.start();
    await Promise.all([this.services.waitForSync(), this.endpoints.waitForSync()]);

    if (opts.addAddress !== false && host !== "127.0.0.1" && host !== "0.0.0.0") {
      const present = await addressLines(host);
      if (present.length === 0) {
        await sh(["addr", "add", `${host}/32`, "dev", "lo", "label", opts.addressLabel ?? DEFAULT_ADDRESS_LABEL]);
        this.addedAddress = true;
      }
    }
    await this.listen(host, port);
    this.log.info({ address: `${this.address}:${this.port}`, upstreams: this.upstreams.map((u) => `${u.host}:${u.port}`), services: this.records.size }, "cluster DNS serving");
  }

  /** The corral-dns Service's ClusterIP, creating the Service (or adding its proxy label) when needed. */
  private async serviceAddress(): Promise<string> {
    const client = this.clients.for(Services);
    let svc: Service | undefined;
    try {
      svc = await client.get({ namespace: DNS_SERVICE.namespace, name: DNS_SERVICE.name });
    } catch (err) {
      if (errorCode(err) !== Code.NOT_FOUND) throw err;
    }
    if (!svc) {
      if (this.opts.ensureService === false) throw new Error(`Service ${DNS_SERVICE.namespace}/${DNS_SERVICE.name} does not exist; give --listen`);
      svc = await client
        .create(
          create(ServiceSchema, {
            metadata: {
              name: DNS_SERVICE.name,
              namespace: DNS_SERVICE.namespace,
              labels: { [SERVICE_PROXY_NAME_LABEL]: "corral-dns", "k8s-app": "corral-dns" },
            },
            spec: {
              ports: [
                { name: "dns", port: 53, protocol: "UDP", targetPort: { value: { case: "intVal", value: 53 } } },
                { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: { value: { case: "intVal", value: 53 } } },
              ],
            },
          }),
        )
        .catch(async (err) => {
          if (errorCode(err) === Code.ALREADY_EXISTS) return client.get({ namespace: DNS_SERVICE.namespace, name: DNS_SERVICE.name });
          throw err;
        });
    } else if ((svc.metadata?.labels ?? {})[SERVICE_PROXY_NAME_LABEL] === undefined) {
      // Without the label the proxy would program the address (and refuse it, with no endpoints).
      svc.metadata!.labels[SERVICE_PROXY_NAME_LABEL] = "corral-dns";
      svc = await client.update(svc);
    }
    const ip = svc.spec?.clusterIp ?? "";
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new Error(`Service ${DNS_SERVICE.namespace}/${DNS_SERVICE.name} has no IPv4 ClusterIP ("${ip}"); give --listen`);
    return ip;
  }

  private async listen(host: string, port: number): Promise<void> {
    const udp = createSocket({ type: "udp4" });
    this.udp = udp;
    udp.on("message", (msg, from) => void this.onUdp(msg, from.address, from.port));
    udp.on("error", (err) => this.log.warn({ err: String(err) }, "UDP socket error"));
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(port, host, () => {
        udp.off("error", reject);
        resolve();
      });
    });
    this.address = host;
    this.port = udp.address().port;
    const tcp = createServer((sock) => {
      sock.setTimeout(10_000, () => sock.destroy());
      let buf = Buffer.alloc(0);
      sock.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const msg = buf.subarray(2, 2 + len);
          buf = buf.subarray(2 + len);
          void this.answer(msg, "tcp").then((out) => {
            if (out && !sock.destroyed) sock.write(Buffer.concat([u16(out.length), out]));
          });
        }
      });
      sock.on("error", () => sock.destroy());
    });
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(this.port, host, () => {
        tcp.off("error", reject);
        resolve();
      });
    });
  }

  private async onUdp(msg: Buffer, address: string, port: number): Promise<void> {
    const out = await this.answer(msg, "udp");
    if (out && this.udp) this.udp.send(out, port, address);
  }

  /** The response bytes for one query (undefined: not a DNS query, nothing is sent). */
  private async answer(msg: Buffer, transport: "udp" | "tcp"): Promise<Buffer | undefined> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    if (query.type !== "query") return undefined;
    const res = respond(query, this.records);
    if (res !== "forward") {
      this.stats.answered++;
      return transport === "udp" ? encodeUdp(res) : dnsPacket.encode(res);
    }
    this.stats.forwarded++;
    for (const up of this.upstreams) {
      try {
        return transport === "udp" ? await forwardUdp(msg, up, this.opts.forwardTimeoutMs ?? 2000) : await forwardTcp(msg, up, this.opts.forwardTimeoutMs ?? 2000);
      } catch (err) {
        this.log.debug({ upstream: `${up.host}:${up.port}`, err: String(err) }, "upstream did not answer");
      }
    }
    this.stats.failed++;
    return dnsPacket.encode(serverFailure(query));
  }

  /**
   * Stops answering. The address stays on lo unless `removeAddress` (corral down), or it was put
   * there by this process and `removeAddress` is not false.
   */
  async stop(opts: { removeAddress?: boolean } = {}): Promise<void> {
    await Promise.all([this.services?.stop(), this.endpoints?.stop()]);
    this.udp?.close();
    this.udp = undefined;
    await new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r()));
    if (this.ownsClients) this.clients.close();
    const remove = opts.removeAddress ?? this.addedAddress;
    if (remove && this.address) await removeDnsAddress(this.address, this.opts.addressLabel ?? DEFAULT_ADDRESS_LABEL).catch(() => false);
  }
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** Sends the query as is to one upstream over UDP and returns its answer. */
export function forwardUdp(msg: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    const id = msg.readUInt16BE(0);
    const done = (err?: Error, res?: Buffer) => {
      clearTimeout(t);
      s.close();
      if (err) reject(err);
      else resolve(res!);
    };
    const t = setTimeout(() => done(new Error("timeout")), timeoutMs);
    s.on("error", (err) => done(err));
    s.on("message", (res) => {
      if (res.length >= 2 && res.readUInt16BE(0) === id) done(undefined, res);
    });
    s.send(msg, up.port, up.host);
  });
}

export function forwardTcp(msg: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect(up.port, up.host);
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error("timeout"));
    }, timeoutMs);
    sock.on("connect", () => sock.write(Buffer.concat([u16(msg.length), msg])));
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        sock.end();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    sock.on("error", (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}
