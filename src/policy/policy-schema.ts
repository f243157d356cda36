import { z } from 'zod';
import { checkExpression } from './cel.js';
import { parsePathPattern } from './path-pattern.js';

/** Names of policies and rules: they become log fields and metric labels, so keep them short. */
const label = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'expected a short lower-case label');

const headerName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case HTTP header name')
  .refine((name) => !name.startsWith(':') && name !== 'host', 'this header cannot be set');

const hostPattern = z
  .string()
  .transform((host) => host.toLowerCase())
  .refine(
    (host) => /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host),
    'expected a host name such as "api.example.com" or "*.example.com"',
  );

const pathPattern = z.string().superRefine((pattern, ctx) => {
  const problem = parsePathPattern(pattern).problem;
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const match = z.strictObject({
  /** Exact host names or `*.example.com` (any subdomain, not the apex); any host when absent. */
  hosts: z.array(hostPattern).min(1).optional(),
  /** HTTP methods, upper-case; any method when absent. */
  methods: z
    .array(z.string().regex(/^[A-Z]+$/, 'expected an upper-case HTTP method'))
    .min(1)
    .optional(),
  /** Exact paths or templates: `{name}` and `*` match one segment, a final `**` any rest. */
  paths: z.array(pathPattern).min(1).optional(),
  /** Plain string prefixes of the path. */
  prefixes: z
    .array(z.string().startsWith('/', 'expected a path starting with "/"'))
    .min(1)
    .optional(),
});

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const claimCondition = z
  .strictObject({
    /** Claim name; when no claim has this exact name, dots walk into nested objects. */
    claim: z.string().min(1),
    equals: scalar.optional(),
    oneOf: z.array(scalar).min(1).optional(),
    /** The claim is an array (or a space-separated string) holding this value. */
    contains: scalar.optional(),
  })
  .refine(
    (condition) =>
      [condition.equals, condition.oneOf, condition.contains].filter((op) => op !== undefined)
        .length === 1,
    { message: 'set exactly one of "equals", "oneOf" or "contains"' },
  );

const scopeName = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'expected an RFC 6749 scope token');

const requirement = z.strictObject({
  /** Configured issuer names whose tokens this rule accepts; any issuer when absent. */
  issuers: z.array(z.string().min(1)).min(1).optional(),
  /** Scopes read from the `scope` (space-separated) and `scp` (array) claims. */
  scopes: z
    .strictObject({
      allOf: z.array(scopeName).min(1).optional(),
      anyOf: z.array(scopeName).min(1).optional(),
    })
    .optional(),
  claims: z.array(claimCondition).min(1).optional(),
  /** A CEL expression over `request` and `token` that must return `true`. */
  expression: z
    .string()
    .min(1)
    .max(4_096)
    .superRefine((source, ctx) => {
      const problem = checkExpression(source);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
});

const headerSource = z.union([
  z.strictObject({ claim: z.string().min(1) }),
  z.strictObject({ value: z.string().regex(/^[\x20-\x7e\t]*$/, 'expected printable ASCII') }),
]);

const mode = z.enum(['enforce', 'shadow']);

const rule = z
  .strictObject({
    /** Name in logs and metrics; `#<index>` when absent. */
    name: label.optional(),
    /** Which requests the rule is about; every request when absent. */
    match: match.default({}),
    allow: z.literal('anonymous').optional(),
    require: requirement.optional(),
    deny: z.literal(true).optional(),
    /** Upstream headers set on allow, on top of `headers.fromClaims`. */
    headers: z.record(headerName, headerSource).default({}),
    /** Accept each token only once (needs the revocation store). */
    oneTimeUse: z.boolean().default(false),
    /** `shadow`: compute, log and count this rule's decision, but let the next rule decide. */
    mode: mode.default('enforce'),
  })
  .superRefine((value, ctx) => {
    const kinds = [value.allow, value.require, value.deny].filter((kind) => kind !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'set exactly one of "allow: anonymous", "require" or "deny: true"',
      });
    }
    if (value.oneTimeUse && value.require === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['oneTimeUse'],
        message: 'one-time use needs a token: use it with "require"',
      });
    }
  });

