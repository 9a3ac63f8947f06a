export { ClusterDns, removeDnsAddress, forwardUdp, forwardTcp, DNS_SERVICE, DEFAULT_ADDRESS_LABEL, type ClusterDnsOptions } from "./server.js";
export { ClusterRecords, normalizeName, type Lookup } from "./records.js";
export { respond, encodeUdp, TTL } from "./answer.js";
export { nameservers, parseUpstream, readNameservers, type Upstream } from "./resolv.js";
