import { JwksServer } from '../support/jwks-server.js';
import { CheckClient, startTokengate, type RunningTokengate } from '../support/tokengate.js';
import {
  createKey,
  jwksOf,
  signToken,
  type TestKey,
  type TokenOptions,
} from '../support/tokens.js';

export const ISSUER = 'https://login.example.test/';
export const AUDIENCE = 'orders-api';

/** A JWKS server, a tokengate trusting it as issuer `corp`, and a Check client. */
export interface ObservedTokengate {
  key: TestKey;
  jwks: JwksServer;
  tokengate: RunningTokengate;
  client: CheckClient;
  /** A token `corp` accepts, for subject alice unless `options` say otherwise. */
  token(options?: Partial<TokenOptions>): Promise<string>;
  stop(): Promise<void>;
}

export async function startObserved(
  extra: Record<string, unknown> = {},
): Promise<ObservedTokengate> {
  const key = await createKey('ES256');
  const jwks = await new JwksServer(jwksOf(key)).start();
  const tokengate = await startTokengate({
    issuers: [
      {
        name: 'corp',
        issuer: ISSUER,
        audiences: [AUDIENCE],
        jwks: { uri: jwks.uri, refreshInterval: '1h' },
        algorithms: ['ES256'],
      },
    ],
    ...extra,
  });
  const client = new CheckClient(tokengate.grpcAddress);
  return {
    key,
    jwks,
    tokengate,
    client,
    token: (options = {}) =>
      signToken(key, { issuer: ISSUER, audience: AUDIENCE, subject: 'alice', ...options }),
    stop: async () => {
      client.close();
      await tokengate.stop();
      await jwks.stop();
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** One sample of a text exposition: metric name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, parsed just enough for assertions: samples and `# TYPE` lines. */
export function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;

    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) throw new Error(`unreadable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return { types, samples };
}

/** The value of the one sample named `name` whose labels include `labels`; 0 when absent. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}) {
  const found = samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match`);
  return found[0]?.value ?? 0;
}

export async function scrape(httpAddress: string): Promise<string> {
  const response = await fetch(`http://${httpAddress}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** Every field the audit line must carry, whether or not it has a value for this decision. */
export const AUDIT_FIELDS = [
  'time',
  'decisionId',
  'requestId',
  'traceId',
  'source',
  'method',
  'host',
  'path',
  'issuer',
  'subject',
  'clientId',
  'fingerprint',
  'jti',
  'policy',
  'rule',
  'decision',
  'reason',
  'status',
  'latencyMs',
] as const;
