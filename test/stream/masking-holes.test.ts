// Masking holes an outside attack found: opaque-field skipping at any depth, object keys never
// scanned, duplicate keys (the parsed value is masked, the text is sent), and the other ways JSON
// text and its parsed value can differ. Request and response side.
import t from 'tap';
import { createResponseProcessor, maskRequestBody, maskRequestHeaders, maskRequestTarget, SseParser, type ExchangeMeta } from '../../src/stream/index.js';
import { engine } from './helpers.js';

const KEY = 'sk-proj-' + 'Zq8Lm3Nv7Bx2Cw9Rt4Yp6Hs1Jd5Gf0Kk2Wm7Qa3Ee9Ru';
const GH = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const PW = 'password=Tr0ub4dor&3-correct-Horse'; // a context (keyword) secret, not a strong one

function req(path: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const ex: ExchangeMeta = { method: 'POST', host: 'api.example.test', path, requestHeaders: headers };
  return maskRequestBody(ex, Buffer.isBuffer(body) ? body : Buffer.from(body), engine().session());
}

function leaks(b: Buffer | string, ...secrets: string[]): boolean {
  const s = typeof b === 'string' ? b : b.toString('utf8');
  return secrets.some((k) => s.includes(k.slice(0, 14)) || s.includes(k.slice(-14)));
}

t.test('request: a key under an opaque-looking name outside the schema is masked', async (t) => {
  const body = {
    model: 'gpt-4.1',
    metadata: { status: KEY, type: GH, role: KEY, signature: KEY, encrypted_content: GH, call_id: KEY },
    messages: [{ role: 'user', id: KEY, model: GH, content: 'hi' }],
  };
  const r = req('/v1/chat/completions', JSON.stringify(body));
  t.ok(r.changed);
  t.notOk(leaks(r.body, KEY, GH), 'no key left');
  const out = JSON.parse(r.body.toString());
  t.match(out.messages[0].id, /^\[MASKED:/);
  t.match(out.metadata.status, /^\[MASKED:/);
  t.equal(out.model, 'gpt-4.1');
});

t.test('request: opaque paths keep ids and blobs, but a strong key there is still masked', async (t) => {
  const sig = 'EqQBCkYIBxgCKkBr' + 'a9Zx'.repeat(60);
  const enc = 'gAAAAABo' + 'Yk3x_-Q9'.repeat(50);
  const r = req(
    '/v1/responses',
    JSON.stringify({
      model: 'gpt-4.1',
      input: [
        { type: 'reasoning', id: 'rs_68a1f2', encrypted_content: enc, summary: [] },
        { type: 'function_call', id: 'fc_1', call_id: KEY, name: 'x', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: PW },
        { type: 'message', role: 'user', id: `msg ${PW}`, content: [{ type: 'input_text', text: 'x' }] },
      ],
    }),
  );
  const out = JSON.parse(r.body.toString());
  t.equal(out.input[0].encrypted_content, enc, 'encrypted reasoning untouched');
  t.equal(out.input[0].id, 'rs_68a1f2');
  t.match(out.input[1].call_id, /^\[MASKED:openai-api-key#\d+\]$/, 'strong key at an opaque path is masked');
  t.notOk(out.input[2].output.includes('Tr0ub4dor'), 'content is masked with every rule');
  t.ok(out.input[3].id.includes('Tr0ub4dor'), 'an opaque path is only masked for strong rules');
  const a = req(
    '/v1/messages',
    JSON.stringify({
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: sig }, { type: 'redacted_thinking', data: sig }] },
        { role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: `config: ${PW}` } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: KEY }] }] },
      ],
    }),
  );
  const ao = JSON.parse(a.body.toString());
  t.equal(ao.messages[0].content[0].signature, sig, 'signature untouched');
  t.equal(ao.messages[0].content[1].data, sig, 'redacted thinking untouched');
  t.notOk(ao.messages[1].content[0].source.data.includes('Tr0ub4dor'), 'a text document source is content, not opaque');
  t.notOk(leaks(a.body, KEY));
});

