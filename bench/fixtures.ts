import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorizationService } from '../src/grpc/protos.js';

export const ISSUER = 'https://bench.tokengate.test/';
export const AUDIENCE = 'bench-api';
export type BenchAlg = 'RS256' | 'ES256' | 'EdDSA';

interface SigningKey {
  alg: BenchAlg;
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

/**
 * Keys, a JWKS file and token makers for one bench run. Tokens are signed with `node:crypto`
 * directly (a compact JWS is three base64url parts) because the suite needs tens of thousands.
 */
export class Fixtures {
  readonly jwksPath: string;
  private readonly keys: Record<BenchAlg, SigningKey>;
  /** A key no issuer publishes, for bad-signature tokens. */
  private readonly stranger: SigningKey;
  private serial = 0;

  constructor(readonly dir: string) {
    this.keys = { RS256: makeKey('RS256'), ES256: makeKey('ES256'), EdDSA: makeKey('EdDSA') };
    this.stranger = { ...makeKey('RS256'), kid: this.keys.RS256.kid };
    this.jwksPath = join(dir, 'jwks.json');
    writeFileSync(
      this.jwksPath,
      JSON.stringify({ keys: Object.values(this.keys).map((k) => k.jwk) }),
    );
  }

  /** The issuer entry every tokengate config of the run uses. */
  issuerConfig(): Record<string, unknown> {
    return {
      name: 'bench',
      issuer: ISSUER,
      audiences: [AUDIENCE],
      jwks: { file: this.jwksPath },
      algorithms: ['RS256', 'ES256', 'EdDSA'],
    };
  }

  /** A fresh, valid access token; every call gives a distinct one. */
  token(alg: BenchAlg = 'RS256', claims: Record<string, unknown> = {}): string {
    return this.signWith(this.keys[alg], claims);
  }

  /** `count` distinct valid tokens. */
  tokens(count: number, alg: BenchAlg = 'RS256'): string[] {
    return Array.from({ length: count }, () => this.token(alg));
  }

  expiredToken(): string {
    const now = Math.floor(Date.now() / 1000);
    return this.token('RS256', { iat: now - 7_200, exp: now - 3_600 });
  }

  /** Right issuer and `kid`, signed by a key the issuer never published. */
  badSignatureToken(): string {
    return this.signWith(this.stranger, {});
  }

  unknownIssuerToken(): string {
    return this.token('RS256', { iss: 'https://elsewhere.example/' });
  }

  private signWith(key: SigningKey, claims: Record<string, unknown>): string {
    const now = Math.floor(Date.now() / 1000);
    this.serial += 1;
    const header = b64url({ alg: key.alg, kid: key.kid, typ: 'JWT' });
    const payload = b64url({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: `user-${this.serial}`,
      scope: 'orders:read orders:write',
      iat: now,
      exp: now + 3_600,
      jti: randomUUID(),
      ...claims,
    });
    const input = Buffer.from(`${header}.${payload}`);
    const signature =
      key.alg === 'RS256'
        ? sign('sha256', input, key.privateKey)
        : key.alg === 'ES256'
          ? sign('sha256', input, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
          : sign(null, input, key.privateKey);
    return `${header}.${payload}.${signature.toString('base64url')}`;
  }
}

function makeKey(alg: BenchAlg): SigningKey {
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  const kid = randomUUID();
  return {
    alg,
    kid,
    privateKey,
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
  };
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A `CheckRequest` shaped like the ones Envoy sends for a plain GET with a bearer token. */
export function checkRequest(token: string | undefined, serial = 0): object {
  const headers: Record<string, string> = {
    ':authority': 'api.bench.test',
    ':method': 'GET',
    ':path': '/orders/42?expand=items',
    ':scheme': 'http',
    accept: '*/*',
    'user-agent': 'bench/1.0',
    'x-forwarded-proto': 'http',
    'x-request-id': `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
  };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return {
    attributes: {
      source: {
        address: {
          socket_address: { address: '10.0.0.7', port_value: 40_000 + (serial % 20_000) },
        },
      },
      destination: { address: { socket_address: { address: '10.0.0.1', port_value: 8080 } } },
      request: {
        time: { seconds: Math.floor(Date.now() / 1000) },
        http: {
          id: String(1_000_000 + serial),
          method: 'GET',
          headers,
          path: '/orders/42?expand=items',
          host: 'api.bench.test',
          scheme: 'http',
          protocol: 'HTTP/1.1',
        },
      },
    },
  };
}

const serialize = (message: object): Buffer =>
  authorizationService().Check!.requestSerialize(message);

/** The tokens as ghz's `--binary-file` input: length-delimited messages, sent round-robin. */
export function writeGhzData(path: string, tokens: (string | undefined)[]): void {
  const parts: Buffer[] = [];
  tokens.forEach((token, index) => {
    const message = serialize(checkRequest(token, index));
    parts.push(varint(message.length), message);
  });
  writeFileSync(path, Buffer.concat(parts));
}

/** One gRPC-framed Check request body, as h2load posts it. */
export function writeGrpcFrame(path: string, token: string | undefined): void {
  const message = serialize(checkRequest(token));
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  writeFileSync(path, Buffer.concat([prefix, message]));
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
