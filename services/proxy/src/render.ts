// The proxy's nftables ruleset as text: a pure function of the desired state. Nothing here touches
// the kernel; nft.ts applies what this renders.
//
// Layout of `table ip <table>` (the proxy owns this table and nothing else):
//
//   map service-ips           ClusterIP . proto . port      : goto lb-<N> (or svc-<id> with affinity)
//   map backends              ClusterIP . proto . port . i  : endpoint IP . port    (i = 0..N-1)
//   map service-nodeports     proto . nodePort              : goto np-<N> / npl-<N> (or ext-<id>)
//   map nodeport-backends     proto . nodePort . i          : endpoint IP . port
//   map no-endpoint-services  ClusterIP . proto . port      : goto reject-chain
//   map no-endpoint-nodeports proto . nodePort              : goto reject-chain
//   set hairpin               endpoint IP . endpoint IP     (masqueraded when a pod reaches itself)
//
//   chain lb-<N>    one per endpoint count N in use, shared by every Service with N endpoints:
//                   dnat ip to ip daddr . meta l4proto . th dport . numgen random mod N map @backends
//
// A Service is thus a handful of map elements, not chains of its own: an Endpoints change is a
// few element deletes and adds in one transaction, whatever the number of Services. Only Services
// with sessionAffinity ClientIP get chains of their own (svc-, ext-, ep-) and per-endpoint sets
// with a timeout, as kube-proxy's nftables mode does.
import { clusterBackends, externalBackends, type Backend, type ServicePortState } from "./model.js";

export interface RenderConfig {
  /** The table's name (family ip). */
  table: string;
  /** The packet-mark bit that asks for masquerade (Kubernetes' 14 = 0x4000). */
  masqueradeBit: number;
  /** Pod addresses of the cluster: ClusterIP traffic from elsewhere (the host, other machines) is masqueraded. */
  clusterCidr?: string;
  /** The Service CIDR: new connections to an address in it that no Service answers for are rejected at once. */
  serviceCidr?: string;
  /** Local addresses NodePorts answer on (CIDRs); default: every local address but 127.0.0.0/8. */
  nodePortAddresses?: string[];
  /**
   * This node's pod CIDR: the node's own traffic to its own pods is not masqueraded (their replies
   * come back through the node anyway). Without it, the node's traffic is masqueraded like any
   * other from outside the cluster CIDR.
   */
  localPodCidr?: string;
}

export const DEFAULT_TABLE = "corral";

/** What one Service port adds to the table. */
interface Contribution {
  sets: Map<string, string>;
  chains: Map<string, string[]>;
  elements: Map<string, Map<string, string>>;
  /** Shared load-balancing chains it needs (lb-3, np-3, npl-1). */
  shared: Set<string>;
  /** Endpoint IPs it puts in the hairpin set. */
  hairpin: Set<string>;
}

const MAPS = {
  serviceIps: "service-ips",
  backends: "backends",
  nodePorts: "service-nodeports",
  nodePortBackends: "nodeport-backends",
  noEndpoints: "no-endpoint-services",
  noEndpointNodePorts: "no-endpoint-nodeports",
  hairpin: "hairpin",
} as const;

function mark(cfg: RenderConfig): string {
  return `0x${(1 << cfg.masqueradeBit).toString(16)}`;
}

/** The rules of a shared chain: lb-N (ClusterIP), np-N (NodePort, masqueraded), npl-N (NodePort, Local). */
export function sharedChainRules(cfg: RenderConfig, name: string): string[] {
  const m = /^(lb|np|npl)-(\d+)$/.exec(name);
  if (!m) throw new Error(`not a shared chain: ${name}`);
  const n = Number(m[2]);
  if (m[1] === "lb") {
    const rules = cfg.clusterCidr ? [`ip saddr != ${cfg.clusterCidr} jump mark-for-masquerade`] : [];
    rules.push(`dnat ip to ip daddr . meta l4proto . th dport . numgen random mod ${n} map @${MAPS.backends}`);
    return rules;
  }
  const rules = m[1] === "np" ? ["jump mark-for-masquerade"] : [];
  rules.push(`dnat ip to meta l4proto . th dport . numgen random mod ${n} map @${MAPS.nodePortBackends}`);
  return rules;
}

