import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet, type CryptoKey } from 'jose';

export const DEV_ISSUER = 'https://tokengate.dev.invalid/';
export const DEV_AUDIENCE = 'dev-api';

export interface MintOptions {
  subject?: string;
  scope?: string;
  /** Lifetime in seconds; 15 minutes when absent. */
  lifetime?: number;
}

/**
 * An in-memory issuer for `tokengate dev`: one ES256 key pair made at start, its public JWKS, and
 * a way to sign tokens with it. The private key never leaves the process.
 */
export class DevIssuer {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly jwks: JSONWebKeySet,
    private readonly kid: string,
  ) {}

  static async create(): Promise<DevIssuer> {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const kid = randomUUID();
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    return new DevIssuer(privateKey, { keys: [jwk] }, kid);
  }

  async mint(options: MintOptions = {}): Promise<string> {
    return new SignJWT({
      scope: options.scope ?? 'orders:read orders:write',
      client_id: 'dev-client',
    })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'at+jwt' })
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setSubject(options.subject ?? 'dev-user')
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${options.lifetime ?? 900}s`)
      .sign(this.privateKey);
  }
}

/** The embedded default configuration of the development mode. */
export function devConfig(grpcAddress: string, httpAddress: string): unknown {
  return {
    grpc: { address: grpcAddress },
    http: { address: httpAddress },
    realm: 'tokengate-dev',
    issuers: [
      {
        name: 'dev',
        issuer: DEV_ISSUER,
        audiences: [DEV_AUDIENCE],
        jwks: { file: '(generated in memory)' },
        algorithms: ['ES256'],
        clockSkew: '30s',
        requiredType: 'at+jwt',
      },
    ],
    headers: {
      fromClaims: { 'x-auth-subject': 'sub', 'x-auth-issuer': 'iss', 'x-auth-scopes': 'scope' },
      removeAuthorization: true,
    },
  };
}
