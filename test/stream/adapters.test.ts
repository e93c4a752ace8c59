// Adapter behaviour beyond the fixtures: selection, passthrough, broken streams, abort, end
// signals without their usual companions, non-streamed JSON bodies.
import t from 'tap';
import { apiFromPath, createResponseProcessor, SseParser, type ResponseProcessor } from '../../src/stream/index.js';
import { ALL_SECRETS, engine, longestSecretRun, randomChunks } from './helpers.js';

const KEY = ALL_SECRETS[0]!;

function proc(path: string, contentType: string | undefined, opts: { status?: number; clientOff?: boolean } = {}): ResponseProcessor {
  const eng = engine();
  const headers: Record<string, string> = {};
  if (contentType) headers['content-type'] = contentType;
  return createResponseProcessor(
    { method: 'POST', host: 'h.test', path, requestHeaders: {} },
    { status: opts.status ?? 200, headers },
    { client: opts.clientOff ? null : eng.session(), record: eng.session() },
  );
}

async function feed(p: ResponseProcessor, body: string | Buffer, seed = 0): Promise<{ client: string; record: string }> {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const c: Buffer[] = [];
  const r: Buffer[] = [];
  for (const chunk of seed ? randomChunks(b, seed, 40) : [b]) {
    const o = await p.push(chunk);
    c.push(o.client);
    r.push(o.record);
  }
  const o = await p.end();
  c.push(o.client);
  r.push(o.record);
  return { client: Buffer.concat(c).toString(), record: Buffer.concat(r).toString() };
}

function sse(events: Array<{ event?: string; data: unknown }>): string {
  return events.map((e) => (e.event ? `event: ${e.event}\n` : '') + `data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`).join('');
}

function tryJson(s: string): any {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function events(text: string): Array<{ event: string; data: string; json: any }> {
  const p = new SseParser();
  return [...p.push(text), ...p.end().items].flatMap((i) => (i.kind === 'event' ? [{ event: i.event.event, data: i.event.data, json: tryJson(i.event.data) }] : []));
}

const noSecret = (s: string) => longestSecretRun(s).length < 6;

/** Chat chunks that stream `pieces` as content of choice 0. */
function chatChunks(pieces: string[], finish = true): Array<{ data: unknown }> {
  const base = { id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'm' };
  const out: Array<{ data: unknown }> = pieces.map((p) => ({ data: { ...base, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] } }));
  if (finish) out.push({ data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] } });
  return out;
}

t.test('unknown formats pass through unmodified; the record is masked', async (t) => {
  const body = `<html>your key ${KEY} is invalid</html>`;
  const p = proc('/v1/something/else', 'text/html');
  t.equal(p.adapter, 'passthrough');
  const o = await feed(p, body, 3);
  t.equal(o.client, body, 'client: byte for byte');
  t.ok(noSecret(o.record), 'record: masked');
  t.match(o.record, /^<html>your key \[MASKED:openai-api-key#1\] is invalid<\/html>$/);
  t.equal(p.findings.length, 1);

  const known = proc('/v1/chat/completions', 'text/plain');
  t.equal(known.adapter, 'passthrough', 'a known path with an unparsed content type');
  const sseUnknownPath = proc('/v2/agents/run', 'text/event-stream');
  const s = sse(chatChunks(['a ', KEY, ' b']));
  const o2 = await feed(sseUnknownPath, s);
  t.equal(sseUnknownPath.adapter, 'passthrough');
  t.equal(o2.client, s);
  t.ok(noSecret(o2.record));
});

t.test('the payload confirms or overrides the path hint', async (t) => {
  const anth = sse([
    { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model: 'c' } } },
    { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `k=${KEY.slice(0, 20)}` } } },
    { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `${KEY.slice(20)} ok` } } },
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ]);
  const p = proc('/chat/completions', 'text/event-stream');
  const o = await feed(p, anth);
  t.equal(p.adapter, 'anthropic-messages', 'an Anthropic stream on a chat path is parsed as Anthropic');
  t.ok(noSecret(o.client));
  const text = events(o.client).map((e) => e.json?.delta?.text ?? '').join('');
  t.match(text, /^k=\[MASKED:openai-api-key#1\] ok$/);

  const odd = sse([{ data: { hello: 'world', note: `x ${KEY} y` } }]);
  const q = proc('/v1/chat/completions', 'text/event-stream');
  const o2 = await feed(q, odd);
  t.equal(q.adapter, 'passthrough', 'no known format matches the payload');
  t.equal(events(o2.client)[0]!.json.note, `x ${KEY} y`, 'client: events unchanged');
  t.ok(noSecret(o2.record), 'record: masked');
});

