import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { watchConfigFile } from '../../src/config/watch.js';
import type { PolicyVerdict } from '../../src/decision/stages.js';
import { createLogger } from '../../src/observability/logger.js';
import { TokengateService } from '../../src/service/tokengate-service.js';
import { requestOf, tokenOf } from '../policy/fixtures.js';
import { tempDir } from '../support/temp.js';

/** A logger whose JSON lines tests can await by message. */
function capturingLogger() {
  const lines: Record<string, any>[] = [];
  const waiters: { test: (line: Record<string, any>) => boolean; resolve: (line: any) => void }[] =
    [];
  const log = createLogger({
    level: 'info',
    destination: {
      write(text: string) {
        const line = JSON.parse(text);
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.test(line)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      },
    },
  });
  const next = (msg: string, timeoutMs = 5_000): Promise<Record<string, any>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${msg}" log line`)), timeoutMs);
      waiters.push({
        test: (line) => line.msg === msg,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  return { log, lines, next };
}

const issuer = (name: string) => ({
  name,
  issuer: `https://${name}.example.test/`,
  audiences: ['api'],
  jwks: { file: `/nonexistent/${name}.json` },
  algorithms: ['RS256'],
});

/** A config whose only rule lets `/open` through anonymously, or denies it. */
const configText = (open: boolean, extra: Record<string, unknown> = {}) =>
  stringify({
    grpc: { address: '127.0.0.1:0' },
    http: { address: '127.0.0.1:0' },
    issuers: [issuer('corp')],
    policies: { rules: [open ? { allow: 'anonymous' } : { deny: true }] },
    ...extra,
  });

describe('watching the config file', () => {
  test('calls back once after a burst of writes', async () => {
    const dir = tempDir();
    const file = join(dir.path, 'tokengate.yaml');
    writeFileSync(file, 'a: 1\n');
    let calls = 0;
    let guard: NodeJS.Timeout | undefined;
    const called = new Promise<void>((resolve, reject) => {
      guard = setTimeout(() => reject(new Error('no change seen')), 5_000);
      const watch = watchConfigFile(
        file,
        () => {
          calls += 1;
          watch.close();
          resolve();
        },
        { debounce: 100 },
      );
      for (let i = 0; i < 5; i += 1) writeFileSync(file, `a: ${i}\n`);
    });
    await called;
    clearTimeout(guard);
    assert.equal(calls, 1);
    dir.remove();
  });
});

describe('live reload', () => {
  const dir = tempDir();
  const file = join(dir.path, 'tokengate.yaml');
  const { log, next } = capturingLogger();
  let service: TokengateService;

  const decide = () =>
    service.current.policy.evaluate(requestOf({ path: '/open' }), undefined) as PolicyVerdict;
  const reloads = async (result: string) => {
    const metric = await service.metrics.registry
      .getSingleMetric('tokengate_config_reloads_total')!
      .get();
    return metric.values.find((value) => value.labels.result === result)?.value ?? 0;
  };

  before(async () => {
    writeFileSync(file, configText(true));
    service = await TokengateService.start(await loadConfigFile(file), {
      log,
      configFile: file,
      startupKeyWait: 100,
      keySources: {
        corp: { kind: 'static', jwks: { keys: [] } },
        extra: { kind: 'static', jwks: { keys: [] } },
      },
    });
  });

  after(async () => {
    await service.shutdown();
    dir.remove();
  });

  test('applies a good new file and swaps the policy', async () => {
    assert.equal(decide().kind, 'allow');
    const reloaded = next('config reloaded');
    writeFileSync(file, configText(false));
    const line = await reloaded;

    assert.equal(line.configHash, service.current.hash);
    assert.equal(decide().reason, 'policy_denied');
    assert.equal(await reloads('success'), 1);
  });

  test('rejects a bad file, logs why, and keeps serving the old config', async () => {
    const before = service.current;
    const rejected = next('config reload rejected; the old config keeps serving');
    writeFileSync(
      file,
      stringify({
        issuers: [issuer('corp')],
        policies: { rules: [{ require: { expression: '1 +' } }] },
      }),
    );
    const line = await rejected;

    assert.equal(line.problems[0].field, 'policies.rules[0].require.expression');
    assert.equal(service.current, before);
    assert.equal(decide().reason, 'policy_denied');
    assert.equal(await reloads('failure'), 1);
  });

  test('logs restart-only changes as ignored and applies the rest', async () => {
    const ignored = next('config changes ignored until restart');
    const reloaded = next('config reloaded');
    writeFileSync(file, configText(true, { grpc: { address: '127.0.0.1:1' } }));
    assert.deepEqual((await ignored).fields, ['grpc']);
    await reloaded;

    assert.equal(service.current.config.grpc.address, '127.0.0.1:0');
    assert.equal(decide().kind, 'allow');
  });

  test('keeps the key store of an unchanged issuer and starts one for a new issuer', async () => {
    const reloaded = next('config reloaded');
    writeFileSync(file, configText(true, { issuers: [issuer('corp'), issuer('extra')] }));
    const line = await reloaded;
    assert.deepEqual(line.issuersAdded, ['extra']);
    assert.deepEqual(line.issuersRemoved, []);

    const removed = next('config reloaded');
    writeFileSync(file, configText(true));
    assert.deepEqual((await removed).issuersRemoved, ['extra']);
  });

  test('a new issuer rule clears the token cache', async () => {
    const cache = (service as unknown as { cache: { set: Function; size: number } }).cache;
    cache.set('digest', tokenOf(), 60_000);
    assert.equal(cache.size, 1);

    const reloaded = next('config reloaded');
    writeFileSync(
      file,
      configText(true, { issuers: [{ ...issuer('corp'), audiences: ['other'] }] }),
    );
    await reloaded;
    assert.equal(cache.size, 0);
  });
});

describe('live reload through a ConfigMap symlink swap', () => {
  const dir = tempDir();
  const { log, next } = capturingLogger();
  let service: TokengateService;

  /** Lays out a version as the kubelet does: `..<version>/file`, then swaps `..data` to it. */
  const publish = (version: string, text: string) => {
    mkdirSync(join(dir.path, `..${version}`));
    writeFileSync(join(dir.path, `..${version}`, 'tokengate.yaml'), text);
    symlinkSync(`..${version}`, join(dir.path, '..data_tmp'));
    renameSync(join(dir.path, '..data_tmp'), join(dir.path, '..data'));
  };

  before(async () => {
    publish('v1', configText(true));
    symlinkSync('..data/tokengate.yaml', join(dir.path, 'tokengate.yaml'));
    const file = join(dir.path, 'tokengate.yaml');
    service = await TokengateService.start(await loadConfigFile(file), {
      log,
      configFile: file,
      startupKeyWait: 100,
      keySources: { corp: { kind: 'static', jwks: { keys: [] } } },
    });
  });

  after(async () => {
    await service.shutdown();
    dir.remove();
  });

  test('picks up the new version when ..data is swapped', async () => {
    const evaluate = () =>
      service.current.policy.evaluate(requestOf({ path: '/open' }), undefined) as PolicyVerdict;
    assert.equal(evaluate().kind, 'allow');

    const reloaded = next('config reloaded');
    publish('v2', configText(false));
    await reloaded;
    assert.equal(evaluate().reason, 'policy_denied');
  });
});
