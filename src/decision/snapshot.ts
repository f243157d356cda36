import type { Config } from '../config/schema.js';
import type { TokenVerifier } from '../tokens/verifier.js';
import type { PolicyStage, RevocationStage } from './stages.js';

/**
 * Everything one check needs, built from one config. A check takes the current snapshot when it
 * starts and keeps it to the end, so a reload never shows it half of two configs.
 */
export interface Snapshot {
  readonly config: Config;
  /** Short hash of the config text, for logs and the config info metric. */
  readonly hash: string;
  readonly verifier: TokenVerifier;
  /** Who may call what; {@link REQUIRE_TOKEN} when no policies are configured. */
  readonly policy: PolicyStage;
  /** Revocation and one-time use; absent when not configured. */
  readonly revocation?: RevocationStage;
}
