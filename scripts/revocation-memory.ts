/**
 * `node --expose-gc dist/scripts/revocation-memory.js [--entries N]`: heap bytes per revocation
 * entry in the mirror, and the cost of one check's lookup with no entries and with N, measured
 * in-process so the figure is not drowned by load-generator noise.
 */
import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { buildEntry, type EntryKind } from '../src/revocation/entry.js';
import { RevocationSet, type RevocableToken } from '../src/revocation/revocation-set.js';

const { values } = parseArgs({
  options: { entries: { type: 'string', default: '100000' } },
  strict: true,
});
const count = Number(values.entries);
const ISS = 'https://login.example.test/';
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function fill(set: RevocationSet, total: number): void {
  const kinds: EntryKind[] = ['jti', 'digest', 'subject', 'client'];
  const lifetime = { clockSkew: 30_000, maxLifetime: 86_400_000 };
  const now = Date.now();
  for (let index = 0; index < total; index += 1) {
    const kind = kinds[index % kinds.length]!;
    const value =
      kind === 'jti'
        ? randomUUID()
        : kind === 'digest'
          ? createHash('sha256').update(String(index)).digest('base64url')
          : `${kind}-${index}`;
    // Through JSON, as entries arrive from Redis, so every string is its own copy.
    set.put(JSON.parse(JSON.stringify(buildEntry({ kind, issuer: ISS, value }, lifetime, now))));
  }
}

function lookupNs(set: RevocationSet, tokens: RevocableToken[], rounds: number): number {
  const now = Date.now();
  let hits = 0;
  const started = process.hrtime.bigint();
  for (let round = 0; round < rounds; round += 1) {
    for (const token of tokens) if (set.findFor(token, now) !== undefined) hits += 1;
  }
  const ns = Number(process.hrtime.bigint() - started) / (rounds * tokens.length);
  if (hits !== 0) throw new Error('bench tokens must not be revoked');
  return ns;
}

const now = Math.floor(Date.now() / 1000);
const tokens: RevocableToken[] = Array.from({ length: 1_000 }, (_, index) => ({
  claims: {
    iss: ISS,
    sub: `user-${index}`,
    client_id: `app-${index % 50}`,
    jti: randomUUID(),
    iat: now,
    exp: now + 300,
  },
  signingInputDigest: createHash('sha256').update(`token-${index}`).digest('base64url'),
}));

const empty = new RevocationSet();
gc();
const before = process.memoryUsage();
const full = new RevocationSet();
fill(full, count);
gc();
const after = process.memoryUsage();

lookupNs(empty, tokens, 200);
lookupNs(full, tokens, 200);
const results = { none: [] as number[], full: [] as number[] };
for (let round = 0; round < 3; round += 1) {
  results.none.push(lookupNs(empty, tokens, 1_000));
  results.full.push(lookupNs(full, tokens, 1_000));
}
const best = (list: number[]) => Math.min(...list);
process.stdout.write(
  `${JSON.stringify(
    {
      entries: full.size,
      heapBytesPerEntry: Math.round((after.heapUsed - before.heapUsed) / count),
      heapMb: Number(((after.heapUsed - before.heapUsed) / 1024 / 1024).toFixed(1)),
      rssDeltaMb: Number(((after.rss - before.rss) / 1024 / 1024).toFixed(1)),
      lookupNsPerCheck: {
        none: Number(best(results.none).toFixed(0)),
        full: Number(best(results.full).toFixed(0)),
      },
    },
    null,
    2,
  )}\n`,
);
