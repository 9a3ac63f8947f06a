export { serviceDefinition, methodPath } from "./definition.js";
export { GrpcError, Code, codeName, errorCode, errorMessage, isServiceError } from "./errors.js";
export { addService, type CallContext, type CallObserver, type ServiceImpl } from "./server.js";
export { createClient, DEFAULT_CHANNEL_OPTIONS, type CallOpts, type Connection, type ServiceClient } from "./client.js";
export { connect } from "./connection.js";
export type { ChannelOptions } from "@grpc/grpc-js";
