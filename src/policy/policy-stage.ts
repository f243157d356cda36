import type { Config } from '../config/schema.js';
import { REQUIRE_TOKEN, type PolicyStage } from '../decision/stages.js';
import { PolicyEngine } from './policy-engine.js';

/** The policy stage of a config: its `policies`, or {@link REQUIRE_TOKEN} when it has none. */
export function policyStageFor(config: Config): PolicyStage {
  return config.policies === undefined ? REQUIRE_TOKEN : new PolicyEngine(config.policies);
}
