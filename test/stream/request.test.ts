import * as zlib from 'node:zlib';
import t, { type Test } from 'tap';
import { maskRequestBody, type ExchangeMeta } from '../../src/stream/index.js';
import { ALL_SECRETS, engine, longestSecretRun } from './helpers.js';

const KEY = ALL_SECRETS[0]!; // the fixtures' fake OpenAI key
const GH = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'; // GitHub token shape (fake)

function ex(path: string, headers: Record<string, string> = { 'content-type': 'application/json' }): ExchangeMeta {
  return { method: 'POST', host: 'api.example.test', path, requestHeaders: headers };
}

function mask(path: string, body: unknown, headers?: Record<string, string>) {
  const buf = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return maskRequestBody(ex(path, headers), buf, engine().session());
}

function noSecret(t: Test, b: Buffer, msg: string): void {
  const r = longestSecretRun(b.toString('latin1'), [KEY, GH]);
  t.ok(r.length < 6, `${msg}: no secret run left (${r.run})`);
}

t.test('OpenAI chat: string and parts content, tool results, assistant tool-call arguments', async (t) => {
  const imageUrl = 'data:image/png;base64,' + 'A'.repeat(400);
  const body = {
    model: 'gpt-4.1-mini',
    stream: true,
    messages: [
      { role: 'system', content: `Deploy with ${KEY}` },
      { role: 'user', content: [{ type: 'text', text: `my key is ${KEY}` }, { type: 'image_url', image_url: { url: imageUrl } }] },
      { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'write', arguments: JSON.stringify({ content: `TOKEN=${GH}\n` }) } }] },
      { role: 'tool', tool_call_id: 'call_1', content: `wrote ${GH}` },
    ],
  };
  const r = mask('/v1/chat/completions', body);
  t.equal(r.adapter, 'openai-chat');
  t.ok(r.changed);
  noSecret(t, r.body, 'chat');
  const out = JSON.parse(r.body.toString());
  t.match(out.messages[0].content, /^Deploy with \[MASKED:openai-api-key#1\]$/);
  t.match(out.messages[1].content[0].text, /\[MASKED:openai-api-key#1\]/, 'same secret, same placeholder');
  t.equal(out.messages[1].content[1].image_url.url, imageUrl, 'base64 image untouched');
  t.same(JSON.parse(out.messages[2].tool_calls[0].function.arguments), { content: `TOKEN=${out.messages[3].content.slice(6)}\n` }, 'arguments stay valid JSON');
  t.equal(out.messages[3].tool_call_id, 'call_1');
  t.equal(out.model, 'gpt-4.1-mini');
  t.ok(r.findings.length >= 4);
});

t.test('OpenAI Responses: input string, input items, instructions; encrypted reasoning untouched', async (t) => {
  const enc = 'gAAAAAB' + 'x'.repeat(300);
  const r = mask('/v1/responses', {
    model: 'gpt-4.1',
    instructions: `use ${KEY}`,
    input: [
      { role: 'user', content: [{ type: 'input_text', text: `key ${KEY}` }] },
      { type: 'reasoning', id: 'rs_1', encrypted_content: enc, summary: [] },
      { type: 'function_call_output', call_id: 'call_9', output: `printed ${GH}` },
    ],
  });
  t.equal(r.adapter, 'openai-responses');
  noSecret(t, r.body, 'responses');
  const out = JSON.parse(r.body.toString());
  t.equal(out.input[1].encrypted_content, enc);
  const r2 = mask('/v1/responses', { model: 'gpt-4.1', input: `plain string input ${KEY}` });
  t.match(JSON.parse(r2.body.toString()).input, /^plain string input \[MASKED:/);
});

t.test('Anthropic messages: system, text blocks, tool_use input, tool_result; thinking signature untouched', async (t) => {
  const sig = 'EqQBCkgIARABGAIiQL' + 'z'.repeat(120);
  const r = mask('/v1/messages', {
    model: 'claude-sonnet-4-5',
    system: [{ type: 'text', text: `ops key ${KEY}` }],
    messages: [
      { role: 'user', content: `here: ${KEY}` },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'plan', signature: sig },
          { type: 'tool_use', id: 'toolu_1', name: 'write_file', input: { path: '.env', content: `GITHUB_TOKEN=${GH}\n` } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: `ok ${GH}` }] }] },
      { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' + 'B'.repeat(200) } }] },
    ],
  });
  t.equal(r.adapter, 'anthropic-messages');
  noSecret(t, r.body, 'anthropic');
  const out = JSON.parse(r.body.toString());
  t.equal(out.messages[1].content[0].signature, sig);
  t.equal(out.messages[1].content[1].input.path, '.env');
  t.match(out.messages[1].content[1].input.content, /^GITHUB_TOKEN=\[MASKED:/);
  t.equal(out.messages[3].content[0].source.data, 'iVBOR' + 'B'.repeat(200));
});

