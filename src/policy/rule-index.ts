import {
  matchesPattern,
  parsePathPattern,
  prefixSegments,
  type PathPattern,
} from './path-pattern.js';
import type { MatchConfig } from './policy-schema.js';

/** A rule's `match`, prepared for testing one request. */
export interface CompiledMatch {
  readonly hosts?: readonly string[];
  readonly methods?: ReadonlySet<string>;
  readonly paths?: readonly PathPattern[];
  readonly prefixes?: readonly string[];
}

/** The parts of a request that matching looks at, normalised once per check. */
export interface MatchInput {
  /** Lower-case, without port or trailing dot. */
  readonly host: string;
  readonly method: string;
  readonly path: string;
  readonly parts: readonly string[];
}

export function compileMatch(match: MatchConfig): CompiledMatch {
  return {
    ...(match.hosts && { hosts: match.hosts }),
    ...(match.methods && { methods: new Set(match.methods) }),
    ...(match.paths && { paths: match.paths.map(parsePathPattern) }),
    ...(match.prefixes && { prefixes: match.prefixes }),
  };
}

/** Why a rule does not fit the request, or `undefined` when it does. */
export function mismatch(match: CompiledMatch, input: MatchInput): string | undefined {
  if (match.hosts && !match.hosts.some((pattern) => hostMatches(pattern, input.host))) {
    return `host "${input.host}" is not one of ${match.hosts.join(', ')}`;
  }
  if (match.methods && !match.methods.has(input.method)) {
    return `method ${input.method} is not one of ${[...match.methods].join(', ')}`;
  }
  if (match.paths === undefined && match.prefixes === undefined) return undefined;

  const byPattern = match.paths?.some((pattern) => matchesPattern(pattern, input.parts)) ?? false;
  const byPrefix = match.prefixes?.some((prefix) => input.path.startsWith(prefix)) ?? false;
  if (byPattern || byPrefix) return undefined;
  const shown = [...(match.paths?.map((p) => p.source) ?? []), ...(match.prefixes ?? [])];
  return `path "${input.path}" fits none of ${shown.join(', ')}`;
}

function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  return host.length > pattern.length - 1 && host.endsWith(pattern.slice(1));
}

/** `Api.Example.com:8443` → `api.example.com`; `[::1]:80` → `[::1]`. */
export function normaliseHost(host: string): string {
  let name = host.toLowerCase();
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    return end === -1 ? name : name.slice(0, end + 1);
  }
  const colon = name.lastIndexOf(':');
  if (colon !== -1 && /^\d*$/.test(name.slice(colon + 1))) name = name.slice(0, colon);
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

interface Node {
  rules: number[];
  children: Map<string, Node>;
}

const node = (): Node => ({ rules: [], children: new Map() });

/**
 * Rules indexed by host and by the literal segments their paths start with. A lookup returns,
 * in rule order, only the rules that can fit: those for the request's host (exact, each wildcard
 * suffix, any) whose literal path prefix the request path starts with. The caller still tests
 * each candidate fully; the index only spares it the rules that cannot fit.
 */
export class RuleIndex {
  private readonly exact = new Map<string, Node>();
  private readonly wildcard = new Map<string, Node>();
  private readonly anyHost = node();

  constructor(matches: readonly CompiledMatch[]) {
    matches.forEach((match, index) => {
      const roots = match.hosts?.map((pattern) => this.rootFor(pattern)) ?? [this.anyHost];
      const keys = [
        ...(match.paths?.map((pattern) => pattern.literalPrefix) ?? []),
        ...(match.prefixes?.map(prefixSegments) ?? []),
      ];
      if (keys.length === 0) keys.push([]);
      for (const root of roots) for (const key of keys) insert(root, key, index);
    });
  }

  /** Indices of the rules that may fit, ascending. */
  candidates(input: MatchInput): number[] {
    const found: number[][] = [];
    collect(this.anyHost, input.parts, found);

    const exact = this.exact.get(input.host);
    if (exact) collect(exact, input.parts, found);
    for (let dot = input.host.indexOf('.'); dot !== -1; dot = input.host.indexOf('.', dot + 1)) {
      const wildcard = this.wildcard.get(input.host.slice(dot + 1));
      if (wildcard) collect(wildcard, input.parts, found);
    }

    if (found.length === 1) return found[0]!;
    const merged = found.flat().sort((a, b) => a - b);
    return merged.filter((value, at) => at === 0 || merged[at - 1] !== value);
  }

  private rootFor(pattern: string): Node {
    const wildcard = pattern.startsWith('*.');
    const map = wildcard ? this.wildcard : this.exact;
    const key = wildcard ? pattern.slice(2) : pattern;
    let root = map.get(key);
    if (root === undefined) map.set(key, (root = node()));
    return root;
  }
}

function insert(root: Node, key: readonly string[], index: number): void {
  let at = root;
  for (const segment of key) {
    let child = at.children.get(segment);
    if (child === undefined) at.children.set(segment, (child = node()));
    at = child;
  }
  if (at.rules[at.rules.length - 1] !== index) at.rules.push(index);
}

function collect(root: Node, parts: readonly string[], found: number[][]): void {
  let at: Node | undefined = root;
  for (let depth = 0; at !== undefined; depth += 1) {
    if (at.rules.length > 0) found.push(at.rules);
    if (depth === parts.length) break;
    at = at.children.get(parts[depth]!);
  }
}
