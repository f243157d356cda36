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

/** Name of the optional header that carries the decision id (`audit.decisionIdHeader`). */
export const DECISION_ID_HEADER = 'x-tokengate-decision-id';

/** Turns a {@link Decision} into the `CheckResponse` object proto-loader encodes. */
export function toCheckResponse(decision: Decision): object {
  const idHeaders =
    decision.idHeader && decision.id !== undefined
      ? [headerOption(DECISION_ID_HEADER, decision.id)]
      : [];
  // Envoy files this under the filter's namespace: envoy.filters.http.ext_authz:decision_id.
  // protobufjs defines google.protobuf.Value itself, with camel-case names even under keepCase.
  const dynamic_metadata =
    decision.id === undefined
      ? undefined
      : { fields: { decision_id: { stringValue: decision.id } } };

  if (decision.kind === 'allow') {
    return {
      status: { code: GRPC.OK },
      ok_response: {
        headers: [
          ...decision.headersToSet.map(([key, value]) => headerOption(key, value)),
          ...idHeaders,
        ],
        headers_to_remove: decision.headersToRemove,
        response_headers_to_add: idHeaders,
      },
      dynamic_metadata,
    };
  }

  return {
    status: { code: grpcCodeFor(decision.status), message: decision.reason },
    denied_response: {
      status: { code: decision.status },
      headers: [
        ...decision.responseHeaders.map(([key, value]) => headerOption(key, value)),
        ...idHeaders,
      ],
      body: decision.body,
    },
    dynamic_metadata,
  };
}

function headerOption(key: string, value: string) {
  return { header: { key, value }, append: { value: false } };
}
