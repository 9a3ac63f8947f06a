export * from "./gen/corral/v1/meta_pb.js";
export * from "./gen/corral/v1/core_pb.js";
export * from "./gen/corral/v1/apps_pb.js";
export * from "./gen/corral/v1/batch_pb.js";
export * from "./gen/corral/v1/coordination_pb.js";
export * from "./gen/corral/v1/api_pb.js";
export * from "./kinds.js";
export * from "./gen/corral/v1/events_pb.js";
