import { celMap, isCelError, plan, type CelMap } from '@bufbuild/cel';
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { checkExpression } from './cel-check.js';
import { env, parseOnce, REQUEST_FIELDS } from './cel-env.js';

export { checkExpression } from './cel-check.js';
export { REQUEST_FIELDS } from './cel-env.js';

/** What an expression sees: `request` (see {@link REQUEST_FIELDS}) and `token` (the claims). */
export interface CelBindings {
  request: {
    method: string;
    path: string;
    host: string;
    headers: Readonly<Record<string, string>>;
    source: { address: string };
    context_extensions: Readonly<Record<string, string>>;
  };
  /** Verified claims; an empty map for an anonymous request. */
  token: Readonly<Record<string, unknown>>;
}

export type CelOutcome = { ok: true; value: boolean } | { ok: false; error: string };

/** A compiled expression, planned once and evaluated per request. */
export interface CelProgram {
  readonly source: string;
  /** Never throws: a non-boolean result or any evaluation error is `{ ok: false }`. */
  evaluate(bindings: CelBindings): CelOutcome;
}

/** Parses, checks and plans `source`; throws an `Error` whose message is the problem. */
export function compileExpression(source: string): CelProgram {
  const problem = checkExpression(source);
  if (problem !== undefined) throw new Error(problem);

  const parsed = parseOnce(source);
  const run = plan(env, parsed);
  const fields = requestFieldsOf(parsed.expr);
  return {
    source,
    evaluate(bindings) {
      try {
        const value = run(toCelInput(bindings, fields) as never);
        if (isCelError(value)) return { ok: false, error: value.message };
        if (typeof value !== 'boolean') return { ok: false, error: 'result is not a bool' };
        return { ok: true, value };
      } catch (error) {
        return { ok: false, error: (error as Error)?.message ?? String(error) };
      }
    },
  };
}

/** Claims as a CEL map, kept per claims object: a cached token is converted once. */
const claimMaps = new WeakMap<object, CelMap>();

type RequestField = (typeof REQUEST_FIELDS)[number];

/**
 * CEL maps built up front, of only the `request` fields the expression names: `@bufbuild/cel`
 * converts a plain object on every access, which made the bindings cost more than the logic.
 */
function toCelInput(bindings: CelBindings, fields: readonly RequestField[]) {
  const { request, token } = bindings;
  let claims = claimMaps.get(token);
  if (claims === undefined) {
    claims = celMap(new Map(Object.entries(token)) as never);
    claimMaps.set(token, claims);
  }

  const entries = new Map<string, unknown>();
  for (const field of fields) {
    const value = request[field];
    entries.set(
      field,
      typeof value === 'string' ? value : celMap(new Map(Object.entries(value)) as never),
    );
  }
  return { request: celMap(entries as never), token: claims };
}

/** The `request` fields an expression selects; all of them when it uses `request` whole. */
function requestFieldsOf(root: Expr): RequestField[] {
  const fields = new Set<RequestField>();
  let whole = false;
  const visit = (value: unknown, parentSelects: boolean): void => {
    if (value === null || typeof value !== 'object') return;
    const node = value as { exprKind?: { case?: string; value?: any } };
    const kind = node.exprKind;
    if (kind?.case === 'selectExpr') {
      const operand = kind.value.operand as Expr | undefined;
      if (operand?.exprKind.case === 'identExpr' && operand.exprKind.value.name === 'request') {
        fields.add(kind.value.field as RequestField);
        return;
      }
    }
    if (kind?.case === 'identExpr' && kind.value.name === 'request' && !parentSelects) whole = true;
    for (const child of Object.values(value)) {
      if (Array.isArray(child)) for (const item of child) visit(item, false);
      else visit(child, false);
    }
  };
  visit(root, false);
  return whole ? [...REQUEST_FIELDS] : [...fields];
}
