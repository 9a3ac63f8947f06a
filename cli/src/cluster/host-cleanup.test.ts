import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mountsUnder, planIptablesCleanup, splitRule } from "./host-cleanup.js";

// iptables-save output with two CNI networks that each have one pod with a host port
// (corraltest163 on 10.245.163.0/24 and corraltest136 on 10.245.136.0/24), and dockerd's rules.
const NAT = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:CNI-DN-d77868146ae6dc39f175d - [0:0]
:CNI-DN-e0d7cd7b3d88bb8a8bafe - [0:0]
:CNI-HOSTPORT-DNAT - [0:0]
:CNI-HOSTPORT-MASQ - [0:0]
:CNI-HOSTPORT-SETMARK - [0:0]
:CNI-d77868146ae6dc39f175d4c4 - [0:0]
:CNI-e0d7cd7b3d88bb8a8bafe7c3 - [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 10.245.163.2/32 -m comment --comment "name: \\"corraltest163\\" id: \\"319e641f261e895f00c45a89ccf3b80e2235caf2a2556419f7fa3ed09d324d0e\\"" -j CNI-d77868146ae6dc39f175d4c4
-A POSTROUTING -s 10.245.136.2/32 -m comment --comment "name: \\"corraltest136\\" id: \\"711c1be86b958a9cdbdaac0d3d18ff9210879fbb89f5223ebae15fe4042abddf\\"" -j CNI-e0d7cd7b3d88bb8a8bafe7c3
-A CNI-DN-d77868146ae6dc39f175d -s 10.245.163.0/24 -d 127.0.0.1/32 -p tcp -m tcp --dport 39001 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-d77868146ae6dc39f175d -s 127.0.0.1/32 -d 127.0.0.1/32 -p tcp -m tcp --dport 39001 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-d77868146ae6dc39f175d -d 127.0.0.1/32 -p tcp -m tcp --dport 39001 -j DNAT --to-destination 10.245.163.2:8080
-A CNI-DN-e0d7cd7b3d88bb8a8bafe -s 10.245.136.0/24 -d 127.0.0.1/32 -p tcp -m tcp --dport 39002 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-e0d7cd7b3d88bb8a8bafe -s 127.0.0.1/32 -d 127.0.0.1/32 -p tcp -m tcp --dport 39002 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-e0d7cd7b3d88bb8a8bafe -d 127.0.0.1/32 -p tcp -m tcp --dport 39002 -j DNAT --to-destination 10.245.136.2:8080
-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"corraltest163\\" id: \\"319e641f261e895f00c45a89ccf3b80e2235caf2a2556419f7fa3ed09d324d0e\\"" -m multiport --dports 39001 -j CNI-DN-d77868146ae6dc39f175d
-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"corraltest136\\" id: \\"711c1be86b958a9cdbdaac0d3d18ff9210879fbb89f5223ebae15fe4042abddf\\"" -m multiport --dports 39002 -j CNI-DN-e0d7cd7b3d88bb8a8bafe
-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE
-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000
-A CNI-d77868146ae6dc39f175d4c4 -d 10.245.163.0/24 -m comment --comment "name: \\"corraltest163\\" id: \\"319e641f261e895f00c45a89ccf3b80e2235caf2a2556419f7fa3ed09d324d0e\\"" -j ACCEPT
-A CNI-d77868146ae6dc39f175d4c4 ! -d 224.0.0.0/4 -m comment --comment "name: \\"corraltest163\\" id: \\"319e641f261e895f00c45a89ccf3b80e2235caf2a2556419f7fa3ed09d324d0e\\"" -j MASQUERADE
-A CNI-e0d7cd7b3d88bb8a8bafe7c3 -d 10.245.136.0/24 -m comment --comment "name: \\"corraltest136\\" id: \\"711c1be86b958a9cdbdaac0d3d18ff9210879fbb89f5223ebae15fe4042abddf\\"" -j ACCEPT
-A CNI-e0d7cd7b3d88bb8a8bafe7c3 ! -d 224.0.0.0/4 -m comment --comment "name: \\"corraltest136\\" id: \\"711c1be86b958a9cdbdaac0d3d18ff9210879fbb89f5223ebae15fe4042abddf\\"" -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT`;

const FILTER = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:CNI-ADMIN - [0:0]
:CNI-FORWARD - [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN
-A CNI-FORWARD -d 10.245.163.2/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A CNI-FORWARD -s 10.245.163.2/32 -j ACCEPT
-A CNI-FORWARD -d 10.245.136.2/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A CNI-FORWARD -s 10.245.136.2/32 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT`;

const ID163 = "319e641f261e895f00c45a89ccf3b80e2235caf2a2556419f7fa3ed09d324d0e";
const ID136 = "711c1be86b958a9cdbdaac0d3d18ff9210879fbb89f5223ebae15fe4042abddf";

/** The saved table without the rules the commands delete (what iptables-save would print next). */
function apply(saved: string, commands: string[][]): string {
  let lines = saved.split("\n");
  for (const c of commands) {
    if (c[0] === "-D") {
      const i = lines.findIndex((l) => l.startsWith("-A ") && JSON.stringify(splitRule(l).slice(1)) === JSON.stringify(c.slice(1)));
      assert.ok(i >= 0, `rule to delete exists: ${c.join(" ")}`);
      lines.splice(i, 1);
    } else if (c[0] === "-F") lines = lines.filter((l) => !l.startsWith(`-A ${c[1]} `));
    else if (c[0] === "-X") {
      assert.ok(!lines.some((l) => l.startsWith("-A ") && l.includes(`-j ${c[1]}`)), `nothing jumps to ${c[1]} when it is deleted`);
      assert.ok(!lines.some((l) => l.startsWith(`-A ${c[1]} `)), `${c[1]} is empty when it is deleted`);
      lines = lines.filter((l) => !l.startsWith(`:${c[1]} `));
    }
  }
  return lines.join("\n");
}

describe("splitRule", () => {
  it("splits iptables-save's quoting the way the shell would", () => {
    assert.deepEqual(splitRule(`-A POSTROUTING -s 10.0.0.2/32 -m comment --comment "name: \\"net\\" id: \\"abc\\"" -j CNI-x`), [
      "-A", "POSTROUTING", "-s", "10.0.0.2/32", "-m", "comment", "--comment", 'name: "net" id: "abc"', "-j", "CNI-x",
    ]);
    assert.deepEqual(splitRule(`-A X -m comment --comment "" -j ACCEPT`), ["-A", "X", "-m", "comment", "--comment", "", "-j", "ACCEPT"]);
  });
});

describe("planIptablesCleanup", () => {
  it("nat: removes this network's masquerade and port-mapping rules and per-pod chains, nothing else", () => {
    const cmds = planIptablesCleanup("nat", NAT, "corraltest163", "10.245.163.0/24");
    assert.deepEqual(cmds, [
      ["-D", "POSTROUTING", "-s", "10.245.163.2/32", "-m", "comment", "--comment", `name: "corraltest163" id: "${ID163}"`, "-j", "CNI-d77868146ae6dc39f175d4c4"],
      ["-D", "CNI-HOSTPORT-DNAT", "-p", "tcp", "-m", "comment", "--comment", `dnat name: "corraltest163" id: "${ID163}"`, "-m", "multiport", "--dports", "39001", "-j", "CNI-DN-d77868146ae6dc39f175d"],
      ["-F", "CNI-d77868146ae6dc39f175d4c4"],
      ["-X", "CNI-d77868146ae6dc39f175d4c4"],
      ["-F", "CNI-DN-d77868146ae6dc39f175d"],
      ["-X", "CNI-DN-d77868146ae6dc39f175d"],
    ]);
    const after = apply(NAT, cmds);
    assert.match(after, /corraltest136/, "the other network's rules stay");
    assert.match(after, /-j CNI-HOSTPORT-DNAT/, "the shared chains stay while the other network has a port mapping");
    assert.match(after, /172\.17\.0\.0\/16/, "docker's rules stay");
  });

  it("nat: the last network also takes the shared port-mapping chains and the jumps to them", () => {
    const first = apply(NAT, planIptablesCleanup("nat", NAT, "corraltest163", "10.245.163.0/24"));
    const cmds = planIptablesCleanup("nat", first, "corraltest136", "10.245.136.0/24");
    const after = apply(first, cmds);
    assert.doesNotMatch(after, /CNI-/);
    assert.match(after, /-A POSTROUTING -s 172\.17\.0\.0\/16 ! -o docker0 -j MASQUERADE/);
    assert.match(after, /:DOCKER - /);
  });

  it("filter: removes the firewall plugin's rules for this pod CIDR; the shared chains go with the last network", () => {
    const cmds = planIptablesCleanup("filter", FILTER, "corraltest163", "10.245.163.0/24");
    assert.deepEqual(cmds, [
      ["-D", "CNI-FORWARD", "-d", "10.245.163.2/32", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
      ["-D", "CNI-FORWARD", "-s", "10.245.163.2/32", "-j", "ACCEPT"],
    ]);
    const first = apply(FILTER, cmds);
    const last = planIptablesCleanup("filter", first, "corraltest136", "10.245.136.0/24");
    assert.deepEqual(last, [
      ["-D", "CNI-FORWARD", "-d", "10.245.136.2/32", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
      ["-D", "CNI-FORWARD", "-s", "10.245.136.2/32", "-j", "ACCEPT"],
      ["-D", "FORWARD", "-m", "comment", "--comment", "CNI firewall plugin rules", "-j", "CNI-FORWARD"],
      ["-D", "CNI-FORWARD", "-m", "comment", "--comment", "CNI firewall plugin admin overrides", "-j", "CNI-ADMIN"],
      ["-X", "CNI-FORWARD"],
      ["-X", "CNI-ADMIN"],
    ]);
    const after = apply(first, last);
    assert.doesNotMatch(after, /CNI-/);
    assert.match(after, /-A FORWARD -j DOCKER-USER/);
    assert.match(after, /:FORWARD DROP/);
  });

  it("keeps CNI-ADMIN (and so CNI-FORWARD) when an administrator put rules in it", () => {
    const saved = FILTER.replace("COMMIT", "-A CNI-ADMIN -s 10.9.9.9/32 -j DROP\nCOMMIT");
    const first = apply(saved, planIptablesCleanup("filter", saved, "corraltest163", "10.245.163.0/24"));
    const cmds = planIptablesCleanup("filter", first, "corraltest136", "10.245.136.0/24");
    assert.deepEqual(cmds.map((c) => c[0]), ["-D", "-D"]);
  });

  it("does nothing when the network has no rules", () => {
    assert.deepEqual(planIptablesCleanup("nat", NAT, "corral0", "10.244.0.0/24"), []);
    assert.deepEqual(planIptablesCleanup("filter", FILTER, "corral0", "10.244.0.0/24"), []);
    assert.deepEqual(planIptablesCleanup("filter", "", "corral0", "10.244.0.0/24"), []);
  });
});

describe("mountsUnder", () => {
  const mountinfo = [
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
    "100 22 0:50 / /tmp/corral-node-x/containerd/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs rw - overlay overlay rw",
    "101 22 0:51 / /tmp/corral-node-x/containerd/state/io.containerd.grpc.v1.cri/sandboxes/abc/shm rw - tmpfs shm rw",
    "102 22 0:4 net:[4026532] /tmp/corral-node-x/containerd/state/io.containerd.grpc.v1.cri/netns/cni-1 rw - nsfs nsfs rw",
    "103 22 0:52 / /tmp/corral-node-xy/other rw - tmpfs tmpfs rw",
    "104 22 0:53 / /tmp/corral-node-x/with\\040space rw - tmpfs tmpfs rw",
    "105 22 0:54 / /tmp/corral-node-x rw - tmpfs tmpfs rw",
  ].join("\n");

  it("lists the mount points at or below the directory, deepest first (latest first among equals), and only those", () => {
    assert.deepEqual(mountsUnder(mountinfo, "/tmp/corral-node-x/"), [
      "/tmp/corral-node-x/containerd/state/io.containerd.grpc.v1.cri/sandboxes/abc/shm",
      "/tmp/corral-node-x/containerd/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs",
      "/tmp/corral-node-x/containerd/state/io.containerd.grpc.v1.cri/netns/cni-1",
      "/tmp/corral-node-x/with space",
      "/tmp/corral-node-x",
    ]);
  });
});
