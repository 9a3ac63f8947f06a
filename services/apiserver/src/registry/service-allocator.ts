// ClusterIP and NodePort allocation, kept in etcd beside the Services (as Kubernetes' IPAddress
// objects): one key per held address, written in the same transaction as the Service that holds it.
//
//   /corral/_allocations/serviceips/<ip>      {"namespace","name","uid"} of the holder
//   /corral/_allocations/nodeports/<port>
//
// A create puts the Service and its address keys only if none of them exists, so two concurrent
// creates can never both get one address; a delete removes them together; a restart finds them all.
import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ServiceSchema, Services, type ApiObject, type KindInfo, type Service } from "@corral/api";
import { invalid, type FieldError } from "@corral/apimachinery";
import { Code, GrpcError } from "@corral/grpc";
import type { Logger } from "@corral/logging";
import type { Etcd3 } from "etcd3";
import type { ICompare, IRequestOp, IResponseOp } from "etcd3/lib/rpc.js";
import { listPrefix, objectKey, prefixEnd } from "../storage/keys.js";
import {
  DNS_OFFSET,
  IpRange,
  PortRange,
  checkRequested,
  claimDiff,
  claimKey,
  claimsOf,
  invalidService,
  isDnsService,
  keepAllocated,
  pickIpOffset,
  pickPort,
  syncClusterIps,
  unfilled,
  type Claim,
} from "./service-ranges.js";
import type { WriteHook } from "./write-hook.js";

export const ALLOCATION_ROOT = "/corral/_allocations/";
const IP_PREFIX = `${ALLOCATION_ROOT}serviceips/`;
const PORT_PREFIX = `${ALLOCATION_ROOT}nodeports/`;
/** Picks that lost a race are picked again this many times before the request fails. */
const MAX_ROUNDS = 8;

export function allocationKey(c: Pick<Claim, "kind" | "value">): string {
  return (c.kind === "ip" ? IP_PREFIX : PORT_PREFIX) + c.value;
}

interface Owner {
  namespace: string;
  name: string;
  uid: string;
}

function ownerOf(svc: Service): Owner {
  const m = svc.metadata!;
  return { namespace: m.namespace, name: m.name, uid: m.uid };
}

const b = (s: string) => Buffer.from(s);

function exists(res: IResponseOp | undefined): { value: Buffer; mod: string } | undefined {
  const kv = res?.response_range?.kvs?.[0];
  return kv ? { value: kv.value, mod: String(kv.mod_revision) } : undefined;
}

export interface ServiceAllocatorOptions {
  /** The ClusterIP range (--service-cluster-ip-range), 10.96.0.0/16 by default. */
  serviceCidr: string;
  /** The NodePort range (--service-node-port-range), 30000-32767 by default. */
  nodePortRange: string;
}

export class ServiceAllocator implements WriteHook {
  readonly ips: IpRange;
  readonly ports: PortRange;

