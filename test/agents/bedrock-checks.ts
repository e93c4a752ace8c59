// What every Claude-Code-on-Bedrock run must show beyond the common agent checks (suite.ts).
import type { Test } from 'tap';
import type { AgentResult } from './suite.js';
import { BEDROCK_HOST } from './fake-provider.js';

export function bedrockChecks(t: Test, r: AgentResult): void {
  const calls = r.fakeSeen.filter((s) => s.host === BEDROCK_HOST && s.path.startsWith('/model/'));
  t.ok(calls.length >= 1, `Bedrock was called (${r.fakeSeen.map((s) => `${s.host}${s.path}`).join(', ')})`);
  for (const c of calls) t.equal(c.sigv4, null, `signed by wiretrail, verified by the fake Bedrock: ${c.path}`);
  t.ok(calls.some((c) => c.path.endsWith('/invoke-with-response-stream')), 'the answer came as an event stream');
  for (const q of r.requests.filter((q) => q.host === BEDROCK_HOST)) {
    t.equal(q.signedBy, 'wiretrail-sigv4', `recorded as signed by wiretrail: ${q.path}`);
    t.equal(q.adapter, 'bedrock-invoke', `the answer was parsed and masked as Bedrock InvokeModel: ${q.path}`);
  }
  t.notOk(r.fakeSeen.some((s) => s.host === 'api.anthropic.com' && s.path.startsWith('/v1/messages')), 'no call to the Anthropic API');
}
