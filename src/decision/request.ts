/**
 * A check request as the decision stages see it: plain data, no transport types. The gRPC layer
 * builds it from Envoy's `CheckRequest`; another front end could build it from anything else.
 */
export interface AuthzRequest {
  /** `x-request-id` when Envoy sent one, else Envoy's own request id. */
  readonly id: string;
  readonly method: string;
  readonly host: string;
  /** Path without the query string. */
  readonly path: string;
  /** Request headers with lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly source: {
    readonly address: string;
    readonly port?: number;
    /** Peer certificate (URL-encoded PEM) when Envoy was told to include it. */
    readonly certificate?: string;
  };
  /** Per-route `context_extensions` from Envoy's ext_authz filter. */
  readonly contextExtensions: Readonly<Record<string, string>>;
}
