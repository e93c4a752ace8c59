// Real clients through the proxy with HTTPS_PROXY semantics: curl, undici ProxyAgent, python3 requests, openai SDK.
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import OpenAI from 'openai';
import { startMockUpstream, openaiHandler, makeGate } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { sessionsWithKind } from '../helpers/records.js';

const gate = makeGate();
const mock = await startMockUpstream({ handler: openaiHandler(gate.wait) });
const h = await startHarness({ upstreamCa: [mock.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`] });
const caFile = h.caPath;
t.teardown(async () => {
  gate.open();
  await h.stop();
  await mock.close();
});

const URL_CHAT = 'https://api.openai.com/v1/chat/completions';
const body = (stream: boolean, content = 'hello streaming world') =>
  JSON.stringify({ model: 'gpt-4.1-mini', stream, messages: [{ role: 'user', content }] });

function run(cmd: string, args: string[], env: Record<string, string>, onStdout?: (s: string) => void): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout);
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Opens the gate once the client has seen the first streamed event: proves chunks are not buffered.
 * (The event's text may be held back by the masker, so the marker is the event itself.)
 */
function openGateOn(marker: string) {
  gate.reset();
  let opened = false;
  return (out: string) => {
    if (!opened && out.includes(marker)) {
      opened = true;
      gate.open();
    }
  };
}

t.test('curl: JSON and an incrementally streamed SSE answer', async (t) => {
  const env = { HTTPS_PROXY: h.proxyUrl, https_proxy: h.proxyUrl };
  const json = await run('curl', ['-sS', '--fail-with-body', '--cacert', caFile, '-H', 'content-type: application/json', '-H', 'authorization: Bearer sk-client-test', '-d', body(false), URL_CHAT], env);
  t.equal(json.code, 0, json.stderr);
  t.equal(JSON.parse(json.stdout).choices[0].message.content, 'echo: hello streaming world');

  const sse = await run('curl', ['-sS', '-N', '--cacert', caFile, '-H', 'content-type: application/json', '-d', body(true), URL_CHAT], env, openGateOn('data: {'));
  t.equal(sse.code, 0, sse.stderr);
  t.match(sse.stdout, /data: \[DONE\]/);
  const text = sse.stdout
    .split('\n')
    .filter((l) => l.startsWith('data: {'))
    .map((l) => JSON.parse(l.slice(6)).choices[0].delta.content ?? '')
    .join('');
  t.equal(text, 'echo: hello streaming world');
});

t.test('undici ProxyAgent streams chunk by chunk', async (t) => {
  const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
  t.teardown(() => dispatcher.close());
  const onOut = openGateOn('data: {');
  const res = await undiciFetch(URL_CHAT, { method: 'POST', body: body(true), headers: { 'content-type': 'application/json' }, dispatcher });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  let all = '';
  const dec = new TextDecoder();
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    all += dec.decode(c, { stream: true });
    onOut(all);
  }
  t.match(all, /data: \[DONE\]/);
});

t.test('python3 requests with HTTPS_PROXY and REQUESTS_CA_BUNDLE', async (t) => {
  const script = join(h.dir, 'client.py');
  writeFileSync(
    script,
    [
      'import json, sys, requests',
      `r = requests.post("${URL_CHAT}", data=${JSON.stringify(body(true))}, headers={"content-type": "application/json"}, stream=True, timeout=30)`,
      'r.raise_for_status()',
      'for line in r.iter_lines():',
      '    if line.startswith(b"data: {"):',
      '        d = json.loads(line[6:])',
      '        sys.stdout.write("<event>" + (d["choices"][0]["delta"].get("content") or ""))',
      '        sys.stdout.flush()',
      'print()',
    ].join('\n'),
  );
  const python = process.env.WT_PYTHON ?? 'python3';
  const r = await run(python, [script], { HTTPS_PROXY: h.proxyUrl, REQUESTS_CA_BUNDLE: caFile, NO_PROXY: '' }, openGateOn('<event>'));
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim().replaceAll('<event>', ''), 'echo: hello streaming world');
});

t.test('official openai SDK in streaming mode', async (t) => {
  const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
  t.teardown(() => dispatcher.close());
  const client = new OpenAI({ apiKey: 'sk-test-not-real', fetchOptions: { dispatcher } as never, maxRetries: 0 });
  const onOut = openGateOn('<chunk>');
  const stream = await client.chat.completions.create({ model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'sdk says hi' }] });
  let text = '';
  let seen = '';
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    seen += '<chunk>';
    onOut(seen);
  }
  t.equal(text, 'echo: sdk says hi');
});

t.test('every exchange is in the store with its chunks', async (t) => {
  const sessions = await sessionsWithKind(h, 'request');
  t.ok(sessions.length >= 5, `found ${sessions.length} intercepted sessions`);
  let streamed = 0;
  for (const recs of sessions) {
    const kinds = recs.map((r) => r.kind);
    t.equal(kinds[0], 'connect');
    t.ok(kinds.includes('response-head') && kinds.includes('response-end'), kinds.join(','));
    const req = recs.find((r) => r.kind === 'request')!;
    t.equal(req.meta.host, 'api.openai.com');
    const auth = (req.meta.headers as Record<string, string>).authorization;
    if (auth) t.equal(auth, 'Bearer [REDACTED]', 'client credential redacted in the record');
    const chunks = recs.filter((r) => r.kind === 'chunk');
    if (chunks.some((c) => c.body?.toString().includes('[DONE]'))) {
      streamed++;
      t.ok(chunks.every((c) => typeof c.meta.at === 'number'), 'chunks carry arrival times');
    }
    // the chain: every record links to the previous one of its session
    for (let i = 1; i < recs.length; i++) t.equal(recs[i]!.sessionPrev, recs[i - 1]!.hash);
  }
  t.ok(streamed >= 4, 'streamed exchanges recorded with chunks');
});
