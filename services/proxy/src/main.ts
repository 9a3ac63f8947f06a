#!/usr/bin/env node
// corral-proxy: programs this node's Services into its own nftables table. Flags:
//   --apiserver host:port          (default 127.0.0.1:6443, or CORRAL_APISERVER)
//   --node-name NAME               this node (endpoints on it are "local"); default the hostname
//   --table NAME                   the nftables table (family ip) it owns; default corral
//   --service-cidr CIDR            the apiserver's --service-cluster-ip-range: unused addresses in it are refused
//   --cluster-cidr CIDR            pod addresses of the whole cluster: ClusterIP traffic from elsewhere is masqueraded
//   --nodeport-addresses CIDR,...  where NodePorts answer (default: every local address but 127.0.0.0/8)
//   --node-pod-cidr CIDR           this node's pods (default: the Node's spec.podCIDR): the node's own traffic to them is not masqueraded
//   --masquerade-bit N             packet-mark bit asking for masquerade (default 14)
//   --cleanup                      remove the table and exit (what `corral down` does after stopping the proxy)
// SIGTERM/SIGINT stop it and leave the table in place: Services keep working until it is back.
import { createLogger, stopOnSignals } from "@corral/logging";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { Nft, validTableName } from "./nft.js";
import { Proxy } from "./proxy.js";
import { DEFAULT_TABLE } from "./render.js";

const log = createLogger("proxy");
let values;
try {
  ({ values } = parseArgs({
    options: {
      apiserver: { type: "string", default: process.env.CORRAL_APISERVER ?? "127.0.0.1:6443" },
      "node-name": { type: "string", default: hostname().toLowerCase() },
      table: { type: "string", default: DEFAULT_TABLE },
      "service-cidr": { type: "string" },
      "cluster-cidr": { type: "string" },
      "nodeport-addresses": { type: "string" },
      "node-pod-cidr": { type: "string" },
      "masquerade-bit": { type: "string", default: "14" },
      cleanup: { type: "boolean", default: false },
    },
  }));
} catch (err) {
  process.stderr.write(`corral-proxy: ${(err as Error).message}\n`);
  process.exit(2);
}

const fail = (msg: string) => {
  process.stderr.write(`corral-proxy: ${msg}\n`);
  process.exit(2);
};
const cidr = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;
if (!validTableName(values.table)) fail(`--table: invalid table name "${values.table}"`);
for (const f of ["service-cidr", "cluster-cidr", "node-pod-cidr"] as const) if (values[f] && !cidr.test(values[f])) fail(`--${f}: want an IPv4 CIDR, got "${values[f]}"`);
const nodePortAddresses = values["nodeport-addresses"]?.split(",").filter(Boolean);
for (const a of nodePortAddresses ?? []) if (!cidr.test(a)) fail(`--nodeport-addresses: want IPv4 CIDRs, got "${a}"`);
const bit = Number(values["masquerade-bit"]);
if (!Number.isInteger(bit) || bit < 0 || bit > 31) fail(`--masquerade-bit: want 0-31, got "${values["masquerade-bit"]}"`);

if (values.cleanup) {
  try {
    await new Nft().deleteTable(values.table);
    log.info({ table: values.table }, "table removed");
    process.exit(0);
  } catch (err) {
    log.fatal({ err: String(err) }, "cannot remove the table");
    process.exit(1);
  }
}

try {
  const proxy = await Proxy.start({
    apiserver: values.apiserver,
    nodeName: values["node-name"],
    table: values.table,
    serviceCidr: values["service-cidr"],
    clusterCidr: values["cluster-cidr"],
    nodePortAddresses,
    nodePodCidr: values["node-pod-cidr"],
    masqueradeBit: bit,
    log,
  });
  stopOnSignals(log, "stopping (the table stays)", () => proxy.stop());
} catch (err) {
  log.fatal({ err: (err as Error).message }, "proxy failed to start");
  process.exit(1);
}
