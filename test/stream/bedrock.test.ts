// Bedrock through the response processor: ConverseStream and InvokeModelWithResponseStream event streams
// built and read back with the AWS SDK's own codec (@smithy/eventstream-codec, which checks both CRCs of
// every frame we emit), secrets split across events masked whole, unchanged frames kept byte for byte,
// broken frames ending the stream with an exception the SDK understands, every-byte splits giving the same
// bytes, and the non-streamed Converse / InvokeModel bodies on both sides.
import t from 'tap';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { apiFromPath, createResponseProcessor, maskRequestBody, type ResponseProcessor } from '../../src/stream/index.js';
import { engine } from './helpers.js';

const SECRET = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';
const PIECES = [SECRET.slice(0, 11), SECRET.slice(11, 30), SECRET.slice(30)];
const CONVERSE = '/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream';
const INVOKE = '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream';
const ES = 'application/vnd.amazon.eventstream';

const toUtf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
const sdk = new EventStreamCodec(toUtf8, (s: string) => new Uint8Array(Buffer.from(s, 'utf8')));

type Ev = { type: string; payload: unknown; kind?: 'event' | 'exception' };
function frame(e: Ev): Buffer {
  const kind = e.kind ?? 'event';
  return Buffer.from(
    sdk.encode({
      headers: {
        [kind === 'event' ? ':event-type' : ':exception-type']: { type: 'string', value: e.type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: kind },
      },
      body: new Uint8Array(Buffer.from(typeof e.payload === 'string' ? e.payload : JSON.stringify(e.payload))),
    }),
  );
}
const stream = (evs: Ev[]) => Buffer.concat(evs.map(frame));

/** Splits a byte stream into frames and decodes each with the SDK codec (it throws on a bad CRC). */
function readFrames(b: Buffer): Array<{ type: string; kind: string; json: any; raw: Buffer }> {
  const out = [];
  let pos = 0;
  while (pos < b.length) {
    const len = b.readUInt32BE(pos);
    const raw = b.subarray(pos, pos + len);
    const m = sdk.decode(raw);
    const h = (n: string) => m.headers[n]?.value as string | undefined;
    out.push({ type: h(':event-type') ?? h(':exception-type') ?? '', kind: h(':message-type') ?? '', json: JSON.parse(toUtf8(m.body)), raw });
    pos += len;
  }
  return out;
}

