// Masking end to end: the fixture streams come from a mock upstream, pass through the proxy, and the official
// SDKs assemble the placeholder; the prompt is masked before it reaches the model; the record holds no secret.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyAgent } from 'undici';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allRecords } from '../helpers/records.js';

const FIX = new URL('../fixtures/sse/', import.meta.url).pathname;
const KEY = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';
const AWS = 'AKIA2E0A8F3B244C9986';

/** Longest run of `secret` (≥ 6 chars) found in `text`. */
function leaked(text: string, secret: string, min = 6): string | null {
  for (let len = secret.length; len >= min; len--)
    for (let i = 0; i + len <= secret.length; i++) if (text.includes(secret.slice(i, i + len))) return secret.slice(i, i + len);
  return null;
}

const routes: Record<string, { file: string; type: string }> = {
  'api.openai.com /v1/chat/completions': { file: 'openai-chat.sse', type: 'text/event-stream; charset=utf-8' },
  'api.openai.com /v1/responses': { file: 'openai-responses.sse', type: 'text/event-stream; charset=utf-8' },
  'api.anthropic.com /v1/messages': { file: 'anthropic-tool-use.sse', type: 'text/event-stream; charset=utf-8' },
};

const mock = await startMockUpstream({
  hosts: ['api.openai.com', 'api.anthropic.com'],
  handler: async (req: IncomingMessage, _body: string, res: ServerResponse) => {
    const host = String(req.headers.host).split(':')[0];
    const route = routes[`${host} ${req.url?.split('?')[0]}`];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const bytes = readFileSync(join(FIX, route.file));
    res.writeHead(200, { 'content-type': route.type });
    // Small uneven writes so secrets straddle network chunks too.
    for (let i = 0; i < bytes.length; ) {
      const n = 7 + ((i * 31) % 57);
      res.write(bytes.subarray(i, i + n));
      i += n;
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  },
});
const h = await startHarness({
  upstreamCa: [mock.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`, `api.anthropic.com:443:127.0.0.1:${mock.port}`],
});
const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
t.teardown(async () => {
  await dispatcher.close();
  await h.stop();
  await mock.close();
});

const PLACEHOLDER = /\[MASKED:openai-api-key#1\]/;

t.test('openai SDK: chat stream through the proxy shows the placeholder, the prompt is masked upstream', async (t) => {
  const client = new OpenAI({ apiKey: 'sk-client-placeholder', fetchOptions: { dispatcher } as never, maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: 'gpt-4.1-mini',
    stream: true,
    messages: [{ role: 'user', content: `Show a minimal OpenAI client in TypeScript with my key ${KEY} inline.` }],
  });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
  t.match(text, PLACEHOLDER);
  t.match(text, /^Here is a minimal client ✓/);
  t.match(text, /Move the key into an env var before you commit\.$/);
  t.equal(leaked(text, KEY), null, 'no piece of the key reaches the client');
  const upstreamSaw = mock.seen.at(-1)!.body;
  t.equal(leaked(upstreamSaw, KEY), null, 'the prompt reached the model masked');
  t.match(upstreamSaw, /\[MASKED:openai-api-key#1\]/, 'same placeholder id for the same secret within the session');
});

t.test('openai SDK: Responses stream', async (t) => {
  const client = new OpenAI({ apiKey: 'sk-client-placeholder', fetchOptions: { dispatcher } as never, maxRetries: 0 });
  const stream = await client.responses.create({ model: 'gpt-4.1-mini', stream: true, input: 'write the client' });
  let text = '';
  let done = '';
  for await (const ev of stream) {
    if (ev.type === 'response.output_text.delta') text += ev.delta;
    if (ev.type === 'response.output_text.done') done = ev.text;
  }
  t.match(text, /\[MASKED:openai-api-key#\d+\]/);
  t.equal(done, text, 'the *.done repeat carries the same masked text as the deltas');
  t.equal(leaked(text, KEY), null);
});

t.test('anthropic SDK: tool-use stream (JSON inside JSON) through the proxy', async (t) => {
  const client = new Anthropic({ apiKey: 'sk-ant-client-placeholder', fetchOptions: { dispatcher } as never, maxRetries: 0 });
  const stream = client.messages.stream({ model: 'claude-test-model', max_tokens: 1024, messages: [{ role: 'user', content: 'put my key in .env' }] });
  const final = await stream.finalMessage();
  const all = JSON.stringify(final.content);
  t.match(all, /\[MASKED:/);
  t.equal(leaked(all, KEY), null);
  t.equal(leaked(all, AWS), null);
  const tool = final.content.find((b) => b.type === 'tool_use');
  t.ok(tool && typeof (tool as { input: unknown }).input === 'object', 'tool input still parses as JSON');
});

t.test('the recorded log holds no secret, in bodies or meta', async (t) => {
  const recs = await allRecords(h);
  t.ok(recs.some((r) => r.kind === 'chunk'));
  const everything = recs.map((r) => JSON.stringify(r.meta) + (r.body ? r.body.toString('utf8') : '')).join('\n');
  t.equal(leaked(everything, KEY), null, 'no run of the OpenAI key in the record');
  t.equal(leaked(everything, AWS), null, 'no run of the AWS key id in the record');
  t.match(everything, /\[MASKED:openai-api-key#1\]/);
  // and nowhere in the store files either (LevelDB may compress; grep is a second check on raw bytes)
  const grep = spawnSync('grep', ['-rlF', KEY.slice(8, 30), h.dataDir], { encoding: 'utf8' });
  t.equal(grep.stdout, '', 'no raw key bytes in the data folder');
  t.notOk(h.logs.some((l) => leaked(l, KEY)), 'no key in log lines');
});