t.test('broken SSE: invalid JSON and a truncated last event do not stop the stream', async (t) => {
  const good = chatChunks(['hello ', 'world'], false);
  const body =
    sse([good[0]!]) +
    `data: {"choices":[{"index":0,"delta":{"content":"broken ${KEY}"\n\n` +
    sse([good[1]!]) +
    sse(chatChunks(['!'], true).slice(1)) +
    `data: [DONE]\n\n` +
    `data: {"choices":[{"delta":{"content":"${KEY}`;
  for (const seed of [0, 1, 2]) {
    const p = proc('/v1/chat/completions', 'text/event-stream');
    const o = await feed(p, body, seed);
    t.ok(noSecret(o.client) && noSecret(o.record), `seed ${seed}: no secret in either output`);
    const evs = events(o.client);
    t.equal(evs.length, 5, 'every complete event came out');
    t.match(evs[1]!.data, /^\{"choices":\[\{"index":0,"delta":\{"content":"broken \[MASKED:/, 'the broken event is passed on, masked as text');
    t.equal(evs.filter((e) => e.json).map((e) => e.json.choices[0]?.delta?.content ?? '').join(''), 'hello world', 'the stream went on');
    t.match(o.client, /data: \{"choices":\[\{"delta":\{"content":"\[MASKED:[^\]]+\]$/, 'the truncated tail is passed on, masked');
  }
});

t.test('abort releases held text, masked, as a synthesized event', async (t) => {
  const pieces = ['the key ', KEY.slice(0, 10), KEY.slice(10, 30)];
  const p = proc('/v1/chat/completions', 'text/event-stream');
  const o1 = await p.push(Buffer.from(sse(chatChunks(pieces, false))));
  const o2 = p.abort();
  const out = o1.client.toString() + o2.client.toString();
  t.ok(noSecret(out));
  const evs = events(out);
  const text = evs.map((e) => e.json?.choices?.[0]?.delta?.content ?? '').join('');
  t.match(text, /^the key \[MASKED:openai-api-key#\d\]$/, 'nothing was lost, the cut-off key is masked');
  t.equal(evs.at(-1)!.json.id, 'chatcmpl-x', 'the synthesized chunk carries the stream envelope');
  t.same(p.abort(), { client: Buffer.alloc(0), record: Buffer.alloc(0) }, 'a second abort is a no-op');
  t.same(await p.push(Buffer.from('data: x\n\n')), { client: Buffer.alloc(0), record: Buffer.alloc(0) }, 'push after abort is a no-op');
});

t.test('chat: a new tool call ends the previous one in the same chunk, before its entry', async (t) => {
  const base = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm' };
  const tc = (index: number, args: string, first = false) => ({
    data: {
      ...base,
      choices: [{ index: 0, delta: { tool_calls: [first ? { index, id: `call_${index}`, type: 'function', function: { name: 'f', arguments: args } } : { index, function: { arguments: args } }] }, finish_reason: null }],
    },
  });
  const body = sse([
    { data: { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'Saving: token=' }, finish_reason: null }] } },
    tc(0, '', true),
    tc(0, '{"v":"'),
    tc(0, KEY.slice(0, 25)),
    tc(0, KEY.slice(25) + '"}'),
    tc(1, '', true),
    tc(1, '{"cmd":"ls"}'),
    { data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] } },
    { data: '[DONE]' },
  ]);
  const o = await feed(proc('/v1/chat/completions', 'text/event-stream'), body);
  const evs = events(o.client).filter((e) => e.json);
  const firstCall1 = evs.findIndex((e) => e.json.choices[0]?.delta?.tool_calls?.some((x: any) => x.index === 1));
  const args0 = evs
    .slice(0, firstCall1 + 1)
    .flatMap((e) => e.json.choices[0]?.delta?.tool_calls ?? [])
    .filter((x: any) => x.index === 0)
    .map((x: any) => x.function?.arguments ?? '')
    .join('');
  t.match(args0, /^\{"v":"\[MASKED:openai-api-key#1\]"\}$/, 'call 0 is complete when call 1 starts');
  const entries = evs[firstCall1]!.json.choices[0].delta.tool_calls.map((x: any) => x.index);
  t.same(entries.indexOf(0) < entries.indexOf(1), true, 'released entry comes first');
  const content = evs.map((e) => e.json.choices[0]?.delta?.content ?? '').join('');
  t.equal(content, 'Saving: token=', 'content released when the tool calls begin');
  const after = evs.slice(firstCall1 + 1).flatMap((e) => e.json.choices[0]?.delta?.tool_calls ?? []).filter((x: any) => x.index === 0);
  t.same(after, [], 'nothing for call 0 afterwards');
  t.ok(noSecret(o.client));
});

t.test('anthropic: message_stop without content_block_stop, and a mid-stream error', async (t) => {
  const head = [
    { event: 'message_start', data: { type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', content: [] } } },
    { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `use ${KEY.slice(0, 14)}` } } },
  ];
  const o = await feed(proc('/v1/messages', 'text/event-stream'), sse([...head, { event: 'message_stop', data: { type: 'message_stop' } }]));
  const evs = events(o.client);
  t.equal(evs.at(-1)!.event, 'message_stop');
  t.equal(evs.at(-2)!.event, 'content_block_delta', 'held text synthesized before message_stop');
  t.equal(evs.at(-2)!.json.delta.type, 'text_delta');
  t.ok(noSecret(o.client));

  const e = await feed(proc('/v1/messages', 'text/event-stream'), sse([...head, { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }]));
  const ee = events(e.client);
  t.equal(ee.at(-1)!.json.error.type, 'overloaded_error', 'error event passed through');
  t.match(ee.at(-2)!.json.delta.text, /\[MASKED:/, 'the cut-off key is released masked before the error');
  t.ok(noSecret(e.client));
});

t.test('responses: a *.done whose text differs from the deltas is masked whole; EOF releases', async (t) => {
  const ids = { item_id: 'msg_1', output_index: 0, content_index: 0 };
  const body = sse([
    { event: 'response.created', data: { type: 'response.created', sequence_number: 0, response: { id: 'r', object: 'response', output: [] } } },
    { event: 'response.output_text.delta', data: { type: 'response.output_text.delta', sequence_number: 1, ...ids, delta: 'key: ' } },
    { event: 'response.output_text.done', data: { type: 'response.output_text.done', sequence_number: 2, ...ids, text: `different ${KEY}` } },
    { event: 'response.output_text.delta', data: { type: 'response.output_text.delta', sequence_number: 3, item_id: 'msg_2', output_index: 1, content_index: 0, delta: `tail ${KEY.slice(0, 14)}` } },
  ]);
  const o = await feed(proc('/v1/responses', 'text/event-stream'), body);
  t.ok(noSecret(o.client));
  const evs = events(o.client);
  t.match(evs.find((e) => e.json.type === 'response.output_text.done')!.json.text, /^different \[MASKED:/);
  const last = evs.at(-1)!;
  t.equal(last.json.type, 'response.output_text.delta', 'EOF: held text as a delta of the open item');
  t.equal(last.json.item_id, 'msg_2');
  t.equal(last.event, 'response.output_text.delta');
});

t.test('gemini: EOF without finishReason; a function call masked value by value', async (t) => {
  const body = sse([
    { data: { candidates: [{ content: { parts: [{ text: `token ${KEY.slice(0, 14)}` }], role: 'model' }, index: 0 }], modelVersion: 'g' } },
    { data: { candidates: [{ content: { parts: [{ functionCall: { name: 'write', args: { content: `K=${KEY}` } } }], role: 'model' }, index: 0 }] } },
  ]);
  const o = await feed(proc('/v1beta/models/g:streamGenerateContent?alt=sse', 'text/event-stream'), body);
  t.ok(noSecret(o.client));
  const evs = events(o.client);
  t.match(evs[1]!.json.candidates[0].content.parts[0].functionCall.args.content, /^K=\[MASKED:/);
  t.equal(evs.length, 3, 'a synthesized event at the end');
  t.match(evs[2]!.json.candidates[0].content.parts[0].text, /\[MASKED:/);
  t.equal(evs[2]!.json.modelVersion, 'g');
});

t.test('ollama /api/generate NDJSON and a mid-stream error line', async (t) => {
  const lines = [
    { model: 'q', created_at: 't', response: 'k=', done: false },
    { model: 'q', created_at: 't', response: KEY.slice(0, 20), done: false },
    { model: 'q', created_at: 't', response: KEY.slice(20), done: false },
    { model: 'q', created_at: 't', response: '', done: true, done_reason: 'stop' },
  ];
  const p = proc('/api/generate', 'application/x-ndjson');
  const o = await feed(p, lines.map((l) => JSON.stringify(l)).join('\n') + '\n', 4);
  t.equal(p.adapter, 'ollama-generate');
  const out = o.client.trim().split('\n').map((l) => JSON.parse(l));
  t.equal(out.length, 4);
  t.match(out.map((l) => l.response).join(''), /^k=\[MASKED:openai-api-key#1\]$/);
  t.equal(out[3].done, true);

  const err = [{ model: 'q', created_at: 't', message: { role: 'assistant', content: KEY.slice(0, 14) }, done: false }, { error: 'model crashed' }];
  const e = await feed(proc('/api/chat', 'application/x-ndjson'), err.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const eo = e.client.trim().split('\n').map((l) => JSON.parse(l));
  t.equal(eo.at(-1).error, 'model crashed');
  t.match(eo.at(-2).message.content, /\[MASKED:/, 'held text released before the error line');
  t.ok(noSecret(e.client));
});

t.test('legacy completions stream (choices[].text)', async (t) => {
  const base = { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm' };
  const body = sse([
    { data: { ...base, choices: [{ index: 0, text: 'api_key = "', finish_reason: null }] } },
    { data: { ...base, choices: [{ index: 0, text: KEY.slice(0, 22), finish_reason: null }] } },
    { data: { ...base, choices: [{ index: 0, text: KEY.slice(22) + '"', finish_reason: 'stop' }] } },
    { data: '[DONE]' },
  ]);
  const p = proc('/v1/engines/copilot-codex/completions', 'text/event-stream');
  const o = await feed(p, body, 9);
  t.equal(p.adapter, 'openai-completions');
  t.match(events(o.client).map((e) => e.json?.choices?.[0]?.text ?? '').join(''), /^api_key = "\[MASKED:[^\]]+\]"$/);
});

t.test('comments and retry survive; a secret in a comment is masked', async (t) => {
  const body = `: ping ${KEY}\nretry: 2000\n\n` + sse(chatChunks(['hi']));
  const o = await feed(proc('/v1/chat/completions', 'text/event-stream'), body);
  t.match(o.client, /^: ping \[MASKED:openai-api-key#1\]\nretry: 2000\n/);
  t.ok(noSecret(o.client));
});

t.test('non-streamed JSON bodies of each provider', async (t) => {
  const cases: Array<[string, unknown, (j: any) => string[]]> = [
    [
      '/v1/chat/completions',
      { id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: `k ${KEY}`, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'w', arguments: JSON.stringify({ v: KEY }) } }] }, finish_reason: 'stop' }] },
      (j) => [j.choices[0].message.content, JSON.parse(j.choices[0].message.tool_calls[0].function.arguments).v],
    ],
    [
      '/v1/responses',
      { id: 'resp_1', object: 'response', output: [{ id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `k ${KEY}`, annotations: [] }] }, { id: 'rs_1', type: 'reasoning', encrypted_content: 'gAAAA' + 'q'.repeat(40), summary: [] }] },
      (j) => [j.output[0].content[0].text, j.output[1].encrypted_content === 'gAAAA' + 'q'.repeat(40) ? '[MASKED:ok]' : 'changed'],
    ],
    [
      '/v1/messages',
      { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'thinking', thinking: `t ${KEY}`, signature: 'EqQB' + 's'.repeat(60) }, { type: 'tool_use', id: 'toolu_1', name: 'w', input: { v: KEY } }] },
      (j) => [j.content[0].thinking, j.content[1].input.v, j.content[0].signature.startsWith('EqQB') ? '[MASKED:ok]' : 'changed'],
    ],
    [
      '/v1beta/models/g:generateContent',
      { candidates: [{ content: { parts: [{ text: `k ${KEY}` }, { functionCall: { name: 'w', args: { v: KEY } } }], role: 'model' }, index: 0, finishReason: 'STOP' }] },
      (j) => [j.candidates[0].content.parts[0].text, j.candidates[0].content.parts[1].functionCall.args.v],
    ],
    ['/api/chat', { model: 'q', message: { role: 'assistant', content: `k ${KEY}` }, done: true }, (j) => [j.message.content]],
  ];
  for (const [path, body, pick] of cases) {
    const p = proc(path, 'application/json');
    const o = await feed(p, JSON.stringify(body), 5);
    const j = JSON.parse(o.client);
    for (const v of pick(j)) t.match(v, /\[MASKED:/, `${path}: ${v}`);
    t.ok(noSecret(o.client) && noSecret(o.record), `${path}: nothing left`);
  }
  const err = proc('/v1/chat/completions', 'application/json', { status: 401 });
  const e = await feed(err, JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}.`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
  t.match(JSON.parse(e.client).error.message, /^Incorrect API key provided: \[MASKED:/, 'error bodies are masked too');
  t.equal(JSON.parse(e.client).error.code, 'invalid_api_key');

  const gArray = proc('/v1beta/models/g:streamGenerateContent', 'application/json');
  const arr = [
    { candidates: [{ content: { parts: [{ text: `k ${KEY.slice(0, 25)}` }], role: 'model' }, index: 0 }] },
    { candidates: [{ content: { parts: [{ text: `${KEY.slice(25)} done` }], role: 'model' }, index: 0, finishReason: 'STOP' }] },
  ];
  const ga = await feed(gArray, JSON.stringify(arr), 6);
  const gj = JSON.parse(ga.client);
  t.match(gj.map((x: any) => x.candidates[0].content.parts.map((p: any) => p.text).join('')).join(''), /^k \[MASKED:openai-api-key#1\] done$/, 'a streamed JSON array is masked across elements');
});

t.test('adapter hints from request paths (query ignored, host never consulted)', async (t) => {
  const cases: Array<[string, string | null]> = [
    ['/v1/chat/completions', 'openai-chat'],
    ['/chat/completions', 'openai-chat'],
    ['/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21', 'openai-chat'],
    ['/openai/v1/chat/completions', 'openai-chat'],
    ['/v1beta/openai/chat/completions', 'openai-chat'],
    ['/v1/responses', 'openai-responses'],
    ['/responses', 'openai-responses'],
    ['/v1/responses/resp_123?stream=true', 'openai-responses'],
    ['/v1/responses/resp_123/input_items', null],
    ['/v1/messages', 'anthropic-messages'],
    ['/v1/messages?beta=true', 'anthropic-messages'],
    ['/v1/threads/thread_1/messages', null],
    ['/v1/projects/p/locations/l/publishers/anthropic/models/claude-sonnet-4-5:streamRawPredict', 'anthropic-messages'],
    ['/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', 'gemini'],
    ['/v1beta/models/gemini-2.5-flash:generateContent', 'gemini'],
    ['/api/chat', 'ollama-chat'],
    ['/ollama/api/generate', 'ollama-generate'],
    ['/v1/completions', 'openai-completions'],
    ['/v1/engines/copilot-codex/completions', 'openai-completions'],
    ['/v1/embeddings', null],
    ['/', null],
  ];
  for (const [path, api] of cases) t.equal(apiFromPath(path), api, path);
});
