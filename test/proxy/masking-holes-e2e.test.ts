// The masking holes an outside attack found, tried through the real proxy: a malicious client
// sends crafted request bodies, heads and JSON over an intercepted tunnel, a malicious upstream
// answers with crafted streams. The upstream must receive masked bytes; the client and the log
// must never get the secret.
import t from 'tap';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { connectTunnel, tlsOver } from '../helpers/raw.js';
import { allRecords } from '../helpers/records.js';
import { SseParser } from '../../src/stream/index.js';
import { DEFAULT_LIMITS } from '../../src/config/index.js';

const KEY = 'sk-proj-' + 'Zq8Lm3Nv7Bx2Cw9Rt4Yp6Hs1Jd5Gf0Kk2Wm7Qa3Ee9Ru';
const GH = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';

/** Any 12-character run of a secret (prefix or body) in `text`. */
function leaked(text: string): string | null {
  for (const s of [KEY, GH]) for (let i = 0; i + 12 <= s.length; i++) if (text.includes(s.slice(i, i + 12))) return s.slice(i, i + 12);
  return null;
}

const ev = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const EVIL_SSE =
  `event: ${KEY}\nid: ${GH}\n` +
  ev({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'gpt-4.1', choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: null }] }) +
  `id: ${KEY}\n\n` +
  `data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":" there","status":"${KEY}"}}],"x":"${GH}","x":"y"}\n\n` +
  ev({ id: KEY, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { [GH]: 1 } }) +
  'data: [DONE]\n\n';

/** Bytes the endless upstream managed to write before the proxy stopped reading. */
let endlessWritten = 0;
const ENDLESS_MAX = 8 * 1024 * 1024;

