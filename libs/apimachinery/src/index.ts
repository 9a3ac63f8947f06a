export * from "./quantity.js";
export * from "./labels.js";
export * from "./fields.js";
export * from "./validation/index.js";
export * from "./nodes.js";
