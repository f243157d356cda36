import { celEnv, CelScalar, mapType, parse, type CelEnv } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

/** Fields of the `request` variable; anything else is a load-time error. */
export const REQUEST_FIELDS = [
  'method',
  'path',
  'host',
  'headers',
  'source',
  'context_extensions',
] as const;

/** The declared variables, and the type names CEL resolves as identifiers (`type(x) == int`). */
export const IDENTIFIERS = [
  'request',
  'token',
  'bool',
  'int',
  'uint',
  'double',
  'string',
  'bytes',
  'list',
  'map',
  'null_type',
  'type',
];

/** The environment every expression runs in: `request`, `token` and the string extensions. */
export const env: CelEnv = celEnv({
  funcs: strings,
  variables: {
    request: mapType(CelScalar.STRING, CelScalar.DYN),
    token: mapType(CelScalar.STRING, CelScalar.DYN),
  },
});

/**
 * Parses are kept by source text: a config load checks every expression in the schema and then
 * compiles it, and the parser is the slow part (milliseconds per expression). Bounded, so a
 * long run of reloads with changing expressions cannot grow it without end.
 */
const parsed = new Map<string, ReturnType<typeof parse>>();

export function parseOnce(source: string): ReturnType<typeof parse> {
  let result = parsed.get(source);
  if (result === undefined) {
    result = parse(source);
    if (parsed.size >= 4_096) parsed.clear();
    parsed.set(source, result);
  }
  return result;
}
