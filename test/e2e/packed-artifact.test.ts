import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { ROOT } from '../support/paths.js';
import { Child } from '../support/processes.js';
import { tempDir } from '../support/temp.js';
import { CheckClient } from '../support/tokengate.js';
import { createKey, jwksOf } from '../support/tokens.js';

/** Names that some installed package lists in its `dependencies`. */
function runtimeRequirements(modules: string): Set<string> {
  const names = new Set<string>();
  const folders = readdirSync(modules).flatMap((entry) =>
    entry.startsWith('@')
      ? readdirSync(join(modules, entry)).map((inner) => join(entry, inner))
      : [entry],
  );
  for (const folder of folders) {
    const manifest = join(modules, folder, 'package.json');
    if (!existsSync(manifest)) continue;
    const { dependencies = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(dependencies)) names.add(name);
  }
  return names;
}

/** Runs npm with a bounded time; throws with npm's output when it fails. */
function npm(args: string[], cwd: string, timeoutMs = 300_000): string {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: timeoutMs });
  if (result.status !== 0)
    throw new Error(
      `npm ${args.join(' ')} failed (${result.status})\n${result.stdout}${result.stderr}`,
    );
  return result.stdout;
}

/**
 * The Dockerfile's steps without Docker: `npm pack` the built project, install the tarball with
 * production dependencies only into an empty folder, and run the `tokengate` it installed.
 */
describe('the packed npm artifact, installed with production dependencies only', () => {
  const work = tempDir('tokengate-packed-');
  const app = join(work.path, 'app');
  let bin: string;
  let packedFiles: string[];

  before(() => {
    assert.ok(existsSync(join(ROOT, 'dist/src/cli/main.js')), 'run the build first');
    // The test run has just built dist/, so prepack's build is skipped here.
    const packed = JSON.parse(
      npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work.path], ROOT),
    ) as { filename: string; files: { path: string }[] }[];
    packedFiles = packed[0]!.files.map((file) => file.path);

    spawnSync('mkdir', ['-p', app]);
    npm(
      [
        'install',
        '--omit=dev',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        join(work.path, packed[0]!.filename),
      ],
      app,
    );
    bin = join(app, 'node_modules/.bin/tokengate');
  });
  after(() => work.remove());

  test('holds the compiled service and its protos, and no tests or tools', () => {
    assert.ok(packedFiles.includes('dist/src/cli/main.js'));
    assert.ok(packedFiles.includes('package.json'));
    for (const file of packedFiles)
      assert.doesNotMatch(
        file,
        /^(dist\/(test|bench|scripts)|test|\.tools|node_modules|charts)\//,
        file,
      );
    assert.equal(
      packedFiles.some((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')),
      false,
    );
  });

  test('installs the runtime dependencies and no development-only one', () => {
    const project = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
      dependencies: Record<string, string>;
    };
    for (const name of Object.keys(project.dependencies))
      assert.ok(existsSync(join(app, 'node_modules', name)), `${name} is missing`);

    // A dev dependency may still arrive as some runtime package's own dependency (protobufjs
    // needs @types/node); only one nothing at run time asks for is a leak.
    const wanted = runtimeRequirements(join(app, 'node_modules'));
    for (const name of Object.keys(project.devDependencies))
      if (!wanted.has(name))
        assert.equal(existsSync(join(app, 'node_modules', name)), false, `${name} was installed`);
  });

  test('validates a config file with check-config', async () => {
    const key = await createKey('ES256');
    const jwksFile = join(work.path, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(jwksOf(key)));
    const good = join(work.path, 'good.yaml');
    writeFileSync(
      good,
      stringify({
        issuers: [
          {
            name: 'corp',
            issuer: 'https://login.example.test/',
            audiences: ['orders-api'],
            jwks: { file: jwksFile },
            algorithms: ['ES256'],
          },
        ],
      }),
    );
    const bad = join(work.path, 'bad.yaml');
    writeFileSync(bad, stringify({ issuers: [], realm: 'x' }));

    const ok = spawnSync(bin, ['check-config', good], { cwd: app, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const refused = spawnSync(bin, ['check-config', bad], { cwd: app, encoding: 'utf8' });
    assert.equal(refused.status, 1);
  });

  test('answers Check calls in dev mode and stops cleanly on SIGTERM', async () => {
    const child = new Child(
      'tokengate-packed',
      spawn(bin, ['dev', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
        cwd: app,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const client = { current: undefined as CheckClient | undefined };
    try {
      const listening = JSON.parse(
        await child.waitForLine((line) => line.includes('"tokengate listening"')),
      ) as { grpc: string; http: string };
      const token = (await (await fetch(`http://${listening.http}/dev/token`)).text()).trim();

      client.current = new CheckClient(listening.grpc);
      const allowed = await client.current.check({
        path: '/orders',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(allowed.status.code, 0);
      const denied = await client.current.check({ path: '/orders' });
      assert.equal(denied.status.code, 16);
    } finally {
      client.current?.close();
      assert.equal(await child.stop('SIGTERM'), 0);
    }
  });
});
