export * from "./gen/runtime/v1/api_pb.js";
export { connectCri, type CriClient } from "./connect.js";
