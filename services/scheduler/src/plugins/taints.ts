// How the scheduler shows taints. Matching them against tolerations is @corral/apimachinery's
// (nodes.ts), shared with the controllers.
import type { Taint } from "@corral/api";

/** How a taint is shown in a FailedScheduling message, as Kubernetes shows it: {key: value}. */
export function formatTaint(t: Taint): string {
  return `{${t.key}: ${t.value}}`;
}
