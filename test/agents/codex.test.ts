// Codex headless through wiretrail on its WebSocket transport (Responses API over WebSocket): no error, no
// fallback to HTTPS.
import { agentSuite } from './suite.js';

agentSuite('codex', /^\/v1\/responses/, (t, r) => {
  t.ok(r.websockets.length >= 1, 'the Responses WebSocket was intercepted and recorded');
  t.ok(r.fakeSeen.some((s) => s.transport === 'websocket' && s.path.startsWith('/v1/responses')), 'the provider saw the WebSocket');
  t.notOk(r.fakeSeen.some((s) => s.transport === 'https' && s.path.startsWith('/v1/responses')), 'no fallback to HTTPS');
  t.notMatch(r.run.stderr, /Falling back|responses_websocket|ERROR/, 'no WebSocket errors');
});