const P = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ';
const converseEvents = (): Ev[] => [
  { type: 'messageStart', payload: { role: 'assistant', p: P } },
  { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'The deploy key is ' }, p: P } },
  ...PIECES.map((text) => ({ type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text }, p: P } })),
  { type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: ' - keep it safe.' }, p: P } },
  { type: 'contentBlockStop', payload: { contentBlockIndex: 0, p: P } },
  { type: 'contentBlockStart', payload: { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'deploy' } }, p: P } },
  { type: 'contentBlockDelta', payload: { contentBlockIndex: 1, delta: { toolUse: { input: '{"key": "' + PIECES[0] } }, p: P } },
  { type: 'contentBlockDelta', payload: { contentBlockIndex: 1, delta: { toolUse: { input: PIECES[1]! + PIECES[2]! + '"}' } }, p: P } },
  { type: 'contentBlockStop', payload: { contentBlockIndex: 1, p: P } },
  { type: 'messageStop', payload: { stopReason: 'tool_use', p: P } },
  { type: 'metadata', payload: { usage: { inputTokens: 12, outputTokens: 40, totalTokens: 52 }, metrics: { latencyMs: 812 }, p: P } },
];

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');
const anthropicEvents = (): unknown[] => [
  { type: 'message_start', message: { id: 'msg_bdrk_01', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ...['The deploy key is ', ...PIECES, ' (done).'].map((text) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
  { type: 'content_block_stop', index: 0 },
  { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 20 } },
  { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 12, outputTokenCount: 20, invocationLatency: 900, firstByteLatency: 300 } },
];
const invokeEvents = (inner = anthropicEvents()): Ev[] => inner.map((e) => ({ type: 'chunk', payload: { bytes: b64(e), p: P } }));

function proc(path: string, opts: { contentType?: string; maxEventSize?: number } = {}): ResponseProcessor {
  const eng = engine();
  return createResponseProcessor(
    { method: 'POST', host: 'bedrock-runtime.us-east-1.amazonaws.com', path, requestHeaders: {} },
    { status: 200, headers: { 'content-type': opts.contentType ?? ES } },
    { client: eng.session(), record: eng.session() },
    opts.maxEventSize ? { maxEventSize: opts.maxEventSize } : {},
  );
}

async function feed(p: ResponseProcessor, pieces: Buffer[]): Promise<{ client: Buffer; record: Buffer }> {
  const c: Buffer[] = [];
  const r: Buffer[] = [];
  for (const piece of pieces) {
    const o = await p.push(piece);
    c.push(o.client);
    r.push(o.record);
    if (p.broken) break;
  }
  const o = await p.end();
  return { client: Buffer.concat([...c, o.client]), record: Buffer.concat([...r, o.record]) };
}

const leaks = (s: string) => [SECRET, ...PIECES.slice(0, 2)].filter((x) => s.includes(x));

t.test('request paths name the Bedrock APIs (model ids and ARNs percent-encoded in one segment)', async (t) => {
  t.equal(apiFromPath(CONVERSE), 'bedrock-converse');
  t.equal(apiFromPath('/model/amazon.nova-pro-v1%3A0/converse'), 'bedrock-converse');
  t.equal(apiFromPath(INVOKE), 'bedrock-invoke');
  t.equal(apiFromPath('/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-x/invoke'), 'bedrock-invoke');
  t.equal(apiFromPath('/model/a/b/converse'), null);
});

t.test('ConverseStream: text and tool input split across events are masked whole; the SDK reads every frame', async (t) => {
  const p = proc(CONVERSE);
  const input = stream(converseEvents());
  const { client, record } = await feed(p, [input]);
  t.equal(p.adapter, 'bedrock-converse');
  t.same(leaks(client.toString('latin1')), [], 'no secret (or piece) reaches the client');
  t.same(leaks(record.toString('latin1')), [], 'nor the record');
  const frames = readFrames(client);
  const text = frames.filter((f) => f.type === 'contentBlockDelta' && f.json.contentBlockIndex === 0).map((f) => f.json.delta.text).join('');
  t.match(text, /^The deploy key is \[MASKED:openai-api-key#\d+\] - keep it safe\.$/);
  const input1 = frames.filter((f) => f.type === 'contentBlockDelta' && f.json.contentBlockIndex === 1).map((f) => f.json.delta.toolUse.input).join('');
  t.match(JSON.parse(input1).key, /^\[MASKED:openai-api-key#\d+\]$/, 'the tool input is still JSON, its secret masked');
  const types = frames.map((f) => f.type);
  t.same(types.slice(0, 2), ['messageStart', 'contentBlockDelta']);
  t.same(types.slice(-3), ['contentBlockStop', 'messageStop', 'metadata']);
  t.equal(types.filter((x) => x === 'contentBlockStop').length, 2);
  t.same(frames.find((f) => f.type === 'contentBlockStart')!.json.start.toolUse.toolUseId, 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', 'ids untouched');
  const original = readFrames(input);
  t.same(frames[0]!.raw, original[0]!.raw, 'an unchanged event keeps its frame byte for byte');
  t.same(frames.at(-1)!.raw, original.at(-1)!.raw);
  t.same(readFrames(record).map((f) => f.type), types, 'the record holds the same frames');
  t.ok(p.findings.length >= 2);
});

t.test('InvokeModelWithResponseStream: Anthropic events inside base64 chunks, masked on the decoded text', async (t) => {
  const p = proc(INVOKE);
  const input = stream(invokeEvents());
  const { client, record } = await feed(p, [input]);
  t.equal(p.adapter, 'bedrock-invoke');
  const frames = readFrames(client);
  t.ok(frames.every((f) => f.type === 'chunk' && f.kind === 'event'));
  const inner = frames.map((f) => JSON.parse(Buffer.from(f.json.bytes, 'base64').toString('utf8')));
  t.same(leaks(inner.map((e) => JSON.stringify(e)).join('')), [], 'the decoded events hold no secret');
  t.same(leaks(client.toString('latin1') + record.toString('latin1')), []);
  const text = inner.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join('');
  t.match(text, /^The deploy key is \[MASKED:openai-api-key#\d+\] \(done\)\.$/);
  t.same(inner.map((e) => e.type).slice(-4), ['content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'], 'order kept');
  t.ok(inner.at(-1)['amazon-bedrock-invocationMetrics'], 'the invocation metrics survive');
  t.same(frames[0]!.raw, readFrames(input)[0]!.raw, 'message_start goes on byte for byte (base64 and frame)');
  t.ok(frames.every((f) => f.json.p === P || f.json.p === undefined), 'padding kept');
  const recInner = readFrames(record).map((f) => Buffer.from(f.json.bytes, 'base64').toString('utf8'));
  t.same(leaks(recInner.join('')), [], 'the record, decoded, holds no secret');
});

t.test('every split of the streams gives the same client and record bytes', async (t) => {
  for (const [name, path, input] of [
    ['converse', CONVERSE, stream(converseEvents())],
    ['invoke', INVOKE, stream(invokeEvents())],
  ] as const) {
    const whole = await feed(proc(path), [input]);
    let same = 0;
    for (let i = 0; i <= input.length; i++) {
      const r = await feed(proc(path), [input.subarray(0, i), input.subarray(i)]);
      if (r.client.equals(whole.client) && r.record.equals(whole.record)) same++;
      else t.fail(`${name}: split at ${i} differs`);
    }
    t.equal(same, input.length + 1, `${name}: all ${input.length + 1} splits identical`);
    const bytes = await feed(proc(path), [...input].map((b) => Buffer.from([b])));
    t.ok(bytes.client.equals(whole.client) && bytes.record.equals(whole.record), `${name}: byte by byte identical`);
  }
});

t.test('a corrupted frame ends the stream: held text released masked, then an exception the SDK raises', async (t) => {
  const evs = converseEvents();
  const frames = evs.map(frame);
  const bad = Buffer.from(frames[4]!); // the last piece of the secret
  bad[bad.length - 8] = bad[bad.length - 8]! ^ 0x01;
  const p = proc(CONVERSE);
  const { client, record } = await feed(p, [Buffer.concat([...frames.slice(0, 4), bad, ...frames.slice(5)])]);
  t.equal(p.broken?.code, 'WT_ERR_EVENTSTREAM_CRC');
  // the held start of the key is released as the mask stage decides (a key cut short matches no rule)
  t.same(leaks(client.toString('latin1') + record.toString('latin1')), []);
  t.notOk(client.toString('latin1').includes(PIECES[2]!), 'nothing of the bad frame reaches the client');
  t.ok(record.toString('latin1').includes(PIECES[2]!.slice(0, 10)), 'the record keeps the bad frame\'s bytes');
  t.notOk(record.toString('latin1').includes('tooluse_kZJMlvQmRJ6eAyJE5GIl7Q'), 'frames after it were not read');
  const out = readFrames(client);
  const last = out.at(-1)!;
  t.equal(last.kind, 'exception');
  t.equal(last.type, 'modelStreamErrorException');
  t.match(last.json.message, /wiretrail: stream ended: .*CRC32/);
  const text = out.filter((f) => f.type === 'contentBlockDelta').map((f) => f.json.delta.text).join('');
  t.match(text, /^The deploy key is \[MASKED:openai-api-key#\d+\]$/, 'what came before is delivered, the held start of the key released masked');
  t.notOk(out.some((f) => f.type === 'messageStop'), 'nothing after the bad frame');
});

t.test('an oversize message breaks the stream before it is buffered', async (t) => {
  const big = stream([{ type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'x'.repeat(5000) } } }]);
  const p = proc(CONVERSE, { maxEventSize: 1024 });
  const { client } = await feed(p, [stream(converseEvents().slice(0, 2)), big]);
  t.equal(p.broken?.code, 'WT_ERR_UPSTREAM_EVENT_TOO_LARGE');
  const out = readFrames(client);
  t.same(out.map((f) => f.type), ['messageStart', 'contentBlockDelta', 'modelStreamErrorException']);
});

t.test('an upstream exception mid-stream: held text goes out before it', async (t) => {
  const evs = converseEvents().slice(0, 3);
  evs.push({ type: 'throttlingException', kind: 'exception', payload: { message: 'Too many requests, please wait before trying again.' } });
  const p = proc(CONVERSE);
  const { client } = await feed(p, [stream(evs)]);
  const out = readFrames(client);
  t.same(out.map((f) => f.type), ['messageStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockDelta', 'throttlingException']);
  t.equal(out.at(-1)!.kind, 'exception', 'the exception keeps its headers');
  t.equal(out.map((f) => f.json.delta?.text ?? '').join(''), 'The deploy key is ' + PIECES[0], 'the held start of the key is released (too short to be a key on its own)');
});

t.test('base64 that is not canonical is re-encoded from what the masker saw', async (t) => {
  const inner = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hello there' } };
  const canonical = b64(inner);
  const sloppy = canonical.slice(0, 8) + '\n' + canonical.slice(8); // a lenient decoder skips the newline
  const p = proc(INVOKE);
  const { client } = await feed(p, [stream([{ type: 'chunk', payload: { bytes: sloppy } }])]);
  const out = readFrames(client);
  for (const f of out) t.equal(Buffer.from(f.json.bytes, 'base64').toString('base64'), f.json.bytes, 'every chunk goes out as canonical base64');
  t.not(out[0]!.json.bytes, sloppy);
  const text = out.map((f) => JSON.parse(Buffer.from(f.json.bytes, 'base64').toString('utf8')).delta.text).join('');
  t.equal(text, 'hello there', 'what the masker saw (it may hold a word back to the end of the stream)');
});

t.test('other models inside InvokeModel chunks: Llama `generation` split across chunks is masked whole', async (t) => {
  const chunks = [...['key: ', ...PIECES].map((generation) => ({ generation, stop_reason: null })), { generation: '.', stop_reason: 'stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 3 } }];
  const p = proc('/model/meta.llama3-70b-instruct-v1%3A0/invoke-with-response-stream');
  const { client, record } = await feed(p, [stream(invokeEvents(chunks))]);
  const inner = readFrames(client).map((f) => JSON.parse(Buffer.from(f.json.bytes, 'base64').toString('utf8')));
  t.match(inner.map((e) => e.generation).join(''), /^key: \[MASKED:openai-api-key#\d+\]\.$/);
  t.same(leaks(client.toString('latin1') + record.toString('latin1') + JSON.stringify(inner)), []);
});

t.test('non-streamed Converse and InvokeModel bodies, and their requests', async (t) => {
  const converse = { output: { message: { role: 'assistant', content: [{ text: `use ${SECRET}` }, { toolUse: { toolUseId: 'tooluse_abc', name: 'x', input: { key: SECRET } } }] } }, stopReason: 'end_turn', usage: { inputTokens: 1 } };
  let p = proc('/model/m/converse', { contentType: 'application/json' });
  let r = await feed(p, [Buffer.from(JSON.stringify(converse))]);
  t.equal(p.adapter, 'bedrock-converse');
  const c = JSON.parse(r.client.toString());
  t.match(c.output.message.content[0].text, /^use \[MASKED:openai-api-key#\d+\]$/);
  t.match(c.output.message.content[1].toolUse.input.key, /^\[MASKED/);
  t.equal(c.output.message.content[1].toolUse.toolUseId, 'tooluse_abc');

  const invoke = { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: `use ${SECRET}` }], stop_reason: 'end_turn' };
  p = proc('/model/m/invoke', { contentType: 'application/json' });
  r = await feed(p, [Buffer.from(JSON.stringify(invoke))]);
  t.equal(p.adapter, 'bedrock-invoke');
  t.match(JSON.parse(r.client.toString()).content[0].text, /^use \[MASKED/);

  const eng = engine();
  const convReq = { messages: [{ role: 'user', content: [{ text: `deploy with ${SECRET}` }, { toolResult: { toolUseId: 'tooluse_abc', content: [{ json: { key: SECRET } }] } }] }], system: [{ text: 'be brief' }] };
  const m = maskRequestBody({ method: 'POST', host: 'bedrock-runtime.us-east-1.amazonaws.com', path: '/model/m/converse-stream', requestHeaders: { 'content-type': 'application/json' } }, Buffer.from(JSON.stringify(convReq)), eng.session());
  t.equal(m.adapter, 'bedrock-converse');
  t.notOk(m.body.toString().includes(SECRET));
  t.equal(JSON.parse(m.body.toString()).messages[0].content[1].toolResult.toolUseId, 'tooluse_abc');
  const invReq = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: `deploy with ${SECRET}` }] };
  const m2 = maskRequestBody({ method: 'POST', host: 'bedrock-runtime.us-east-1.amazonaws.com', path: INVOKE, requestHeaders: { 'content-type': 'application/json' } }, Buffer.from(JSON.stringify(invReq)), eng.session());
  t.equal(m2.adapter, 'bedrock-invoke');
  t.notOk(m2.body.toString().includes(SECRET));
  t.equal(JSON.parse(m2.body.toString()).anthropic_version, 'bedrock-2023-05-31');
});

t.test('an event stream on a non-Bedrock path is not parsed: raw to the client, masked in the record', async (t) => {
  const input = stream(converseEvents());
  const p = proc('/v1/whatever');
  const r = await feed(p, [input]);
  t.equal(p.adapter, 'passthrough');
  t.ok(r.client.equals(input), 'the client gets the bytes as they came');
  t.equal(r.record.length, input.length, 'the record gets them as latin1 text (masked where a rule matches)');
});
