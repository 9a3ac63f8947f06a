export { ApiServer, DEFAULT_MAX_OBJECT_BYTES, type ApiServerOptions } from "./server.js";
export { STREAM, eventSubject, kindFilter } from "./events/subjects.js";
export { objectKey, listPrefix } from "./storage/keys.js";
