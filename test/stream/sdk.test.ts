// The official SDKs consume our processed streams. A loopback server plays the upstream: for each
// request it runs the fixture (gzip-encoded for some) through a ResponseProcessor built from the
// SDK's real method and path, in small random chunks, and writes what the processor releases.
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { AzureOpenAI } from 'openai';
import t from 'tap';
import { createResponseProcessor } from '../../src/stream/index.js';
import { ALL_SECRETS, FIXTURES, engine, fixture, longestSecretRun, randomChunks } from './helpers.js';

const PLACEHOLDER = /\[MASKED:openai-api-key#\d+\]/;
let current: { name: string; gzip: boolean; seed: number } = { name: 'openai-chat.sse', gzip: false, seed: 1 };
const seenPaths: string[] = [];

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    void serve(req, res).catch((e: Error) => {
      res.destroy(e);
    });
  });
});

async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  seenPaths.push(req.url ?? '');
  const meta = FIXTURES[current.name]!;
  let body = fixture(current.name);
  const headers: Record<string, string> = { 'content-type': meta.contentType };
  if (current.gzip) {
    body = zlib.gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  const eng = engine();
  const p = createResponseProcessor(
    { method: req.method ?? 'GET', host: req.headers.host ?? '', path: req.url ?? '/', requestHeaders: req.headers },
    { status: 200, headers },
    { client: eng.session(), record: eng.session() },
  );
  res.writeHead(200, p.headers);
  for (const chunk of randomChunks(body, current.seed, 300)) {
    const o = await p.push(chunk);
    if (o.client.length) res.write(o.client);
  }
  const o = await p.end();
  res.end(o.client);
}

server.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
t.teardown(() => server.close());

const openai = new OpenAI({ apiKey: 'test-key', baseURL: `${base}/v1`, maxRetries: 0, timeout: 20_000 });
const anthropic = new Anthropic({ apiKey: 'test-key', baseURL: base, maxRetries: 0, timeout: 20_000 });

const clean = (s: string) => longestSecretRun(s, ALL_SECRETS).length < 6;

t.test('openai chat completions: stream helper assembles the masked text', async (t) => {
  for (const gzip of [false, true]) {
    current = { name: 'openai-chat.sse', gzip, seed: gzip ? 2 : 3 };
    const stream = openai.chat.completions.stream({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true } });
    let deltas = '';
    stream.on('content', (d) => (deltas += d));
    const done = await stream.finalChatCompletion();
    const text = done.choices[0]!.message.content ?? '';
    t.match(text, PLACEHOLDER, `gzip=${gzip}: placeholder in the assembled text`);
    t.match(text, /^Here is a minimal client ✓/);
    t.match(text, /Move the key into an env var before you commit\.$/);
    t.ok(clean(text), 'no piece of the key');
    t.equal(deltas, text, 'content events add up to the final text');
    t.equal(done.choices[0]!.finish_reason, 'stop');
  }
});

