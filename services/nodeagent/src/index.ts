export { NodeAgent, VERSION, type NodeAgentOptions } from "./agent.js";
export { NodePaths } from "./paths.js";
export * as criLabels from "./cri/labels.js";