function add(c: Contribution, map: string, key: string, value: string): void {
  let m = c.elements.get(map);
  if (!m) c.elements.set(map, (m = new Map()));
  m.set(key, value);
}

const epName = (s: ServicePortState, b: Backend) => `${s.id}/${b.ip}/${b.port}`;

/** Everything one Service port puts in the table. */
export function contribution(cfg: RenderConfig, s: ServicePortState): Contribution {
  const c: Contribution = { sets: new Map(), chains: new Map(), elements: new Map(), shared: new Set(), hairpin: new Set() };
  const vip = `${s.clusterIP} . ${s.protocol} . ${s.port}`;
  const np = `${s.protocol} . ${s.nodePort}`;
  const cluster = clusterBackends(s);
  const external = s.nodePort ? externalBackends(s) : [];
  for (const b of [...cluster, ...external]) c.hairpin.add(b.ip);

  if (s.affinitySeconds > 0) {
    const svcChain = `svc-${s.id}`;
    if (cluster.length > 0) {
      const rules = cfg.clusterCidr ? [`ip saddr != ${cfg.clusterCidr} jump mark-for-masquerade`] : [];
      for (const b of cluster) {
        const name = epName(s, b);
        // The timeout is part of the set's name: a new timeout is a new set, never a changed one.
        const set = `aff${s.affinitySeconds}-${name}`;
        c.sets.set(set, `{ type ipv4_addr ; flags dynamic,timeout ; timeout ${s.affinitySeconds}s ; }`);
        c.chains.set(`ep-${name}`, [`update @${set} { ip saddr }`, `meta l4proto ${s.protocol} dnat to ${b.ip}:${b.port}`]);
        rules.push(`ip saddr @${set} goto ep-${name}`);
      }
      rules.push(`numgen random mod ${cluster.length} vmap { ${cluster.map((b, i) => `${i} : goto ep-${epName(s, b)}`).join(", ")} }`);
      c.chains.set(svcChain, rules);
      add(c, MAPS.serviceIps, vip, `goto ${svcChain}`);
    } else {
      add(c, MAPS.noEndpoints, vip, "goto reject-chain");
    }
    if (s.nodePort) {
      if (cluster.length > 0 && external.length > 0) {
        const ext = `ext-${s.id}`;
        c.chains.set(ext, [...(s.externalLocal ? [] : ["jump mark-for-masquerade"]), `goto ${svcChain}`]);
        add(c, MAPS.nodePorts, np, `goto ${ext}`);
      } else {
        add(c, MAPS.noEndpointNodePorts, np, "goto reject-chain");
      }
    }
    return c;
  }

  if (cluster.length > 0) {
    const lb = `lb-${cluster.length}`;
    c.shared.add(lb);
    add(c, MAPS.serviceIps, vip, `goto ${lb}`);
    cluster.forEach((b, i) => add(c, MAPS.backends, `${vip} . ${i}`, `${b.ip} . ${b.port}`));
  } else {
    add(c, MAPS.noEndpoints, vip, "goto reject-chain");
  }
  if (s.nodePort) {
    if (external.length > 0) {
      const chain = `${s.externalLocal ? "npl" : "np"}-${external.length}`;
      c.shared.add(chain);
      add(c, MAPS.nodePorts, np, `goto ${chain}`);
      external.forEach((b, i) => add(c, MAPS.nodePortBackends, `${np} . ${i}`, `${b.ip} . ${b.port}`));
    } else {
      add(c, MAPS.noEndpointNodePorts, np, "goto reject-chain");
    }
  }
  return c;
}

