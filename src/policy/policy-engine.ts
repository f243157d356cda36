import type { HeaderPair, ShadowOutcome } from '../decision/decision.js';
import type { AuthzRequest } from '../decision/request.js';
import type { PolicyStage, PolicyVerdict } from '../decision/stages.js';
import { headerValue } from '../decision/upstream-headers.js';
import type { VerifiedToken } from '../tokens/verified-token.js';
import { compileExpression, type CelBindings, type CelProgram } from './cel.js';
import { splitPath } from './path-pattern.js';
import { DEFAULT_POLICY, type PoliciesConfig, type RuleConfig } from './policy-schema.js';
import { claimAt, conditionHolds, describeCondition, missingScopes } from './requirements.js';
import {
  compileMatch,
  mismatch,
  normaliseHost,
  RuleIndex,
  type CompiledMatch,
  type MatchInput,
} from './rule-index.js';

/** The context extension an Envoy route sets to choose a named policy. */
export const POLICY_EXTENSION = 'tokengate.policy';

interface CompiledRule {
  /** Configured name, or `#<index>`. */
  readonly name: string;
  readonly config: RuleConfig;
  readonly match: CompiledMatch;
  readonly program?: CelProgram;
  readonly headerNames: readonly string[];
  /** The verdict's origin, made once: decisions share it, and the decision log its JSON. */
  readonly origin: { readonly policy: string; readonly rule: string };
}

interface CompiledPolicy {
  readonly name: string;
  readonly mode: 'enforce' | 'shadow';
  readonly fallback: string;
  readonly unmatched: 'deny' | 'require-token';
  readonly rules: readonly CompiledRule[];
  readonly index: RuleIndex;
  /** Origin of a verdict no rule gave. */
  readonly origin: { readonly policy: string };
}

/** Lines explaining how a verdict came about, collected only by {@link PolicyEngine.explain}. */
type Trace = string[] | undefined;

/**
 * The policy stage built from `policies:`. A request is judged by the policy its route names in
 * `tokengate.policy`, else by the top-level rules (`default`); the first rule whose `match`
 * fits decides, found through a {@link RuleIndex} rather than a walk over every rule.
 */
export class PolicyEngine implements PolicyStage {
  private readonly policies: ReadonlyMap<string, CompiledPolicy>;

  /** Compiles every rule and expression; throws on an expression the schema would reject. */
  constructor(config: PoliciesConfig) {
    const policies = new Map<string, CompiledPolicy>();
    policies.set(
      DEFAULT_POLICY,
      compilePolicy(DEFAULT_POLICY, config.rules, 'enforce', DEFAULT_POLICY, config.unmatched),
    );
    for (const [name, policy] of Object.entries(config.named)) {
      policies.set(
        name,
        compilePolicy(
          name,
          policy.rules,
          policy.mode,
          policy.fallback ?? DEFAULT_POLICY,
          policy.unmatched ?? config.unmatched,
        ),
      );
    }
    this.policies = policies;
  }

  evaluate(request: AuthzRequest, token: VerifiedToken | undefined): PolicyVerdict {
    return this.decide(request, token, undefined);
  }

  /** The verdict, and how it came about line by line, for `tokengate explain`. */
  explain(
    request: AuthzRequest,
    token: VerifiedToken | undefined,
  ): { verdict: PolicyVerdict; trace: string[] } {
    const trace: string[] = [];
    const verdict = this.decide(request, token, trace);
    return { verdict, trace };
  }

  private decide(request: AuthzRequest, token: VerifiedToken | undefined, trace: Trace) {
    const named = request.contextExtensions[POLICY_EXTENSION];
    const policy = this.policies.get(named ?? DEFAULT_POLICY);
    if (policy === undefined) {
      trace?.push(`context extension ${POLICY_EXTENSION}="${named}" names no configured policy`);
      return deny('policy_unknown', {});
    }
    trace?.push(
      named === undefined
        ? `policy "${DEFAULT_POLICY}" (the route names none)`
        : `policy "${policy.name}" (named by the route's ${POLICY_EXTENSION})`,
    );

    const input: MatchInput = {
      host: normaliseHost(request.host),
      method: request.method.toUpperCase(),
      path: request.path,
      parts: splitPath(request.path),
    };
    const verdict = this.run(policy, input, request, token, trace);
    if (policy.mode === 'enforce') return verdict;

    const fallback = this.policies.get(policy.fallback)!;
    trace?.push(
      `policy "${policy.name}" is in shadow mode: it would ${verdict.kind} (${verdict.reason}); ` +
        `policy "${fallback.name}" decides`,
    );
    const enforced = this.run(fallback, input, request, token, trace);
    return { ...enforced, shadow: shadowOf(verdict) };
  }

  private run(
    policy: CompiledPolicy,
    input: MatchInput,
    request: AuthzRequest,
    token: VerifiedToken | undefined,
    trace: Trace,
  ): PolicyVerdict {
    let shadow: ShadowOutcome | undefined;
    const candidates = policy.index.candidates(input);
    trace?.push(
      `${candidates.length} of ${policy.rules.length} rules of "${policy.name}" are candidates for host ` +
        `"${input.host}" and path "${input.path}"`,
    );

    for (const at of candidates) {
      const rule = policy.rules[at]!;
      const why = mismatch(rule.match, input);
      if (why !== undefined) {
        trace?.push(`rule ${rule.name}: no match: ${why}`);
        continue;
      }

      trace?.push(`rule ${rule.name}: matches`);
      const verdict = judge(rule, request, token, trace);
      if (rule.config.mode === 'shadow') {
        trace?.push(
          `rule ${rule.name} is in shadow mode: it would ${verdict.kind} (${verdict.reason}); ` +
            'the next matching rule decides',
        );
        shadow ??= shadowOf(verdict);
        continue;
      }
      return shadow === undefined ? verdict : { ...verdict, shadow };
    }

    const verdict = unmatched(policy, token, trace);
    return shadow === undefined ? verdict : { ...verdict, shadow };
  }
}

