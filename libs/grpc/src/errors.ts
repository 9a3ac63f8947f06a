import { Metadata, status, type ServiceError } from "@grpc/grpc-js";

export { status as Code };

/** An error that travels as a gRPC status: the code says what class of failure, the message what to do. */
export class GrpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = "GrpcError";
  }

  toServiceError(): Partial<ServiceError> {
    return { code: this.code, details: this.message, metadata: new Metadata() };
  }
}

export function codeName(code: status): string {
  return status[code] ?? String(code);
}

/** True for errors from a grpc-js call (they carry a numeric code and details). */
export function isServiceError(err: unknown): err is ServiceError {
  return typeof err === "object" && err !== null && "code" in err && "details" in err;
}

/** The status code of any error: GrpcError, a grpc-js ServiceError, or UNKNOWN. */
export function errorCode(err: unknown): status {
  if (err instanceof GrpcError) return err.code;
  if (isServiceError(err)) return err.code;
  return status.UNKNOWN;
}

/** The message a user should read: the status details without grpc-js' "N CODE:" prefix. */
export function errorMessage(err: unknown): string {
  if (err instanceof GrpcError) return err.message;
  if (isServiceError(err)) return err.details || err.message;
  return err instanceof Error ? err.message : String(err);
}