/** The fixed part of the table: maps, hooks, masquerade and reject chains. */
export function baseLines(cfg: RenderConfig): string[] {
  const t = `ip ${cfg.table}`;
  const mk = mark(cfg);
  const lines = [
    `add table ${t} { comment "corral-proxy: Services on this node; rebuilt by the proxy, do not edit" ; }`,
    `add map ${t} ${MAPS.serviceIps} { type ipv4_addr . inet_proto . inet_service : verdict ; }`,
    `add map ${t} ${MAPS.backends} { typeof ip daddr . meta l4proto . th dport . numgen random mod 1 : ip daddr . tcp dport ; }`,
    `add map ${t} ${MAPS.nodePorts} { type inet_proto . inet_service : verdict ; }`,
    `add map ${t} ${MAPS.nodePortBackends} { typeof meta l4proto . th dport . numgen random mod 1 : ip daddr . tcp dport ; }`,
    `add map ${t} ${MAPS.noEndpoints} { type ipv4_addr . inet_proto . inet_service : verdict ; }`,
    `add map ${t} ${MAPS.noEndpointNodePorts} { type inet_proto . inet_service : verdict ; }`,
    `add set ${t} ${MAPS.hairpin} { type ipv4_addr . ipv4_addr ; }`,
    `add chain ${t} mark-for-masquerade`,
    `add rule ${t} mark-for-masquerade meta mark set meta mark | ${mk}`,
    `add chain ${t} masquerading`,
    // A pod that reaches itself through its Service: without masquerade its reply would not go back through the NAT.
    `add rule ${t} masquerading ct status dnat ip saddr . ip daddr @${MAPS.hairpin} masquerade`,
    `add rule ${t} masquerading meta mark & ${mk} == 0 return`,
    `add rule ${t} masquerading meta mark set meta mark xor ${mk}`,
    ...(cfg.localPodCidr ? [`add rule ${t} masquerading ip daddr ${cfg.localPodCidr} fib saddr type local return`] : []),
    // Not fully-random: measured here, random source ports make the endpoint's TIME_WAIT sockets
    // refuse reused tuples (PAWS) under connection churn, each a 1 s SYN retransmit.
    `add rule ${t} masquerading masquerade`,
    `add chain ${t} reject-chain`,
    `add rule ${t} reject-chain meta l4proto tcp reject with tcp reset`,
    `add rule ${t} reject-chain reject`,
    `add chain ${t} services`,
    `add rule ${t} services ip daddr . meta l4proto . th dport vmap @${MAPS.serviceIps}`,
  ];
  const nodePortMatch = cfg.nodePortAddresses?.length
    ? `ip daddr { ${cfg.nodePortAddresses.join(", ")} } fib daddr type local`
    : "fib daddr type local ip daddr != 127.0.0.0/8";
  lines.push(`add rule ${t} services ${nodePortMatch} meta l4proto . th dport vmap @${MAPS.nodePorts}`);
  // Locally generated traffic needs DNAT in output as well as prerouting; nft 1.0.6 refuses "priority dstnat" on output.
  lines.push(
    `add chain ${t} nat-prerouting { type nat hook prerouting priority dstnat ; policy accept ; }`,
    `add rule ${t} nat-prerouting jump services`,
    `add chain ${t} nat-output { type nat hook output priority -100 ; policy accept ; }`,
    `add rule ${t} nat-output jump services`,
    `add chain ${t} nat-postrouting { type nat hook postrouting priority srcnat ; policy accept ; }`,
    `add rule ${t} nat-postrouting jump masquerading`,
    // Services without endpoints are refused at once, before any other table's filter sees them.
    `add chain ${t} filter-input { type filter hook input priority -10 ; policy accept ; }`,
    `add rule ${t} filter-input ct state new ${nodePortMatch} meta l4proto . th dport vmap @${MAPS.noEndpointNodePorts}`,
    `add chain ${t} filter-forward { type filter hook forward priority -10 ; policy accept ; }`,
    `add rule ${t} filter-forward ct state new ip daddr . meta l4proto . th dport vmap @${MAPS.noEndpoints}`,
    `add chain ${t} filter-output { type filter hook output priority -10 ; policy accept ; }`,
    `add rule ${t} filter-output ct state new ip daddr . meta l4proto . th dport vmap @${MAPS.noEndpoints}`,
    `add rule ${t} filter-output ct state new ${nodePortMatch} meta l4proto . th dport vmap @${MAPS.noEndpointNodePorts}`,
  );
  if (cfg.serviceCidr) {
    // An address of the Service range that nothing answers for never leaves the node.
    lines.push(
      `add rule ${t} filter-forward ct state new ip daddr ${cfg.serviceCidr} goto reject-chain`,
      `add rule ${t} filter-output ct state new ip daddr ${cfg.serviceCidr} fib daddr type != local goto reject-chain`,
    );
  }
  return lines;
}

