import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { SignJWT, exportSPKI, type JWSHeaderParameters, type FlattenedJWSInput } from 'jose';
import type { IssuerConfig } from '../../src/config/schema.js';
import { IssuerKeyStore, type KeySource } from '../../src/tokens/key-store.js';
import { TokenCache } from '../../src/tokens/token-cache.js';
import { TokenVerifier } from '../../src/tokens/verifier.js';
import type { VerifiedToken } from '../../src/tokens/verified-token.js';
import { JwksServer } from '../support/jwks-server.js';
import { b64, createKey, jwksOf, signToken, type TestKey } from '../support/tokens.js';
import { FrozenClock, issuerConfig, silent } from './support.js';

const ISS = 'https://login.example.test/';
const AUD = 'orders-api';
const START = 1_800_000_000_000;

const [rsa, ec, other] = await Promise.all([
  createKey('RS256', 'rsa-1'),
  createKey('ES256', 'ec-1'),
  createKey('RS256', 'other-1'),
]);

/** A TokenCache that remembers the TTL of every entry it stores. */
class RecordingCache extends TokenCache {
  readonly ttls: number[] = [];
  override set(digest: string, token: VerifiedToken, ttl: number): void {
    this.ttls.push(ttl);
    super.set(digest, token, ttl);
  }
}

interface Harness {
  clock: FrozenClock;
  cache: RecordingCache;
  verifier: TokenVerifier;
  stores: IssuerKeyStore[];
  resolves: () => number;
  code(token: string): Promise<string | undefined>;
}

