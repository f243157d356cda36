import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { ROOT } from '../support/paths.js';
import { tempDir } from '../support/temp.js';
import { findTool } from '../support/tools.js';
import { CHART, find, renderChart, renderedEnvoyConfig, type Manifest } from './helm.js';
import { validateManifest } from './schemas.js';

const helm = findTool('helm');
const envoy = findTool('envoy');
for (const [name, path] of [
  ['helm', helm],
  ['envoy', envoy],
] as const) {
  if (path === undefined && process.env.CI)
    throw new Error(`${name} is not installed (CI does not skip)`);
}
const missing =
  helm === undefined || envoy === undefined
    ? 'helm or envoy is not installed; run scripts/install-test-tools.sh'
    : false;

const readYaml = (path: string) =>
  parse(readFileSync(join(ROOT, path), 'utf8')) as Record<string, any>;
const ciFile = (name: string) => join(CHART, 'ci', `${name}-values.yaml`);

function httpManager(config: Record<string, any>) {
  return config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
}
const extAuthzFilter = (config: Record<string, any>) =>
  httpManager(config).http_filters.find((f: any) => f.name === 'envoy.filters.http.ext_authz');
const routesOf = (config: Record<string, any>) =>
  httpManager(config).route_config.virtual_hosts[0].routes as Record<string, any>[];
const clusterOf = (config: Record<string, any>, name: string) =>
  config.static_resources.clusters.find((c: any) => c.name === name);

