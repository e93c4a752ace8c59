// The AWS SDK itself (@aws-sdk/client-bedrock-runtime, a real client we did not write) through wiretrail:
// it signs with a dummy key, wiretrail masks the prompt and signs with the policy's key, the fake Bedrock
// verifies the signature with the AWS SDK's signer, and the SDK's own event-stream reader (CRC checks, event
// union) parses the masked, re-framed answers: ConverseStream, InvokeModelWithResponseStream, Converse, and a
// broken upstream stream that the SDK must raise as modelStreamErrorException rather than end quietly.
import t from 'tap';
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startMockUpstream, type Handler } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { connectTunnel } from '../helpers/raw.js';
import { allSessions } from '../helpers/records.js';
import { esFrame, invokeStream, verifySigV4, type FakeAwsKey } from '../helpers/fake-bedrock.js';

const BEDROCK = 'bedrock-runtime.us-east-1.amazonaws.com';
const SECRET = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';
const PIECES = [SECRET.slice(0, 11), SECRET.slice(11, 30), SECRET.slice(30)];
const KEY: FakeAwsKey = { accessKeyId: 'AKIAWIRETRAILSDKTEST', secretAccessKey: 'sdkTestSecretKey/wiretrail000000000000000' };
process.env.WT_SDK_AWS_AKID = KEY.accessKeyId;
process.env.WT_SDK_AWS_SECRET = KEY.secretAccessKey;

const verdicts: Array<string | null> = [];
const bedrock: Handler = async (req, body, res) => {
  const why = await verifySigV4(req, Buffer.from(body), KEY);
  verdicts.push(why);
  if (why) {
    res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/' });
    res.end(JSON.stringify({ message: why }));
    return;
  }
  const path = req.url!;
  const es = (b: Buffer) => {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'req-1' });
    res.end(b);
  };
  if (path.endsWith('/converse-stream')) {
    const frames = [
      esFrame('messageStart', { role: 'assistant', p: 'abcdef' }),
      ...['key: ', ...PIECES, ' ok'].map((text) => esFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text }, p: 'abcdef' })),
      esFrame('contentBlockStop', { contentBlockIndex: 0 }),
      esFrame('messageStop', { stopReason: 'end_turn' }),
      esFrame('metadata', { usage: { inputTokens: 3, outputTokens: 9, totalTokens: 12 }, metrics: { latencyMs: 12 } }),
    ];
    if (body.includes('BREAK')) {
      const bad = Buffer.from(frames[3]!);
      bad[bad.length - 6] = bad[bad.length - 6]! ^ 0x01; // the second piece of the key, its message CRC now wrong
      frames[3] = bad;
    }
    return es(Buffer.concat(frames));
  }
  if (path.endsWith('/invoke-with-response-stream')) {
    return es(
      invokeStream([
        { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 1 } } },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        ...['key: ', ...PIECES].map((text) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
        { type: 'content_block_stop', index: 0 },
        { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 9 } },
        { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 3, outputTokenCount: 9, invocationLatency: 10, firstByteLatency: 5 } },
      ]),
    );
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: `key: ${SECRET}` }] } }, stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 9, totalTokens: 12 }, metrics: { latencyMs: 5 } }));
};

const mock = await startMockUpstream({ hosts: [BEDROCK], handler: bedrock });
const h = await startHarness({
  policy: `intercept: [${BEDROCK}]\nhosts:\n  ${BEDROCK}:\n    aws_sigv4:\n      - { access_key_id: "\${env:WT_SDK_AWS_AKID}", secret_access_key: "\${env:WT_SDK_AWS_SECRET}" }\n`,
  upstreamCa: [mock.caFile],
  connectTo: [`${BEDROCK}:443:127.0.0.1:${mock.port}`],
});

