// What every agent run on Vertex AI with gcloud ADC must show besides the suite's common checks: the refresh
// token reached the token endpoint intact, every Vertex call carried the minted access token, the exchange was
// recorded (default policy) with the refresh token masked, and no model call left for another provider.
import type { Test } from 'tap';
import type { AgentResult } from './suite.js';

export function vertexChecks(t: Test, r: AgentResult, modelCall: RegExp): void {
  const token = r.fakeSeen.filter((s) => s.host === 'oauth2.googleapis.com' && s.path === '/token');
  t.ok(token.length >= 1, 'google-auth-library refreshed the ADC token through wiretrail');
  t.same([...new Set(token.map((s) => s.outcome))], ['refresh-token-intact'], 'the token endpoint got the refresh token intact (never invalid_grant)');
  const vertex = r.fakeSeen.filter((s) => s.host.endsWith('aiplatform.googleapis.com'));
  t.ok(vertex.some((s) => modelCall.test(s.path)), `the agent streamed from Vertex (${vertex.map((s) => s.path).join(', ')})`);
  t.same([...new Set(vertex.map((s) => s.outcome))], ['bearer-ok'], 'every Vertex call carried the access token minted by the fake, intact');
  const refresh = r.requests.filter((q) => q.host === 'oauth2.googleapis.com' && q.path === '/token');
  t.ok(refresh.length >= 1, 'the token exchange is recorded (intercepted by the default policy)');
  for (const q of refresh) {
    t.equal(q.forwardedIntact, 'credential-exchange');
    t.match(q.body, /refresh_token=\[MASKED:[a-z0-9-]+#\d+\]/, 'recorded with the refresh token masked');
  }
  const elsewhere = r.fakeSeen.filter((s) => s.host === 'api.anthropic.com' || s.host === 'generativelanguage.googleapis.com');
  t.same(elsewhere.map((s) => `${s.host}${s.path}`), [], 'nothing went to the direct APIs');
}
