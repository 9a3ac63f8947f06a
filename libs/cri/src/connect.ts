import { connect, createClient, type ServiceClient } from "@corral/grpc";
import { ImageService, RuntimeService } from "./gen/runtime/v1/api_pb.js";

/** containerd's CRI over its unix socket: the runtime and image services on one channel. */
export interface CriClient {
  readonly runtime: ServiceClient<typeof RuntimeService>;
  readonly image: ServiceClient<typeof ImageService>;
  close(): void;
}

export function connectCri(socketPath: string): CriClient {
  const conn = connect(socketPath.startsWith("unix:") ? socketPath : `unix://${socketPath}`);
  return {
    runtime: createClient(RuntimeService, conn),
    image: createClient(ImageService, conn),
    close: () => conn.close(),
  };
}