t.test('openai chat completions: parallel tool calls, arguments parse as JSON', async (t) => {
  current = { name: 'openai-chat-tools.sse', gzip: false, seed: 4 };
  const doneArgs: string[] = [];
  const stream = openai.chat.completions.stream({
    model: 'gpt-4.1-mini',
    messages: [{ role: 'user', content: 'hi' }],
    tools: [
      { type: 'function', function: { name: 'write_file', parameters: { type: 'object' } } },
      { type: 'function', function: { name: 'run_command', parameters: { type: 'object' } } },
    ],
  });
  stream.on('tool_calls.function.arguments.done', (e) => doneArgs.push(e.arguments));
  const done = await stream.finalChatCompletion();
  const calls = done.choices[0]!.message.tool_calls ?? [];
  t.equal(calls.length, 2);
  const first = calls[0]!;
  if (first.type !== 'function') throw new Error('expected a function call');
  const args = JSON.parse(first.function.arguments);
  t.equal(args.path, '.env');
  t.match(args.content, /^OPENAI_API_KEY=\[MASKED:openai-api-key#\d+\]\n$/);
  t.same(doneArgs.map((a) => JSON.parse(a)), calls.map((c) => JSON.parse(c.type === 'function' ? c.function.arguments : '{}')), 'the per-call done events saw complete arguments');
  t.ok(clean(JSON.stringify(calls.map((c) => (c.type === 'function' ? c.function.arguments : '')))), 'no piece of the key in the arguments');
});

t.test('openai responses: stream helper, deltas and completed response agree', async (t) => {
  current = { name: 'openai-responses.sse', gzip: true, seed: 5 };
  const stream = openai.responses.stream({ model: 'gpt-4.1-mini', input: 'hi' });
  let deltas = '';
  stream.on('response.output_text.delta', (e) => (deltas += e.delta));
  const final = await stream.finalResponse();
  t.match(final.output_text, PLACEHOLDER);
  t.equal(final.output_text, deltas, 'response.completed carries the text the deltas streamed');
  const fc = final.output.find((o) => o.type === 'function_call');
  t.ok(fc && fc.type === 'function_call' && /\[MASKED:openai-api-key#\d+\]/.test(JSON.parse(fc.arguments).content));
  t.ok(clean(JSON.stringify(final)));
});

t.test('azure openai client: deployment path with api-version', async (t) => {
  current = { name: 'azure-openai-chat.sse', gzip: false, seed: 6 };
  const azure = new AzureOpenAI({ endpoint: base, apiKey: 'test-key', apiVersion: '2024-10-21', deployment: 'gpt-4o-prod', maxRetries: 0, timeout: 20_000 });
  const stream = await azure.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  t.match(seenPaths.at(-1)!, /^\/openai\/deployments\/gpt-4o-prod\/chat\/completions\?api-version=2024-10-21$/);
  t.match(text, PLACEHOLDER);
  t.ok(clean(text));
});

t.test('copilot (OpenAI-compatible at /chat/completions)', async (t) => {
  current = { name: 'github-copilot-chat.sse', gzip: true, seed: 7 };
  const copilot = new OpenAI({ apiKey: 'test-key', baseURL: base, maxRetries: 0, timeout: 20_000 });
  const done = await copilot.chat.completions.stream({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }).finalChatCompletion();
  t.match(seenPaths.at(-1)!, /^\/chat\/completions$/);
  t.match(done.choices[0]!.message.content ?? '', PLACEHOLDER);
});

t.test('anthropic messages: thinking and text', async (t) => {
  current = { name: 'anthropic-messages.sse', gzip: false, seed: 8 };
  const stream = anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 2048, messages: [{ role: 'user', content: 'hi' }], thinking: { type: 'enabled', budget_tokens: 1024 } });
  let deltas = '';
  stream.on('text', (d) => (deltas += d));
  const msg = await stream.finalMessage();
  const thinking = msg.content.find((b) => b.type === 'thinking');
  const text = msg.content.find((b) => b.type === 'text');
  t.ok(thinking && thinking.type === 'thinking' && PLACEHOLDER.test(thinking.thinking), 'thinking masked');
  t.ok(thinking && thinking.type === 'thinking' && thinking.signature.length > 0, 'signature kept');
  t.ok(text && text.type === 'text' && PLACEHOLDER.test(text.text), 'text masked');
  t.equal(deltas, text && text.type === 'text' ? text.text : '');
  t.ok(clean(JSON.stringify(msg)));
});

t.test('anthropic tool_use: input parses, both keys masked', async (t) => {
  current = { name: 'anthropic-tool-use.sse', gzip: true, seed: 9 };
  const msg = await anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
  const tool = msg.content.find((b) => b.type === 'tool_use');
  t.ok(tool && tool.type === 'tool_use');
  const input = (tool as { input: { path: string; content: string } }).input;
  t.equal(input.path, '.env');
  t.match(input.content, /^OPENAI_API_KEY=\[MASKED:openai-api-key#\d+\]\nAWS_ACCESS_KEY_ID=\[MASKED:aws-access-key-id#\d+\]\n$/);
  t.equal(msg.stop_reason, 'tool_use');
});

t.test('anthropic mid-stream error: the SDK raises it, the partial key never shows', async (t) => {
  current = { name: 'anthropic-error.sse', gzip: false, seed: 10 };
  const stream = anthropic.messages.stream({ model: 'claude-test-model', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
  let text = '';
  stream.on('text', (d) => (text += d));
  await t.rejects(stream.finalMessage(), /Overloaded/);
  t.match(text, /apiKey: "\[MASKED:openai-api-key#\d+\]$/, 'the held partial key was released masked before the error');
  t.ok(clean(text));
});