t.test('request: object keys are scanned and masked, order and values kept', async (t) => {
  const text = `{"model":"gpt-4.1","metadata":{"a":1,"${KEY}":"v","z":2},"messages":[]}`;
  const r = req('/v1/chat/completions', text);
  t.ok(r.changed);
  t.notOk(leaks(r.body, KEY));
  const out = JSON.parse(r.body.toString());
  t.same(Object.keys(out.metadata).map((k) => k.replace(/#\d+/, '#n')), ['a', '[MASKED:openai-api-key#n]', 'z']);
  t.equal(Object.values(out.metadata)[1], 'v');
  const esc = req('/v1/chat/completions', `{"metadata":{"sk\\u002dproj\\u002d${KEY.slice(8)}":"v"}}`);
  t.notOk(leaks(esc.body, KEY.slice(8)), 'a \\u-escaped key is decoded before masking');
  const proto = req('/v1/chat/completions', `{"metadata":{"__proto__":{"x":"${GH}"},"${GH}":1}}`);
  const po = JSON.parse(proto.body.toString());
  t.ok(Object.prototype.hasOwnProperty.call(po.metadata, '__proto__'), '__proto__ stays a key');
  t.notOk(leaks(proto.body, GH));
});

t.test('request: duplicate keys are never forwarded as text the masker did not see', async (t) => {
  const text = `{"model":"gpt-4.1","messages":[{"role":"user","content":"${KEY}","content":"hello"}]}`;
  const r = req('/v1/chat/completions', text);
  t.ok(r.changed, 're-serialised');
  t.notOk(leaks(r.body, KEY), 'the first duplicate (the secret) is gone');
  t.same(JSON.parse(r.body.toString()).messages[0].content, 'hello', 'the value JSON.parse reads is kept');
  const esc = req('/v1/chat/completions', `{"messages":[{"content":"${GH}","\\u0063ontent":"x"}]}`);
  t.notOk(leaks(esc.body, GH), 'duplicates are compared decoded');
  const same = `{"a":{"k":1},"b":{"k":2}}`;
  t.notOk(req('/v1/chat/completions', same).changed, 'equal keys in different objects are no duplicates');
});

t.test('request: BOM, lone surrogates, NaN, deep nesting, invalid UTF-8', async (t) => {
  const bom = req('/v1/chat/completions', `\ufeff{"messages":[{"role":"user","content":"x\\u0020${KEY}"}]}`);
  t.notOk(bom.refusal, 'BOM JSON is read');
  t.notOk(leaks(bom.body, KEY));
  t.notOk(bom.body.toString().startsWith('\ufeff'), 're-serialised without the BOM');
  const lone = req('/v1/chat/completions', `{"messages":[{"content":"${KEY.slice(0, 20)}\\ud800${KEY.slice(20)}"}]}`);
  t.ok(lone.changed, 'a lone surrogate is replaced, so no receiver can drop it and join the halves');
  t.ok(lone.body.toString().includes('\ufffd') || lone.body.toString().includes('MASKED'));
  t.notOk(lone.body.toString().includes('\\ud800'));
  const nan = req('/v1/chat/completions', `{"temperature": NaN, "messages":[{"content":"sk\\u002dproj-${KEY.slice(8)}"}]}`);
  t.equal(nan.refusal?.status, 400, 'NaN (Python reads it) cannot be masked as a value: refused');
  t.notOk(leaks(nan.refusal!.body, KEY.slice(8)));
  const deep = req('/v1/chat/completions', '['.repeat(100_000) + ']'.repeat(100_000));
  t.equal(deep.refusal?.status, 400, 'deep nesting refused before anything recursive runs');
  t.match(deep.refusal!.reason, /deeper than/);
  const ok = req('/v1/chat/completions', '{"a":' + '['.repeat(200) + `"${KEY}"` + ']'.repeat(200) + '}');
  t.notOk(ok.refusal, 'ordinary depth is fine');
  t.notOk(leaks(ok.body, KEY));
  const bad = req('/v1/messages', Buffer.concat([Buffer.from(`{"x":"${KEY}`), Buffer.from([0xff]), Buffer.from('"}')]));
  t.equal(bad.refusal?.status, 400, 'JSON that is not UTF-8 is refused');
  t.match(JSON.parse(bad.refusal!.body), { type: 'error', error: { type: 'invalid_request_error' } }, 'Anthropic error shape');
  const g = req('/v1beta/models/gemini-2.5-pro:generateContent', '{"contents": [');
  t.match(JSON.parse(g.refusal!.body), { error: { code: 400, status: 'INVALID_ARGUMENT' } }, 'Gemini error shape');
  const plainJson = req('/v1/chat/completions', `{"messages":[{"content":"${KEY.replace(/-/g, '\\u002d')}"}]}`, { 'content-type': 'text/plain' });
  t.notOk(leaks(JSON.parse(plainJson.body.toString()).messages[0].content, KEY), 'JSON sent as text/plain is masked as a value (escapes decoded)');
  const text = req('/v1/whatever', `{not json ${KEY}`, { 'content-type': 'text/plain' });
  t.notOk(text.refusal, 'a declared non-JSON body is masked as text');
  t.notOk(leaks(text.body, KEY));
});

async function respond(path: string, contentType: string, body: string) {
  const ex: ExchangeMeta = { method: 'POST', host: 'api.example.test', path, requestHeaders: {} };
  const s = engine().session();
  const p = createResponseProcessor(ex, { status: 200, headers: { 'content-type': contentType } }, { client: s, record: s });
  const a = await p.push(Buffer.from(body));
  const b = await p.end();
  return { client: Buffer.concat([a.client, b.client]).toString(), record: Buffer.concat([a.record, b.record]).toString() };
}

t.test('response: id-like fields outside the schema, keys, duplicates, SSE event and id fields', async (t) => {
  const ev = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const sse =
    `event: ${KEY}\nid: ${GH}\n` +
    ev({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'gpt-4.1', choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: null, logprobs: { id: KEY } }] }) +
    `id: ${KEY}\n\n` +
    `data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"ok"}}],"x":"${GH}","x":"y"}\n\n` +
    ev({ id: KEY, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { [GH]: 1 } }) +
    'data: [DONE]\n\n';
  const r = await respond('/v1/chat/completions', 'text/event-stream', sse);
  for (const [side, out] of Object.entries(r)) {
    t.notOk(leaks(out, KEY, GH), `${side}: no key in data, keys, event or id fields`);
    const items = new SseParser().push(out);
    t.ok(items.length >= 5, `${side}: still valid SSE (${items.length} items)`);
  }
  t.match(r.client, /"id":"chatcmpl-1"/, 'a real id is kept');
});

t.test('response: a non-streamed JSON body with duplicate keys is re-serialised', async (t) => {
  const body = `{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"${KEY}","text":"fine"}],"stop_reason":"end_turn"}`;
  const r = await respond('/v1/messages', 'application/json', body);
  t.notOk(leaks(r.client, KEY), 'client');
  t.notOk(leaks(r.record, KEY), 'record');
  t.equal(JSON.parse(r.client).content[0].text, 'fine');
});

t.test('request head: path segments and query values masked for the upstream; provider credentials kept, redacted in the record', async (t) => {
  const s = engine().session();
  const target = `/v1beta/models/gemini-2.5-pro:generateContent?alt=sse&note=${encodeURIComponent(KEY)}&key=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6&x&${GH}=1`;
  const r = maskRequestTarget(target, s);
  t.ok(r.changed);
  t.notOk(leaks(decodeURIComponent(r.path), KEY, GH), 'no key in what goes upstream');
  t.match(r.path, /^\/v1beta\/models\/gemini-2\.5-pro:generateContent\?alt=sse&note=%5BMASKED%3Aopenai-api-key%23\d+%5D&/, 'placeholder percent-encoded: # and [ ] stay out of the URL syntax');
  t.match(r.path, /&key=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6&x&/, "the provider's own key parameter goes on");
  t.match(r.recordPath, /&key=\[REDACTED\]&/, 'and is redacted in the record');
  t.equal(new URLSearchParams(r.path.split('?')[1]).get('alt'), 'sse');
  const plain = maskRequestTarget('/v1/chat/completions?api-version=2024-10-21', s);
  t.notOk(plain.changed, 'ordinary targets are untouched');
  const h = maskRequestHeaders({ 'x-note': `see ${GH}`, authorization: `Bearer ${KEY}`, 'user-agent': 'curl/8' }, s, (n) => n === 'authorization');
  t.notOk(leaks(String(h.headers['x-note']), GH));
  t.equal(h.headers['authorization'], `Bearer ${KEY}`, 'credential headers are left to the proxy');
  t.equal(h.headers['user-agent'], 'curl/8');
});

t.test('response: envelopes copied into synthesized events are masked too', async (t) => {
  // text still held at EOF is released in a synthesized event built from the last envelope / ids
  const chat =
    `data: {"id":"${KEY}","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"content":"key: ${GH.slice(0, 12)}"}}]}\n\n`;
  const c = await respond('/v1/chat/completions', 'text/event-stream', chat);
  t.notOk(leaks(c.client, KEY), 'chat: client');
  t.notOk(leaks(c.record, KEY), 'chat: record');
  t.ok(new SseParser().push(c.client).length >= 2, 'a synthesized chunk was emitted');
  const resp = `data: {"type":"response.output_text.delta","item_id":"${KEY}","output_index":0,"content_index":0,"delta":"key: ${GH.slice(0, 12)}"}\n\n`;
  const r = await respond('/v1/responses', 'text/event-stream', resp);
  t.notOk(leaks(r.client, KEY), 'responses: client');
  t.notOk(leaks(r.record, KEY), 'responses: record');
  const gem = `data: {"candidates":[{"content":{"parts":[{"text":"key: ${GH.slice(0, 12)}"}],"role":"model"},"index":0}],"responseId":"${KEY}"}\n\n`;
  const g = await respond('/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse', 'text/event-stream', gem);
  t.notOk(leaks(g.client, KEY), 'gemini: client');
  const oll = `{"model":"${KEY}","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"key: ${GH.slice(0, 12)}"},"done":false}\n`;
  const o = await respond('/api/chat', 'application/x-ndjson', oll);
  t.notOk(leaks(o.client, KEY), 'ollama: client');
});
