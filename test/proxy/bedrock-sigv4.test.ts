// SigV4 re-signing: with an AWS credential in the host's policy (`aws_sigv4`), wiretrail masks the prompt and
// signs what it sends itself, so runners hold no AWS key (or a dummy one) and masking no longer breaks the
// signature. The fake Bedrock verifies every signature with the AWS SDK's signer and answers
// InvokeModelWithResponseStream / ConverseStream event streams, which reach the client masked with valid CRCs.
import t from 'tap';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { startMockUpstream, type Handler } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allSessions } from '../helpers/records.js';
import { defaultPolicy } from '../../src/policy/index.js';
import { esFrame, invokeStream, readFrames, verifySigV4, type FakeAwsKey } from '../helpers/fake-bedrock.js';

const BEDROCK = 'bedrock-runtime.us-east-1.amazonaws.com';
const SECRET = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';
const PIECES = [SECRET.slice(0, 11), SECRET.slice(11, 30), SECRET.slice(30)];
const KEY: FakeAwsKey = { accessKeyId: 'AKIAWIRETRAILTEST01', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYwiretrailTEST', sessionToken: 'FwoGZXIvYXdzEFAKEsessiontoken0123456789' };
const DUMMY_SIGV4 = 'AWS4-HMAC-SHA256 Credential=AKIADUMMYCLIENTKEY00/20261203/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024';
process.env.WT_TEST_AWS_AKID = KEY.accessKeyId;
process.env.WT_TEST_AWS_SECRET = KEY.secretAccessKey;
process.env.WT_TEST_AWS_TOKEN = KEY.sessionToken;

const anthropic = [
  { type: 'message_start', message: { id: 'msg_bdrk_1', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 1 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ...['key: ', ...PIECES, ' ok'].map((text) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
  { type: 'content_block_stop', index: 0 },
  { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 9 } },
  { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 3, outputTokenCount: 9, invocationLatency: 10, firstByteLatency: 5 } },
];

const verdicts: Array<string | null> = [];
const bedrock: Handler = async (req, body, res) => {
  const why = await verifySigV4(req, Buffer.from(body), KEY);
  verdicts.push(why);
  if (why) {
    res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException' });
    res.end(JSON.stringify({ message: why }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
  if (req.url!.endsWith('/invoke-with-response-stream')) res.end(invokeStream(anthropic));
  else
    res.end(
      Buffer.concat([
        esFrame('messageStart', { role: 'assistant' }),
        ...['key: ', ...PIECES].map((text) => esFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })),
        esFrame('contentBlockStop', { contentBlockIndex: 0 }),
        esFrame('messageStop', { stopReason: 'end_turn' }),
      ]),
    );
};

const mock = await startMockUpstream({ hosts: [BEDROCK], handler: bedrock });
const aws = (extra = '') => `    aws_sigv4:\n      - access_key_id: \${env:WT_TEST_AWS_AKID}\n        secret_access_key: \${env:WT_TEST_AWS_SECRET}\n        session_token: \${env:WT_TEST_AWS_TOKEN}\n${extra}`;
const h = await startHarness({ policy: `intercept: [${BEDROCK}]\nhosts:\n  ${BEDROCK}:\n${aws()}`, upstreamCa: [mock.caFile], connectTo: [`${BEDROCK}:443:127.0.0.1:${mock.port}`] });
const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
t.teardown(async () => {
  await dispatcher.close();
  await h.stop();
  await mock.close();
});

const invokeBody = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: `deploy with ${SECRET}` }] });
const INVOKE = `https://${BEDROCK}/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream`;

