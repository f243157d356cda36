/**
 * `node dist/scripts/revocation-bench.js [--seconds N] [--entries N]`: Check throughput and
 * resident memory of tokengate with no revocation entries and with 100,000, in one run.
 *
 * Two tokengate processes share a private redis-server under different key prefixes, one empty
 * and one preloaded; ghz loads each in turn (twice, interleaved) with a pool of 1,000 cached
 * RS256 tokens carrying `jti`, `sub` and `client_id`, so every check does all four lookups and
 * none matches. Needs redis-server and ghz (scripts/install-test-tools.sh --bench).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Fixtures, ISSUER, writeGhzData } from '../bench/fixtures.js';
import { runGhz, type LoadResult } from '../bench/load.js';
import { startTokengate, type ServerProcess } from '../bench/servers.js';
import { buildEntry, keyOf, type EntryKind } from '../src/revocation/entry.js';
import { startRedis } from '../test/support/redis.js';
import { findTool } from '../test/support/tools.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    entries: { type: 'string', default: '100000' },
  },
  strict: true,
});
const seconds = Number(values.seconds);
const count = Number(values.entries);
const say = (text: string) => process.stderr.write(`revocation-bench: ${text}\n`);

async function preload(url: string, prefix: string, total: number): Promise<void> {
  const redis = new Redis(url);
  const kinds: EntryKind[] = ['jti', 'digest', 'subject', 'client'];
  const lifetime = { clockSkew: 30_000, maxLifetime: 86_400_000 };
  const now = Date.now();
  for (let start = 0; start < total; start += 5_000) {
    const pipeline = redis.pipeline();
    for (let index = start; index < Math.min(start + 5_000, total); index += 1) {
      const kind = kinds[index % kinds.length]!;
      const value =
        kind === 'digest'
          ? createHash('sha256').update(String(index)).digest('base64url')
          : `${kind}-revoked-${index}`;
      const entry = buildEntry({ kind, issuer: ISSUER, value, reason: 'bench' }, lifetime, now);
      const field = keyOf(entry);
      pipeline.hset(`${prefix}revocations`, field, JSON.stringify(entry));
      pipeline.zadd(`${prefix}revocations:expiry`, entry.expiresAt, field);
    }
    await pipeline.exec();
  }
  await redis.set(`${prefix}revocations:version`, '1');
  redis.disconnect();
}

async function entriesOf(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`http://${server.httpAddress}/metrics`)).text();
  return Number(/^tokengate_revocation_entries (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function main(): Promise<void> {
  const redisBin = findTool('redis-server');
  const ghz = findTool('ghz');
  if (redisBin === undefined || ghz === undefined) {
    throw new Error('needs redis-server and ghz: run scripts/install-test-tools.sh --bench');
  }
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-revocation-bench-'));
  const redis = await startRedis(redisBin);
  const servers: ServerProcess[] = [];
  try {
    say(`preloading ${count} entries`);
    await preload(redis.url, 'full:', count);

    const fixtures = new Fixtures(dir);
    const tokens = Array.from({ length: 1_000 }, (_, index) =>
      fixtures.token('RS256', { client_id: `client-${index % 50}` }),
    );
    const dataFile = join(dir, 'checks.bin');
    writeGhzData(dataFile, tokens);

    const start = async (prefix: string) => {
      const server = await startTokengate({
        dir,
        config: {
          grpc: { address: '127.0.0.1:0' },
          http: { address: '127.0.0.1:0' },
          issuers: [fixtures.issuerConfig()],
          audit: { enabled: false },
          revocation: { store: 'redis', redis: { url: redis.url, keyPrefix: prefix } },
        },
      });
      servers.push(server);
      return server;
    };
    const empty = await start('empty:');
    const full = await start('full:');
    say(`mirrors hold ${await entriesOf(empty)} and ${await entriesOf(full)} entries`);
    const idle = { empty: empty.rssBytes(), full: full.rssBytes() };

    const results: Record<'empty' | 'full', LoadResult[]> = { empty: [], full: [] };
    const load = (server: ServerProcess) =>
      runGhz({ ghz, target: server.address, dataFile, connections: 4, concurrency: 32, seconds });
    for (let round = 0; round < 2; round += 1) {
      for (const [name, server] of [
        ['empty', empty],
        ['full', full],
      ] as const) {
        // One warm-up second fills the token cache before each measured run.
        await runGhz({
          ghz,
          target: server.address,
          dataFile,
          connections: 4,
          concurrency: 32,
          seconds: 1,
        });
        const result = await load(server);
        say(
          `${name} round ${round + 1}: ${result.rps.toFixed(0)} checks/s, p99 ${result.p99Ms.toFixed(2)} ms`,
        );
        results[name].push(result);
      }
    }

    const mean = (list: LoadResult[]) => list.reduce((sum, r) => sum + r.rps, 0) / list.length;
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    const report = {
      entries: count,
      rps: { none: Math.round(mean(results.empty)), full: Math.round(mean(results.full)) },
      changePercent: Number(((mean(results.full) / mean(results.empty) - 1) * 100).toFixed(1)),
      p99Ms: {
        none: results.empty.map((r) => Number(r.p99Ms.toFixed(2))),
        full: results.full.map((r) => Number(r.p99Ms.toFixed(2))),
      },
      failures: {
        none: results.empty.map((r) => r.failures),
        full: results.full.map((r) => r.failures),
      },
      rssMb: {
        idleNone: mb(idle.empty),
        idleFull: mb(idle.full),
        afterLoadNone: mb(empty.rssBytes()),
        afterLoadFull: mb(full.rssBytes()),
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    for (const server of servers) await server.stop();
    await redis.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`revocation-bench: ${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