/** The proxy's record of what is in the kernel. */
export interface Applied {
  services: Map<string, ServicePortState>;
  shared: Set<string>;
  hairpin: Map<string, number>;
}

export function emptyApplied(): Applied {
  return { services: new Map(), shared: new Set(), hairpin: new Map() };
}

export interface Plan {
  lines: string[];
  /** Service ports whose state changes (undefined: removed). */
  changes: Map<string, ServicePortState | undefined>;
  sharedAdded: string[];
  hairpinDelta: Map<string, number>;
}

/** Groups elements per map into one statement each. */
function elementLines(verb: "add" | "delete", t: string, byMap: Map<string, Map<string, string>>): string[] {
  const out: string[] = [];
  for (const [map, els] of byMap) {
    if (els.size === 0) continue;
    const items = [...els].map(([k, v]) => (verb === "add" && v ? `${k} : ${v}` : k));
    out.push(`${verb} element ${t} ${map} { ${items.join(", ")} }`);
  }
  return out;
}

function put(byMap: Map<string, Map<string, string>>, map: string, key: string, value: string): void {
  let m = byMap.get(map);
  if (!m) byMap.set(map, (m = new Map()));
  m.set(key, value);
}

/**
 * The transaction that takes the kernel from `applied` to `applied` with `updates` applied: only
 * the changed Service ports' elements, chains and sets, in an order nft accepts (new chains before
 * the elements that point at them, flushed chains before they are deleted). Pure.
 */
