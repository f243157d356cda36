import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { LIVENESS_SERVICE } from '../../src/grpc/grpc-server.js';
import { parse, stringify } from 'yaml';
import { ROOT } from '../support/paths.js';
import { tempDir } from '../support/temp.js';
import { requireTool, suiteTool } from '../support/tools.js';
import {
  CHART,
  find,
  renderChart,
  renderedConfig,
  renderedConfigText,
  runHelm,
  templateChart,
  type Manifest,
} from './helm.js';
import { restrictedViolations } from './pod-security.js';
import { validateManifest } from './schemas.js';

const [helm, missing] = suiteTool('helm');

const CI_DIR = join(CHART, 'ci');
const SCENARIOS = readdirSync(CI_DIR).filter((name) => name.endsWith('-values.yaml'));
const ciFile = (name: string) => join(CI_DIR, `${name}-values.yaml`);

function podSpecs(manifests: Manifest[]): [string, Record<string, any>][] {
  return manifests
    .filter((m) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(m.kind))
    .map((m) => [`${m.kind}/${m.metadata.name}`, m.spec.template.spec]);
}

describe('the Helm chart', { skip: missing }, () => {
  test('ships a values file for every tested scenario', () => {
    assert.deepEqual(SCENARIOS.sort(), [
      'default-values.yaml',
      'ha-redis-hpa-values.yaml',
      'istio-values.yaml',
      'monitoring-values.yaml',
      'sidecar-values.yaml',
    ]);
  });

  for (const scenario of SCENARIOS) {
    describe(`with ci/${scenario}`, () => {
      const values = [join(CI_DIR, scenario)];

      test('passes helm lint --strict', () => {
        const result = runHelm(helm!, ['lint', '--strict', CHART, '--values', values[0]!]);
        assert.equal(result.status, 0, result.stdout + result.stderr);
      });

      test('renders only documents that conform to their Kubernetes or Istio API schema', async () => {
        const manifests = renderChart(helm!, { values });
        assert.ok(manifests.length > 0);
        for (const manifest of manifests) await validateManifest(manifest);
      });

      test('renders pods that meet the restricted Pod Security Standard', () => {
        for (const [name, spec] of podSpecs(renderChart(helm!, { values })))
          assert.deepEqual(restrictedViolations(spec), [], name);
      });

      test('renders a config file that tokengate accepts', () => {
        const manifests = renderChart(helm!, { values });
        const loaded = parseConfig(renderedConfigText(manifests), scenario);
        assert.ok(loaded.config.issuers.length >= 1);
      });
    });
  }

  describe('in deployment mode', () => {
    const manifests = () => renderChart(helm!, { values: [ciFile('default')] });

    test('probes grpc.health.v1: readiness on service "" and liveness on the liveness service', () => {
      const container = find(manifests(), 'Deployment').spec.template.spec.containers[0];
      assert.deepEqual(container.readinessProbe.grpc, { port: 9001, service: '' });
      assert.deepEqual(container.livenessProbe.grpc, { port: 9001, service: LIVENESS_SERVICE });
      assert.deepEqual(container.startupProbe.grpc, { port: 9001, service: LIVENESS_SERVICE });
    });

    test('binds the listeners to the ports the Service and probes use', () => {
      const rendered = manifests();
      const config = renderedConfig(rendered);
      assert.equal(config.grpc.address, '0.0.0.0:9001');
      assert.equal(config.http.address, '0.0.0.0:9090');
      const service = find(rendered, 'Service', 'tokengate');
      assert.deepEqual(
        service.spec.ports.map((port: any) => [port.name, port.port, port.targetPort]),
        [
          ['grpc', 9001, 'grpc'],
          ['http-metrics', 9090, 'http'],
        ],
      );
      const headless = find(rendered, 'Service', 'tokengate-headless');
      assert.equal(headless.spec.clusterIP, 'None');
    });

    test('mounts the config folder without subPath so live reload sees ConfigMap updates', () => {
      const spec = find(manifests(), 'Deployment').spec.template.spec;
      const mount = spec.containers[0].volumeMounts.find(
        (m: any) => m.mountPath === '/etc/tokengate',
      );
      assert.equal(mount.subPath, undefined);
      assert.equal(mount.readOnly, true);
      assert.deepEqual(spec.containers[0].args, [
        'serve',
        '--config',
        '/etc/tokengate/tokengate.yaml',
      ]);
      assert.equal(spec.automountServiceAccountToken, false);
    });

    test('admits only the mesh proxies on the gRPC port and Prometheus on the HTTP port', () => {
      const policy = find(manifests(), 'NetworkPolicy');
      assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
      const [grpcRule, httpRule] = policy.spec.ingress;
      assert.deepEqual(grpcRule.ports, [{ port: 'grpc', protocol: 'TCP' }]);
      assert.ok(grpcRule.from.length > 0);
      assert.deepEqual(httpRule.ports, [{ port: 'http', protocol: 'TCP' }]);
      assert.deepEqual(httpRule.from[0].podSelector.matchLabels, {
        'app.kubernetes.io/name': 'prometheus',
      });
    });

    test('never turns an empty peer list into a rule that admits everyone', () => {
      const policy = find(
        renderChart(helm!, {
          values: [ciFile('default')],
          overrides: { networkPolicy: { grpcFrom: [], httpFrom: [] } },
        }),
        'NetworkPolicy',
      );
      assert.deepEqual(policy.spec.ingress, []);
    });

    test('spreads pods over zones and nodes with the chart selector filled in', () => {
      const spec = find(manifests(), 'Deployment').spec.template.spec;
      assert.deepEqual(
        spec.topologySpreadConstraints.map((c: any) => c.topologyKey),
        ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'],
      );
      for (const constraint of spec.topologySpreadConstraints)
        assert.deepEqual(constraint.labelSelector.matchLabels, {
          'app.kubernetes.io/name': 'tokengate',
          'app.kubernetes.io/instance': 'tokengate',
        });
    });

    test('replaces the fixed replica count by an autoscaler when asked', () => {
      const rendered = renderChart(helm!, { values: [ciFile('ha-redis-hpa')] });
      assert.equal(find(rendered, 'Deployment').spec.replicas, undefined);
      const hpa = find(rendered, 'HorizontalPodAutoscaler');
      assert.equal(hpa.spec.minReplicas, 3);
      assert.equal(hpa.spec.scaleTargetRef.name, 'tokengate');
      assert.equal(find(rendered, 'PodDisruptionBudget').spec.maxUnavailable, 1);
    });

    test('takes secrets only from existing Secrets, mounted read-only', () => {
      const rendered = renderChart(helm!, { values: [ciFile('ha-redis-hpa')] });
      assert.equal(rendered.filter((m) => m.kind === 'Secret').length, 0);
      const spec = find(rendered, 'Deployment').spec.template.spec;
      const secretVolumes = spec.volumes.filter((v: any) => v.secret !== undefined);
      assert.deepEqual(secretVolumes.map((v: any) => v.secret.secretName).sort(), [
        'redis-ca',
        'tokengate-admin-tls',
        'tokengate-redis',
      ]);
      for (const volume of secretVolumes) {
        const mount = spec.containers[0].volumeMounts.find((m: any) => m.name === volume.name);
        assert.equal(mount.readOnly, true, volume.name);
      }
      const config = renderedConfig(rendered);
      assert.equal(config.admin.tls.cert, '/var/run/secrets/tokengate/admin/tls.crt');
    });

    test('wires Redis over TLS with the CA from a Secret as extra Node roots', () => {
      const rendered = renderChart(helm!, { values: [ciFile('ha-redis-hpa')] });
      const revocation = renderedConfig(rendered).revocation;
      assert.equal(revocation.store, 'redis');
      assert.equal(revocation.redis.url, 'rediss://redis-master.redis.svc.cluster.local:6379/0');
      assert.equal(revocation.redis.keyPrefix, 'shop:tokengate:');
      const container = find(rendered, 'Deployment').spec.template.spec.containers[0];
      assert.deepEqual(container.env, [
        { name: 'NODE_EXTRA_CA_CERTS', value: '/var/run/secrets/tokengate/redis-ca/ca.crt' },
      ]);
    });

    test('takes the Redis password from a mounted Secret and never writes it into the ConfigMap', () => {
      const rendered = renderChart(helm!, { values: [ciFile('ha-redis-hpa')] });
      const redis = renderedConfig(rendered).revocation.redis;
      assert.equal(redis.passwordFile, '/var/run/secrets/tokengate/redis-password/password');
      assert.doesNotMatch(redis.url, /@/);

      const spec = find(rendered, 'Deployment').spec.template.spec;
      const volume = spec.volumes.find((v: any) => v.name === 'tokengate-redis-password');
      assert.equal(volume.secret.secretName, 'tokengate-redis');
      const mount = spec.containers[0].volumeMounts.find((m: any) => m.name === volume.name);
      assert.equal(mount.mountPath, '/var/run/secrets/tokengate/redis-password');
    });

    test('opens the admin port only to the peers listed for it', () => {
      const rendered = renderChart(helm!, { values: [ciFile('ha-redis-hpa')] });
      const rules = find(rendered, 'NetworkPolicy').spec.ingress;
      assert.deepEqual(rules[2].ports, [{ port: 'admin', protocol: 'TCP' }]);
      const closed = renderChart(helm!, {
        values: [ciFile('ha-redis-hpa')],
        overrides: { networkPolicy: { adminFrom: [] } },
      });
      const ports = find(closed, 'NetworkPolicy').spec.ingress.map((r: any) => r.ports[0].port);
      assert.deepEqual(ports, ['grpc', 'http']);
    });
  });

  describe('its restart annotation', () => {
    const checksum = (overrides: Record<string, unknown>) =>
      find(renderChart(helm!, { values: [ciFile('default')], overrides }), 'Deployment').spec
        .template.metadata.annotations['checksum/restart'] as string;
    const base = checksum({});

    test('stays the same when only settings that live reload applies change', () => {
      const changed = {
        config: {
          issuers: [
            {
              name: 'other',
              issuer: 'https://other.example.com/',
              audiences: ['x'],
              jwks: { uri: 'https://other.example.com/jwks' },
              algorithms: ['ES256'],
            },
          ],
          headers: { fromClaims: { 'x-auth-client': 'client_id' } },
          log: { level: 'debug' },
          policies: { unmatched: 'require-token' },
          realm: 'shop',
          tokens: { maxLength: 4096 },
          shutdown: { drainDelay: '10s' },
        },
      };
      assert.equal(checksum(changed), base);
    });

    for (const [what, overrides] of [
      ['the gRPC port', { ports: { grpc: 9101 } }],
      ['the HTTP port', { ports: { http: 9191 } }],
      ['the admission limit of the gRPC listener', { config: { grpc: { maxInFlight: 64 } } }],
      ['the admin listener', { config: { admin: { address: '0.0.0.0:9002' } } }],
      ['the Redis wiring', { redis: { enabled: true, address: 'redis:6379' } }],
      ['the revocation mode', { config: { revocation: { mode: 'failOpen' } } }],
      ['the token cache size', { config: { tokens: { cache: { maxEntries: 10 } } } }],
      ['the audit destination', { config: { audit: { destination: { kind: 'stdout' } } } }],
      ['a key this chart does not know', { config: { someFutureKey: { on: true } } }],
      ['a mounted Secret', { secretMounts: [{ name: 'keys', existingSecret: 'signing-keys' }] }],
    ] as const) {
      test(`changes when ${what} changes`, () => {
        assert.notEqual(checksum(overrides), base);
      });
    }
  });

  describe('its values schema', () => {
    const rejected: [string, Record<string, unknown>, RegExp][] = [
      ['a misspelt top-level value', { replicas: 3 }, /replicas/],
      ['an unknown mode', { mode: 'daemonset' }, /mode/],
      ['a port out of range', { ports: { grpc: 70000 } }, /ports/],
      [
        'the listener address set in config',
        { config: { grpc: { address: '0.0.0.0:1' } } },
        /grpc/,
      ],
      [
        'a symmetric algorithm',
        { config: { issuers: [{ ...issuer(), algorithms: ['HS256'] }] } },
        /algorithms/,
      ],
      [
        'a JWKS with both uri and file',
        { config: { issuers: [{ ...issuer(), jwks: { uri: 'https://a/', file: '/k.json' } }] } },
        /jwks/,
      ],
      [
        'an issuer without audiences',
        { config: { issuers: [{ ...issuer(), audiences: [] }] } },
        /audiences/,
      ],
      ['no issuer at all', { config: { issuers: [] } }, /issuers/],
      ['a duration without unit', { config: { shutdown: { drainDelay: '5' } } }, /drainDelay/],
      ['Redis enabled without an address', { redis: { enabled: true } }, /redis/],
      ['a Redis password given as a value', { redis: { password: 'hunter2' } }, /password/],
      [
        'an autoscaler in sidecar mode',
        { mode: 'sidecar', autoscaling: { enabled: true } },
        /mode/,
      ],
      ['an Envoy timeout Envoy cannot parse', { mesh: { envoy: { timeout: '200ms' } } }, /timeout/],
      ['a secret mount without a Secret', { secretMounts: [{ name: 'admin' }] }, /existingSecret/],
    ];
    for (const [what, overrides, field] of rejected) {
      test(`rejects ${what}`, () => {
        const result = templateChart(helm!, { values: [ciFile('default')], overrides });
        assert.notEqual(result.status, 0, `accepted: ${JSON.stringify(overrides)}`);
        assert.match(result.stderr, field);
      });
    }
  });

  describe('with monitoring on', () => {
    const rendered = () => renderChart(helm!, { values: [ciFile('monitoring')] });

    test('scrapes /metrics on the HTTP port of the Service', () => {
      const monitor = find(rendered(), 'ServiceMonitor');
      assert.deepEqual(monitor.spec.endpoints, [
        { port: 'http-metrics', path: '/metrics', interval: '30s' },
      ]);
      assert.equal(monitor.metadata.labels.release, 'kube-prometheus-stack');
    });

    test('ships the dashboard of deploy/grafana/ for the Grafana sidecar', () => {
      const dashboards = find(rendered(), 'ConfigMap', 'tokengate-dashboards');
      assert.equal(dashboards.metadata.labels.grafana_dashboard, '1');
      assert.equal(dashboards.metadata.namespace, 'monitoring');
      assert.deepEqual(
        JSON.parse(dashboards.data['tokengate.json']),
        JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/tokengate.json'), 'utf8')),
      );
    });

    test('ships the rule groups of deploy/prometheus/, which promtool accepts', (t) => {
      const rule = find(rendered(), 'PrometheusRule');
      const original = parse(
        readFileSync(join(ROOT, 'deploy/prometheus/tokengate-rules.yaml'), 'utf8'),
      ) as { groups: unknown[] };
      assert.deepEqual(rule.spec.groups, original.groups);

      const promtool = requireTool(t, 'promtool');
      if (promtool === undefined) return;
      const dir = tempDir('tokengate-rules-');
      try {
        const file = join(dir.path, 'rules.yaml');
        writeFileSync(file, stringify({ groups: rule.spec.groups }));
        const result = spawnSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
        assert.equal(result.status, 0, result.stdout + result.stderr);
      } finally {
        dir.remove();
      }
    });
  });

  describe('in sidecar mode', () => {
    test('renders no Deployment, Service or autoscaling objects of its own', () => {
      const kinds = renderChart(helm!, { values: [ciFile('sidecar')] }).map((m) => m.kind);
      for (const kind of [
        'Deployment',
        'Service',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
      ])
        assert.equal(kinds.includes(kind), false, kind);
    });

    test('listens on a Unix socket in the shared folder when asked', () => {
      const config = renderedConfig(renderChart(helm!, { values: [ciFile('sidecar')] }));
      assert.equal(config.grpc.address, 'unix:/var/run/tokengate/grpc.sock');
    });
  });
});

function issuer() {
  return {
    name: 'corp',
    issuer: 'https://login.example.com/',
    audiences: ['orders-api'],
    jwks: { uri: 'https://login.example.com/.well-known/jwks.json' },
    algorithms: ['RS256'],
  };
}
