import * as grpc from '@grpc/grpc-js';
import { TokengateError } from '../decision/errors.js';
import type { RevocationStage } from '../decision/stages.js';
import { extractBearer } from '../tokens/extract.js';
import type { TokenVerifier } from '../tokens/verifier.js';
import type { AdminConfig } from './admin-schema.js';

/** A refused admin call: the gRPC status to answer with and a token-free reason. */
export class AdminAuthError extends Error {
  constructor(
    readonly status: grpc.status,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'AdminAuthError';
  }
}

export interface AdminAuthOptions {
  config: AdminConfig;
  /** The verifier and revocation stage of the current snapshot. */
  current: () => { verifier: TokenVerifier; revocation?: RevocationStage };
  /** Longest bearer token accepted, as on the ext_authz port. */
  maxTokenLength: number;
}

/**
 * Decides who an admin call comes from. A client certificate verified against `tls.clientCa`
 * is enough on its own; otherwise the call needs a bearer token that tokengate's own verifier
 * accepts, of an allowed issuer, not revoked, and carrying `bearer.scope`.
 */
export class AdminAuthenticator {
  constructor(private readonly options: AdminAuthOptions) {}

  /** Resolves to a principal for the audit log (never a token), or throws {@link AdminAuthError}. */
  async authenticate(call: grpc.ServerUnaryCall<unknown, unknown>): Promise<string> {
    const { config } = this.options;

    if (config.tls?.clientCa !== undefined) {
      const certificate = call.getAuthContext().sslPeerCertificate;
      if (certificate !== undefined && Object.keys(certificate).length > 0) {
        const name = certificate.subject?.CN ?? 'unnamed';
        const print = (certificate.fingerprint256 ?? '').replaceAll(':', '').slice(0, 16);
        return `cert:${name}:${print.toLowerCase()}`;
      }
    }

    const bearer = config.bearer;
    if (bearer === undefined) {
      throw new AdminAuthError(grpc.status.UNAUTHENTICATED, 'client certificate required');
    }
    const header = call.metadata.get('authorization')[0];
    if (typeof header !== 'string') {
      throw new AdminAuthError(grpc.status.UNAUTHENTICATED, 'bearer token required');
    }

    const { verifier, revocation } = this.options.current();
    let token;
    try {
      const raw = extractBearer(header, this.options.maxTokenLength);
      if (raw === undefined) throw new TokengateError('token_missing');
      token = await verifier.verify(raw);
      await revocation?.assertNotRevoked(token);
    } catch (error) {
      const code = error instanceof TokengateError ? error.code : 'internal_error';
      throw new AdminAuthError(grpc.status.UNAUTHENTICATED, `bearer token refused: ${code}`);
    }

    if (bearer.issuers.length > 0 && !bearer.issuers.includes(token.issuer)) {
      throw new AdminAuthError(
        grpc.status.PERMISSION_DENIED,
        'issuer not allowed on the admin API',
      );
    }
    if (!scopesOf(token.claims).includes(bearer.scope)) {
      throw new AdminAuthError(
        grpc.status.PERMISSION_DENIED,
        `token lacks scope "${bearer.scope}"`,
      );
    }
    const who = token.claims.sub ?? token.claims.client_id ?? token.fingerprint;
    return `token:${token.issuer}:${String(who)}`;
  }
}

function scopesOf(claims: Record<string, unknown>): string[] {
  const scopes: string[] = [];
  if (typeof claims.scope === 'string') scopes.push(...claims.scope.split(' '));
  if (Array.isArray(claims.scp)) {
    scopes.push(...claims.scp.filter((scope): scope is string => typeof scope === 'string'));
  }
  return scopes;
}
