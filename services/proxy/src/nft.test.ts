// The applier against the real kernel: a table of its own (named after this process), Service
// addresses in 10.99.<pid % 250>.0/24, endpoints that are HTTP and UDP servers on 127.0.0.1, and a
// NodePort on an address this test adds to lo. Everything is removed at
// the end. Needs root and nft (as the project's machines have). (The kernel here has no dummy
// interfaces: the test's node address is a /32 on lo, labelled lo:crlt.)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { createServer, get, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { ServicePortState } from "./model.js";
import { Nft } from "./nft.js";
import { commitPlan, planUpdate, renderFull, type Applied, type RenderConfig } from "./render.js";

const root = process.getuid?.() === 0;
const net = `10.99.${process.pid % 250}`;
const cfg: RenderConfig = { table: `corralt${process.pid}`, masqueradeBit: 14, serviceCidr: `${net}.0/24`, clusterCidr: "10.245.0.0/16" };
const nodeIP = `${net}.200`;
const nft = new Nft();

function request(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 3000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d)).on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

function udp(host: string, port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    const t = setTimeout(() => (s.close(), reject(new Error("no UDP answer"))), 2000);
    s.on("message", (m) => (clearTimeout(t), s.close(), resolve(m.toString())));
    s.send(msg, port, host);
  });
}

const svc = (name: string, ip: string, ports: number[], extra: Partial<ServicePortState> = {}): ServicePortState => ({
  id: `default/${name}/tcp/80`,
  clusterIP: ip,
  protocol: "tcp",
  port: 80,
  nodePort: 0,
  internalLocal: false,
  externalLocal: false,
  affinitySeconds: 0,
  backends: ports.map((port) => ({ ip: "127.0.0.1", port, local: true })),
  ...extra,
});

describe("nftables transactions on the real kernel", { skip: !root && "needs root", timeout: 60_000 }, () => {
  const servers: Server[] = [];
  const ports: number[] = [];
  let udpServer: ReturnType<typeof createSocket>;
  let udpPort = 0;
  let applied: Applied;
  let tablesBefore = "";

  before(async () => {
    for (let i = 0; i < 3; i++) {
      const s = createServer((req, res) => res.end(`backend-${i}`));
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
      servers.push(s);
      ports.push((s.address() as AddressInfo).port);
    }
    udpServer = createSocket("udp4");
    udpServer.on("message", (m, from) => udpServer.send(`echo ${m}`, from.port, from.address));
    await new Promise<void>((r) => udpServer.bind(0, "127.0.0.1", r));
    udpPort = udpServer.address().port;
    execFileSync("ip", ["addr", "add", `${nodeIP}/32`, "dev", "lo", "label", "lo:crlt"]);
    tablesBefore = execFileSync("nft", ["list", "tables"], { encoding: "utf8" });
  });

  after(async () => {
    await nft.deleteTable(cfg.table).catch(() => {});
    try {
      execFileSync("ip", ["addr", "del", `${nodeIP}/32`, "dev", "lo"]);
    } catch {
      // already gone
    }
    for (const s of servers) s.close();
    udpServer?.close();
  });

  it("a full sync programs Services that spread, refuse at once, and answer UDP", async () => {
    const full = renderFull(cfg, [
      svc("web", `${net}.5`, ports),
      svc("empty", `${net}.6`, []),
      { ...svc("dns", `${net}.7`, []), id: "default/dns/udp/53", protocol: "udp", port: 53, backends: [{ ip: "127.0.0.1", port: udpPort, local: true }] },
      svc("np", `${net}.8`, [ports[2]!], { nodePort: 30999 }),
    ]);
    applied = full.applied;
    await nft.apply(full.lines);
    assert.ok(await nft.tableExists(cfg.table));
    const seen = new Set<string>();
    for (let i = 0; i < 60 && seen.size < 3; i++) seen.add(await request(`http://${net}.5/`));
    assert.deepEqual([...seen].sort(), ["backend-0", "backend-1", "backend-2"]);
    const t = performance.now();
    await assert.rejects(request(`http://${net}.6/`), /ECONNREFUSED/);
    await assert.rejects(request(`http://${net}.99/`), /ECONNREFUSED/, "an address of the range that no Service has");
    assert.ok(performance.now() - t < 1000, "refused at once, not timed out");
    assert.equal(await udp(`${net}.7`, 53, "ping"), "echo ping");
    assert.equal(await request(`http://${nodeIP}:30999/`), "backend-2", "NodePort on a local address");
  });

  it("an incremental update changes only what changed, atomically", async () => {
    const plan = planUpdate(cfg, applied, new Map([["default/web/tcp/80", svc("web", `${net}.5`, [ports[1]!])]]));
    assert.ok(plan.lines.length <= 6, plan.lines.join("\n"));
    await nft.apply(plan.lines);
    commitPlan(applied, plan);
    for (let i = 0; i < 10; i++) assert.equal(await request(`http://${net}.5/`), "backend-1");
    // The endpoints come back: an empty Service gets some, the other keeps working.
    const plan2 = planUpdate(cfg, applied, new Map([
      ["default/web/tcp/80", svc("web", `${net}.5`, ports)],
      ["default/empty/tcp/80", svc("empty", `${net}.6`, [ports[0]!])],
    ]));
    await nft.apply(plan2.lines);
    commitPlan(applied, plan2);
    assert.equal(await request(`http://${net}.6/`), "backend-0");
  });

  it("sessionAffinity ClientIP keeps a client on one endpoint", async () => {
    const plan = planUpdate(cfg, applied, new Map([["default/sticky/tcp/80", svc("sticky", `${net}.9`, ports, { affinitySeconds: 60 })]]));
    await nft.apply(plan.lines);
    commitPlan(applied, plan);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await request(`http://${net}.9/`));
    assert.equal(seen.size, 1, `one backend, saw ${[...seen].join(", ")}`);
    // Removing it removes its chains and sets in one transaction.
    const gone = planUpdate(cfg, applied, new Map([["default/sticky/tcp/80", undefined]]));
    await nft.apply(gone.lines);
    commitPlan(applied, gone);
    const listing = (await nft.listTable(cfg.table))!;
    assert.doesNotMatch(listing, /sticky/);
  });

  it("the table is deleted cleanly and no other table is touched", async () => {
    await nft.deleteTable(cfg.table);
    assert.equal(await nft.tableExists(cfg.table), false);
    assert.equal(execFileSync("nft", ["list", "tables"], { encoding: "utf8" }).replace(`table ip ${cfg.table}\n`, ""), tablesBefore.replace(`table ip ${cfg.table}\n`, ""));
    await nft.deleteTable(cfg.table); // twice is fine
  });
});
