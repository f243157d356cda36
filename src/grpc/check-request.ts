import type { AuthzRequest } from '../decision/request.js';

/** The parts of Envoy's `CheckRequest` that tokengate reads, as proto-loader decodes them. */
export interface CheckRequestMessage {
  attributes?: {
    source?: {
      address?: { socket_address?: { address?: string; port_value?: number } };
      certificate?: string;
    };
    request?: {
      http?: {
        id?: string;
        method?: string;
        headers?: Record<string, string>;
        header_map?: { headers?: { key?: string; value?: string; raw_value?: Buffer }[] };
        path?: string;
        host?: string;
      };
    };
    context_extensions?: Record<string, string>;
  };
}

/** Turns a decoded `CheckRequest` into an {@link AuthzRequest}; missing parts become empty. */
export function toAuthzRequest(message: CheckRequestMessage): AuthzRequest {
  const attributes = message.attributes ?? {};
  const http = attributes.request?.http ?? {};
  const headers = http.headers ?? fromHeaderMap(http.header_map?.headers);
  const socket = attributes.source?.address?.socket_address;
  const rawPath = http.path ?? '';

  return {
    id: headers['x-request-id'] ?? http.id ?? '',
    method: http.method ?? '',
    host: http.host ?? headers[':authority'] ?? '',
    path: stripQuery(rawPath),
    headers,
    source: {
      address: socket?.address ?? '',
      ...(socket?.port_value === undefined ? {} : { port: socket.port_value }),
      ...(attributes.source?.certificate ? { certificate: attributes.source.certificate } : {}),
    },
    contextExtensions: attributes.context_extensions ?? {},
  };
}

/** Envoy sends `header_map` instead of `headers` when `encode_raw_headers` is on. */
function fromHeaderMap(
  entries: { key?: string; value?: string; raw_value?: Buffer }[] | undefined,
) {
  const headers: Record<string, string> = {};
  for (const entry of entries ?? []) {
    if (entry.key === undefined) continue;
    const value =
      entry.raw_value !== undefined && entry.raw_value.length > 0
        ? entry.raw_value.toString('latin1')
        : (entry.value ?? '');
    const key = entry.key.toLowerCase();
    // Repeated headers are joined as Envoy joins them in `headers`.
    headers[key] = key in headers ? `${headers[key]},${value}` : value;
  }
  return headers;
}

function stripQuery(path: string): string {
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}
