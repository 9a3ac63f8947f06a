export { Proxy, type ProxyOptions, type SyncStats } from "./proxy.js";
export { Nft, NftError, type NftRunner } from "./nft.js";
export { servicePorts, skipped, SERVICE_PROXY_NAME_LABEL, DEFAULT_AFFINITY_SECONDS, type ServicePortState, type Backend } from "./model.js";
export { DEFAULT_TABLE, baseLines, contribution, planUpdate, commitPlan, renderFull, renderDelete, emptyApplied, type Applied, type Plan, type RenderConfig } from "./render.js";

import { Nft } from "./nft.js";
import { DEFAULT_TABLE } from "./render.js";

/** Removes the proxy's table without a running proxy (`corral down` after a crash). Touches nothing else. */
export async function removeProxyTable(table = DEFAULT_TABLE): Promise<void> {
  await new Nft().deleteTable(table);
}
