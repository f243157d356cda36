import { validateConfig } from '../../src/config/load.js';
import type { AuthzRequest } from '../../src/decision/request.js';
import { PolicyEngine } from '../../src/policy/policy-engine.js';
import type { VerifiedToken } from '../../src/tokens/verified-token.js';

export const ISSUERS = [
  {
    name: 'corp',
    issuer: 'https://login.example.test/',
    audiences: ['api'],
    jwks: { file: '/nonexistent/jwks.json' },
    algorithms: ['RS256'],
  },
  {
    name: 'partner',
    issuer: 'https://partner.example.test/',
    audiences: ['api'],
    jwks: { file: '/nonexistent/partner.json' },
    algorithms: ['ES256'],
  },
];

/** A policy engine from a `policies:` value, validated exactly as a config file is. */
export function engineOf(policies: unknown): PolicyEngine {
  const { config } = validateConfig({ issuers: ISSUERS, policies });
  return new PolicyEngine(config.policies!);
}

export function requestOf(overrides: Partial<AuthzRequest> = {}): AuthzRequest {
  return {
    id: 'req-1',
    method: 'GET',
    host: 'api.example.com',
    path: '/',
    headers: {},
    source: { address: '127.0.0.1' },
    contextExtensions: {},
    ...overrides,
  };
}

export function tokenOf(claims: Record<string, unknown> = {}, issuer = 'corp'): VerifiedToken {
  return {
    issuer,
    claims: { sub: 'alice', ...claims },
    header: { alg: 'RS256' },
    digest: 'digest',
    fingerprint: 'fp',
  };
}
