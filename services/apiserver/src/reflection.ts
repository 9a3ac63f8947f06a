import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import type { Server } from "@grpc/grpc-js";
import { protoPath as healthProto } from "grpc-health-check";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's proto/ directory, the source of truth for reflection. */
export const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "proto");

/** gRPC server reflection from the .proto files, so grpcurl and friends need nothing else. */
export function addReflection(server: Server, protoDir = PROTO_DIR): void {
  const files = readdirSync(join(protoDir, "corral", "v1"))
    .filter((f) => f.endsWith(".proto"))
    .map((f) => `corral/v1/${f}`);
  const pkg = loadSync([...files, healthProto], { includeDirs: [protoDir], keepCase: true });
  new ReflectionService(pkg).addToServer(server);
}