const stores: IssuerKeyStore[] = [];
const servers: JwksServer[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.stop();
});
after(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

async function harness(
  issuers: { config?: Partial<IssuerConfig>; source: KeySource }[],
  clock = new FrozenClock(START),
): Promise<Harness> {
  const cache = new RecordingCache(100);
  let resolves = 0;
  const trusted = await Promise.all(
    issuers.map(async ({ config, source }) => {
      const full = issuerConfig(config);
      const store = new IssuerKeyStore(
        full.name,
        source,
        full.jwks,
        silent,
        { onKeysRemoved: () => cache.dropIssuer(full.name) },
        clock.now,
      );
      stores.push(store);
      await store.start();
      const resolve = store.resolve;
      Object.defineProperty(store, 'resolve', {
        value: (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
          resolves += 1;
          return resolve(header, token);
        },
      });
      return { config: full, keys: store };
    }),
  );
  const verifier = new TokenVerifier(trusted, cache, clock.now);
  return {
    clock,
    cache,
    verifier,
    stores: trusted.map((entry) => entry.keys),
    resolves: () => resolves,
    code: async (token) => {
      try {
        await verifier.verify(token);
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    },
  };
}

const staticKeys = (...keys: TestKey[]): KeySource => ({ kind: 'static', jwks: jwksOf(...keys) });

function sign(
  key: TestKey,
  clock: FrozenClock,
  options: Partial<Parameters<typeof signToken>[1]> = {},
) {
  return signToken(key, {
    issuer: ISS,
    audience: AUD,
    subject: 'alice',
    now: clock.seconds,
    ...options,
  });
}

async function serve(jwks: unknown): Promise<JwksServer> {
  const server = await new JwksServer(jwks).start();
  servers.push(server);
  return server;
}

describe('TokenVerifier', () => {
  test('accepts a valid token and names the configured issuer, not the URL', async () => {
    const h = await harness([{ source: staticKeys(rsa, ec) }]);
    const verified = await h.verifier.verify(await sign(ec, h.clock));
    assert.equal(verified.issuer, 'corp');
    assert.equal(verified.claims.sub, 'alice');
    assert.equal(verified.header.kid, 'ec-1');
    assert.equal(verified.fingerprint, verified.digest.slice(0, 16));
  });

  describe('issuer selection', () => {
    const twoIssuers = () =>
      harness([
        { config: { name: 'a', issuer: 'https://a.example.test/' }, source: staticKeys(rsa) },
        { config: { name: 'b', issuer: 'https://b.example.test/' }, source: staticKeys(other) },
      ]);

    test('verifies a token only against the keys of the issuer its iss names', async () => {
      const h = await twoIssuers();
      const byB = (key: TestKey, issuer: string, header = {}) =>
        signToken(key, { issuer, audience: AUD, now: h.clock.seconds, header });

      assert.equal(await h.code(await byB(other, 'https://b.example.test/')), undefined);
      // Claims issuer A, signed by issuer B's key: A's set has no such kid.
      assert.equal(await h.code(await byB(other, 'https://a.example.test/')), 'key_not_found');
      // Same, but pointing at A's kid: A's key does not verify B's signature.
      assert.equal(
        await h.code(await byB(other, 'https://a.example.test/', { kid: 'rsa-1' })),
        'signature_invalid',
      );
    });

    test('requires an exact iss match', async () => {
      const h = await harness([{ source: staticKeys(rsa) }]);
      for (const issuer of [
        'https://login.example.test',
        'https://LOGIN.example.test/',
        'https://login.example.test/ ',
        'https://login.example.test//',
      ]) {
        assert.equal(await h.code(await sign(rsa, h.clock, { issuer })), 'issuer_unknown', issuer);
      }
    });

    test('denies a token without iss, or with a non-string iss, as issuer_unknown', async () => {
      const h = await harness([{ source: staticKeys(rsa) }]);
      const noIss = await new SignJWT({ aud: AUD, exp: h.clock.seconds + 60 })
        .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
        .sign(rsa.privateKey);
      const arrayIss = await new SignJWT({
        iss: [ISS] as never,
        aud: AUD,
        exp: h.clock.seconds + 60,
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
        .sign(rsa.privateKey);
      assert.equal(await h.code(noIss), 'issuer_unknown');
      assert.equal(await h.code(arrayIss), 'issuer_unknown');
    });
  });

  describe('algorithms', () => {
    test('denies HS256 signed with the issuer RSA public key as the secret', async () => {
      const h = await harness([{ source: staticKeys(rsa) }]);
      const secret = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
      const forged = await new SignJWT({ aud: AUD, sub: 'mallory' })
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
        .setIssuer(ISS)
        .setExpirationTime(h.clock.seconds + 60)
        .sign(secret);
      assert.equal(await h.code(forged), 'algorithm_not_allowed');
      assert.equal(h.resolves(), 0, 'no key is looked up for a refused algorithm');
    });

    test('denies alg none, with or without a signature', async () => {
      const h = await harness([{ source: staticKeys(rsa) }]);
      const payload = b64({ iss: ISS, aud: AUD, exp: h.clock.seconds + 60 });
      for (const alg of ['none', 'None', 'NONE']) {
        assert.equal(await h.code(`${b64({ alg })}.${payload}.`), 'token_malformed', alg);
        assert.equal(await h.code(`${b64({ alg })}.${payload}.AAAA`), 'algorithm_not_allowed', alg);
      }
    });

    test('denies an asymmetric algorithm that is not in the issuer allow-list', async () => {
      const h = await harness([{ config: { algorithms: ['ES256'] }, source: staticKeys(rsa, ec) }]);
      assert.equal(await h.code(await sign(rsa, h.clock)), 'algorithm_not_allowed');
      assert.equal(await h.code(await sign(ec, h.clock)), undefined);
    });

    test('denies a token whose alg differs from the alg its key declares', async () => {
      const h = await harness([
        { config: { algorithms: ['RS256', 'PS256'] }, source: staticKeys(rsa) },
      ]);
      const ps = await createKey('PS256', 'rsa-1');
      assert.equal(await h.code(await sign(ps, h.clock)), 'key_not_found');
    });
  });

  describe('claims', () => {
    test('accepts a token whose aud intersects the configured audiences', async () => {
      const h = await harness([
        { config: { audiences: ['orders-api', 'billing'] }, source: staticKeys(rsa) },
      ]);
      assert.equal(
        await h.code(await sign(rsa, h.clock, { audience: ['other', 'billing'] })),
        undefined,
      );
      assert.equal(await h.code(await sign(rsa, h.clock, { audience: 'billing' })), undefined);
      assert.equal(
        await h.code(await sign(rsa, h.clock, { audience: ['other', 'more'] })),
        'audience_mismatch',
      );
    });

    test('denies a token without aud', async () => {
      const h = await harness([{ source: staticKeys(rsa) }]);
      const noAud = await signToken(rsa, { issuer: ISS, now: h.clock.seconds });
      assert.equal(await h.code(noAud), 'claim_missing');
    });

    test('requires exp', async () => {
      const h = await harness([{ source: staticKeys(rsa) }]);
      assert.equal(await h.code(await sign(rsa, h.clock, { expiresIn: null })), 'claim_missing');
    });

    test('denies expired, not yet valid and too old tokens with their own codes', async () => {
      const h = await harness([
        { config: { clockSkew: 10_000, maxTokenAge: 600_000 }, source: staticKeys(rsa) },
      ]);
      const s = h.clock.seconds;
      assert.equal(
        await h.code(await sign(rsa, h.clock, { now: s - 100, expiresIn: 90 })),
        'token_expired',
      );
      assert.equal(
        await h.code(await sign(rsa, h.clock, { now: s - 100, expiresIn: 95 })),
        undefined,
      );
      assert.equal(
        await h.code(await sign(rsa, h.clock, { claims: { nbf: s + 11 } })),
        'token_not_yet_valid',
      );
      assert.equal(
        await h.code(await sign(rsa, h.clock, { now: s + 11 })),
        'token_issued_in_future',
      );
      assert.equal(
        await h.code(await sign(rsa, h.clock, { now: s - 611, expiresIn: 3_600 })),
        'token_too_old',
      );
    });

    test('accepts both at+jwt and application/at+jwt when a typ is required', async () => {
      const h = await harness([{ config: { requiredType: 'at+jwt' }, source: staticKeys(rsa) }]);
      for (const typ of ['at+jwt', 'application/at+jwt']) {
        assert.equal(await h.code(await sign(rsa, h.clock, { header: { typ } })), undefined, typ);
      }
      for (const typ of ['JWT', 'jwt', 'application/jwt', 'at+jwt2', 'xat+jwt']) {
        assert.equal(
          await h.code(await sign(rsa, h.clock, { header: { typ } })),
          'type_mismatch',
          typ,
        );
      }
      assert.equal(await h.code(await sign(rsa, h.clock)), 'type_mismatch', 'typ absent');
    });
  });

  describe('key selection', () => {
    test('never uses a key embedded in the jwk header', async () => {
      const h = await harness([{ source: staticKeys(rsa) }]);
      const attacker = await createKey('RS256', 'rsa-1');
      const withOwnKid = await sign(attacker, h.clock, { header: { jwk: attacker.publicJwk } });
      const withNewKid = await sign(attacker, h.clock, {
        header: { kid: 'attacker', jwk: attacker.publicJwk },
      });
      assert.equal(await h.code(withOwnKid), 'signature_invalid');
      assert.equal(await h.code(withNewKid), 'key_not_found');
    });

    test('never fetches keys named by jku or x5u, nor uses x5c', async () => {
      const h = await harness([{ source: staticKeys(rsa) }]);
      const attacker = await createKey('RS256', 'rsa-1');
      const trap = await serve(jwksOf(attacker));
      for (const header of [
        { jku: trap.uri },
        { x5u: trap.uri },
        { x5c: [Buffer.from('not a certificate').toString('base64')] },
      ]) {
        const token = await sign(attacker, h.clock, { header });
        assert.equal(await h.code(token), 'signature_invalid', Object.keys(header)[0]);
      }
      assert.equal(trap.requests, 0);
    });

    test('tries each key when a token without kid matches several keys of the set', async () => {
      const second = await createKey('RS256', 'rsa-2');
      const h = await harness([{ source: staticKeys(rsa, second) }]);
      const token = await new SignJWT({ aud: AUD })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer(ISS)
        .setExpirationTime(h.clock.seconds + 60)
        .sign(second.privateKey);
      assert.equal(await h.code(token), undefined);
      const foreign = await new SignJWT({ aud: AUD })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer(ISS)
        .setExpirationTime(h.clock.seconds + 60)
        .sign(other.privateKey);
      assert.equal(await h.code(foreign), 'signature_invalid');
    });

    test('denies an unknown kid with key_not_found and refreshes at most once per cooldown', async () => {
      const jwks = await serve(jwksOf(rsa));
      const h = await harness([
        {
          config: {
            jwks: { ...issuerConfig().jwks, uri: jwks.uri, file: undefined, cooldown: 30_000 },
          },
          source: { kind: 'uri', uri: jwks.uri },
        },
      ]);
      const store = h.stores[0]!;
      const inFlight = () => (store as unknown as { inFlight?: Promise<unknown> }).inFlight;
      assert.equal(jwks.requests, 1, 'the initial load');

      const stranger = await createKey('RS256', 'rotated-in');
      assert.equal(await h.code(await sign(stranger, h.clock)), 'key_not_found');
      assert.equal(inFlight(), undefined, 'the initial load counts against the cooldown');

      h.clock.advance(30_000);

      assert.equal(await h.code(await sign(stranger, h.clock)), 'key_not_found');
      assert.ok(inFlight() !== undefined, 'an unknown kid starts one background refresh');
      await inFlight();
      assert.equal(jwks.requests, 2);

      h.clock.advance(29_999);
      for (let i = 0; i < 5; i += 1) {
        assert.equal(await h.code(await sign(stranger, h.clock)), 'key_not_found');
        assert.equal(inFlight(), undefined, 'no refresh within the cooldown');
      }
      assert.equal(jwks.requests, 2);

      jwks.setKeys(jwksOf(rsa, stranger));
      h.clock.advance(1);
      assert.equal(await h.code(await sign(stranger, h.clock)), 'key_not_found');
      await inFlight();
      assert.equal(jwks.requests, 3);
      assert.equal(
        await h.code(await sign(stranger, h.clock)),
        undefined,
        'the rotated key now verifies',
      );
    });
  });

  describe('cache', () => {
    test('verifies a repeated token once', async () => {
      const h = await harness([{ source: staticKeys(rsa) }]);
      const token = await sign(rsa, h.clock);
      for (let i = 0; i < 5; i += 1) assert.equal(await h.code(token), undefined);
      assert.equal(h.resolves(), 1);
      assert.equal(h.cache.hits, 4);
    });

    test('re-checks time claims on a hit: a cached token expires like a fresh one', async () => {
      const h = await harness([{ config: { clockSkew: 5_000 }, source: staticKeys(rsa) }]);
      const token = await sign(rsa, h.clock, { expiresIn: 60 });
      assert.equal(await h.code(token), undefined);
      h.clock.advance(64_999);
      assert.equal(await h.code(token), undefined);
      h.clock.advance(1);
      assert.equal(await h.code(token), 'token_expired');
      assert.equal(h.resolves(), 1, 'the expiry came from the cached entry');
    });

    test('stores an entry for no longer than exp plus skew', async () => {
      const h = await harness([{ config: { clockSkew: 5_000 }, source: staticKeys(rsa) }]);
      await h.verifier.verify(await sign(rsa, h.clock, { expiresIn: 60 }));
      assert.deepEqual(h.cache.ttls, [65_000]);
    });

    test('does not cache a failed verification', async () => {
      const h = await harness([{ source: staticKeys(rsa) }]);
      const token = await sign(other, h.clock, { header: { kid: 'rsa-1' } });
      assert.equal(await h.code(token), 'signature_invalid');
      assert.equal(await h.code(token), 'signature_invalid');
      assert.equal(h.cache.size, 0);
      assert.equal(h.resolves(), 2);
    });

    test('drops the cached tokens of an issuer when a key leaves its set', async () => {
      const jwks = await serve(jwksOf(rsa, ec));
      const h = await harness([
        {
          config: { jwks: { ...issuerConfig().jwks, uri: jwks.uri, file: undefined } },
          source: { kind: 'uri', uri: jwks.uri },
        },
      ]);
      const token = await sign(rsa, h.clock);
      assert.equal(await h.code(token), undefined);
      assert.equal(h.cache.size, 1);

      jwks.setKeys(jwksOf(ec));
      assert.equal(await h.stores[0]!.refresh(), 'updated');
      assert.equal(h.cache.size, 0);
      assert.equal(await h.code(token), 'key_not_found');
    });
  });

  describe('key availability', () => {
    test('denies with keys_unavailable when the issuer never loaded keys', async () => {
      const jwks = await serve(jwksOf(rsa));
      await jwks.down();
      const h = await harness([
        {
          config: { jwks: { ...issuerConfig().jwks, uri: jwks.uri, file: undefined } },
          source: { kind: 'uri', uri: jwks.uri },
        },
      ]);
      assert.equal(h.stores[0]!.state, 'loading');
      assert.equal(await h.code(await sign(rsa, h.clock)), 'keys_unavailable');
    });

    test('keeps serving the last good keys while the JWKS is down, until the grace period ends', async () => {
      const jwks = await serve(jwksOf(rsa));
      const h = await harness([
        {
          config: {
            jwks: { ...issuerConfig().jwks, uri: jwks.uri, file: undefined, gracePeriod: 60_000 },
          },
          source: { kind: 'uri', uri: jwks.uri },
        },
      ]);
      const store = h.stores[0]!;
      const early = await sign(rsa, h.clock, { expiresIn: 3_600 });
      assert.equal(await h.code(early), undefined);

      await jwks.down();
      h.clock.advance(30_000);
      assert.equal(await store.refresh(), 'failed');
      assert.equal(store.state, 'stale');
      const during = await sign(rsa, h.clock, { expiresIn: 3_600 });
      assert.equal(await h.code(during), undefined, 'a new token verifies with the last good keys');
      assert.equal(await h.code(early), undefined);

      h.clock.advance(30_000);
      assert.equal(await h.code(during), undefined, 'exactly at the end of the grace period');

      h.clock.advance(1);
      assert.equal(await h.code(during), 'keys_unavailable', 'a cached token stops with the keys');
      assert.equal(await h.code(await sign(rsa, h.clock)), 'keys_unavailable');
      assert.equal(store.state, 'expired');
      assert.equal(h.cache.size, 0);

      await jwks.up();
      assert.equal(await store.refresh(), 'updated');
      assert.equal(await h.code(during), undefined, 'keys come back with the JWKS');
    });
  });
});
