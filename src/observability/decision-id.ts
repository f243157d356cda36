import { randomFillSync } from 'node:crypto';

/** Crockford base32, the ULID alphabet: sorts the same as the time it encodes. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;
let lastTime = -1;
let lastPrefix = '';

/**
 * A new decision id: 26 characters in the ULID layout, 48 bits of milliseconds since the epoch
 * then 80 random bits. Ids sort by time, so a log search by id range is a search by time.
 * Random bytes come from a pooled buffer so one id costs no system call.
 */
export function newDecisionId(now: number = Date.now()): string {
  if (now !== lastTime) {
    lastTime = now;
    lastPrefix = timePrefix(now);
  }

  if (offset + 16 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += 16;
  return (
    lastPrefix +
    ALPHABET[pool[at]! & 31]! +
    ALPHABET[pool[at + 1]! & 31]! +
    ALPHABET[pool[at + 2]! & 31]! +
    ALPHABET[pool[at + 3]! & 31]! +
    ALPHABET[pool[at + 4]! & 31]! +
    ALPHABET[pool[at + 5]! & 31]! +
    ALPHABET[pool[at + 6]! & 31]! +
    ALPHABET[pool[at + 7]! & 31]! +
    ALPHABET[pool[at + 8]! & 31]! +
    ALPHABET[pool[at + 9]! & 31]! +
    ALPHABET[pool[at + 10]! & 31]! +
    ALPHABET[pool[at + 11]! & 31]! +
    ALPHABET[pool[at + 12]! & 31]! +
    ALPHABET[pool[at + 13]! & 31]! +
    ALPHABET[pool[at + 14]! & 31]! +
    ALPHABET[pool[at + 15]! & 31]!
  );
}

function timePrefix(now: number): string {
  let prefix = '';
  let time = now;
  for (let i = 0; i < 10; i++) {
    prefix = ALPHABET[time % 32]! + prefix;
    time = Math.floor(time / 32);
  }
  return prefix;
}

/** Whether `text` has the shape of a decision id. */
export function isDecisionId(text: string): boolean {
  return /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(text);
}