const unmatched = z.enum(['deny', 'require-token']);

const namedPolicy = z.strictObject({
  /** `shadow`: the whole policy's decision is logged and counted; `fallback` decides. */
  mode: mode.default('enforce'),
  /** Policy that decides while this one is in shadow mode; `default` is the top-level rules. */
  fallback: z.string().min(1).optional(),
  unmatched: unmatched.optional(),
  rules: z.array(rule),
});

export const policiesSchema = z.strictObject({
  /**
   * What a request gets when no rule of its policy matches: `deny` (`no_matching_rule`), or
   * `require-token` (any valid token passes, as without policies). Default `deny`.
   */
  unmatched: unmatched.default('deny'),
  /** Rules of the `default` policy: requests whose route names no policy. */
  rules: z.array(rule).default([]),
  /** Policies an Envoy route selects with the context extension `tokengate.policy: <name>`. */
  named: z.record(label, namedPolicy).default({}),
});

export type PoliciesConfig = z.output<typeof policiesSchema>;
export type RuleConfig = PoliciesConfig['rules'][number];
export type NamedPolicyConfig = PoliciesConfig['named'][string];
export type MatchConfig = RuleConfig['match'];
export type RequirementConfig = NonNullable<RuleConfig['require']>;
export type ClaimCondition = NonNullable<RequirementConfig['claims']>[number];

/** The name requests get when their route names no policy. */
export const DEFAULT_POLICY = 'default';

interface IssueSink {
  addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string }): void;
}

/**
 * Checks what one field cannot see alone: issuer names exist, rule names are unique within a
 * policy, fallbacks name an enforced policy. Paths are relative to the config root.
 */
export function checkPolicyReferences(
  policies: PoliciesConfig,
  issuerNames: readonly string[],
  ctx: IssueSink,
): void {
  const known = new Set(issuerNames);
  const lists: [PropertyKey[], readonly RuleConfig[]][] = [
    [['policies', 'rules'], policies.rules],
    ...Object.entries(policies.named).map(
      ([name, policy]): [PropertyKey[], readonly RuleConfig[]] => [
        ['policies', 'named', name, 'rules'],
        policy.rules,
      ],
    ),
  ];

  for (const [path, rules] of lists) {
    const names = new Map<string, number>();
    rules.forEach((rule, index) => {
      rule.require?.issuers?.forEach((issuer, at) => {
        if (!known.has(issuer)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, index, 'require', 'issuers', at],
            message: `no issuer is named "${issuer}"`,
          });
        }
      });
      if (rule.name === undefined) return;
      if (names.has(rule.name)) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, index, 'name'],
          message: `duplicates rules[${names.get(rule.name)}].name`,
        });
      }
      names.set(rule.name, index);
    });
  }

  if (DEFAULT_POLICY in policies.named) {
    ctx.addIssue({
      code: 'custom',
      path: ['policies', 'named', DEFAULT_POLICY],
      message: `"${DEFAULT_POLICY}" is the name of the top-level rules; pick another`,
    });
  }
  for (const [name, policy] of Object.entries(policies.named)) {
    const path = ['policies', 'named', name, 'fallback'];
    if (policy.fallback !== undefined && policy.mode === 'enforce') {
      ctx.addIssue({ code: 'custom', path, message: 'a fallback needs "mode: shadow"' });
      continue;
    }
    const fallback = policy.fallback ?? DEFAULT_POLICY;
    if (policy.mode !== 'shadow' || fallback === DEFAULT_POLICY) continue;
    const target = policies.named[fallback];
    if (target === undefined) {
      ctx.addIssue({ code: 'custom', path, message: `no policy is named "${fallback}"` });
    } else if (target.mode === 'shadow') {
      ctx.addIssue({ code: 'custom', path, message: `"${fallback}" is itself in shadow mode` });
    }
  }
}
