// A pod's resolv.conf (CRI's DNSConfig), after the kubelet's dnsPolicy rules.
import { create } from "@bufbuild/protobuf";
import type { Pod } from "@corral/api";
import { DNSConfigSchema, type DNSConfig } from "@corral/cri";

/** Kubernetes' limits on what a resolv.conf may hold. */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

/** The node's cluster DNS as the agent is configured with it: servers [ip], searches [svc.<domain>, <domain>], ndots:5. */
export function clusterDNSConfig(server: string, domain = "cluster.local"): DNSConfig {
  return create(DNSConfigSchema, { servers: [server], searches: [`svc.${domain}`, domain], options: ["ndots:5"] });
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs.filter(Boolean))];
}

/**
 * The DNSConfig for a pod's sandbox, or undefined for the node's own resolv.conf (which containerd
 * copies when none is given):
 * - ClusterFirst (the default): the cluster DNS, searching `<namespace>.svc.<domain>`, `svc.<domain>`,
 *   `<domain>` (so `web` and `web.other` resolve from inside a pod), ndots:5. A hostNetwork pod gets
 *   the node's resolv.conf instead, unless its policy is ClusterFirstWithHostNet. Without a cluster
 *   DNS configured, ClusterFirst falls back to the node's, as the kubelet does.
 * - Default: the node's resolv.conf.
 * - None: spec.dnsConfig alone.
 * spec.dnsConfig is merged on top of ClusterFirst's (nameservers and searches appended, options by name).
 */
export function podDNSConfig(pod: Pod, cluster: DNSConfig | undefined): DNSConfig | undefined {
  const spec = pod.spec;
  let policy = spec?.dnsPolicy || "ClusterFirst";
  if (policy === "ClusterFirst" && spec?.hostNetwork) policy = "Default";
  if ((policy === "ClusterFirst" || policy === "ClusterFirstWithHostNet") && !cluster?.servers.length) policy = "Default";
  const extra = spec?.dnsConfig;
  let servers: string[];
  let searches: string[];
  let options: string[];
  switch (policy) {
    case "None":
      servers = [];
      searches = [];
      options = [];
      break;
    case "ClusterFirst":
    case "ClusterFirstWithHostNet": {
      servers = [...cluster!.servers];
      const base = cluster!.searches;
      // The agent is given svc.<domain> first: the pod's namespace goes in front of it.
      const ns = pod.metadata?.namespace || "default";
      searches = base[0]?.startsWith("svc.") ? [`${ns}.${base[0]}`, ...base] : [...base];
      options = [...cluster!.options];
      break;
    }
    default:
      return undefined;
  }
  if (extra) {
    servers.push(...extra.nameservers);
    searches.push(...extra.searches);
    for (const o of extra.options) {
      const text = o.value !== undefined ? `${o.name}:${o.value}` : o.name;
      const i = options.findIndex((x) => x.split(":")[0] === o.name);
      if (i >= 0) options[i] = text;
      else options.push(text);
    }
  }
  return create(DNSConfigSchema, {
    servers: uniq(servers).slice(0, MAX_NAMESERVERS),
    searches: uniq(searches).slice(0, MAX_SEARCHES),
    options: uniq(options),
  });
}
