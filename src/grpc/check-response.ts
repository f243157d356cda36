import type { Decision } from '../decision/decision.js';

/** gRPC status codes used in `CheckResponse.status` (google.rpc.Code). */
const GRPC = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
};

function grpcCodeFor(status: number): number {
  if (status === 400) return GRPC.INVALID_ARGUMENT;
  if (status === 401) return GRPC.UNAUTHENTICATED;
  if (status === 403) return GRPC.PERMISSION_DENIED;
  if (status === 503) return GRPC.UNAVAILABLE;
  return GRPC.INTERNAL;
}

/** Turns a {@link Decision} into the `CheckResponse` object proto-loader encodes. */
export function toCheckResponse(decision: Decision): object {
  if (decision.kind === 'allow') {
    return {
      status: { code: GRPC.OK },
      ok_response: {
        headers: decision.headersToSet.map(([key, value]) => ({
          header: { key, value },
          append: { value: false },
        })),
        headers_to_remove: decision.headersToRemove,
      },
    };
  }

  return {
    status: { code: grpcCodeFor(decision.status), message: decision.reason },
    denied_response: {
      status: { code: decision.status },
      headers: decision.responseHeaders.map(([key, value]) => ({
        header: { key, value },
        append: { value: false },
      })),
      body: decision.body,
    },
  };
}
