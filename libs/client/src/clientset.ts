import type { ApiObject, KindInfo } from "@corral/api";
import { connect, type ChannelOptions, type Connection } from "@corral/grpc";
import { resourceClient, type ResourceClient } from "./resource.js";

/** One connection to the apiserver and a typed client per kind, made on first use. */
export class Clientset {
  private readonly clients = new Map<string, ResourceClient<ApiObject>>();

  constructor(readonly connection: Connection) {}

  static connect(address: string, options?: ChannelOptions): Clientset {
    return new Clientset(connect(address, options));
  }

  for<T extends ApiObject>(kind: KindInfo<T>): ResourceClient<T> {
    let c = this.clients.get(kind.kind);
    if (!c) {
      c = resourceClient(kind as unknown as KindInfo<ApiObject>, this.connection);
      this.clients.set(kind.kind, c);
    }
    return c as unknown as ResourceClient<T>;
  }

  close(): void {
    this.connection.close();
  }
}
