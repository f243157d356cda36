import { pino } from 'pino';
import type { IssuerConfig } from '../../src/config/schema.js';

/** A logger that writes nothing, for units that need one. */
export const silent = pino({ level: 'silent' });

/** A frozen clock in milliseconds that tests move by hand. */
export class FrozenClock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
  get seconds(): number {
    return Math.floor(this.ms / 1000);
  }
}

/** An issuer config as the schema would produce it (durations in milliseconds). */
export function issuerConfig(overrides: Partial<IssuerConfig> = {}): IssuerConfig {
  return {
    name: 'corp',
    issuer: 'https://login.example.test/',
    audiences: ['orders-api'],
    jwks: {
      file: '/nonexistent/jwks.json',
      refreshInterval: 3_600_000,
      cooldown: 30_000,
      timeout: 2_000,
      gracePeriod: 60_000,
    },
    algorithms: ['RS256', 'ES256'],
    clockSkew: 0,
    ...overrides,
  } as IssuerConfig;
}
