import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IpPool, formatIPv4, nodeSubnet, parseCidr, parseIPv4 } from "./ip.js";

describe("IPv4 helpers", () => {
  it("parse and format", () => {
    assert.equal(formatIPv4(parseIPv4("10.128.3.7")), "10.128.3.7");
    assert.throws(() => parseIPv4("10.1.2"), /invalid/);
    assert.throws(() => parseIPv4("10.1.2.300"), /invalid/);
    assert.deepEqual(parseCidr("10.128.5.0/9"), { base: parseIPv4("10.128.0.0"), bits: 9 });
  });

  it("gives node i the i-th /24 of the pod CIDR", () => {
    const c = parseCidr("10.128.0.0/9");
    assert.equal(nodeSubnet(c, 0), "10.128.0.0/24");
    assert.equal(nodeSubnet(c, 257), "10.129.1.0/24");
    assert.equal(nodeSubnet(c, 32767), "10.255.255.0/24");
    assert.throws(() => nodeSubnet(c, 32768), /does not fit/);
    assert.throws(() => nodeSubnet(parseCidr("10.0.0.0/25"), 0), /24 or larger/);
  });
});

describe("IpPool", () => {
  it("hands out .2 to .254, never twice, and reuses released addresses", () => {
    const pool = new IpPool("10.128.3.0/24");
    assert.equal(pool.allocate(), "10.128.3.2");
    assert.equal(pool.allocate(), "10.128.3.3");
    const seen = new Set<string>(["10.128.3.2", "10.128.3.3"]);
    for (let i = 0; i < 251; i++) seen.add(pool.allocate()!);
    assert.equal(seen.size, 253);
    assert.ok(!seen.has("10.128.3.1") && !seen.has("10.128.3.255") && !seen.has("10.128.3.0"));
    assert.equal(pool.allocate(), undefined, "full");
    pool.release("10.128.3.77");
    assert.equal(pool.allocate(), "10.128.3.77");
  });

  it("claims addresses found in use after a restart, and ignores foreign ones", () => {
    const pool = new IpPool("10.128.3.0/24");
    assert.ok(pool.claim("10.128.3.2"));
    assert.ok(!pool.claim("10.9.9.9"));
    assert.ok(!pool.claim("nonsense"));
    assert.equal(pool.allocate(), "10.128.3.3");
    assert.equal(pool.inUse, 2);
  });
});
