import assert from 'node:assert/strict';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { ROOT } from '../support/paths.js';
import { tempDir } from '../support/temp.js';
import { suiteTool } from '../support/tools.js';
import {
  CHART,
  find,
  renderChart,
  renderedConfigText,
  templateChart,
  type Manifest,
} from './helm.js';
import { restrictedViolations } from './pod-security.js';
import { validateManifest } from './schemas.js';

const [helm, missing] = suiteTool('helm');

describe('an application chart that includes "tokengate.sidecar"', { skip: missing }, () => {
  let dir: ReturnType<typeof tempDir>;
  let app: string;
  let rendered: Manifest[];

  before(() => {
    dir = tempDir('tokengate-sidecar-app-');
    app = join(dir.path, 'orders');
    cpSync(join(ROOT, 'test/charts/fixtures/sidecar-app'), app, { recursive: true });
    mkdirSync(join(app, 'charts'));
    cpSync(CHART, join(app, 'charts/tokengate'), { recursive: true });
    rendered = renderChart(helm!, { chart: app, release: 'shop', namespace: 'shop' });
  });
  after(() => dir?.remove());

  const pod = () => find(rendered, 'Deployment', 'shop-orders').spec.template.spec;

  test('gets the tokengate container with the values given to the subchart', () => {
    const container = pod().containers.find((c: any) => c.name === 'tokengate');
    assert.ok(container, 'no tokengate container');
    assert.equal(container.image, 'tokengate:0.1.0');
    // Loopback and socket listeners are out of the kubelet's reach: probes go to the HTTP port.
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(
      container.ports.map((p: any) => p.name),
      ['http'],
    );
  });

  test('gets volumes that name the ConfigMap the subchart renders', () => {
    const volume = pod().volumes.find((v: any) => v.name === 'tokengate-config');
    assert.equal(volume.configMap.name, 'shop-tokengate');
    const config = parseConfig(renderedConfigText(rendered, 'shop-tokengate'), 'sidecar config');
    assert.equal(config.config.grpc.address, 'unix:/var/run/tokengate/grpc.sock');
    assert.ok(pod().volumes.some((v: any) => v.name === 'tokengate-socket' && v.emptyDir));
  });

  test('renders a pod that conforms to the Kubernetes schema and the restricted standard', async () => {
    for (const manifest of rendered) await validateManifest(manifest);
    assert.deepEqual(restrictedViolations(pod()), []);
  });

  test('has its tokengate values checked by the tokengate schema', () => {
    const result = templateChart(helm!, {
      chart: app,
      release: 'shop',
      overrides: { tokengate: { sidecar: { unixSocket: 'sometimes' } } },
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /unixSocket/);
  });
});
