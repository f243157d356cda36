import type { CelType } from '@bufbuild/cel';
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { env, IDENTIFIERS, parseOnce, REQUEST_FIELDS } from './cel-env.js';

/**
 * The load-time check: syntax, then names and result kind. `@bufbuild/cel` ships no finished
 * type checker, so this one works on coarse types: it rejects undeclared variables, unknown
 * functions and arities, `request` fields that do not exist, operands of a known wrong type and
 * results that cannot be a bool. Claims are dynamic and only checked when evaluated.
 */
export function checkExpression(source: string): string | undefined {
  let root: Expr;
  try {
    root = parseOnce(source).expr;
  } catch (error) {
    return `CEL syntax error: ${(error as Error).message}`;
  }

  try {
    const type = typeOf(root, new Set(IDENTIFIERS));
    if (type !== 'bool' && type !== 'dyn') return `CEL expression must return a bool, not ${type}`;
  } catch (error) {
    return `CEL type error: ${(error as Error).message}`;
  }
  return undefined;
}

/** A scalar name, `list`, `map`, a message name (timestamps, durations) or `dyn` (unknown). */
type CoarseType = string;

const CONSTANT_TYPES: Record<string, CoarseType> = {
  boolValue: 'bool',
  int64Value: 'int',
  uint64Value: 'uint',
  doubleValue: 'double',
  stringValue: 'string',
  bytesValue: 'bytes',
  nullValue: 'null',
};

function typeOf(expr: Expr, scope: ReadonlySet<string>): CoarseType {
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'constExpr':
      return CONSTANT_TYPES[kind.value.constantKind.case ?? ''] ?? 'dyn';

    case 'identExpr':
      if (!scope.has(kind.value.name))
        throw new Error(`undeclared reference to "${kind.value.name}"`);
      return kind.value.name === 'request' || kind.value.name === 'token' ? 'map' : 'dyn';

    case 'selectExpr': {
      const { operand, field, testOnly } = kind.value;
      if (operand === undefined) throw new Error('selection without an operand');
      const operandType = typeOf(operand, scope);
      if (
        operand.exprKind.case === 'identExpr' &&
        operand.exprKind.value.name === 'request' &&
        !(REQUEST_FIELDS as readonly string[]).includes(field)
      ) {
        throw new Error(`request has no field "${field}" (it has ${REQUEST_FIELDS.join(', ')})`);
      }
      if (operandType !== 'map' && operandType !== 'dyn') {
        throw new Error(`cannot select "${field}" from a ${operandType}`);
      }
      return testOnly ? 'bool' : 'dyn';
    }

    case 'listExpr':
      for (const element of kind.value.elements) typeOf(element, scope);
      return 'list';

    case 'structExpr':
      if (kind.value.messageName !== '') throw new Error('message construction is not supported');
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') typeOf(entry.keyKind.value, scope);
        if (entry.value !== undefined) typeOf(entry.value, scope);
      }
      return 'map';

    case 'comprehensionExpr': {
      const c = kind.value;
      if (c.iterRange !== undefined) typeOf(c.iterRange, scope);
      if (c.accuInit !== undefined) typeOf(c.accuInit, scope);
      const inner = new Set([...scope, c.iterVar, c.iterVar2, c.accuVar].filter(Boolean));
      if (c.loopCondition !== undefined) typeOf(c.loopCondition, inner);
      if (c.loopStep !== undefined) typeOf(c.loopStep, inner);
      return c.result === undefined ? 'dyn' : typeOf(c.result, new Set([...scope, c.accuVar]));
    }

    case 'callExpr':
      return callType(kind.value.function, kind.value.target, kind.value.args, scope);

    default:
      throw new Error(`unsupported expression kind ${String(kind.case)}`);
  }
}

function callType(
  name: string,
  target: Expr | undefined,
  args: readonly Expr[],
  scope: ReadonlySet<string>,
): CoarseType {
  const targetType = target === undefined ? undefined : typeOf(target, scope);
  const argTypes = args.map((arg) => typeOf(arg, scope));

  switch (name) {
    case '_&&_':
    case '_||_':
    case '!_':
    case '@not_strictly_false':
      for (const type of argTypes) {
        if (type !== 'bool' && type !== 'dyn') throw new Error(`logical operator on a ${type}`);
      }
      return 'bool';
    case '_?_:_':
      if (argTypes[0] !== 'bool' && argTypes[0] !== 'dyn') {
        throw new Error(`condition of "?:" is a ${argTypes[0]}`);
      }
      return argTypes[1] === argTypes[2] ? argTypes[1]! : 'dyn';
    case '_[_]':
      return 'dyn';
  }

  const group = env.funcs.find(name);
  const label = operatorLabel(name);
  if (group === undefined) throw new Error(`undeclared function ${label}`);

  const overloads = [...group].filter(
    (func) =>
      (func.target === undefined) === (target === undefined) &&
      func.arguments.length === args.length,
  );
  if (overloads.length === 0) {
    throw new Error(
      `${label} takes no ${target === undefined ? '' : 'method call with '}${args.length} argument(s)`,
    );
  }

  const fits = overloads.filter(
    (func) =>
      (targetType === undefined || accepts(func.target!, targetType)) &&
      func.arguments.every((type, index) => accepts(type, argTypes[index]!)),
  );
  if (fits.length === 0) {
    const shown = [...(targetType === undefined ? [] : [targetType]), ...argTypes].join(', ');
    throw new Error(`no overload of ${label} takes (${shown})`);
  }

  const results = new Set(fits.map((func) => coarse(func.result)));
  return results.size === 1 ? [...results][0]! : 'dyn';
}

function accepts(declared: CelType, actual: CoarseType): boolean {
  const expected = coarse(declared);
  return expected === 'dyn' || actual === 'dyn' || expected === actual;
}

function coarse(type: CelType): CoarseType {
  switch (type.kind) {
    case 'list':
    case 'map':
      return type.kind;
    case 'object':
      return type.name;
    case 'scalar':
      return type.name === 'null_type' ? 'null' : type.name === 'type' ? 'dyn' : type.name;
    default:
      return 'dyn';
  }
}

function operatorLabel(name: string): string {
  const operator = /^_(.+)_$/.exec(name)?.[1] ?? (name === '@in' ? 'in' : undefined);
  return operator === undefined ? `"${name}"` : `operator "${operator}"`;
}
