import { Channel, credentials } from "@grpc/grpc-js";
import { DEFAULT_CHANNEL_OPTIONS, type Connection } from "./client.js";

/** Opens a plaintext channel to host:port (Corral's control plane runs on trusted networks for now). */
export function connect(address: string): Connection {
  const creds = credentials.createInsecure();
  const channel = new Channel(address, creds, DEFAULT_CHANNEL_OPTIONS);
  return {
    address,
    credentials: creds,
    options: DEFAULT_CHANNEL_OPTIONS,
    channel,
    close: () => channel.close(),
  };
}
