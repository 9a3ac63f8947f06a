// Services end to end on one real node: a Deployment of busybox httpd pods behind a Service, the
// proxy's nftables table, the cluster DNS. (Pod → ClusterIP → pod across nodes needs two real
// nodes, which one machine's test cannot have; the rules for it are the same and the off-node
// masquerade is unit-tested in the renderer.)
import { create } from "@bufbuild/protobuf";
import { DeploymentSchema, Deployments, EndpointsKind, Pods, ServiceSchema, Services, type Endpoints, type Pod, type Service } from "@corral/api";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { isReady } from "../support/pods.js";
import { httpGet, startServiceNode, until, type ServiceNode } from "./cluster.js";

const NS = "default";

describe("Services on a real node", { timeout: 600_000 }, () => {
  let node: ServiceNode;
  let web: Service;

  before(async () => {
    node = await startServiceNode();
  });
  after(async () => {
    await node?.stop();
  });

  const clients = () => node.clients;
  const readyAddresses = (e: Endpoints | undefined) => (e?.subsets ?? []).flatMap((s) => s.addresses.map((a) => a.ip)).sort();
  const endpoints = (name: string) => clients().for(EndpointsKind).get({ namespace: NS, name }).catch(() => undefined);
  const webPods = async () => (await clients().for(Pods).list({ namespace: NS, labelSelector: "app=web" })).items.filter((p) => !p.metadata?.deletionTimestamp);

  function deployment(replicas: number) {
    const image = node.host.busyboxImage;
    return create(DeploymentSchema, {
      metadata: { name: "web", namespace: NS },
      spec: {
        replicas,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            nodeName: node.nodeName, // bound by the test: no scheduler runs here
            terminationGracePeriodSeconds: 1n,
            containers: [
              {
                name: "httpd",
                image,
                imagePullPolicy: "IfNotPresent",
                // Each pod answers with its own name; ready while /tmp/ready exists.
                command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && touch /tmp/ready && exec httpd -f -p 8080 -h /www"],
                ports: [{ name: "http", containerPort: 8080 }],
                readinessProbe: { exec: { command: ["cat", "/tmp/ready"] }, periodSeconds: 1, failureThreshold: 1 },
              },
            ],
          },
        },
      },
    });
  }

  async function exec(pod: Pod, cmd: string[], timeout = 30n): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    const id = pod.status!.containerStatuses[0]!.containerId.replace("containerd://", "");
    const res = await node.agent.cri.runtime.execSync({ containerId: id, cmd, timeout });
    return { stdout: new TextDecoder().decode(res.stdout), stderr: new TextDecoder().decode(res.stderr), exitCode: res.exitCode };
  }

  /** Requests until every expected answer has been seen (or `max` requests). */
  async function spread(url: string, expected: number, max = 90): Promise<Map<string, number>> {
    const seen = new Map<string, number>();
    for (let i = 0; i < max && (seen.size < expected || i < 30); i++) {
      const body = await httpGet(url);
      seen.set(body, (seen.get(body) ?? 0) + 1);
    }
    return seen;
  }

  const waitEndpoints = (n: number, timeoutMs = 90_000) =>
    until(`${n} ready endpoints of web`, async () => {
      const e = await endpoints("web");
      return readyAddresses(e).length === n && (e?.subsets ?? []).every((s) => s.notReadyAddresses.length === 0) ? e : undefined;
    }, timeoutMs, 200);

  test("a Deployment of 3 behind a Service: the host's requests spread across all 3", async () => {
    await clients().for(Deployments).create(deployment(3));
    web = await clients().for(Services).create(
      create(ServiceSchema, {
        metadata: { name: "web", namespace: NS },
        spec: { type: "NodePort", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: { value: { case: "strVal", value: "http" } } }] },
      }),
    );
    assert.match(web.spec!.clusterIp, new RegExp(`^10\\.100\\.${node.slot}\\.\\d+$`));
    await waitEndpoints(3);
    const pods = await webPods();
    assert.equal(pods.length, 3);
    const names = pods.map((p) => p.metadata!.name).sort();
    const seen = await spread(`http://${web.spec!.clusterIp}/`, 3);
    assert.deepEqual([...seen.keys()].sort(), names, `answers: ${JSON.stringify([...seen])}`);
  });

  test("from a pod: the ClusterIP spreads across all 3, and a pod reaches itself through its Service (hairpin)", async () => {
    const pods = await webPods();
    const names = pods.map((p) => p.metadata!.name).sort();
    const [me] = pods;
    const loop = `for i in $(seq 45); do wget -qO- http://${web.spec!.clusterIp}/ || echo FAILED; done`;
    const out = await exec(me!, ["sh", "-c", loop], 60n);
    const answers = out.stdout.trim().split("\n");
    assert.ok(!answers.includes("FAILED"), out.stdout + out.stderr);
    assert.deepEqual([...new Set(answers)].sort(), names, "every pod answered, including the caller itself (hairpin)");
  });

  test("NodePort from the host, on the node's bridge address", async () => {
    const np = web.spec!.ports[0]!.nodePort;
    assert.ok(np >= 30000 && np <= 32767);
    const seen = await spread(`http://${node.nodeAddress}:${np}/`, 3);
    assert.equal(seen.size, 3, JSON.stringify([...seen]));
  });

  test("cluster DNS from a pod: short and full names, other names forwarded to the node's resolver", async () => {
    const [pod] = await webPods();
    const conf = await exec(pod!, ["cat", "/etc/resolv.conf"]);
    assert.match(conf.stdout, new RegExp(`nameserver ${node.dnsIP.replace(/\./g, "\\.")}`));
    assert.match(conf.stdout, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    const full = await exec(pod!, ["nslookup", "web.default.svc.cluster.local"]);
    assert.match(full.stdout, new RegExp(`Address:\\s*${web.spec!.clusterIp.replace(/\./g, "\\.")}`), full.stdout + full.stderr);
    // The short name through the search list, by the libc resolver as any program would.
    const viaName = await exec(pod!, ["wget", "-qO-", "http://web/"]);
    assert.equal(viaName.exitCode, 0, viaName.stderr);
    assert.match(viaName.stdout.trim(), /^web-/);
    const outside = await exec(pod!, ["nslookup", "outside.example"]);
    assert.match(outside.stdout, /198\.51\.100\.7/, outside.stdout + outside.stderr);
    const missing = await exec(pod!, ["nslookup", "nothing.default.svc.cluster.local"]);
    assert.notEqual(missing.exitCode, 0);
  });

  test("scaling 3 → 1 → 3: the rules follow the Endpoints", async () => {
    const scale = async (n: number) => {
      const d = await clients().for(Deployments).get({ namespace: NS, name: "web" });
      d.spec!.replicas = n;
      await clients().for(Deployments).update(d);
    };
    await scale(1);
    const one = await waitEndpoints(1);
    const survivorIP = readyAddresses(one)[0]!;
    const survivor = (await webPods()).find((p) => p.status?.podIp === survivorIP)!.metadata!.name;
    // Endpoints say 1: within moments every new connection goes there.
    await until("only the survivor answering", async () => {
      for (let i = 0; i < 20; i++) if ((await httpGet(`http://${web.spec!.clusterIp}/`)) !== survivor) return undefined;
      return true;
    }, 5_000, 50);
    await scale(3);
    await waitEndpoints(3);
    const seen = await spread(`http://${web.spec!.clusterIp}/`, 3);
    assert.equal(seen.size, 3, JSON.stringify([...seen]));
  });

  test("a pod that turns not ready stops receiving traffic, and gets it back when ready again", async () => {
    const [sick] = await webPods();
    const name = sick!.metadata!.name;
    await exec(sick!, ["rm", "/tmp/ready"]);
    await until("the pod in notReadyAddresses", async () => {
      const e = await endpoints("web");
      return (e?.subsets ?? []).some((s) => s.notReadyAddresses.some((a) => a.ip === sick!.status!.podIp)) ? true : undefined;
    }, 30_000, 100);
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 40; i++) assert.notEqual(await httpGet(`http://${web.spec!.clusterIp}/`), name, `request ${i} went to the not-ready pod`);
    await exec(sick!, ["touch", "/tmp/ready"]);
    await until("the pod ready again", async () => (isReady(await clients().for(Pods).get({ namespace: NS, name })) ? true : undefined), 30_000, 200);
    await waitEndpoints(3);
    const seen = await spread(`http://${web.spec!.clusterIp}/`, 3);
    assert.ok(seen.has(name), JSON.stringify([...seen]));
  });

  test("sessionAffinity ClientIP keeps the host on one pod; a Service without endpoints refuses at once", async () => {
    const sticky = await clients().for(Services).create(
      create(ServiceSchema, {
        metadata: { name: "sticky", namespace: NS },
        spec: { selector: { app: "web" }, sessionAffinity: "ClientIP", ports: [{ port: 80, targetPort: { value: { case: "intVal", value: 8080 } } }] },
      }),
    );
    await until("sticky's endpoints", async () => (readyAddresses(await endpoints("sticky")).length === 3 ? true : undefined), 30_000, 200);
    await until("sticky programmed", async () => (await httpGet(`http://${sticky.spec!.clusterIp}/`).catch(() => undefined)) ?? undefined, 5_000, 50);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await httpGet(`http://${sticky.spec!.clusterIp}/`));
    assert.equal(seen.size, 1, [...seen].join(", "));

    const empty = await clients().for(Services).create(
      create(ServiceSchema, { metadata: { name: "empty", namespace: NS }, spec: { selector: { app: "nobody" }, ports: [{ port: 80 }] } }),
    );
    await new Promise((r) => setTimeout(r, 500));
    const t = performance.now();
    await assert.rejects(httpGet(`http://${empty.spec!.clusterIp}/`), /ECONNREFUSED/);
    assert.ok(performance.now() - t < 1000, "refused, not left to time out");
  });

  test("a proxy restart with traffic flowing: not one request fails", async () => {
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        try {
          await httpGet(`http://${web.spec!.clusterIp}/`, 2000);
          ok++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const before = node.proxy.transactions;
    await node.restartProxy();
    assert.ok(node.proxy.transactions >= 1 && before >= 1);
    // A change right after the restart is programmed too.
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await loop;
    assert.deepEqual(failures, []);
    assert.ok(ok > 20, `${ok} requests`);
  });

  test("stop({ removeTable }) removes the proxy's table and nothing else", async () => {
    const tables = () => execFileSync("nft", ["list", "tables"], { encoding: "utf8" });
    const others = tables().split("\n").filter((l) => l && l !== `table ip ${node.table}`);
    assert.ok(tables().includes(`table ip ${node.table}`));
    await node.proxy.stop({ removeTable: true });
    assert.ok(!tables().includes(`table ip ${node.table}`));
    for (const t of others) assert.ok(tables().includes(t), `${t} is still there`);
    // stop() in the harness's cleanup runs again: harmless.
  });
});
