import type { Fixtures } from './fixtures.js';
import { policyRules } from './fixtures/policies.js';

/** What a scenario gets to build its config and tokens from. */
export interface ScenarioContext {
  fixtures: Fixtures;
  /** The issuer entry every config uses (a JWKS file of RS256, ES256 and EdDSA keys). */
  issuer: Record<string, unknown>;
  /** A scratch folder for files a config refers to. */
  dir: string;
}

/**
 * One row of the table: a server, the config it runs, and the bearer tokens the load generator
 * cycles through (round-robin; `undefined` sends no `Authorization` header).
 */
export interface Scenario {
  name: string;
  /** One line for the table's notes. */
  description: string;
  /** `baseline` is the no-op server every ratio is taken against. */
  server: 'baseline' | 'tokengate';
  /** Keys merged over the base tokengate config (loopback ports, the bench issuer, info logs). */
  config?: (context: ScenarioContext) => Record<string, unknown>;
  tokens: (context: ScenarioContext) => (string | undefined)[];
  /**
   * Also saturate with h2load, which is light enough for the server to be the bottleneck; it
   * repeats one request, so only for scenarios with a single token.
   */
  h2load?: boolean;
  /** Also measure latency at a fixed rate of half the measured maximum. */
  halfRate?: boolean;
  /** Part of `--quick`. */
  quick?: boolean;
  /** Skips the scenario (with this reason in the table) when the running code cannot do it. */
  unavailable?: (context: ScenarioContext) => string | undefined;
}

const noCache = { tokens: { cache: { maxEntries: 0 } } };

export const SCENARIOS: Scenario[] = [
  {
    name: 'baseline (no-op server)',
    description: 'grpc-js + proto-loader, answers every Check OK without reading it',
    server: 'baseline',
    tokens: ({ fixtures }) => [fixtures.token('RS256')],
    h2load: true,
    halfRate: true,
    quick: true,
  },
  {
    name: 'repeated RS256 token (cache hits)',
    description: 'one valid RS256 token on every check; verified once, then served from the cache',
    server: 'tokengate',
    tokens: ({ fixtures }) => [fixtures.token('RS256')],
    h2load: true,
    halfRate: true,
    quick: true,
  },
  {
    name: 'unique RS256 tokens (every one verified)',
    description:
      'cache off, so every check verifies an RS256 signature (1,000 distinct tokens cycled)',
    server: 'tokengate',
    config: () => noCache,
    tokens: ({ fixtures }) => fixtures.tokens(1_000, 'RS256'),
    quick: true,
  },
  {
    name: 'unique RS256, one token, cache off',
    description: 'as above with one token, so the light h2load client can saturate the server',
    server: 'tokengate',
    config: () => noCache,
    tokens: ({ fixtures }) => [fixtures.token('RS256')],
    h2load: true,
    halfRate: true,
  },
  {
    name: 'unique ES256 tokens (every one verified)',
    description: 'cache off, 1,000 distinct ES256 tokens cycled',
    server: 'tokengate',
    config: () => noCache,
    tokens: ({ fixtures }) => fixtures.tokens(1_000, 'ES256'),
  },
  {
    name: 'unique EdDSA tokens (every one verified)',
    description: 'cache off, 1,000 distinct Ed25519 tokens cycled',
    server: 'tokengate',
    config: () => noCache,
    tokens: ({ fixtures }) => fixtures.tokens(1_000, 'EdDSA'),
  },
  {
    name: 'pool of 1,000 RS256 tokens',
    description: 'cache on; 1,000 distinct tokens cycled, all hits after the warm-up',
    server: 'tokengate',
    tokens: ({ fixtures }) => fixtures.tokens(1_000, 'RS256'),
  },
  {
    name: 'deny mix',
    description: 'expired, bad signature (verified and rejected) and unknown issuer, in turn',
    server: 'tokengate',
    tokens: ({ fixtures }) => [
      fixtures.expiredToken(),
      fixtures.badSignatureToken(),
      fixtures.unknownIssuerToken(),
    ],
  },
  {
    name: 'policy rules: 1 rule with CEL',
    description: 'repeated RS256 token; one policy rule matches host, method, path and runs CEL',
    server: 'tokengate',
    config: () => ({ policies: policyRules(1) }),
    tokens: ({ fixtures }) => [fixtures.token('RS256')],
    h2load: true,
  },
  {
    name: 'policy rules: 500 rules, CEL on the matched one',
    description: 'as above behind 499 other rules with CEL; the index keeps them off the path',
    server: 'tokengate',
    config: () => ({ policies: policyRules(500) }),
    tokens: ({ fixtures }) => [fixtures.token('RS256')],
    h2load: true,
  },
];
