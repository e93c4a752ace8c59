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

const mock = await startMockUpstream({
  hosts: ['api.openai.com'],
  handler: async (req: IncomingMessage, _body: string, res: ServerResponse) => {
    if (req.url === '/v1/chat/completions?evil=sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
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
  t.equal(leaked(answer), null, 'the client never got a secret');
  const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
  const dechunked = body.replace(/(^|\r\n)[0-9a-f]+\r\n/g, '$1').replace(/\r\n/g, '');
  const items = new SseParser().push(dechunked);
  const data = items.filter((i) => i.kind === 'event').map((i) => (i.kind === 'event' ? i.event.data : ''));
  t.same(data.at(-1), '[DONE]', 'the stream is still valid SSE');
  t.ok(data.slice(0, -1).every((d) => JSON.parse(d)), 'every event is still JSON');
  t.equal(leaked(await recordText()), null, 'the log never got a secret');
});
