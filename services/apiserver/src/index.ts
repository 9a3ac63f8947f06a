export { ApiServer, DEFAULT_MAX_OBJECT_BYTES, type ApiServerOptions } from "./server.js";
export { STREAM, eventSubject, kindFilter } from "./events/subjects.js";
export { objectKey, listPrefix } from "./storage/keys.js";
export { IpRange, PortRange, DEFAULT_SERVICE_CIDR, DEFAULT_NODE_PORT_RANGE, DNS_SERVICE } from "./registry/service-ranges.js";
