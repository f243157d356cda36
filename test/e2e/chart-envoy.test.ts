import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { CHART, renderChart, renderedConfigText, renderedEnvoyConfig } from '../charts/helm.js';
import { startEnvoy, type RunningEnvoy } from '../support/envoy.js';
import { JwksServer } from '../support/jwks-server.js';
import { ROOT } from '../support/paths.js';
import { tempDir } from '../support/temp.js';
import { startTokengate, type RunningTokengate } from '../support/tokengate.js';
import { createKey, fingerprint, jwksOf, signToken, type TestKey } from '../support/tokens.js';
import { findTool } from '../support/tools.js';
import { EchoUpstream } from '../support/upstream.js';

const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'orders-api';

const helm = findTool('helm');
const envoyBin = findTool('envoy');
const missing =
  helm === undefined || envoyBin === undefined
    ? 'helm or envoy is not installed; run scripts/install-test-tools.sh'
    : false;
if (missing && process.env.CI) throw new Error(`${missing} (CI does not skip)`);

const ciFile = (name: string) => join(CHART, 'ci', `${name}-values.yaml`);

/**
 * Chart values on top of a ci/ scenario: our issuer, policies for the example routes, and a Check
 * timeout with room for a test machine whose two cores other suites share.
 */
function testValues(jwksUri: string) {
  return {
    mesh: { envoy: { timeout: '2s' } },
    config: {
      issuers: [
        {
          name: 'corp',
          issuer: ISSUER,
          audiences: [AUDIENCE],
          jwks: { uri: jwksUri, cooldown: '100ms' },
          algorithms: ['RS256'],
        },
      ],
      headers: { fromClaims: { 'x-auth-subject': 'sub' } },
      policies: {
        unmatched: 'require-token',
        named: {
          orders: { rules: [{ require: { scopes: { anyOf: ['orders:read'] } } }] },
          admin: { rules: [{ require: { scopes: { allOf: ['admin'] } } }] },
        },
      },
    },
  };
}

/** The rendered config with only the listener addresses moved to loopback (or a temp socket). */
function loopbackConfig(text: string, grpcAddress = '127.0.0.1:0'): string {
  const config = parse(text) as Record<string, any>;
  config.grpc.address = grpcAddress;
  config.http.address = '127.0.0.1:0';
  return stringify(config);
}

interface Stack {
  tokengate: RunningTokengate;
  envoy: RunningEnvoy;
}

/**
 * Waits until Envoy has resolved every host of the given clusters: STRICT_DNS clusters (as the
 * chart renders them) may still be resolving when the listener already reports ready.
 */
async function waitForClusters(envoy: RunningEnvoy, names: string[], timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const body = (await (await fetch(`${envoy.adminUrl}/clusters?format=json`)).json()) as {
      cluster_statuses?: { name: string; host_statuses?: unknown[] }[];
    };
    const resolved = new Set(
      (body.cluster_statuses ?? [])
        .filter((cluster) => (cluster.host_statuses ?? []).length > 0)
        .map((cluster) => cluster.name),
    );
    if (names.every((name) => resolved.has(name))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`envoy did not resolve the clusters ${names.join(', ')}`);
}

/**
 * Waits until a request through Envoy gets tokengate's own answer (401 without a token), the
 * first checks of a fresh process being the slowest.
 */
