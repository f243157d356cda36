import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI } from '../support/paths.js';
import { startChild } from '../support/processes.js';
import { startRedis, type RunningRedis } from '../support/redis.js';
import { tempDir } from '../support/temp.js';
import { startTokengate } from '../support/tokengate.js';
import { suiteTool } from '../support/tools.js';

const [redisBin, missing] = suiteTool('redis-server');

describe('a Redis password from a file', { skip: missing }, () => {
  let redis: RunningRedis;
  const dir = tempDir();
  const passwordFile = join(dir.path, 'password');

  before(async () => {
    redis = await startRedis(redisBin!, { password: 's3cret-redis-pass' });
    writeFileSync(passwordFile, 's3cret-redis-pass\n');
  });

  after(async () => {
    await redis?.remove();
    dir.remove();
  });

  const config = (redisSettings: Record<string, unknown>) => ({
    issuers: [
      {
        name: 'corp',
        issuer: 'https://login.example.test/',
        audiences: ['api'],
        jwks: { file: join(dir.path, 'jwks.json') },
        algorithms: ['ES256'],
      },
    ],
    revocation: {
      store: 'redis',
      mode: 'failClosed',
      staleAfter: '1s',
      redis: { url: redis.url, ...redisSettings },
    },
  });

  async function readiness(
    redisSettings: Record<string, unknown>,
  ): Promise<{ ready: boolean; problems: string[] }> {
    writeFileSync(join(dir.path, 'jwks.json'), JSON.stringify({ keys: [] }));
    const tokengate = await startTokengate(config(redisSettings));
    try {
      // The mirror loads at start when Redis lets it in; give a refused one time to go stale.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return (await (await fetch(`http://${tokengate.httpAddress}/readyz`)).json()) as never;
    } finally {
      await tokengate.stop();
    }
  }

  test('authenticates to Redis with the password read from passwordFile', async () => {
    const withPassword = await readiness({ passwordFile });
    assert.ok(
      !withPassword.problems.some((problem) => /revocation/.test(problem)),
      withPassword.problems.join('; '),
    );

    const without = await readiness({});
    assert.ok(
      without.problems.some((problem) => /revocation/.test(problem)),
      without.problems.join('; '),
    );
  });

  test('refuses to start when passwordFile cannot be read, naming the field', async () => {
    const path = join(dir.path, 'tokengate.yaml');
    writeFileSync(
      path,
      JSON.stringify({
        grpc: { address: '127.0.0.1:0' },
        http: { address: '127.0.0.1:0' },
        ...config({ passwordFile: join(dir.path, 'absent') }),
      }),
    );
    const child = startChild('tokengate', process.execPath, [CLI, 'serve', '--config', path]);
    assert.notEqual(await child.exited, 0);
    assert.match(child.stderr.join('\n'), /revocation\.redis\.passwordFile/);
    assert.ok(!child.stdout.some((line) => line.includes('tokengate listening')));
  });
});
