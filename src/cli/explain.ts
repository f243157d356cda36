import { parseArgs } from 'node:util';
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { deny } from '../decision/decision.js';
import type { AuthzRequest } from '../decision/request.js';
import { planUpstreamHeaders } from '../decision/upstream-headers.js';
import { PolicyEngine } from '../policy/policy-engine.js';
import type { VerifiedToken } from '../tokens/verified-token.js';
import { loadOrReport } from './config-report.js';

const USAGE = `usage: tokengate explain --config FILE --path P [--method M] [--host H]
         [--token T | --claims JSON] [--issuer NAME] [--header 'name: value']... [--context k=v]...
`;

/**
 * `tokengate explain`: which rule of which policy judges a request, and why the decision comes
 * out as it does, without a running mesh. A `--token` is decoded, not verified: explain judges
 * the policy only. Exit 0 when the policy allows, 1 when it denies, 2 on bad usage.
 */
export async function runExplain(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        method: { type: 'string', default: 'GET' },
        path: { type: 'string' },
        host: { type: 'string', default: 'localhost' },
        token: { type: 'string' },
        claims: { type: 'string' },
        issuer: { type: 'string' },
        header: { type: 'string', multiple: true, default: [] },
        context: { type: 'string', multiple: true, default: [] },
      },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`tokengate explain: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.config === undefined || values.path === undefined) {
    process.stderr.write(`tokengate explain: --config and --path are required\n${USAGE}`);
    return 2;
  }
  if (values.token !== undefined && values.claims !== undefined) {
    process.stderr.write('tokengate explain: give --token or --claims, not both\n');
    return 2;
  }

  const loaded = await loadOrReport(values.config);
  if (loaded === undefined) return 2;
  const { config } = loaded;
  const out = (line: string) => process.stdout.write(`${line}\n`);

  let request: AuthzRequest;
  let claims: JWTPayload | undefined;
  try {
    request = requestOf(values);
    claims = claimsOf(values.token, values.claims);
  } catch (error) {
    process.stderr.write(`tokengate explain: ${(error as Error).message}\n`);
    return 2;
  }

  out(`request: ${request.method} ${request.host} ${request.path}`);
  let token: VerifiedToken | undefined;
  if (claims !== undefined) {
    const issuer =
      values.issuer ?? config.issuers.find((entry) => entry.issuer === claims.iss)?.name;
    if (issuer === undefined || !config.issuers.some((entry) => entry.name === issuer)) {
      out(`token: issuer ${JSON.stringify(claims.iss)} is not configured`);
      out('decision: deny issuer_unknown (401): a real check stops before the policy');
      return 1;
    }
    token = { issuer, claims, header: { alg: 'none' }, digest: '', fingerprint: '' };
    out(
      `token: issuer "${issuer}", subject ${JSON.stringify(claims.sub)} ` +
        '(decoded, not verified: signature, expiry and audience are not checked here)',
    );
  } else {
    out('token: none');
  }

  if (config.policies === undefined) {
    out('no policies configured: any valid token passes, a request without one is denied');
    out(token === undefined ? 'decision: deny token_missing (401)' : 'decision: allow allowed');
    return token === undefined ? 1 : 0;
  }

  const { verdict, trace } = new PolicyEngine(config.policies).explain(request, token);
  for (const line of trace) out(`  ${line}`);

  const where = [verdict.origin.policy, verdict.origin.rule].filter(Boolean).join(' / ');
  if (verdict.shadow) {
    out(`shadow: would ${verdict.shadow.kind} ${verdict.shadow.reason} (logged, not enforced)`);
  }
  if (verdict.kind === 'deny') {
    const decision = deny(verdict.reason, { realm: config.realm, scope: verdict.scope });
    out(`decision: deny ${verdict.reason} (${decision.status})${where && `, by ${where}`}`);
    for (const [name, value] of decision.responseHeaders) out(`  ${name}: ${value}`);
    return 1;
  }

  out(`decision: allow ${verdict.reason}${where && `, by ${where}`}`);
  const plan = planUpstreamHeaders(
    config.headers.fromClaims,
    token?.claims,
    config.headers.removeAuthorization,
  );
  const ruleNames = new Set(verdict.headers?.map(([name]) => name));
  const set = [...plan.set.filter(([name]) => !ruleNames.has(name)), ...(verdict.headers ?? [])];
  for (const [name, value] of set) out(`  upstream header ${name}: ${value}`);
  if (verdict.oneTimeUse) out('  the token is accepted once only (one-time use)');
  return 0;
}

function requestOf(values: {
  method?: string;
  path?: string;
  host?: string;
  header?: string[];
  context?: string[];
}): AuthzRequest {
  const headers: Record<string, string> = {};
  for (const pair of values.header ?? []) {
    const at = pair.indexOf(':');
    if (at <= 0) throw new Error(`--header expects "name: value", got "${pair}"`);
    headers[pair.slice(0, at).trim().toLowerCase()] = pair.slice(at + 1).trim();
  }
  const contextExtensions: Record<string, string> = {};
  for (const pair of values.context ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--context expects "key=value", got "${pair}"`);
    contextExtensions[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const path = values.path!.split('?')[0]!;
  return {
    id: 'explain',
    method: values.method!.toUpperCase(),
    host: values.host!,
    path,
    headers,
    source: { address: '127.0.0.1' },
    contextExtensions,
  };
}

function claimsOf(token: string | undefined, claims: string | undefined): JWTPayload | undefined {
  if (token !== undefined) {
    try {
      decodeProtectedHeader(token);
      return decodeJwt(token);
    } catch {
      throw new Error('--token is not a decodable JWT');
    }
  }
  if (claims === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(claims);
  } catch {
    throw new Error('--claims is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('--claims must be a JSON object');
  }
  return parsed as JWTPayload;
}
