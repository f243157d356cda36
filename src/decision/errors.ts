import { REASONS, type ReasonCode } from './reasons.js';

/**
 * Base of every failure that ends a check. `code` is stable and comes from {@link REASONS};
 * `message` is for operators and never contains a token or claim value.
 */
export class TokengateError extends Error {
  readonly code: ReasonCode;

  constructor(code: ReasonCode, message: string = REASONS[code].description) {
    super(message);
    this.name = 'TokengateError';
    this.code = code;
  }
}

/** Thrown where input asks for a feature this build does not have. */
export class NotSupportedError extends Error {
  readonly code = 'not_supported';

  constructor(message: string) {
    super(message);
    this.name = 'NotSupportedError';
  }
}