t.test('a runner with a dummy signature: the prompt is masked, wiretrail signs, Bedrock accepts, the stream comes back masked', async (t) => {
  const before = mock.seen.length;
  const r = await undiciFetch(INVOKE, {
    method: 'POST',
    body: invokeBody,
    dispatcher,
    headers: { 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream', authorization: DUMMY_SIGV4, 'x-amz-date': '20261203T180000Z', 'x-amz-security-token': 'client-dummy-token', 'x-amz-content-sha256': 'abc' },
  });
  const bytes = Buffer.from(await r.arrayBuffer());
  t.equal(r.status, 200, `Bedrock accepted the signature (${verdicts.at(-1)})`);
  t.equal(verdicts.at(-1), null);
  const seen = mock.seen[before]!;
  t.notOk(seen.body.includes(SECRET), 'the prompt reached Bedrock masked');
  t.match(seen.body, /deploy with \[MASKED:openai-api-key#\d+\]/);
  t.match(String(seen.headers['authorization']), /Credential=AKIAWIRETRAILTEST01\//, "signed with wiretrail's key, not the client's");
  t.equal(seen.headers['x-amz-security-token'], KEY.sessionToken, "the client's session token was replaced");
  const frames = readFrames(bytes);
  const text = frames.filter((f) => f.inner?.type === 'content_block_delta').map((f) => f.inner.delta.text).join('');
  t.match(text, /^key: \[MASKED:openai-api-key#\d+\] ok$/);
  t.notOk(bytes.toString('latin1').includes(PIECES[1]!));
  const recs = (await allSessions(h)).flat();
  const req = recs.filter((x) => x.kind === 'request').at(-1)!;
  t.equal(req.meta.signedBy, 'wiretrail-sigv4');
  t.equal(req.meta.forwardedMasked, true);
  t.notOk(req.meta.forwardedIntact, 'not forwarded intact');
  t.notOk(req.body!.toString().includes(SECRET));
  const end = recs.filter((x) => x.kind === 'response-end').at(-1)!;
  t.equal(end.meta.adapter, 'bedrock-invoke');
  const chunks = recs.filter((x) => x.kind === 'chunk').map((x) => x.body?.toString('latin1') ?? '').join('');
  t.notOk(chunks.includes(PIECES[1]!), 'the recorded stream holds no piece of the secret');
  t.same(readFrames(Buffer.from(chunks, 'latin1')).map((f) => f.inner?.type), frames.map((f) => f.inner?.type), 'the record holds the same events');
});

t.test('a runner with no AWS credential at all: wiretrail signs; ConverseStream comes back masked', async (t) => {
  const r = await undiciFetch(`https://${BEDROCK}/model/anthropic.claude-x/converse-stream`, {
    method: 'POST',
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hello' }] }] }),
    headers: { 'content-type': 'application/json' },
    dispatcher,
  });
  const bytes = Buffer.from(await r.arrayBuffer());
  t.equal(r.status, 200, String(verdicts.at(-1)));
  const text = readFrames(bytes).filter((f) => f.type === 'contentBlockDelta').map((f) => f.json.delta.text).join('');
  t.match(text, /^key: \[MASKED:openai-api-key#\d+\]$/);
});

t.test('the credential is only for the groups it names; without one the old refusal stands', async (t) => {
  const mock2 = await startMockUpstream({ hosts: [BEDROCK], handler: bedrock });
  const p = await startHarness({
    policy: `intercept: [${BEDROCK}]\nhosts:\n  ${BEDROCK}:\n${aws('        groups: [ml-platform]\n')}`,
    upstreamCa: [mock2.caFile],
    connectTo: [`${BEDROCK}:443:127.0.0.1:${mock2.port}`],
  });
  const d = new ProxyAgent({ uri: p.proxyUrl, requestTls: { ca: p.caPem } });
  t.teardown(async () => {
    await d.close();
    await p.stop();
    await mock2.close();
  });
  const r = await undiciFetch(INVOKE, { method: 'POST', body: invokeBody, headers: { 'content-type': 'application/json' }, dispatcher: d });
  t.equal(r.status, 403);
  t.match(await r.text(), /no AWS credential .* for your groups/);
  t.equal(mock2.seen.length, 0, 'nothing reached Bedrock');
});

t.test('a policy with a literal key, or an unknown region, is refused clearly', async (t) => {
  await t.rejects(
    startHarness({ policy: `intercept: [${BEDROCK}]\nhosts:\n  ${BEDROCK}:\n    aws_sigv4:\n      - access_key_id: AKIAWIRETRAILTEST01\n        secret_access_key: \${env:WT_TEST_AWS_SECRET}\n` }),
    /aws_sigv4\[0\]\.access_key_id: the value must come from \$\{env:NAME\}/,
  );
  const other = 'runtime.example-proxy.internal';
  const mock3 = await startMockUpstream({ hosts: [other], handler: bedrock });
  const p = await startHarness({ policy: `intercept: [${other}]\nallow_private: [${other}]\nhosts:\n  ${other}:\n${aws()}`, upstreamCa: [mock3.caFile], connectTo: [`${other}:443:127.0.0.1:${mock3.port}`] });
  const d = new ProxyAgent({ uri: p.proxyUrl, requestTls: { ca: p.caPem } });
  t.teardown(async () => {
    await d.close();
    await p.stop();
    await mock3.close();
  });
  const r = await undiciFetch(`https://${other}/model/m/invoke`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, dispatcher: d });
  t.equal(r.status, 502);
  t.match(await r.text(), /cannot tell the AWS region and service of runtime\.example-proxy\.internal/);
  t.equal(mock3.seen.length, 0);
});

t.test('the default policy intercepts the Bedrock runtime in every region, and nothing else of AWS', async (t) => {
  const p = defaultPolicy();
  for (const host of ['bedrock-runtime.us-east-1.amazonaws.com', 'bedrock-runtime.eu-central-1.amazonaws.com', 'bedrock-runtime.ap-southeast-2.amazonaws.com']) t.equal(p.decide(host).action, 'intercept', host);
  for (const host of ['bedrock.us-east-1.amazonaws.com', 's3.us-east-1.amazonaws.com', 'bedrock-runtime.us-east-1.amazonaws.com.evil.test', 'x.bedrock-runtime.us-east-1.amazonaws.com']) t.not(p.decide(host).action, 'intercept', host);
});
