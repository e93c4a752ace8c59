// Claude Code (native binary) on Google Vertex AI with its default auth, through wiretrail under the default
// policy: gcloud Application Default Credentials (authorized_user) refreshed at oauth2.googleapis.com/token, then
// Anthropic Messages SSE from `…/publishers/anthropic/models/{m}:streamRawPredict` on us-east5-aiplatform.
import { agentSuite } from './suite.js';

agentSuite('claude-vertex', /\/publishers\/anthropic\/models\/[^/]+:streamRawPredict$/, (t, r) => {
  const token = r.fakeSeen.filter((s) => s.host === 'oauth2.googleapis.com' && s.path === '/token');
  t.ok(token.length >= 1, 'google-auth-library refreshed the ADC token through wiretrail');
  t.same([...new Set(token.map((s) => s.outcome))], ['refresh-token-intact'], 'the token endpoint got the refresh token intact (never invalid_grant)');
  const vertex = r.fakeSeen.filter((s) => s.host.endsWith('aiplatform.googleapis.com'));
  t.ok(vertex.some((s) => /:streamRawPredict$/.test(s.path)), 'Claude Code streamed from Vertex');
  t.same([...new Set(vertex.map((s) => s.outcome))], ['bearer-ok'], 'every Vertex call carried the access token minted by the fake, intact');
  const refresh = r.requests.filter((q) => q.host === 'oauth2.googleapis.com' && q.path === '/token');
  t.ok(refresh.length >= 1, 'the token exchange is recorded (intercepted by the default policy)');
  for (const q of refresh) {
    t.equal(q.forwardedIntact, 'credential-exchange');
    t.match(q.body, /refresh_token=\[MASKED:[a-z0-9-]+#\d+\]/, 'recorded with the refresh token masked');
  }
  t.ok(r.requests.every((q) => q.host !== 'api.anthropic.com' || !/\/v1\/messages/.test(q.path)), 'no model call went to api.anthropic.com');
});
