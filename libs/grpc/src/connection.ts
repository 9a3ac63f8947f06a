import { Channel, credentials, type ChannelOptions } from "@grpc/grpc-js";
import { DEFAULT_CHANNEL_OPTIONS, type Connection } from "./client.js";

/** Opens a plaintext channel to host:port (Corral's control plane runs on trusted networks for now). */
export function connect(address: string, extra: ChannelOptions = {}): Connection {
  const creds = credentials.createInsecure();
  const options = { ...DEFAULT_CHANNEL_OPTIONS, ...extra };
  const channel = new Channel(address, creds, options);
  return {
    address,
    credentials: creds,
    options,
    channel,
    close: () => channel.close(),
  };
}
