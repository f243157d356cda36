import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import {
  DEFAULT_SOFT_LIMIT_MB,
  growingPercentFor,
  heapGrowthFromCommandLine,
  MAX_GROWING_PERCENT,
  MIN_GROWING_PERCENT,
  RELEASE_SHARE,
  SoftMemoryLimit,
  softLimitBytes,
} from '../../src/service/memory-limit.js';

const MB = 2 ** 20;
const GB = 2 ** 30;
const silent = pino({ level: 'silent' });
const MODULE = fileURLToPath(new URL('../../src/service/memory-limit.js', import.meta.url));

describe('soft memory limit', () => {
  test('takes the configured size, a share of the container limit, or the default', () => {
    assert.equal(softLimitBytes('off', 1, 512 * MB, 16 * GB), undefined);
    assert.equal(softLimitBytes(300, 4, 512 * MB, 16 * GB), 300 * MB);
    assert.equal(softLimitBytes('auto', 1, 512 * MB, 16 * GB), 384 * MB);
    assert.equal(softLimitBytes('auto', 2, 512 * MB, 16 * GB), 192 * MB);
    // No container limit reads as 0 or as 2^64 - 1, depending on the Node version.
    assert.equal(softLimitBytes('auto', 1, 0, 16 * GB), DEFAULT_SOFT_LIMIT_MB * MB);
    assert.equal(softLimitBytes('auto', 1, 2 ** 64 - 1, 16 * GB), DEFAULT_SOFT_LIMIT_MB * MB);
    assert.equal(softLimitBytes('auto', 1, undefined, 16 * GB), DEFAULT_SOFT_LIMIT_MB * MB);
  });

  test('lets the old generation fill what is left under the limit, within bounds', () => {
    const at = (rss: number, oldCommitted: number, live: number) =>
      growingPercentFor({
        rss: rss * MB,
        limitBytes: 190 * MB,
        oldCommitted: oldCommitted * MB,
        live: live * MB,
      });
    // 40 MB of headroom on top of 60 MB committed: 100 MB for a 40 MB live set.
    assert.equal(at(150, 60, 40), 150);
    // Over the target, the old generation must shrink below its committed size.
    assert.equal(at(200, 70, 40), 50);
    // A larger live set in the same room collects more often.
    assert.equal(at(150, 60, 60), 66);
    assert.equal(at(250, 60, 55), MIN_GROWING_PERCENT, 'never below the floor');
    assert.equal(at(100, 60, 10), MAX_GROWING_PERCENT, 'never past the ceiling');
  });

  test('bounds growth over the limit, follows the live size, lets go well under it', () => {
    let rss = 100 * MB;
    let old = { committed: 60 * MB, used: 58 * MB };
    let collected: (() => void) | undefined;
    const set: number[] = [];
    const limit = new SoftMemoryLimit({
      limitBytes: 200 * MB,
      log: silent,
      readRss: () => rss,
      readOldGeneration: () => old,
      setGrowingPercent: (percent) => set.push(percent),
      onFullCollection: (callback) => {
        collected = callback;
        return () => (collected = undefined);
      },
    });
    const at = (mb: number) => {
      rss = mb * MB;
      limit.check();
      return limit.bounded;
    };
    assert.equal(at(150), false);
    assert.equal(collected, undefined, 'no collection is observed while V8 decides');
    assert.equal(at(201), true);
    // Until a full collection is seen, the old generation's use stands in for the live size.
    const expected = (live: number) =>
      growingPercentFor({ rss, limitBytes: 200 * MB, oldCommitted: old.committed, live });
    assert.equal(limit.growingPercent, expected(58 * MB));
    assert.equal(limit.growingPercent, MIN_GROWING_PERCENT);

    // A full collection leaves 30 MB alive and gives pages back: more room, more growth.
    old = { committed: 40 * MB, used: 30 * MB };
    collected!();
    assert.equal(at(170), true);
    assert.equal(limit.growingPercent, expected(30 * MB));
    assert.ok(limit.growingPercent > MIN_GROWING_PERCENT);
    const afterCollection = set.length;
    assert.equal(at(170), true);
    assert.equal(set.length, afterCollection, 'the flag is set only when the growth changes');

    assert.equal(at(200 * RELEASE_SHARE + 1), true, 'still bounded just above the release point');
    assert.equal(at(200 * RELEASE_SHARE - 1), false);
    assert.equal(collected, undefined, 'the observer stops with the bound');
    assert.equal(limit.growingPercent, 0);
    assert.equal(set.at(-1), 0, "V8's heuristic is given back");
    assert.equal(at(199), false);
    at(300);
    assert.ok(set.at(-1)! > 0);
    limit.stop();
    assert.equal(limit.bounded, false);
    assert.equal(set.at(-1), 0, 'stop gives it back');
  });

  test('leaves the heap to the command line when it sets the growth', () => {
    assert.equal(heapGrowthFromCommandLine(['--heap-growing-percent=50']), true);
    assert.equal(heapGrowthFromCommandLine(['--heap_growing_percent=0']), true);
    assert.equal(heapGrowthFromCommandLine(['--max-old-space-size=512']), false);
  });

  test('over the limit, keeps the old generation well below what V8 grows it to by itself', () => {
    const bounded = churn(32);
    const unbounded = churn(undefined);
    assert.equal(bounded.bounded, true);
    assert.equal(unbounded.bounded, false);
    assert.ok(
      bounded.maxOldMb < unbounded.maxOldMb * 0.8,
      `old generation peaked at ${bounded.maxOldMb.toFixed(0)} MB limited, ${unbounded.maxOldMb.toFixed(0)} MB not`,
    );
  });
});

/**
 * Runs, in a fresh process, a load shaped like the service's under saturation: a small live set
 * and a stream of objects that each live long enough (200,000 at a time) to be promoted before
 * they die, with a soft limit of `limitMb` (or none) checked every 20 ms by the real flag setter.
 */
function churn(limitMb: number | undefined): { bounded: boolean; maxOldMb: number } {
  const script = `
    import v8 from 'node:v8';
    import { pino } from 'pino';
    const { SoftMemoryLimit } = await import(${JSON.stringify(MODULE)});
    const limit = ${limitMb === undefined ? 'undefined' : `new SoftMemoryLimit({ limitBytes: ${limitMb} * 2 ** 20, log: pino({ level: 'silent' }), intervalMs: 20 })`};
    limit?.start();
    const live = Array.from({ length: 100_000 }, (_, i) => ({ i, s: 'entry-' + i }));
    const ring = new Array(200_000);
    let maxOld = 0;
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 100_000; i++) {
        ring[(round * 100_000 + i) % ring.length] = { i, payload: [i, i + 1], s: 'x' + (i % 1000) };
      }
      const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size;
      if (old > maxOld) maxOld = old;
      limit?.check();
    }
    const bounded = limit?.bounded ?? false;
    limit?.stop();
    console.log(JSON.stringify({ bounded, maxOldMb: maxOld / 2 ** 20, live: live.length }));
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { bounded: boolean; maxOldMb: number };
}
