import { create } from "@bufbuild/protobuf";
import { NamespaceSchema, type ApiObject } from "@corral/api";
import { Code, errorCode } from "@corral/grpc";
import { SYSTEM_NAMESPACES } from "./registry/namespace-guard.js";
import type { ResourceRegistry } from "./registry/resource-registry.js";

/** `default` and `corral-system` exist from the start; creating them again is a no-op. */
export async function bootstrapNamespaces(namespaces: ResourceRegistry<ApiObject>): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await namespaces.create(create(NamespaceSchema, { metadata: { name } }));
    } catch (err) {
      if (errorCode(err) !== Code.ALREADY_EXISTS) throw err;
    }
  }
}
