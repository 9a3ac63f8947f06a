import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cidrContains, parseCidr, renderCniConflist } from "./cni.js";

describe("CNI network config", () => {
  const conf = JSON.parse(renderCniConflist({ name: "corral0", bridge: "corral0", subnet: "10.244.0.0/24", dataDir: "/s/cni/networks" }));

  it("chains bridge (with host-local on the pod CIDR), portmap and the iptables firewall", () => {
    assert.equal(conf.cniVersion, "1.0.0");
    assert.equal(conf.name, "corral0");
    assert.deepEqual(conf.plugins.map((p: { type: string }) => p.type), ["bridge", "portmap", "firewall"]);
    const [bridge, portmap, firewall] = conf.plugins;
    assert.deepEqual(
      { bridge: bridge.bridge, isGateway: bridge.isGateway, ipMasq: bridge.ipMasq, hairpinMode: bridge.hairpinMode },
      { bridge: "corral0", isGateway: true, ipMasq: true, hairpinMode: true },
    );
    assert.deepEqual(bridge.ipam, { type: "host-local", ranges: [[{ subnet: "10.244.0.0/24" }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: "/s/cni/networks" });
    assert.deepEqual(portmap.capabilities, { portMappings: true });
    assert.equal(firewall.backend, "iptables");
  });
});

describe("CIDRs", () => {
  it("parses a.b.c.d/n and names what is wrong", () => {
    assert.deepEqual(parseCidr("10.244.0.0/24"), { base: (10 << 24 | 244 << 16) >>> 0, bits: 24 });
    assert.throws(() => parseCidr("10.244.0.1/24"), /host bits set \(did you mean 10\.244\.0\.0\/24\?\)/);
    assert.throws(() => parseCidr("10.244.0.0"), /not an IPv4 CIDR/);
    assert.throws(() => parseCidr("300.0.0.0/8"), /not a usable pod CIDR/);
    assert.throws(() => parseCidr("10.0.0.0/31"), /not a usable pod CIDR/);
  });

  it("tells whether an address or network lies inside", () => {
    assert.ok(cidrContains("10.245.7.0/24", "10.245.7.2"));
    assert.ok(cidrContains("10.245.7.0/24", "10.245.7.2/32"));
    assert.ok(cidrContains("10.245.7.0/24", "10.245.7.0/24"));
    assert.ok(!cidrContains("10.245.7.0/24", "10.245.8.2/32"));
    assert.ok(!cidrContains("10.245.7.0/24", "10.245.0.0/16"), "a wider network is not inside");
    assert.ok(!cidrContains("10.245.7.0/24", "224.0.0.0/4"));
    assert.ok(!cidrContains("10.245.7.0/24", "not-an-ip"));
  });
});
