/**
 * Path patterns of a rule's `match.paths`: `/orders` (exact), `/orders/{id}` or `/orders/*`
 * (one non-empty segment), `/files/**` (the rest: zero or more segments).
 */
export interface PathPattern {
  readonly source: string;
  /** Leading literal segments, the part the index keys on. */
  readonly literalPrefix: readonly string[];
  /** Each segment: a literal, `one` (any single segment) or, last only, `rest`. */
  readonly segments: readonly Segment[];
  /** Set when the pattern is unusable, with the reason. */
  readonly problem?: string;
}

type Segment = { kind: 'literal'; text: string } | { kind: 'one' } | { kind: 'rest' };

const PARAM = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;

export function parsePathPattern(source: string): PathPattern {
  const fail = (problem: string): PathPattern => ({
    source,
    literalPrefix: [],
    segments: [],
    problem,
  });
  if (!source.startsWith('/')) return fail('expected a path starting with "/"');

  const parts = splitPath(source);
  const segments: Segment[] = [];
  for (const [index, part] of parts.entries()) {
    if (part === '**') {
      if (index !== parts.length - 1) return fail('"**" may only be the last segment');
      segments.push({ kind: 'rest' });
    } else if (part === '*' || PARAM.test(part)) {
      segments.push({ kind: 'one' });
    } else if (/[{}*]/.test(part)) {
      return fail(`segment "${part}" mixes text with "{", "}" or "*"`);
    } else {
      segments.push({ kind: 'literal', text: part });
    }
  }

  const literalPrefix: string[] = [];
  for (const segment of segments) {
    if (segment.kind !== 'literal') break;
    literalPrefix.push(segment.text);
  }
  return { source, literalPrefix, segments };
}

/** Whether `path` (already split with {@link splitPath}) fits the pattern. */
export function matchesPattern(pattern: PathPattern, parts: readonly string[]): boolean {
  const { segments } = pattern;
  for (let index = 0; index < segments.length; index += 1) {
    const segment = segments[index]!;
    if (segment.kind === 'rest') return true;
    const part = parts[index];
    if (part === undefined) return false;
    if (segment.kind === 'one') {
      if (part === '') return false;
    } else if (segment.text !== part) {
      return false;
    }
  }
  return parts.length === segments.length;
}

/**
 * Segments of a path: `/a/b` → `['a', 'b']`, `/` → `[]`, `/a/` → `['a', '']`, so a trailing
 * slash is a path of its own, as HTTP treats it.
 */
export function splitPath(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

/** Full segments of a plain string prefix, the part the index can key on: `/api/v1` → `['api']`. */
export function prefixSegments(prefix: string): string[] {
  const parts = splitPath(prefix);
  parts.pop();
  return parts;
}
