import { startEnvoy, type RunningEnvoy } from './envoy.js';
import { JwksServer } from './jwks-server.js';
import { startTokengate, type RunningTokengate } from './tokengate.js';
import { createKey, jwksOf, type TestKey } from './tokens.js';
import { EchoUpstream } from './upstream.js';

export const STACK_ISSUER = 'https://login.example.test/';
export const STACK_AUDIENCE = 'orders-api';

/** Everything an end-to-end test through Envoy talks to, started together. */
export interface EnvoyStack {
  /** The issuer's signing key; its public half is served by {@link jwks}. */
  key: TestKey;
  jwks: JwksServer;
  upstream: EchoUpstream;
  tokengate: RunningTokengate;
  envoy: RunningEnvoy;
  stop(): Promise<void>;
}

export interface EnvoyStackOptions {
  envoyBin: string;
  /** Algorithm of the issuer's key; ES256 by default. */
  alg?: string;
  /** Keys merged over the one issuer entry (`corp`, {@link STACK_ISSUER}, its JWKS server). */
  issuer?: Record<string, unknown>;
  /** Keys merged over that issuer's `jwks` entry (its `uri` is the stack's server). */
  jwks?: Record<string, unknown>;
  /** Top-level tokengate config keys besides `issuers` (headers, policies, admin, ...). */
  config?: Record<string, unknown>;
}

/**
 * A JWKS server with one key, an echo upstream, tokengate trusting that issuer, and a real Envoy
 * running `deploy/envoy/envoy.yaml` in front of them, all on loopback ports.
 */
export async function startEnvoyStack(options: EnvoyStackOptions): Promise<EnvoyStack> {
  const alg = options.alg ?? 'ES256';
  const key = await createKey(alg);
  const jwks = await new JwksServer(jwksOf(key)).start();
  const upstream = await new EchoUpstream().start();
  const tokengate = await startTokengate({
    issuers: [
      {
        name: 'corp',
        issuer: STACK_ISSUER,
        audiences: [STACK_AUDIENCE],
        jwks: { uri: jwks.uri, refreshInterval: '1h', ...options.jwks },
        algorithms: [alg],
        ...options.issuer,
      },
    ],
    ...options.config,
  });
  const envoy = await startEnvoy({
    bin: options.envoyBin,
    tokengate: tokengate.grpcAddress,
    upstreamPort: upstream.port,
  });

  return {
    key,
    jwks,
    upstream,
    tokengate,
    envoy,
    stop: async () => {
      await envoy.stop();
      await tokengate.stop();
      await upstream.stop();
      await jwks.stop();
    },
  };
}