t.test('Gemini contents[].parts[].text and functionResponse; Ollama prompt and messages', async (t) => {
  const g = mask('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', {
    contents: [
      { role: 'user', parts: [{ text: `key ${KEY}` }, { inlineData: { mimeType: 'image/png', data: 'C'.repeat(300) } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'env', response: { out: `GH=${GH}` } } }] },
    ],
  });
  t.equal(g.adapter, 'gemini');
  noSecret(t, g.body, 'gemini');
  t.equal(JSON.parse(g.body.toString()).contents[0].parts[1].inlineData.data, 'C'.repeat(300));

  const o = mask('/api/generate', { model: 'qwen', prompt: `use ${KEY}`, images: ['D'.repeat(100)] });
  t.equal(o.adapter, 'ollama-generate');
  noSecret(t, o.body, 'ollama generate');
  t.same(JSON.parse(o.body.toString()).images, ['D'.repeat(100)]);
  const oc = mask('/api/chat', { model: 'qwen', messages: [{ role: 'user', content: `use ${KEY}` }] });
  t.equal(oc.adapter, 'ollama-chat');
  noSecret(t, oc.body, 'ollama chat');
});

t.test('unchanged bodies are returned as they came', async (t) => {
  const raw = '{ "model": "gpt-4.1",\n  "messages": [ {"role":"user","content":"hello there, nothing secret"} ] }';
  const r = mask('/v1/chat/completions', raw);
  t.notOk(r.changed);
  t.equal(r.body.toString(), raw, 'formatting kept when nothing is masked');
  t.same(r.findings, []);
  const empty = maskRequestBody(ex('/v1/chat/completions'), Buffer.alloc(0), engine().session());
  t.notOk(empty.changed);
});

t.test('non-JSON bodies are masked as text; binary survives byte for byte', async (t) => {
  const form = mask('/v1/whatever', `token=${GH}&q=1`, { 'content-type': 'application/x-www-form-urlencoded' });
  t.equal(form.adapter, 'text');
  t.ok(form.changed);
  noSecret(t, form.body, 'form');
  const bin = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from(`\r\nsecret: ${KEY}\r\n`), Buffer.from([0xc3, 0x28, 0xa0])]);
  const r = maskRequestBody(ex('/v1/audio/transcriptions', { 'content-type': 'multipart/form-data; boundary=x' }), bin, engine().session());
  t.ok(r.changed);
  noSecret(t, r.body, 'multipart');
  t.same([...r.body.subarray(0, 4)], [0xff, 0xfe, 0x00, 0x80], 'binary bytes kept');
  t.same([...r.body.subarray(-3)], [0xc3, 0x28, 0xa0]);
  // JSON that does not parse cannot be masked as a value (a \u-escaped key would pass a text
  // masker): refused with a provider-shaped 400 that never echoes the body
  const broken = mask('/v1/chat/completions', `{"messages": [ "${KEY}" `);
  t.equal(broken.refusal?.status, 400, 'invalid JSON is refused');
  t.equal(broken.body.length, 0, 'nothing to forward');
  t.match(JSON.parse(broken.refusal!.body), { error: { type: 'invalid_request_error' } }, 'OpenAI error shape');
  t.notOk(broken.refusal!.body.includes(KEY.slice(0, 12)), 'the error does not echo the body');
});

t.test('compressed request bodies are masked and re-encoded with the same coding', async (t) => {
  const body = Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: `k ${KEY}` }] }));
  for (const [coding, enc, dec] of [
    ['gzip', zlib.gzipSync, zlib.gunzipSync],
    ['br', zlib.brotliCompressSync, zlib.brotliDecompressSync],
    ['deflate', zlib.deflateSync, zlib.inflateSync],
  ] as const) {
    const r = maskRequestBody(ex('/v1/chat/completions', { 'content-type': 'application/json', 'content-encoding': coding }), enc(body), engine().session());
    t.ok(r.changed, coding);
    const plain = dec(r.body);
    noSecret(t, plain, coding);
    t.match(JSON.parse(plain.toString()).messages[0].content, /^k \[MASKED:/);
  }
  const bad = maskRequestBody(ex('/v1/chat/completions', { 'content-encoding': 'gzip' }), Buffer.from('not gzip'), engine().session());
  t.notOk(bad.changed, 'undecodable: returned unchanged');
  t.equal(bad.adapter, 'passthrough', 'and reported as passthrough so the caller can refuse it');
});