async function waitForCheckPath(envoy: RunningEnvoy, attempts = 50): Promise<void> {
  let status = 0;
  for (let attempt = 0; attempt < attempts && status !== 401; attempt++) {
    status = (await fetch(`${envoy.url}/orders/warm-up`)).status;
    if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(status, 401, 'envoy never got an answer from tokengate');
}

/** Asserts a status; a mismatch reports Envoy's body and tokengate's last decisions. */
async function expectStatus(response: Response, status: number, stack: Partial<Stack>) {
  if (response.status === status) return;
  const decisions = (stack.tokengate?.logs() ?? [])
    .filter((line) => line.msg === 'decision')
    .slice(-3)
    .map((line) => `${line.path} ${line.decision} ${line.reason}`);
  const stats = await (
    await fetch(
      `${stack.envoy!.adminUrl}/stats?filter=ext_authz|upstream_cx_connect_fail|upstream_rq_503`,
    )
  ).text();
  assert.fail(
    `status ${response.status}, expected ${status}; body ${JSON.stringify(await response.text())}; ` +
      `decisions: ${decisions.join(' | ')}\n${stats
        .split('\n')
        .filter((l) => !l.endsWith(': 0'))
        .join('\n')}`,
  );
}

/**
 * Starts tokengate on `tokengateConfig` and Envoy on `envoyConfig` into `stack` (so `stopStack`
 * stops whatever did start), and returns once a check through Envoy is answered by tokengate.
 */
async function startStack(
  stack: Partial<Stack>,
  tokengateConfig: string,
  envoyConfig: Record<string, any>,
  upstreamPort: number,
): Promise<void> {
  stack.tokengate = await startTokengate(tokengateConfig);
  stack.envoy = await startEnvoy({
    bin: envoyBin!,
    config: envoyConfig,
    tokengate: stack.tokengate.grpcAddress,
    upstreamPort,
  });
  await waitForClusters(stack.envoy, ['tokengate', 'upstream']);
  await waitForCheckPath(stack.envoy);
}

async function stopStack(stack: Partial<Stack>): Promise<void> {
  await stack.envoy?.stop();
  await stack.tokengate?.stop();
}

describe(
  'the chart as rendered, run by a real tokengate and a real Envoy',
  { skip: missing },
  () => {
    let key: TestKey;
    let jwks: JwksServer;
    let upstream: EchoUpstream;

    before(async () => {
      key = await createKey('RS256');
      jwks = await new JwksServer(jwksOf(key)).start();
      upstream = await new EchoUpstream().start();
    });
    after(async () => {
      await upstream?.stop();
      await jwks?.stop();
    });

    const token = (claims: Record<string, unknown> = { scope: 'orders:read' }, expiresIn = 300) =>
      signToken(key, { issuer: ISSUER, audience: AUDIENCE, subject: 'alice', claims, expiresIn });
    const get = (envoy: RunningEnvoy, path: string, bearer?: string) =>
      fetch(
        `${envoy.url}${path}`,
        bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {},
      );

    describe('in deployment mode (ci/default-values.yaml)', () => {
      const stack: Partial<Stack> = {};

      before(async () => {
        const rendered = renderChart(helm!, {
          values: [ciFile('default')],
          overrides: testValues(jwks.uri),
        });
        await startStack(
          stack,
          loopbackConfig(renderedConfigText(rendered)),
          renderedEnvoyConfig(rendered),
          upstream.port,
        );
      });
      after(() => stopStack(stack));

      test('lets a valid token through to the upstream with the subject header', async () => {
        const response = await get(stack.envoy!, '/orders/1', await token());
        await expectStatus(response, 200, stack);
        const seen = (await response.json()) as { headers: Record<string, string> };
        assert.equal(seen.headers['x-auth-subject'], 'alice');
      });

      test('answers an expired token with 401 and logs token_expired', async () => {
        const before = upstream.received.length;
        const expired = await token({ scope: 'orders:read' }, -120);
        const response = await get(stack.envoy!, '/orders/1', expired);
        assert.equal(response.status, 401);
        assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
        assert.equal(upstream.received.length, before);
        const logged = await stack.tokengate!.waitForDecision(
          (line) => line.fingerprint === fingerprint(expired),
        );
        assert.equal(logged.reason, 'token_expired');
      });

      test('answers a token signed by an unknown key with 401', async () => {
        const stranger = await createKey('RS256');
        const forged = await signToken(stranger, { issuer: ISSUER, audience: AUDIENCE });
        const response = await get(stack.envoy!, '/orders/1', forged);
        assert.equal(response.status, 401);
      });

      test('applies the policy the route names through the chart values', async () => {
        const response = await get(stack.envoy!, '/admin/users', await token());
        assert.equal(response.status, 403);
        const allowed = await get(stack.envoy!, '/admin/users', await token({ scope: 'admin' }));
        assert.equal(allowed.status, 200);
      });

      test('skips the check on the route where the chart disables it', async () => {
        const response = await get(stack.envoy!, '/envoy-health');
        assert.equal(response.status, 200);
      });
    });

    describe('in sidecar mode over a Unix socket (ci/sidecar-values.yaml)', () => {
      const stack: Partial<Stack> = {};
      const socketDir = tempDir('tokengate-socket-');

      before(async () => {
        const rendered = renderChart(helm!, {
          values: [ciFile('sidecar')],
          overrides: testValues(jwks.uri),
        });
        const socket = `unix:${join(socketDir.path, 'grpc.sock')}`;
        await startStack(
          stack,
          loopbackConfig(renderedConfigText(rendered), socket),
          renderedEnvoyConfig(rendered),
          upstream.port,
        );
      });
      after(async () => {
        await stopStack(stack);
        socketDir.remove();
      });

      test('reaches tokengate over the socket: a valid token passes', async () => {
        assert.ok(stack.tokengate!.grpcAddress.startsWith('unix:'));
        const response = await get(stack.envoy!, '/orders/2', await token());
        await expectStatus(response, 200, stack);
      });

      test('reaches tokengate over the socket: a request without a token gets 401', async () => {
        const response = await get(stack.envoy!, '/orders/2');
        assert.equal(response.status, 401);
        assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="tokengate"');
      });
    });

    describe('with deploy/envoy/ext-authz-filter.yaml spliced into a bare Envoy config', () => {
      const stack: Partial<Stack> = {};

      before(async () => {
        const snippet = parse(
          readFileSync(join(ROOT, 'deploy/envoy/ext-authz-filter.yaml'), 'utf8'),
        ) as Record<string, any>;
        const config = bareEnvoy();
        const manager =
          config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
        manager.http_filters.unshift(...snippet.http_filters);
        manager.route_config.virtual_hosts[0].routes.unshift(...snippet.routes);
        config.static_resources.clusters.push(...snippet.clusters);

        await startStack(
          stack,
          loopbackConfig(stringify({ grpc: {}, http: {}, ...testValues(jwks.uri).config })),
          config,
          upstream.port,
        );
      });
      after(() => stopStack(stack));

      test('lets a valid token through and stops an invalid one', async () => {
        assert.equal((await get(stack.envoy!, '/orders/3', await token())).status, 200);
        assert.equal((await get(stack.envoy!, '/orders/3', 'not-a-jwt')).status, 401);
        assert.equal((await get(stack.envoy!, '/envoy-health')).status, 200);
      });
    });
  },
);

/** An Envoy with one listener routing everything upstream, and nothing of tokengate yet. */
function bareEnvoy(): Record<string, any> {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    route_config: {
                      name: 'local',
                      virtual_hosts: [
                        {
                          name: 'app',
                          domains: ['*'],
                          routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream' } }],
                        },
                      ],
                    },
                    http_filters: [
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: {
                          '@type':
                            'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                        },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'upstream',
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'upstream',
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: { socket_address: { address: '127.0.0.1', port_value: 8081 } },
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
    },
  };
}
