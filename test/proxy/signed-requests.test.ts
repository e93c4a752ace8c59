// Masking must not break authentication: a credential exchange (Claude Code on Vertex posting its gcloud
// refresh token to oauth2.googleapis.com/token) is recorded masked and forwarded intact; a SigV4-signed body
// (Bedrock) holding a secret is refused unless the host's policy says `signed_body: pass`, never forwarded
// with a broken signature.
import t from 'tap';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { startMockUpstream, type Handler } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allSessions } from '../helpers/records.js';

const BEDROCK = 'bedrock-runtime.us-east-1.amazonaws.com';
const REFRESH = '1//0gXk3vFAKEr3fr3shT0k3nCgYIARAAGBASNwF-L9IrQmFAKEqW1xZ7yN0pB4sT6vR8kJ2hG5dL3mC9';
const TOKEN_BODY = `grant_type=refresh_token&refresh_token=${REFRESH}&client_id=764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com&client_secret=d-FL95Q19q7MQmFpd7hHD0Ty`;
const SECRET = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';
const SIGV4 = 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261203/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024';

const ok: Handler = (_req, _body, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"ok":true}');
};
const mock = await startMockUpstream({ hosts: ['oauth2.googleapis.com', BEDROCK], handler: ok });
const policy = `intercept: [oauth2.googleapis.com, ${BEDROCK}]\nhosts:\n  ${BEDROCK}:\n    signed_body: refuse\n`;
const h = await startHarness({ policy, upstreamCa: [mock.caFile], connectTo: [`oauth2.googleapis.com:443:127.0.0.1:${mock.port}`, `${BEDROCK}:443:127.0.0.1:${mock.port}`] });
const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
t.teardown(async () => {
  await dispatcher.close();
  await h.stop();
  await mock.close();
});

const post = (url: string, body: string, headers: Record<string, string>) => undiciFetch(url, { method: 'POST', body, headers, dispatcher });
const bedrockBody = (text: string) => JSON.stringify({ messages: [{ role: 'user', content: [{ text }] }] });
const sigHeaders = { 'content-type': 'application/json', authorization: SIGV4, 'x-amz-date': '20261203T180000Z', 'x-amz-content-sha256': 'abc123' };

t.test('an OAuth refresh-token exchange reaches Google intact and is recorded masked', async (t) => {
  const before = mock.seen.length;
  const r = await post('https://oauth2.googleapis.com/token', TOKEN_BODY, { 'content-type': 'application/x-www-form-urlencoded' });
  t.equal(r.status, 200);
  await r.text();
  t.equal(mock.seen[before]!.body, TOKEN_BODY, 'forwarded byte for byte (Google would answer invalid_grant otherwise)');
  const req = (await allSessions(h)).flat().find((x) => x.kind === 'request' && x.meta.host === 'oauth2.googleapis.com')!;
  t.equal(req.meta.forwardedIntact, 'credential-exchange');
  t.equal(req.meta.forwardedMasked, false);
  t.notOk(req.body!.toString().includes(REFRESH), 'the record holds no refresh token');
  t.match(req.body!.toString(), /refresh_token=\[MASKED:google-oauth-refresh-token#\d+\]/);
});

t.test('a SigV4-signed body with a secret is refused, not forwarded broken; without a secret it passes', async (t) => {
  const before = mock.seen.length;
  const r = await post(`https://${BEDROCK}/model/anthropic.claude-x/converse-stream`, bedrockBody(`deploy with ${SECRET}`), sigHeaders);
  t.equal(r.status, 403);
  t.equal(r.headers.get('x-wiretrail-error'), 'WT_ERR_SIGNED_BODY');
  t.match(await r.text(), /signed \(AWS SigV4\).*cannot re-sign.*signed_body: pass/);
  t.equal(mock.seen.length, before, 'nothing reached Bedrock');
  const deny = (await allSessions(h)).flat().find((x) => x.kind === 'deny' && x.meta.code === 'WT_ERR_SIGNED_BODY');
  t.ok(deny, 'the refusal is recorded');

  const clean = await post(`https://${BEDROCK}/model/anthropic.claude-x/converse-stream`, bedrockBody('hello'), sigHeaders);
  t.equal(clean.status, 200, 'a signed body masking leaves alone is forwarded');
  await clean.text();
  t.equal(mock.seen.at(-1)!.body, bedrockBody('hello'));
});

t.test('signed_body: pass forwards the signed body unmasked and records it masked, marked as such', async (t) => {
  const passMock = await startMockUpstream({ hosts: [BEDROCK], handler: ok });
  const p = await startHarness({ policy: `intercept: [${BEDROCK}]\nhosts:\n  ${BEDROCK}:\n    signed_body: pass\n`, upstreamCa: [passMock.caFile], connectTo: [`${BEDROCK}:443:127.0.0.1:${passMock.port}`] });
  const d = new ProxyAgent({ uri: p.proxyUrl, requestTls: { ca: p.caPem } });
  t.teardown(async () => {
    await d.close();
    await p.stop();
    await passMock.close();
  });
  const body = bedrockBody(`deploy with ${SECRET}`);
  const r = await undiciFetch(`https://${BEDROCK}/model/anthropic.claude-x/converse-stream`, { method: 'POST', body, headers: sigHeaders, dispatcher: d });
  t.equal(r.status, 200);
  await r.text();
  t.equal(passMock.seen[0]!.body, body, 'the signature still matches what arrives');
  const req = (await allSessions(p)).flat().find((x) => x.kind === 'request')!;
  t.equal(req.meta.forwardedIntact, 'signed-body-passed');
  t.notOk(req.body!.toString().includes(SECRET), 'recorded masked');
});
