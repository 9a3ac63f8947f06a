#!/usr/bin/env node
// corral-dns: the cluster DNS of one node. Flags:
//   --apiserver host:port   (default 127.0.0.1:6443, or CORRAL_APISERVER)
//   --listen ip[:port]      where to answer (default: the ClusterIP of corral-system/corral-dns, port 53;
//                           the Service is created when missing, and the address put on lo as a /32)
//   --domain NAME           the cluster domain (default cluster.local)
//   --upstream ip[:port],...  resolvers for other names (default: the nameservers of /etc/resolv.conf)
//   --address-label LABEL   label of the address on lo (default lo:corral-dns)
//   --no-add-address        do not put the address on lo (it is there already)
//   --cleanup               remove the address from lo (if it carries the label) and exit, as `corral down`
// SIGTERM/SIGINT stop it; the address stays on lo unless this process added it.
import { createLogger, stopOnSignals } from "@corral/logging";
import { parseArgs } from "node:util";
import { ClusterDns, DEFAULT_ADDRESS_LABEL, removeDnsAddress } from "./server.js";

const log = createLogger("dns");
let values;
try {
  ({ values } = parseArgs({
    options: {
      apiserver: { type: "string", default: process.env.CORRAL_APISERVER ?? "127.0.0.1:6443" },
      listen: { type: "string" },
      domain: { type: "string", default: "cluster.local" },
      upstream: { type: "string" },
      "address-label": { type: "string", default: DEFAULT_ADDRESS_LABEL },
      "no-add-address": { type: "boolean", default: false },
      cleanup: { type: "boolean", default: false },
    },
  }));
} catch (err) {
  process.stderr.write(`corral-dns: ${(err as Error).message}\n`);
  process.exit(2);
}

if (values.cleanup) {
  const ip = (values.listen ?? "10.96.0.10").split(":")[0]!;
  const removed = await removeDnsAddress(ip, values["address-label"]).catch((err) => {
    log.fatal({ err: String(err) }, "cannot remove the address");
    process.exit(1);
  });
  log.info({ address: ip, removed }, "cleanup done");
  process.exit(0);
}

try {
  const dns = await ClusterDns.start({
    apiserver: values.apiserver,
    listen: values.listen,
    domain: values.domain,
    upstreams: values.upstream?.split(",").filter(Boolean),
    addressLabel: values["address-label"],
    addAddress: !values["no-add-address"],
    log,
  });
  stopOnSignals(log, "stopping", () => dns.stop());
} catch (err) {
  log.fatal({ err: (err as Error).message }, "cluster DNS failed to start");
  process.exit(1);
}
