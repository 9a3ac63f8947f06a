import { fromBinary, toBinary, type DescMethod, type DescService } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/**
 * A grpc-js service definition built from a protobuf-es service descriptor, so the wire
 * format is exactly the one the .proto files describe (any gRPC client can call us).
 */
export function serviceDefinition(service: DescService): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) def[method.localName] = methodDefinition(service, method);
  return def;
}

export function methodPath(service: DescService, method: DescMethod): string {
  return `/${service.typeName}/${method.name}`;
}

function methodDefinition(service: DescService, method: DescMethod): MethodDefinition<unknown, unknown> {
  const streamsIn = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
  const streamsOut = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
  return {
    path: methodPath(service, method),
    originalName: method.name,
    requestStream: streamsIn,
    responseStream: streamsOut,
    // protobuf-es messages are plain objects; the casts only bridge grpc-js' untyped definition.
    requestSerialize: (msg: unknown) => Buffer.from(toBinary(method.input, msg as never)),
    requestDeserialize: (buf: Buffer) => fromBinary(method.input, buf),
    responseSerialize: (msg: unknown) => Buffer.from(toBinary(method.output, msg as never)),
    responseDeserialize: (buf: Buffer) => fromBinary(method.output, buf),
  };
}
