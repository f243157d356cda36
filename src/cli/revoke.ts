import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdminClient } from '../admin/admin-client.js';
import { tokenDigest } from '../tokens/fingerprint.js';

/** Options every admin command shares. */
export const ADMIN_OPTIONS = {
  admin: { type: 'string', default: '127.0.0.1:9002' },
  token: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
} as const;

export function adminClientOf(values: {
  admin?: string;
  token?: string;
  ca?: string;
  cert?: string;
  key?: string;
}): AdminClient {
  return new AdminClient({
    address: values.admin!,
    token: values.token ?? process.env.TOKENGATE_ADMIN_TOKEN,
    ca: values.ca,
    cert: values.cert,
    key: values.key,
  });
}

/** A time given as `now`, seconds since the epoch, or an ISO 8601 date; in milliseconds. */
export function parseTime(text: string): number {
  if (text === 'now') return Date.now();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new Error(`expected "now", epoch seconds or an ISO date, got "${text}"`);
  return ms;
}

/**
 * `tokengate revoke`: revokes one token (`--jti`, or `--revoke-token-file` for a token without
 * `jti`, hashed locally so it never leaves this machine), or every token of a `--subject` or
 * `--client` issued `--before` a time. `--unrevoke` removes the entry instead.
 */
export async function runRevoke(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...ADMIN_OPTIONS,
      issuer: { type: 'string' },
      jti: { type: 'string' },
      subject: { type: 'string' },
      client: { type: 'string' },
      digest: { type: 'string' },
      'revoke-token-file': { type: 'string' },
      before: { type: 'string' },
      expires: { type: 'string' },
      reason: { type: 'string' },
      unrevoke: { type: 'boolean', default: false },
    },
    strict: true,
  });

  const targets = [
    ['KIND_JTI', values.jti],
    ['KIND_SUBJECT', values.subject],
    ['KIND_CLIENT', values.client],
    ['KIND_DIGEST', values.digest ?? digestOfFile(values['revoke-token-file'])],
  ].filter(([, value]) => value !== undefined);
  if (values.issuer === undefined || targets.length !== 1) {
    process.stderr.write(
      'tokengate revoke: --issuer and exactly one of --jti, --subject, --client, --digest, ' +
        '--revoke-token-file are required\n',
    );
    return 2;
  }
  const [kind, value] = targets[0]!;
  const target = { kind, issuer: values.issuer, value };

  const client = adminClientOf(values);
  try {
    const response = values.unrevoke
      ? await client.call('Unrevoke', { target })
      : await client.call('Revoke', {
          target,
          before_unix_ms: values.before === undefined ? 0 : parseTime(values.before),
          token_expires_unix_ms: values.expires === undefined ? 0 : parseTime(values.expires),
          reason: values.reason ?? '',
        });
    process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
    return 0;
  } finally {
    client.close();
  }
}

function digestOfFile(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const token = readFileSync(path, 'utf8').trim();
  const signature = token.lastIndexOf('.');
  if (signature <= 0) throw new Error(`${path} does not hold a compact JWS`);
  return tokenDigest(token.slice(0, signature));
}