  constructor(
    private readonly etcd: Etcd3,
    opts: ServiceAllocatorOptions,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {
    this.ips = new IpRange(opts.serviceCidr);
    this.ports = new PortRange(opts.nodePortRange);
  }

  private invalid(svc: Service, errs: FieldError[]): GrpcError {
    return new GrpcError(Code.INVALID_ARGUMENT, invalidService(svc, errs));
  }

  private check(svc: Service): void {
    const spec = svc.spec;
    if (spec && spec.clusterIp === "" && spec.clusterIps.length > 0) spec.clusterIp = spec.clusterIps[0]!;
    const errs = checkRequested(svc, this.ips, this.ports);
    if (errs.length) throw this.invalid(svc, errs);
  }

  /** Everything already allocated (read when random picks keep colliding). */
  private async allTaken(): Promise<{ ips: Set<number>; ports: Set<number> }> {
    const [ipRes, portRes] = await Promise.all([
      this.etcd.kv.range({ key: b(IP_PREFIX), range_end: prefixEnd(IP_PREFIX), keys_only: true }),
      this.etcd.kv.range({ key: b(PORT_PREFIX), range_end: prefixEnd(PORT_PREFIX), keys_only: true }),
    ]);
    const ips = new Set<number>();
    for (const kv of ipRes.kvs) {
      const off = this.ips.offset(kv.key.toString().slice(IP_PREFIX.length));
      if (off !== undefined) ips.add(off);
    }
    const ports = new Set(portRes.kvs.map((kv) => Number(kv.key.toString().slice(PORT_PREFIX.length))));
    return { ips, ports };
  }

  /**
   * Fills in what the Service lacks (a ClusterIP, NodePorts left at 0), avoiding `taken`.
   * Returns an undo that clears what was filled.
   */
  private fill(svc: Service, taken: { ips: Set<number>; ports: Set<number> }): () => void {
    const spec = svc.spec!;
    const need = unfilled(svc);
    const undo: (() => void)[] = [];
    if (need.ip) {
      let off: number | undefined;
      if (isDnsService(svc) && !taken.ips.has(DNS_OFFSET)) off = DNS_OFFSET;
      else off = pickIpOffset(this.ips, taken.ips, this.random);
      if (off === undefined) throw new GrpcError(Code.RESOURCE_EXHAUSTED, `Internal error occurred: failed to allocate a serviceIP: range is full (${this.ips.cidr})`);
      spec.clusterIp = this.ips.at(off);
      spec.clusterIps = [spec.clusterIp];
      undo.push(() => {
        spec.clusterIp = "";
        spec.clusterIps = [];
      });
    } else {
      syncClusterIps(svc);
    }
    const inUse = new Set(taken.ports);
    for (const p of spec.ports) if (p.nodePort) inUse.add(p.nodePort);
    for (const i of need.ports) {
      const port = spec.ports[i]!;
      // A port with the same number on another protocol shares the NodePort, as in Kubernetes.
      const twin = spec.ports.find((o, j) => j !== i && o.port === port.port && o.nodePort && (o.protocol || "TCP") !== (port.protocol || "TCP"));
      const chosen = twin?.nodePort ?? pickPort(this.ports, inUse, this.random);
      if (chosen === undefined) throw new GrpcError(Code.RESOURCE_EXHAUSTED, `Internal error occurred: failed to allocate a nodePort: range is full (${this.ports.text})`);
      port.nodePort = chosen;
      inUse.add(chosen);
      undo.push(() => (port.nodePort = 0));
    }
    return () => undo.forEach((u) => u());
  }

  private putClaims(claims: Claim[], owner: Owner): IRequestOp[] {
    const value = b(JSON.stringify(owner));
    return claims.map((c) => ({ request_put: { key: b(allocationKey(c)), value } }));
  }

  private absent(claims: Claim[]): ICompare[] {
    return claims.map((c) => ({ key: b(allocationKey(c)), target: "Create", result: "Equal", create_revision: 0 }));
  }

  private readClaims(claims: Claim[]): IRequestOp[] {
    return claims.map((c) => ({ request_range: { key: b(allocationKey(c)) } }));
  }

  /** The claim keys among `claims` that are held by this Service (by uid), with their revisions. */
  private async owned(claims: Claim[], uid: string): Promise<{ claim: Claim; mod: string }[]> {
    if (claims.length === 0) return [];
    const res = await this.etcd.kv.txn({ compare: [], success: this.readClaims(claims), failure: [] });
    const out: { claim: Claim; mod: string }[] = [];
    claims.forEach((claim, i) => {
      const kv = exists(res.responses[i]);
      if (!kv) return;
      try {
        if ((JSON.parse(kv.value.toString()) as Owner).uid === uid) out.push({ claim, mod: kv.mod });
      } catch {
        // not ours to remove
      }
    });
    return out;
  }

  /** Turns the claims found taken after a failed transaction into an error (asked for) or a set of values to avoid (picked). */
  private conflicts(svc: Service, claims: Claim[], responses: IResponseOp[], offset: number, taken: { ips: Set<number>; ports: Set<number> }): void {
    const errs: FieldError[] = [];
    claims.forEach((c, i) => {
      if (!exists(responses[offset + i])) return;
      if (c.requested) {
        const what = c.kind === "ip" ? "IP" : "port";
        errs.push(invalid(c.field, c.kind === "ip" ? c.value : Number(c.value), `provided ${what} is already allocated`));
      } else if (c.kind === "ip") {
        const off = this.ips.offset(c.value);
        if (off !== undefined) taken.ips.add(off);
      } else {
        taken.ports.add(Number(c.value));
      }
    });
    if (errs.length) throw this.invalid(svc, errs);
  }

  /** Marks which claims the caller asked for (present before fill) and which were picked. */
  private static mark(claims: Claim[], asked: Set<string>): Claim[] {
    return claims.map((c) => ({ ...c, requested: asked.has(claimKey(c)) }));
  }

  async create(key: string, obj: ApiObject, encode: (o: ApiObject) => Uint8Array): Promise<bigint | undefined> {
    const svc = obj as Service;
    this.check(svc);
    const asked = new Set(claimsOf(svc).map(claimKey));
    const taken = { ips: new Set<number>(), ports: new Set<number>() };
    for (let round = 0; ; round++) {
      const undo = this.fill(svc, taken);
      const claims = ServiceAllocator.mark(claimsOf(svc), asked);
      const k = b(key);
      const res = await this.etcd.kv.txn({
        compare: [{ key: k, target: "Create", result: "Equal", create_revision: 0 }, ...this.absent(claims)],
        success: [{ request_put: { key: k, value: Buffer.from(encode(svc)) } }, ...this.putClaims(claims, ownerOf(svc))],
        failure: [{ request_range: { key: k, keys_only: true } }, ...this.readClaims(claims)],
      });
      if (res.succeeded) return BigInt(res.header.revision);
      try {
        if (exists(res.responses[0])) return undefined; // the name is taken: the registry says AlreadyExists
        this.conflicts(svc, claims, res.responses, 1, taken);
      } catch (err) {
        undo();
        throw err;
      }
      undo();
      if (round + 1 >= MAX_ROUNDS) throw new GrpcError(Code.ABORTED, `Service "${svc.metadata?.name}": addresses are being allocated by others too often; try again`);
      if (round >= 2) {
        const all = await this.allTaken();
        all.ips.forEach((o) => taken.ips.add(o));
        all.ports.forEach((p) => taken.ports.add(p));
      }
    }
  }

  mergeUpdate(current: ApiObject, next: ApiObject): void {
    keepAllocated(current as Service, next as Service);
  }

  async update(key: string, current: ApiObject, next: ApiObject, expected: bigint, encode: (o: ApiObject) => Uint8Array): Promise<bigint | undefined> {
    const cur = current as Service;
    const svc = next as Service;
    const held = new Set(claimsOf(cur).map(claimKey));
    // Only values that change are checked against the ranges: an address held from before stays valid.
    const added = claimsOf(svc).filter((c) => !held.has(claimKey(c)));
    if (added.length) {
      const probe = clone(ServiceSchema, svc);
      if (held.has(claimKey({ kind: "ip", value: probe.spec!.clusterIp }))) probe.spec!.clusterIp = "";
      probe.spec!.clusterIps = [];
      for (const p of probe.spec!.ports) if (held.has(claimKey({ kind: "port", value: String(p.nodePort) }))) p.nodePort = 0;
      this.check(probe);
    }
    const asked = new Set(added.map(claimKey));
    const taken = { ips: new Set<number>(), ports: new Set<number>() };
    const uid = cur.metadata!.uid;
    for (let round = 0; ; round++) {
      const undo = this.fill(svc, taken);
      const { acquire, release } = claimDiff(claimsOf(cur), ServiceAllocator.mark(claimsOf(svc), asked));
      const releasable = await this.owned(release, uid);
      const k = b(key);
      const res = await this.etcd.kv.txn({
        compare: [
          { key: k, target: "Mod", result: "Equal", mod_revision: expected.toString() },
          ...this.absent(acquire),
          ...releasable.map((r): ICompare => ({ key: b(allocationKey(r.claim)), target: "Mod", result: "Equal", mod_revision: r.mod })),
        ],
        success: [
          { request_put: { key: k, value: Buffer.from(encode(svc)) } },
          ...this.putClaims(acquire, ownerOf(cur)),
          ...releasable.map((r): IRequestOp => ({ request_delete_range: { key: b(allocationKey(r.claim)) } })),
        ],
        failure: [{ request_range: { key: k, keys_only: true } }, ...this.readClaims(acquire)],
      });
      if (res.succeeded) return BigInt(res.header.revision);
      const now = res.responses[0]?.response_range?.kvs?.[0];
      if (!now || String(now.mod_revision) !== expected.toString()) {
        undo();
        return undefined; // modified or deleted since read: the registry decides (conflict or retry)
      }
      try {
        this.conflicts(svc, acquire, res.responses, 1, taken);
      } catch (err) {
        undo();
        throw err;
      }
      undo();
      if (round + 1 >= MAX_ROUNDS) throw new GrpcError(Code.ABORTED, `Service "${svc.metadata?.name}": addresses are being allocated by others too often; try again`);
    }
  }

  async delete(key: string, current: ApiObject, expected: bigint): Promise<bigint | undefined> {
    const cur = current as Service;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const releasable = await this.owned(claimsOf(cur), cur.metadata!.uid);
      const k = b(key);
      const res = await this.etcd.kv.txn({
        compare: [
          { key: k, target: "Mod", result: "Equal", mod_revision: expected.toString() },
          ...releasable.map((r): ICompare => ({ key: b(allocationKey(r.claim)), target: "Mod", result: "Equal", mod_revision: r.mod })),
        ],
        success: [
          { request_delete_range: { key: k } },
          ...releasable.map((r): IRequestOp => ({ request_delete_range: { key: b(allocationKey(r.claim)) } })),
        ],
        failure: [{ request_range: { key: k, keys_only: true } }],
      });
      if (res.succeeded) return BigInt(res.header.revision);
      const now = res.responses[0]?.response_range?.kvs?.[0];
      if (!now || String(now.mod_revision) !== expected.toString()) return undefined;
    }
    throw new GrpcError(Code.ABORTED, `Service "${cur.metadata?.name}": its addresses are being changed by others too often; try again`);
  }

