// Pure planning for `corral down`: which iptables rules and chains, mounts and cgroup directories are
// this node's. The functions read the text the kernel and iptables-save print and return what to
// remove; node-host.ts runs the commands.
import { cidrContains } from "./cni.js";

/** Splits an iptables-save rule line into arguments, undoing its double quotes and backslash escapes. */
export function splitRule(line: string): string[] {
  const args: string[] = [];
  let cur = "";
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === "\\" && i + 1 < line.length) cur += line[++i];
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') {
      quoted = true;
      inWord = true;
    } else if (ch === " " || ch === "\t") {
      if (inWord) args.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) args.push(cur);
  return args;
}

interface Rule {
  chain: string;
  /** Arguments after `-A CHAIN`. */
  args: string[];
}

interface Table {
  chains: string[];
  rules: Rule[];
}

export function parseIptablesSave(text: string): Table {
  const chains: string[] = [];
  const rules: Rule[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith(":")) chains.push(line.slice(1).split(/\s+/)[0]!);
    else if (line.startsWith("-A ")) {
      const [, chain, ...args] = splitRule(line);
      rules.push({ chain: chain!, args });
    }
  }
  return { chains, rules };
}

function argAfter(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** An address argument (-s or -d, not negated) that lies inside the CIDR. */
function addressIn(args: string[], flag: string, cidr: string): boolean {
  const i = args.indexOf(flag);
  if (i < 0 || args[i - 1] === "!") return false;
  const v = args[i + 1];
  return v !== undefined && cidrContains(cidr, v);
}

/** Per-pod chains the bridge (ipMasq) and portmap plugins make: CNI-<hash> and CNI-DN-<hash>. */
const PER_POD_CHAIN = /^CNI-(?:DN-)?[0-9a-f]{16,}$/;

/** Chains shared by every CNI network on the machine; they go only once nothing but their own plumbing is left in them. */
const SHARED = {
  filter: {
    chains: ["CNI-FORWARD", "CNI-ADMIN"],
    /** The rules that are plumbing, not a pod's. */
    plumbing: (r: Rule) => (r.chain === "CNI-FORWARD" && argAfter(r.args, "-j") === "CNI-ADMIN") || (r.chain === "FORWARD" && argAfter(r.args, "-j") === "CNI-FORWARD"),
  },
  nat: {
    chains: ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK"],
    // A pod's port mappings are jumps in CNI-HOSTPORT-DNAT; the masquerade and mark chains hold only plumbing.
    plumbing: (r: Rule) => r.chain !== "CNI-HOSTPORT-DNAT",
  },
} as const;

/** One iptables invocation, without the leading `iptables -t TABLE`. */
export type IptablesCommand = string[];

/**
 * The commands that remove this network's rules from one table of `iptables-save` output:
 *  - every rule whose comment names the network (`name: "NET" id: ...`: the bridge plugin's
 *    masquerade rules, portmap's DNAT rules), and the per-pod chains they jump to;
 *  - every rule in a CNI-* chain matching a source or destination inside the pod CIDR (the
 *    firewall plugin's rules carry no comment);
 *  - then the chains all CNI networks share (CNI-FORWARD, CNI-ADMIN, CNI-HOSTPORT-*) and the
 *    jumps to them, but only once no other network's pod has a rule left in them: the plugins
 *    make them again on their next pod.
 * Shared chains are emptied rule by rule, never flushed, so a rule another network adds meanwhile
 * survives (and its chain with it: deleting a chain that is not empty fails).
 */
export function planIptablesCleanup(table: "filter" | "nat", saved: string, network: string, podCidr: string): IptablesCommand[] {
  const { chains, rules } = parseIptablesSave(saved);
  const marker = `name: "${network}" id: "`;
  const commands: IptablesCommand[] = [];
  const removed = new Set<Rule>();
  const perPodChains = new Set<string>();
  for (const r of rules) {
    const comment = argAfter(r.args, "--comment") ?? "";
    const byComment = comment.includes(marker);
    const byAddress = r.chain.startsWith("CNI-") && !PER_POD_CHAIN.test(r.chain) && (addressIn(r.args, "-s", podCidr) || addressIn(r.args, "-d", podCidr));
    if (!byComment && !byAddress) continue;
    const target = argAfter(r.args, "-j") ?? "";
    if (PER_POD_CHAIN.test(target)) perPodChains.add(target);
    if (PER_POD_CHAIN.test(r.chain) && byComment) {
      perPodChains.add(r.chain);
      continue; // the whole chain goes
    }
    removed.add(r);
    commands.push(["-D", r.chain, ...r.args]);
  }
  for (const chain of perPodChains) {
    if (!chains.includes(chain)) continue;
    // A per-pod chain is the pod's alone: flush it, then delete it.
    commands.push(["-F", chain], ["-X", chain]);
    for (const r of rules) if (r.chain === chain) removed.add(r);
  }
  const shared = SHARED[table];
  const left = rules.filter((r) => !removed.has(r));
  const inShared = left.filter((r) => (shared.chains as readonly string[]).includes(r.chain));
  const othersLeft = inShared.some((r) => !shared.plumbing(r));
  if (!othersLeft && shared.chains.some((c) => chains.includes(c))) {
    // Jumps from the built-in chains first, then the plumbing inside the shared chains, then the chains.
    for (const r of left) {
      const target = argAfter(r.args, "-j") ?? "";
      if (!r.chain.startsWith("CNI-") && (shared.chains as readonly string[]).includes(target)) commands.push(["-D", r.chain, ...r.args]);
    }
    for (const r of inShared) commands.push(["-D", r.chain, ...r.args]);
    for (const c of shared.chains) if (chains.includes(c)) commands.push(["-X", c]);
  }
  return commands;
}

/** Decodes a mountinfo path field (spaces and the like are written as \\040 octal escapes). */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points at or below `dir` in /proc/self/mountinfo text, deepest (and latest) first: the order to unmount them in. */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const base = dir.replace(/\/+$/, "");
  const points: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 5) continue;
    const point = unescapeMountPath(fields[4]!);
    if (point === base || point.startsWith(`${base}/`)) points.push(point);
  }
  // Later mounts may sit on top of earlier ones at the same point: reverse first, then a stable
  // sort by depth keeps that order among equals.
  return points.reverse().sort((a, b) => b.split("/").length - a.split("/").length);
}
