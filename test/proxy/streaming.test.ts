// Stream lifecycle through the proxy: keep-alive, aborts in both directions, long pauses, fail-closed recording.
import t from 'tap';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { startMockUpstream, openaiHandler, chunkLine } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { sessionsWithKind } from '../helpers/records.js';
import { connectTunnel } from '../helpers/raw.js';
import { StoreUnavailableError } from '../../src/audit/index.js';
import { DEFAULT_LIMITS } from '../../src/config/index.js';

let upstreamClosedEarly = 0;
const chat = openaiHandler();
const mock = await startMockUpstream({
  handler: async (req: IncomingMessage, body: string, res: ServerResponse) => {
    if (req.url === '/endless') {
      // Streams until the proxy hangs up: proves a client abort reaches the upstream.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const timer = setInterval(() => res.write(chunkLine(`w${i}`, i++)), 20);
      res.on('close', () => {
        clearInterval(timer);
        if (!res.writableEnded) upstreamClosedEarly++;
      });
      return;
    }
    if (req.url === '/dies') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkLine('first', 0));
      res.write(chunkLine(' second', 1));
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    if (req.url === '/slow') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkLine('before', 0));
      await new Promise((r) => setTimeout(r, 3000));
      res.write(chunkLine(' after', 1));
      res.end('data: [DONE]\n\n');
      return;
    }
    return chat(req, body, res);
  },
});
const h = await startHarness({
  upstreamCa: [mock.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`],
  config: { limits: { ...DEFAULT_LIMITS, maxRequestBodyBytes: 1 << 20, handshakeTimeoutMs: 1000, headersTimeoutMs: 1000, tunnelIdleTimeoutMs: 60_000, upstreamIdleTimeoutMs: 60_000 } },
});
t.teardown(async () => {
  await h.stop();
  await mock.close();
});
const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
t.teardown(() => dispatcher.close());
const post = (path: string, body = '{}') =>
  undiciFetch(`https://api.openai.com${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher });

t.test('keep-alive: several requests share one client tunnel and one upstream connection', async (t) => {
  const before = mock.connections();
  // curl reuses one proxy tunnel for several URLs of the same origin.
  const url = 'https://api.openai.com/v1/chat/completions';
  const out = await new Promise<string>((resolve) => {
    const p = spawn('curl', ['-sS', '--proxy', h.proxyUrl, '--cacert', h.caPath, '-H', 'content-type: application/json', '-d', '{"messages":[{"role":"user","content":"ka"}]}', url, url, url, url]);
    let o = '';
    p.stdout.on('data', (d: Buffer) => (o += d));
    p.on('close', () => resolve(o));
  });
  t.equal(out.match(/"content":"echo: ka"/g)?.length, 4, 'four answers');
  t.equal(mock.connections() - before, 1, 'one upstream TLS connection reused');
  const sessions = await sessionsWithKind(h, 'request');
  const counts = sessions.map((s) => s.filter((r) => r.kind === 'request').length);
  t.same(counts, [4], 'the four exchanges are one session');
  t.same(sessions[0]!.filter((r) => r.kind === 'request').map((r) => r.meta.n), [1, 2, 3, 4], 'numbered in order');
});

t.test('client disconnect mid-stream aborts the upstream request and is recorded', async (t) => {
  const ac = new AbortController();
  const r = await undiciFetch('https://api.openai.com/endless', { method: 'POST', body: '{}', dispatcher, signal: ac.signal });
  const reader = r.body!.getReader();
  await reader.read();
  await reader.read();
  ac.abort();
  let waited = 0;
  while (upstreamClosedEarly === 0 && waited < 10_000) {
    await new Promise((r) => setTimeout(r, 50));
    waited += 50;
  }
  t.equal(upstreamClosedEarly, 1, 'upstream saw the abort');
  await new Promise((r) => setTimeout(r, 200));
  const sessions = await sessionsWithKind(h, 'request');
  const s = sessions.find((recs) => recs.some((r) => r.kind === 'request' && r.meta.path === '/endless'))!;
  const err = s.find((r) => r.kind === 'error');
  t.ok(err, 'error recorded');
  t.equal(err!.meta.clientGone, true);
  t.ok(s.filter((r) => r.kind === 'chunk').length >= 1, 'chunks up to the abort are recorded');
});

t.test('upstream dying mid-stream cuts the client stream and is recorded', async (t) => {
  const r = await post('/dies');
  t.equal(r.status, 200);
  let text = '';
  const dec = new TextDecoder();
  await t.rejects(
    (async () => {
      for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) text += dec.decode(c, { stream: true });
    })(),
    'client sees a broken stream, not a clean end',
  );
  t.match(text, /first/);
  const sessions = await sessionsWithKind(h, 'request');
  const s = sessions.find((recs) => recs.some((r) => r.kind === 'request' && r.meta.path === '/dies'))!;
  const err = s.find((r) => r.kind === 'error');
  t.match(String(err?.meta.reason), /upstream ended the stream abnormally/);
  const recorded = s.filter((r) => r.kind === 'chunk').map((c) => c.body!.toString()).join('');
  t.match(recorded, /first/);
  t.match(recorded, /second/, 'held-back text is released into the record');
});

t.test('a long pause mid-stream is not cut by the proxy timeouts', async (t) => {
  const r = await post('/slow');
  const text = await r.text();
  t.match(text, /before/);
  t.match(text, /after/);
  t.match(text, /\[DONE\]/);
});

t.test('fail closed: no forwarding while the store cannot write', async (t) => {
  const rec = h.recorder;
  const original = rec.append.bind(rec);
  const seenBefore = mock.seen.length;
  // Injected write failure at the recorder interface (disk-full at the store is tested in test/audit).
  rec.append = async () => {
    throw new StoreUnavailableError('injected: no space left on device');
  };
  t.teardown(() => {
    rec.append = original;
  });
  const refused = await connectTunnel(h.proxy.port, 'api.openai.com:443');
  refused.socket.destroy();
  t.equal(refused.status, 503, 'CONNECT refused with 503');
  const r2 = await post('/v1/chat/completions', '{"messages":[{"role":"user","content":"y"}]}');
  t.equal(r2.status, 503, 'request on an open tunnel refused with 503');
  t.match(await r2.text(), /audit store cannot record/);
  t.equal(mock.seen.length, seenBefore, 'nothing reached the upstream');
  rec.append = original;
  const r3 = await post('/v1/chat/completions', '{"messages":[{"role":"user","content":"z"}]}');
  t.equal(r3.status, 200, 'recovers once the store writes again');
  await r3.text();
});

t.test('fail closed mid-stream: a chunk that cannot be recorded is not forwarded', async (t) => {
  const rec = h.recorder;
  const original = rec.append.bind(rec);
  const originalSync = rec.appendSync.bind(rec);
  t.teardown(() => {
    rec.append = original;
    rec.appendSync = originalSync;
  });
  // Chunks are recorded through either call (the proxy uses appendSync on the streaming path).
  let chunks = 0;
  const failing = (input: Parameters<typeof original>[0]) => input.kind === 'chunk' && ++chunks >= 2;
  rec.append = async (input) => {
    if (failing(input)) throw new StoreUnavailableError('injected: I/O error');
    return original(input);
  };
  rec.appendSync = (input) => {
    if (failing(input)) throw new StoreUnavailableError('injected: I/O error');
    return originalSync(input);
  };
  const r = await post('/endless');
  let text = '';
  const dec = new TextDecoder();
  await t.rejects(
    (async () => {
      for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) text += dec.decode(c, { stream: true });
    })(),
  );
  t.notMatch(text, /w2/, 'nothing after the unrecordable chunk reached the client');
});

t.test('a long keep-alive run adds no listeners per request (no MaxListenersExceeded warning)', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const url = 'https://api.openai.com/v1/chat/completions';
  const urls = Array.from({ length: 20 }, () => url);
  const out = await new Promise<string>((resolve) => {
    const p = spawn('curl', ['-sS', '--proxy', h.proxyUrl, '--cacert', h.caPath, '-H', 'content-type: application/json', '-d', '{"messages":[{"role":"user","content":"again"}]}', ...urls]);
    let o = '';
    p.stdout.on('data', (d: Buffer) => (o += d));
    p.on('close', () => resolve(o));
  });
  t.equal(out.match(/echo: again/g)?.length, 20);
  await new Promise((r) => setImmediate(r));
  t.same(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
});