const mock = await startMockUpstream({
  hosts: ['api.openai.com'],
  handler: async (req: IncomingMessage, _body: string, res: ServerResponse) => {
    if (req.url === '/v1/chat/completions?evil=endless') {
      // one good event, then an event that never ends (a secret in it), until the proxy hangs up
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(ev({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'first' } }] }));
      res.write(`data: {"id":"c1","choices":[{"index":0,"delta":{"content":"${KEY} `);
      const piece = 'z'.repeat(16 * 1024);
      let closed = false;
      res.on('close', () => (closed = true));
      while (!closed && endlessWritten < ENDLESS_MAX) {
        endlessWritten += piece.length;
        if (!res.write(piece)) await new Promise((r) => { res.once('drain', r); res.once('close', r); });
      }
      res.end();
      return;
    }
    if (req.url === '/v1/chat/completions?evil=sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-debug-token': `t ${GH}`, 'set-cookie': 'session=abc; Secure' });
      res.end(EVIL_SSE);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":"chatcmpl-2","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}');
  },
});
const h = await startHarness({
  policy: 'egress: audit\nintercept: [api.openai.com]\n',
  upstreamCa: [mock.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`],
  config: { limits: { ...DEFAULT_LIMITS, upstreamIdleTimeoutMs: 60_000, maxEventBytes: 64 * 1024 } },
});
t.teardown(async () => {
  await h.stop();
  await mock.close();
});

/** One request over a fresh intercepted tunnel, bytes exactly as given; returns the raw answer. */
async function send(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<string> {
  const { socket, status } = await connectTunnel(h.proxy.port, 'api.openai.com:443');
  if (status !== 200) throw new Error(`CONNECT ${status}`);
  const tls = await tlsOver(socket, 'api.openai.com', h.caPem);
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const head =
    `POST ${path} HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\nConnection: close\r\n` +
    Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') +
    '\r\n';
  return new Promise((resolve) => {
    let text = '';
    tls.on('data', (d: Buffer) => (text += d.toString('utf8')));
    tls.on('close', () => resolve(text));
    tls.on('error', () => resolve(text));
    tls.write(Buffer.concat([Buffer.from(head), b]));
  });
}

async function recordText(): Promise<string> {
  const recs = await allRecords(h);
  return recs.map((r) => JSON.stringify(r.meta) + (r.body ? r.body.toString('utf8') : '')).join('\n');
}

t.test('request bodies: keys under opaque-looking names, keys as object keys, duplicate keys', async (t) => {
  const bodies = [
    JSON.stringify({ model: 'gpt-4.1', metadata: { status: KEY }, messages: [{ role: 'user', id: GH, content: 'hi' }] }),
    `{"model":"gpt-4.1","metadata":{"${KEY}":"v"},"messages":[{"role":"user","content":"hi","${GH}":1}]}`,
    `{"model":"gpt-4.1","messages":[{"role":"user","content":"${KEY}","content":"hello"}],"user":"${GH}","user":"u1"}`,
    `{"model":"gpt-4.1","messages":[{"role":"user","content":"x","\\u0063ontent":"${KEY.replace('-', '\\u002d')}"}]}`,
  ];
  for (const [i, body] of bodies.entries()) {
    const before = mock.seen.length;
    const answer = await send('/v1/chat/completions', body);
    t.match(answer, /^HTTP\/1\.1 200/, `body ${i}: answered`);
    t.equal(mock.seen.length, before + 1, `body ${i}: forwarded once`);
    const got = mock.seen.at(-1)!.body;
    t.equal(leaked(got), null, `body ${i}: the upstream received masked bytes`);
    t.doesNotThrow(() => JSON.parse(got), `body ${i}: still JSON`);
    t.equal(leaked(answer), null, `body ${i}: nothing echoed to the client`);
  }
  t.match(JSON.parse(mock.seen.at(-2)!.body).messages[0].content, 'hello', 'duplicates: the value JSON.parse reads goes on');
  t.equal(leaked(await recordText()), null, 'the log never got a secret');
});

t.test('a malicious upstream: secrets in SSE event/id fields, id-like fields, keys, duplicate keys', async (t) => {
  const answer = await send('/v1/chat/completions?evil=sse', JSON.stringify({ model: 'gpt-4.1', stream: true, messages: [] }));
  t.match(answer, /^HTTP\/1\.1 200/);
  t.equal(leaked(answer), null, 'the client never got a secret (head and body)');
  t.match(answer, /\r\nx-debug-token: t \[MASKED:github-pat#\d+\]\r\n/i, 'a response header is masked for the client');
  t.match(answer, /\r\nset-cookie: session=abc; Secure\r\n/i, "the provider's cookie for the client is kept");
  const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
  const dechunked = body.replace(/(^|\r\n)[0-9a-f]+\r\n/g, '$1').replace(/\r\n/g, '');
  const items = new SseParser().push(dechunked);
  const data = items.filter((i) => i.kind === 'event').map((i) => (i.kind === 'event' ? i.event.data : ''));
  t.same(data.at(-1), '[DONE]', 'the stream is still valid SSE');
  t.ok(data.slice(0, -1).every((d) => JSON.parse(d)), 'every event is still JSON');
  t.equal(leaked(await recordText()), null, 'the log never got a secret');
});

t.test('query strings and non-credential headers are masked upstream, not only in the log', async (t) => {
  const before = mock.seen.length;
  const answer = await send(`/v1/chat/completions?note=${encodeURIComponent(KEY)}&key=AIzaSyB9x8W7v6U5t4S3r2Q1p0O9n8M7l6K5j4h`, '{"model":"gpt-4.1","messages":[]}', {
    'X-Debug-Note': `token ${GH}`,
    Authorization: 'Bearer sk-client-placeholder',
  });
  t.match(answer, /^HTTP\/1\.1 200/);
  t.equal(mock.seen.length, before + 1);
  const seen = mock.seen.at(-1)!;
  t.equal(leaked(decodeURIComponent(seen.path)), null, 'the upstream got a masked query');
  t.match(seen.path, /&key=AIzaSyB9x8W7v6U5t4S3r2Q1p0O9n8M7l6K5j4h$/, "the provider's own key parameter went on");
  t.equal(leaked(String(seen.headers['x-debug-note'])), null, 'the upstream got a masked header');
  t.match(String(seen.headers['x-debug-note']), /^token \[MASKED:github-pat#\d+\]$/);
  const rec = await recordText();
  t.equal(leaked(rec), null, 'the log never got a secret');
  t.notOk(rec.includes('AIzaSyB9x8W7v6U5t4S3r2'), "the provider key parameter is redacted in the log");
});

t.test('JSON that cannot be masked as a value is refused with a provider-shaped 400, never forwarded', async (t) => {
  const before = mock.seen.length;
  const escaped = KEY.replace(/-/g, '\\u002d');
  for (const body of [
    `{"model":"gpt-4.1","temperature":NaN,"messages":[{"role":"user","content":"${escaped}"}]}`,
    '{"messages":' + '['.repeat(5000) + ']'.repeat(5000) + '}',
    Buffer.concat([Buffer.from(`{"messages":[{"content":"${escaped} `), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]),
  ]) {
    const answer = await send('/v1/chat/completions', body);
    t.match(answer, /^HTTP\/1\.1 400/, 'refused');
    t.match(answer, /proxy-status: wiretrail; error=http_request_error/i);
    const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    t.match(json, { error: { type: 'invalid_request_error', message: /wiretrail refused the request/ } }, 'OpenAI error shape');
    t.equal(leaked(answer), null);
    t.notOk(answer.includes('Zq8Lm3Nv7B'), 'the body is not echoed');
  }
  t.equal(mock.seen.length, before, 'nothing reached the upstream');
  const recs = await allRecords(h);
  t.ok(recs.filter((r) => r.kind === 'deny' && r.meta['code'] === 'WT_ERR_UNMASKABLE_REQUEST').length >= 3, 'each refusal recorded');
  t.equal(leaked(await recordText()), null, 'the log never got a secret');
});

t.test('an upstream event that never ends: the client stream ends cleanly, the record says why, memory stays bounded', async (t) => {
  const answer = await send('/v1/chat/completions?evil=endless', '{"model":"gpt-4.1","stream":true,"messages":[]}');
  t.match(answer, /^HTTP\/1\.1 200/);
  t.match(answer, /\r\n0\r\n\r\n$/, 'the chunked response ended cleanly (terminating chunk), not cut');
  t.match(answer, /"content":"first"/, 'the complete event reached the client');
  t.match(answer, /:wiretrail: stream ended: an upstream event exceeded 65536/);
  t.notMatch(answer, /zzzzzzzz/, 'no piece of the unfinished event reached the client');
  t.equal(leaked(answer), null);
  t.ok(endlessWritten < ENDLESS_MAX, `the proxy stopped reading (${endlessWritten} bytes written upstream)`);
  const recs = await allRecords(h);
  const err = recs.find((r) => r.kind === 'error' && r.meta['code'] === 'WT_ERR_UPSTREAM_EVENT_TOO_LARGE');
  t.ok(err, 'the broken stream is recorded with its reason');
  t.match(String(err?.meta['reason']), /exceeded 65536/);
  const rec = await recordText();
  t.match(rec, /zzzzzzzz/, 'what was seen of the event is recorded');
  t.equal(leaked(rec), null, 'masked');
});