export function planUpdate(cfg: RenderConfig, applied: Applied, updates: ReadonlyMap<string, ServicePortState | undefined>): Plan {
  const t = `ip ${cfg.table}`;
  const changes = new Map<string, ServicePortState | undefined>();
  const setsAdd: string[] = [];
  const setsDel: string[] = [];
  const chainsDeclare: string[] = [];
  const chainsFlush: string[] = [];
  const chainsDelete: string[] = [];
  const rules: string[] = [];
  const elDel = new Map<string, Map<string, string>>();
  const elAdd = new Map<string, Map<string, string>>();
  const sharedAdded: string[] = [];
  const hairpinDelta = new Map<string, number>();
  const sharedLines: string[] = [];

  for (const [id, next] of updates) {
    const prev = applied.services.get(id);
    if (JSON.stringify(prev) === JSON.stringify(next)) continue;
    changes.set(id, next);
    const a = prev ? contribution(cfg, prev) : undefined;
    const b = next ? contribution(cfg, next) : undefined;
    // Elements: removed or changed ones go first; new or changed ones are added at the end.
    for (const [map, els] of a?.elements ?? []) {
      for (const [k, v] of els) if (b?.elements.get(map)?.get(k) !== v) put(elDel, map, k, v);
    }
    for (const [map, els] of b?.elements ?? []) {
      for (const [k, v] of els) if (a?.elements.get(map)?.get(k) !== v) put(elAdd, map, k, v);
    }
    // Chains of its own (affinity only).
    for (const [name, rs] of b?.chains ?? []) {
      const old = a?.chains.get(name);
      if (!old) chainsDeclare.push(name);
      else if (old.join("\n") === rs.join("\n")) continue;
      else chainsFlush.push(name);
      for (const r of rs) rules.push(`add rule ${t} ${name} ${r}`);
    }
    for (const name of a?.chains.keys() ?? []) {
      if (!b?.chains.has(name)) {
        chainsFlush.push(name);
        chainsDelete.push(name);
      }
    }
    for (const [name, decl] of b?.sets ?? []) if (!a?.sets.has(name)) setsAdd.push(`add set ${t} ${name} ${decl}`);
    for (const name of a?.sets.keys() ?? []) if (!b?.sets.has(name)) setsDel.push(name);
    for (const ch of b?.shared ?? []) {
      if (!applied.shared.has(ch) && !sharedAdded.includes(ch)) {
        sharedAdded.push(ch);
        sharedLines.push(`add chain ${t} ${ch}`, ...sharedChainRules(cfg, ch).map((r) => `add rule ${t} ${ch} ${r}`));
      }
    }
    for (const ip of a?.hairpin ?? []) hairpinDelta.set(ip, (hairpinDelta.get(ip) ?? 0) - 1);
    for (const ip of b?.hairpin ?? []) hairpinDelta.set(ip, (hairpinDelta.get(ip) ?? 0) + 1);
  }
  // A key deleted and added again in one transaction is a change of value: both statements stay.
  const hpAdd = new Map<string, Map<string, string>>();
  const hpDel = new Map<string, Map<string, string>>();
  for (const [ip, d] of hairpinDelta) {
    if (d === 0) continue;
    const before = applied.hairpin.get(ip) ?? 0;
    const after = before + d;
    if (before === 0 && after > 0) put(hpAdd, MAPS.hairpin, `${ip} . ${ip}`, "");
    else if (before > 0 && after <= 0) put(hpDel, MAPS.hairpin, `${ip} . ${ip}`, "");
  }
  const lines = [
    ...setsAdd,
    ...sharedLines,
    ...chainsDeclare.map((c) => `add chain ${t} ${c}`),
    ...elementLines("delete", t, elDel),
    ...chainsFlush.map((c) => `flush chain ${t} ${c}`),
    ...rules,
    ...elementLines("add", t, elAdd),
    ...chainsDelete.map((c) => `delete chain ${t} ${c}`),
    ...setsDel.map((s) => `delete set ${t} ${s}`),
    ...elementLines("delete", t, hpDel),
    ...elementLines("add", t, hpAdd),
  ];
  return { lines, changes, sharedAdded, hairpinDelta };
}

/** Records a plan as applied (after nft accepted it). */
export function commitPlan(applied: Applied, plan: Plan): void {
  for (const [id, s] of plan.changes) {
    if (s) applied.services.set(id, s);
    else applied.services.delete(id);
  }
  for (const ch of plan.sharedAdded) applied.shared.add(ch);
  for (const [ip, d] of plan.hairpinDelta) {
    const n = (applied.hairpin.get(ip) ?? 0) + d;
    if (n > 0) applied.hairpin.set(ip, n);
    else applied.hairpin.delete(ip);
  }
}

/**
 * The whole table from scratch, replacing any table of that name in the same transaction (a start
 * or a recovery): `add table` first so that `delete table` cannot fail on a missing one.
 */
export function renderFull(cfg: RenderConfig, states: Iterable<ServicePortState>): { lines: string[]; applied: Applied } {
  const applied = emptyApplied();
  const updates = new Map<string, ServicePortState>();
  for (const s of states) updates.set(s.id, s);
  const plan = planUpdate(cfg, applied, updates);
  commitPlan(applied, plan);
  const t = `ip ${cfg.table}`;
  return { lines: [`add table ${t}`, `delete table ${t}`, ...baseLines(cfg), ...plan.lines], applied };
}

/** Statements that remove the table (stop with removeTable, `corral down`). */
export function renderDelete(cfg: Pick<RenderConfig, "table">): string[] {
  return [`add table ip ${cfg.table}`, `delete table ip ${cfg.table}`];
}
