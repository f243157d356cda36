import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isDecisionId } from '../../src/observability/decision-id.js';
import { startEnvoy, type RunningEnvoy } from '../support/envoy.js';
import { suiteTool } from '../support/tools.js';
import { EchoUpstream } from '../support/upstream.js';
import { bearer, startObserved, type ObservedTokengate } from './fixture.js';

const [envoyBin, missing] = suiteTool('envoy');

describe('the decision id through a real Envoy', { skip: missing }, () => {
  let observed: ObservedTokengate;
  let upstream: EchoUpstream;
  let envoy: RunningEnvoy;

  before(async () => {
    observed = await startObserved({ audit: { decisionIdHeader: true } });
    upstream = await new EchoUpstream().start();
    envoy = await startEnvoy({
      bin: envoyBin!,
      tokengate: observed.tokengate.grpcAddress,
      upstreamPort: upstream.port,
    });
  });

  after(async () => {
    await envoy?.stop();
    await upstream?.stop();
    await observed?.stop();
  });

  /** The JSON access log line Envoy wrote for `requestId`. */
  const accessLine = async (requestId: string) =>
    JSON.parse(
      await envoy.child.waitForLine((line) => line.includes(`"request_id":"${requestId}"`)),
    ) as Record<string, string>;

  test('joins Envoy access log, client response, upstream request and audit line on an allow', async () => {
    const response = await fetch(`${envoy.url}/orders/1`, {
      headers: { ...bearer(await observed.token()), 'x-request-id': 'join-allow' },
    });
    assert.equal(response.status, 200);
    const id = response.headers.get('x-tokengate-decision-id');
    assert.ok(id !== null && isDecisionId(id));

    const seen = (await response.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-tokengate-decision-id'], id);
    const audit = await observed.tokengate.waitForDecision((l) => l.requestId === 'join-allow');
    assert.equal(audit.decisionId, id);
    assert.equal((await accessLine('join-allow')).decision_id, id);
  });

  test('joins them on a deny too', async () => {
    const response = await fetch(`${envoy.url}/orders/1`, {
      headers: { 'x-request-id': 'join-deny' },
    });
    assert.equal(response.status, 401);
    const id = response.headers.get('x-tokengate-decision-id');
    assert.ok(id !== null && isDecisionId(id));

    const audit = await observed.tokengate.waitForDecision((l) => l.requestId === 'join-deny');
    assert.equal(audit.decisionId, id);
    assert.equal(audit.reason, 'token_missing');
    assert.equal((await accessLine('join-deny')).decision_id, id);
  });

  test('never lets a client forge the decision id the upstream sees', async () => {
    const response = await fetch(`${envoy.url}/orders/2`, {
      headers: { ...bearer(await observed.token()), 'x-tokengate-decision-id': 'forged' },
    });
    const seen = (await response.json()) as { headers: Record<string, string> };
    assert.ok(isDecisionId(seen.headers['x-tokengate-decision-id']!));
  });
});
