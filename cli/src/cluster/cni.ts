// The node's CNI network: a bridge with host-local addresses from the node's pod CIDR, port
// mappings, and the firewall plugin, which lets pod-originated traffic past dockerd's FORWARD DROP.
// containerd sets up each pod's loopback itself.

export interface CniOptions {
  /** The network's name; CNI writes it into the comments of the iptables rules it adds, which is how `down` finds ours. */
  name: string;
  bridge: string;
  /** The node's pod CIDR, e.g. 10.244.0.0/24. */
  subnet: string;
  /** host-local's allocation directory. */
  dataDir: string;
}

export const CNI_CONFLIST_FILE = "10-corral.conflist";

export function renderCniConflist(o: CniOptions): string {
  const conf = {
    cniVersion: "1.0.0",
    name: o.name,
    plugins: [
      {
        type: "bridge",
        bridge: o.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: o.subnet }]],
          routes: [{ dst: "0.0.0.0/0" }],
          dataDir: o.dataDir,
        },
      },
      { type: "portmap", capabilities: { portMappings: true } },
      { type: "firewall", backend: "iptables" },
    ],
  };
  return `${JSON.stringify(conf, null, 2)}\n`;
}

/** Parses a.b.c.d/n; throws on anything else (IPv4 only, as the bridge network is). */
export function parseCidr(cidr: string): { base: number; bits: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 30 || bits < 8) throw new Error(`not a usable pod CIDR (a.b.c.d/8../30): ${cidr}`);
  const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  if ((ip & mask) >>> 0 !== ip) throw new Error(`${cidr} has host bits set (did you mean ${formatIp((ip & mask) >>> 0)}/${bits}?)`);
  return { base: ip, bits };
}

function parseIp(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** True when the address, or the whole of the a.b.c.d/n network, lies inside the CIDR. */
export function cidrContains(cidr: string, addressOrNet: string): boolean {
  const { base, bits } = parseCidr(cidr);
  const [ip, len] = addressOrNet.split("/");
  const n = parseIp(ip ?? "");
  if (n === undefined) return false;
  if (len !== undefined && Number(len) < bits) return false;
  const mask = (0xffffffff << (32 - bits)) >>> 0;
  return ((n & mask) >>> 0) === base;
}