function compilePolicy(
  name: string,
  rules: readonly RuleConfig[],
  mode: 'enforce' | 'shadow',
  fallback: string,
  unmatchedOutcome: 'deny' | 'require-token',
): CompiledPolicy {
  const compiled = rules.map((rule, index): CompiledRule => ({
    name: rule.name ?? `#${index}`,
    config: rule,
    match: compileMatch(rule.match),
    ...(rule.require?.expression !== undefined && {
      program: compileExpression(rule.require.expression),
    }),
    headerNames: Object.keys(rule.headers),
    origin: { policy: name, rule: rule.name ?? `#${index}` },
  }));
  return {
    name,
    mode,
    fallback,
    unmatched: unmatchedOutcome,
    rules: compiled,
    index: new RuleIndex(compiled.map((rule) => rule.match)),
    origin: { policy: name },
  };
}

function unmatched(
  policy: CompiledPolicy,
  token: VerifiedToken | undefined,
  trace: Trace,
): PolicyVerdict {
  const { origin } = policy;
  if (policy.unmatched === 'deny') {
    trace?.push(`no rule matches; unmatched requests are denied`);
    return deny('no_matching_rule', origin);
  }
  trace?.push('no rule matches; unmatched requests need any valid token');
  return token === undefined
    ? deny('token_missing', origin)
    : { kind: 'allow', reason: 'allowed', origin };
}

function judge(
  rule: CompiledRule,
  request: AuthzRequest,
  token: VerifiedToken | undefined,
  trace: Trace,
): PolicyVerdict {
  const { config, origin } = rule;

  if (config.deny) {
    trace?.push(`rule ${rule.name}: denies every request`);
    return deny('policy_denied', origin);
  }
  if (config.allow === 'anonymous') {
    trace?.push(`rule ${rule.name}: allows anonymous access`);
    return allowed('anonymous', rule, origin, token);
  }

  const require = config.require!;
  if (token === undefined) {
    trace?.push(`rule ${rule.name}: needs a token and the request has none`);
    return deny('token_missing', origin);
  }

  if (require.issuers && !require.issuers.includes(token.issuer)) {
    trace?.push(
      `rule ${rule.name}: issuer "${token.issuer}" is not one of ${require.issuers.join(', ')}`,
    );
    return deny('issuer_not_allowed', origin);
  }

  if (require.scopes) {
    const scope = missingScopes(require.scopes, token.claims);
    if (scope !== undefined) {
      trace?.push(`rule ${rule.name}: scopes fall short; needs "${scope}"`);
      return { ...deny('insufficient_scope', origin), scope };
    }
    trace?.push(`rule ${rule.name}: scopes suffice`);
  }

  for (const condition of require.claims ?? []) {
    if (!conditionHolds(condition, token.claims)) {
      trace?.push(`rule ${rule.name}: claim condition fails: ${describeCondition(condition)}`);
      return deny('claim_condition_failed', origin);
    }
    trace?.push(`rule ${rule.name}: claim condition holds: ${describeCondition(condition)}`);
  }

  if (rule.program) {
    const outcome = rule.program.evaluate(bindingsOf(request, token));
    if (!outcome.ok) {
      trace?.push(`rule ${rule.name}: expression could not be evaluated: ${outcome.error}`);
      return deny('expression_error', origin);
    }
    trace?.push(`rule ${rule.name}: expression is ${outcome.value}`);
    if (!outcome.value) return deny('expression_false', origin);
  }

  trace?.push(`rule ${rule.name}: every requirement holds`);
  return allowed('allowed', rule, origin, token);
}

function allowed(
  reason: 'allowed' | 'anonymous',
  rule: CompiledRule,
  origin: { policy: string; rule: string },
  token: VerifiedToken | undefined,
): PolicyVerdict {
  const verdict: PolicyVerdict = { kind: 'allow', reason, origin };
  const extra: { headers?: HeaderPair[]; headerNames?: readonly string[]; oneTimeUse?: true } = {};

  if (rule.headerNames.length > 0) {
    const headers: HeaderPair[] = [];
    for (const [name, source] of Object.entries(rule.config.headers)) {
      const value =
        'value' in source
          ? source.value
          : token === undefined
            ? undefined
            : headerValue(claimAt(token.claims, source.claim));
      if (value !== undefined) headers.push([name, value]);
    }
    extra.headers = headers;
    extra.headerNames = rule.headerNames;
  }
  if (rule.config.oneTimeUse) extra.oneTimeUse = true;
  return { ...verdict, ...extra };
}

function deny(reason: PolicyVerdict['reason'], origin: PolicyVerdict['origin']): PolicyVerdict {
  return { kind: 'deny', reason, origin };
}

function shadowOf(verdict: PolicyVerdict): ShadowOutcome {
  return {
    kind: verdict.kind,
    reason: verdict.reason,
    ...(verdict.origin.policy !== undefined && { policy: verdict.origin.policy }),
    ...(verdict.origin.rule !== undefined && { rule: verdict.origin.rule }),
  };
}

function bindingsOf(request: AuthzRequest, token: VerifiedToken | undefined): CelBindings {
  return {
    request: {
      method: request.method,
      path: request.path,
      host: normaliseHost(request.host),
      headers: request.headers,
      source: { address: request.source.address },
      context_extensions: request.contextExtensions,
    },
    token: token?.claims ?? {},
  };
}
