// Writing a controller's status: only when it changed, and without a resourceVersion (status is
// the controller's alone, so it never conflicts with spec writers).
import { clone, equals, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { ApiObject, KindInfo } from "@corral/api";
import type { ControllerContext } from "./controller.js";

/** Writes `status` to `obj` unless it already has it; true when it wrote. */
export async function writeStatus<S extends Message, T extends ApiObject & { status?: S }>(
  ctx: ControllerContext,
  kind: KindInfo<T>,
  statusSchema: DescMessage,
  obj: T,
  status: S,
): Promise<boolean> {
  if (obj.status && equals(statusSchema, obj.status as never, status as never)) return false;
  const next = clone(kind.schema, obj);
  next.status = status;
  next.metadata!.resourceVersion = "";
  await ctx.clients.for(kind).updateStatus(next, { timeoutMs: 30_000 });
  return true;
}
