// IPv4 helpers for simulated nodes: each node gets a /24 out of a larger pod CIDR, and hands
// addresses of it to its pods.

export function parseIPv4(s: string): number {
  const parts = s.split(".");
  if (parts.length !== 4) throw new Error(`invalid IPv4 address "${s}"`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`invalid IPv4 address "${s}"`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export interface Cidr {
  base: number;
  bits: number;
}

export function parseCidr(s: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m || Number(m[2]) > 32) throw new Error(`invalid CIDR "${s}"`);
  const bits = Number(m[2]);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (parseIPv4(m[1]!) & mask) >>> 0, bits };
}

/** The i-th /24 inside `cidr` ("10.128.0.0/9", 3 → "10.128.3.0/24"). */
export function nodeSubnet(cidr: Cidr, i: number): string {
  if (cidr.bits > 24) throw new Error(`the pod CIDR must be /24 or larger to give each node a /24`);
  const capacity = 2 ** (24 - cidr.bits);
  if (i < 0 || i >= capacity) throw new Error(`node index ${i} does not fit: a /${cidr.bits} holds ${capacity} /24 subnets`);
  return `${formatIPv4(cidr.base + i * 256)}/24`;
}

/** Hands out the addresses of a node's subnet to pods: .2 to .254 of a /24 (.1 is the gateway). */
export class IpPool {
  private readonly used = new Set<number>();
  private next = 0;
  private readonly first: number;
  private readonly size: number;

  constructor(subnet: string) {
    const c = parseCidr(subnet);
    const total = 2 ** (32 - c.bits);
    this.first = c.base + 2;
    this.size = Math.max(0, total - 3);
  }

  /** A free address, or undefined when the subnet is full. */
  allocate(): string | undefined {
    for (let i = 0; i < this.size; i++) {
      const n = (this.next + i) % this.size;
      if (!this.used.has(n)) {
        this.used.add(n);
        this.next = (n + 1) % this.size;
        return formatIPv4(this.first + n);
      }
    }
    return undefined;
  }

  /** Marks an address as taken (a pod that already runs, found after a restart). */
  claim(ip: string): boolean {
    let n: number;
    try {
      n = parseIPv4(ip) - this.first;
    } catch {
      return false;
    }
    if (n < 0 || n >= this.size) return false;
    this.used.add(n);
    return true;
  }

  release(ip: string): void {
    try {
      this.used.delete(parseIPv4(ip) - this.first);
    } catch {
      // not one of ours
    }
  }

  get inUse(): number {
    return this.used.size;
  }
}