  /**
   * Makes etcd's allocation keys agree with the stored Services, as Kubernetes' repair loops do:
   * an address a Service holds without a key gets one (a Service stored before allocation existed),
   * a key whose holder is gone or no longer holds it is removed, and a Service still without an
   * address gets one through an update. Safe to run from several apiservers at once (every write is
   * a compare-and-swap). Returns what it did.
   */
  async repair(): Promise<{ recorded: number; released: number; allocated: number; duplicates: string[] }> {
    const svcPrefix = listPrefix(Services as unknown as KindInfo);
    const first = await this.etcd.kv.range({ key: b(svcPrefix), range_end: prefixEnd(svcPrefix) });
    const revision = first.header.revision;
    const allocs = await this.etcd.kv.range({ key: b(ALLOCATION_ROOT), range_end: prefixEnd(ALLOCATION_ROOT), revision });
    const held = new Map<string, { owner: Owner; mod: string }>();
    for (const kv of allocs.kvs) {
      try {
        held.set(kv.key.toString(), { owner: JSON.parse(kv.value.toString()) as Owner, mod: String(kv.mod_revision) });
      } catch {
        held.set(kv.key.toString(), { owner: { namespace: "", name: "", uid: "" }, mod: String(kv.mod_revision) });
      }
    }
    const report = { recorded: 0, released: 0, allocated: 0, duplicates: [] as string[] };
    const wanted = new Map<string, { uid: string; svcKey: string; svcMod: string }>();
    for (const kv of first.kvs) {
      const svc = fromBinary(ServiceSchema, kv.value);
      const svcKey = kv.key.toString();

      for (const c of claimsOf(svc)) {
        const ak = allocationKey(c);
        const h = held.get(ak);
        wanted.set(ak, { uid: svc.metadata!.uid, svcKey, svcMod: String(kv.mod_revision) });
        if (h && h.owner.uid === svc.metadata!.uid) continue;
        if (h) {
          report.duplicates.push(`${c.field} ${c.value} of ${svc.metadata!.namespace}/${svc.metadata!.name}`);
          continue;
        }
        const res = await this.etcd.kv.txn({
          compare: [
            { key: b(ak), target: "Create", result: "Equal", create_revision: 0 },
            { key: kv.key, target: "Mod", result: "Equal", mod_revision: String(kv.mod_revision) },
          ],
          success: this.putClaims([c], ownerOf(svc)),
          failure: [],
        });
        if (res.succeeded) report.recorded++;
        else report.duplicates.push(`${c.field} ${c.value} of ${svc.metadata!.namespace}/${svc.metadata!.name}`);
      }
    }
    for (const [ak, h] of held) {
      const w = wanted.get(ak);
      if (w && w.uid === h.owner.uid) continue;
      // The holder is gone (or holds something else now): release, unless either key moved since the read.
      const ownerKey = h.owner.name ? objectKey(Services as unknown as KindInfo, h.owner.namespace, h.owner.name) : "";
      const compare: ICompare[] = [{ key: b(ak), target: "Mod", result: "Equal", mod_revision: h.mod }];
      if (ownerKey) {
        const ownerKv = first.kvs.find((kv) => kv.key.toString() === ownerKey);
        compare.push(
          ownerKv
            ? { key: b(ownerKey), target: "Mod", result: "Equal", mod_revision: String(ownerKv.mod_revision) }
            : { key: b(ownerKey), target: "Create", result: "Equal", create_revision: 0 },
        );
      }
      const res = await this.etcd.kv.txn({ compare, success: [{ request_delete_range: { key: b(ak) } }], failure: [] });
      if (res.succeeded) report.released++;
    }
    for (const kv of first.kvs) {
      const svc = fromBinary(ServiceSchema, kv.value);
      const need = unfilled(svc);
      if (!need.ip && need.ports.length === 0) continue;
      // Stored before allocation existed: it gets its addresses now, as any update that lacks them would.
      try {
        const next = clone(ServiceSchema, svc);
        const rev = await this.update(kv.key.toString(), svc, next, BigInt(kv.mod_revision), (o) => toBinary(ServiceSchema, o as Service));
        if (rev !== undefined) report.allocated++;
      } catch (err) {
        this.log.warn({ service: `${svc.metadata?.namespace}/${svc.metadata?.name}`, err: String(err) }, "cannot allocate addresses for a stored Service");
      }
    }
    if (report.duplicates.length) this.log.warn({ duplicates: report.duplicates }, "Services share addresses (stored before allocation existed); the first one keeps each");
    return report;
  }
}
