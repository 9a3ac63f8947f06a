export {
  SimulatedNodes,
  Limiter,
  qosClass,
  runningStatus,
  SIMULATED_LABEL,
  SIMULATED_TAINT,
  NODE_LEASE_NAMESPACE,
  type SimulatedNodesOptions,
  type SimulatedNodesStats,
} from "./simnodes.js";
export { IpPool, nodeSubnet, parseCidr, parseIPv4, formatIPv4 } from "./ip.js";