/** An https.Agent that reaches every host through wiretrail's CONNECT and trusts its CA (the SDK has no proxy setting). */
class ThroughProxy extends https.Agent {
  override createConnection(options: { host?: string | null; port?: number | null; servername?: string }, cb: (err: Error | null, s?: Duplex) => void): Duplex | null | undefined {
    const host = options.servername ?? options.host ?? BEDROCK;
    connectTunnel(h.proxy.port, `${host}:${options.port ?? 443}`).then(({ socket, status }) => {
      if (status !== 200) return cb(new Error(`CONNECT ${status}`));
      const s = tls.connect({ socket, servername: host, ca: h.caPem, ALPNProtocols: ['http/1.1'] });
      s.once('secureConnect', () => cb(null, s)).once('error', (e) => cb(e));
    }, (e: Error) => cb(e));
    return undefined;
  }
}
const agent = new ThroughProxy({ keepAlive: false });
const client = new BedrockRuntimeClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIADUMMYRUNNERKEY00', secretAccessKey: 'dummyRunnerSecretNotARealKey0000000000000' },
  requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
  maxAttempts: 1,
});
t.teardown(async () => {
  client.destroy();
  agent.destroy();
  await h.stop();
  await mock.close();
});

const MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const prompt = (text: string) => [{ role: 'user' as const, content: [{ text }] }];

t.test('ConverseStream through wiretrail: the SDK reads every masked, re-framed event', async (t) => {
  const before = mock.seen.length;
  const r = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: prompt(`deploy with ${SECRET}`) }));
  let text = '';
  const kinds: string[] = [];
  for await (const ev of r.stream!) {
    kinds.push(Object.keys(ev).filter((k) => (ev as unknown as Record<string, unknown>)[k] !== undefined)[0]!);
    if (ev.contentBlockDelta?.delta?.text !== undefined) text += ev.contentBlockDelta.delta.text;
  }
  t.equal(verdicts.at(-1), null, "wiretrail's signature verified (the SDK's dummy one was replaced)");
  t.match(text, /^key: \[MASKED:openai-api-key#\d+\] ok$/);
  t.same(kinds.slice(-3), ['contentBlockStop', 'messageStop', 'metadata']);
  t.notOk(mock.seen[before]!.body.includes(SECRET), 'the prompt reached Bedrock masked');
  t.match(String(mock.seen[before]!.headers['authorization']), /Credential=AKIAWIRETRAILSDKTEST\//);
});

t.test('InvokeModelWithResponseStream: the SDK hands back chunks whose decoded events are masked', async (t) => {
  const r = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, contentType: 'application/json', body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }) }));
  const events: Array<{ type: string; delta?: { text?: string } }> = [];
  for await (const ev of r.body!) if (ev.chunk?.bytes) events.push(JSON.parse(Buffer.from(ev.chunk.bytes).toString('utf8')));
  const text = events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta!.text).join('');
  t.match(text, /^key: \[MASKED:openai-api-key#\d+\]$/);
  t.equal(events.at(-1)!.type, 'message_stop');
});

t.test('Converse (JSON): masked answer, SDK-parsed', async (t) => {
  const r = await client.send(new ConverseCommand({ modelId: MODEL, messages: prompt('hello') }));
  t.match(r.output!.message!.content![0]!.text!, /^key: \[MASKED:openai-api-key#\d+\]$/);
});

t.test('a corrupted frame upstream: the SDK raises modelStreamErrorException with the reason, after the masked text', async (t) => {
  const r = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: prompt('BREAK please') }));
  let text = '';
  let err: (Error & { name: string }) | null = null;
  try {
    for await (const ev of r.stream!) if (ev.contentBlockDelta?.delta?.text !== undefined) text += ev.contentBlockDelta.delta.text;
  } catch (e) {
    err = e as Error & { name: string };
  }
  t.ok(err, 'the stream did not end as if complete');
  t.equal(err?.name, 'ModelStreamErrorException');
  t.match(err?.message, /wiretrail: stream ended: .*CRC32/);
  t.notOk(text.includes(PIECES[1]!), 'no piece of the key reached the SDK');
  const recs = (await allSessions(h)).flat();
  t.ok(recs.some((x) => x.kind === 'error' && x.meta.code === 'WT_ERR_EVENTSTREAM_CRC'), 'the broken stream is recorded with its reason');
});