/** Runs `envoy --mode validate` on a config; returns Envoy's output when it is refused. */
function envoyValidate(config: Record<string, any>): { ok: boolean; output: string } {
  const dir = tempDir('tokengate-envoy-validate-');
  try {
    const path = join(dir.path, 'envoy.yaml');
    writeFileSync(path, stringify(config));
    const result = spawnSync(envoy!, ['--mode', 'validate', '-c', path, '--log-level', 'warn'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    dir.remove();
  }
}

describe('the mesh wiring under deploy/', { skip: missing }, () => {
  const envoyYaml = readYaml('deploy/envoy/envoy.yaml');
  const snippet = readYaml('deploy/envoy/ext-authz-filter.yaml');

  test('the Envoy filter snippet is the filter envoy.yaml runs', () => {
    assert.deepEqual(snippet.http_filters, [extAuthzFilter(envoyYaml)]);
    const filter = snippet.http_filters[0].typed_config;
    assert.equal(filter.failure_mode_allow, false);
    assert.equal(filter.include_peer_certificate, true);
    assert.deepEqual(filter.grpc_service.envoy_grpc, { cluster_name: 'tokengate' });
  });

  test('the snippet route examples are routes of envoy.yaml, one of them with the check off', () => {
    const routes = routesOf(envoyYaml);
    for (const route of snippet.routes)
      assert.deepEqual(
        routes.find((r) => JSON.stringify(r.match) === JSON.stringify(route.match)),
        route,
      );
    assert.ok(
      snippet.routes.some(
        (r: any) => r.typed_per_filter_config['envoy.filters.http.ext_authz'].disabled === true,
      ),
    );
    assert.ok(
      snippet.routes.some(
        (r: any) =>
          r.typed_per_filter_config['envoy.filters.http.ext_authz'].check_settings
            ?.context_extensions?.['tokengate.policy'],
      ),
    );
  });

  test('the snippet cluster is the one the chart renders for release "tokengate"', () => {
    const chartSnippet = parse(
      find(renderChart(helm!, { values: [ciFile('default')] }), 'ConfigMap', 'tokengate-envoy')
        .data['ext-authz-filter.yaml'],
    );
    assert.deepEqual(snippet.http_filters, chartSnippet.http_filters);
    assert.deepEqual(snippet.clusters, chartSnippet.clusters);
    const { load_assignment: _a, type: _t, ...rest } = snippet.clusters[0];
    const { load_assignment: _b, type: _u, ...fromEnvoyYaml } = clusterOf(envoyYaml, 'tokengate');
    assert.deepEqual(rest, fromEnvoyYaml);
  });

  test('Envoy accepts envoy.yaml with the snippet spliced into a bare listener', () => {
    const config = structuredClone(envoyYaml);
    const manager = httpManager(config);
    manager.http_filters = [...snippet.http_filters, manager.http_filters.at(-1)];
    manager.route_config.virtual_hosts[0].routes = [
      ...snippet.routes,
      { match: { prefix: '/' }, route: { cluster: 'upstream' } },
    ];
    config.static_resources.clusters = [...snippet.clusters, clusterOf(envoyYaml, 'upstream')];
    const result = envoyValidate(config);
    assert.ok(result.ok, result.output);
    assert.doesNotMatch(result.output, /deprecated/i);
  });

  for (const scenario of ['default', 'sidecar'] as const) {
    test(`Envoy accepts the envoy.yaml the chart renders for ci/${scenario} without deprecated fields`, () => {
      const config = renderedEnvoyConfig(renderChart(helm!, { values: [ciFile(scenario)] }));
      const result = envoyValidate(config);
      assert.ok(result.ok, result.output);
      assert.doesNotMatch(result.output, /deprecated/i);
    });
  }

  test('the chart renders the filter and routes of envoy.yaml with its default values', () => {
    const config = renderedEnvoyConfig(renderChart(helm!, { values: [ciFile('default')] }));
    assert.deepEqual(extAuthzFilter(config), extAuthzFilter(envoyYaml));
    assert.deepEqual(routesOf(config), routesOf(envoyYaml));
    assert.deepEqual(httpManager(config).access_log, httpManager(envoyYaml).access_log);
  });

  describe('Istio', () => {
    const files = [
      'deploy/istio/mesh-config.yaml',
      'deploy/istio/authorization-policy.yaml',
      'deploy/istio/sidecar/mesh-config.yaml',
      'deploy/istio/sidecar/service-entry.yaml',
      'deploy/istio/sidecar/authorization-policy.yaml',
    ];
    for (const file of files) {
      test(`${file} conforms to its Istio API schema`, async () => {
        const manifest = readYaml(file) as Manifest;
        manifest.metadata ??= { name: 'installed-by-istioctl' };
        await validateManifest(manifest);
      });
    }

    const providers = (file: string) =>
      readYaml(file).spec.meshConfig.extensionProviders as Record<string, any>[];

    test('each AuthorizationPolicy names a gRPC extension provider of its mesh config', () => {
      for (const [policy, mesh] of [
        ['deploy/istio/authorization-policy.yaml', 'deploy/istio/mesh-config.yaml'],
        ['deploy/istio/sidecar/authorization-policy.yaml', 'deploy/istio/sidecar/mesh-config.yaml'],
      ] as const) {
        const spec = readYaml(policy).spec;
        assert.equal(spec.action, 'CUSTOM');
        const provider = providers(mesh).find((p) => p.name === spec.provider.name);
        assert.ok(provider?.envoyExtAuthzGrpc, `${policy} names no provider of ${mesh}`);
        assert.equal(provider.envoyExtAuthzGrpc.failOpen, false);
      }
    });

    test('the sidecar provider calls the host and port of the ServiceEntry', () => {
      const entry = readYaml('deploy/istio/sidecar/service-entry.yaml').spec;
      const provider = providers('deploy/istio/sidecar/mesh-config.yaml')[0]!.envoyExtAuthzGrpc;
      assert.ok(entry.hosts.includes(provider.service));
      assert.equal(entry.ports[0].number, provider.port);
      assert.deepEqual(entry.endpoints, [{ address: '127.0.0.1' }]);
    });

    test('the chart renders the provider and policy of deploy/istio/ for release "tokengate"', () => {
      const rendered = renderChart(helm!, { values: [ciFile('istio')] });
      const entry = parse(
        find(rendered, 'ConfigMap', 'tokengate-istio-mesh-config').data['extension-provider.yaml'],
      ).extensionProviders;
      assert.deepEqual(entry, providers('deploy/istio/mesh-config.yaml'));
      const policy = find(rendered, 'AuthorizationPolicy');
      assert.deepEqual(policy.spec, readYaml('deploy/istio/authorization-policy.yaml').spec);
      assert.equal(policy.metadata.namespace, 'shop');
    });

    test('the chart in sidecar mode renders the ServiceEntry and provider of deploy/istio/sidecar/', () => {
      const rendered = renderChart(helm!, {
        values: [ciFile('istio')],
        namespace: 'shop',
        overrides: { mode: 'sidecar', mesh: { istio: { providerName: 'tokengate-local' } } },
      });
      const entry = find(rendered, 'ServiceEntry');
      assert.deepEqual(entry.spec, readYaml('deploy/istio/sidecar/service-entry.yaml').spec);
      const provider = parse(
        find(rendered, 'ConfigMap', 'tokengate-istio-mesh-config').data['extension-provider.yaml'],
      ).extensionProviders;
      assert.deepEqual(provider, providers('deploy/istio/sidecar/mesh-config.yaml'));
      assert.deepEqual(
        find(rendered, 'AuthorizationPolicy').spec,
        readYaml('deploy/istio/sidecar/authorization-policy.yaml').spec,
      );
    });
  });
});
