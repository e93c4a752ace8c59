// A large request body is masked without stalling the proxy for everyone else (issue 9: during a flood of
// 31 MiB bodies another client's CONNECT waited seconds). Not timed: the masking worker is held mid-job
// (the pool's test gate), and while it provably still holds the large body — no answer to its client, no
// request record, nothing upstream — another client opens a CONNECT tunnel and completes a request. Then
// the large exchange finishes, masked and recorded as before (fail closed: nothing forwarded before it is
// masked and recorded). Loopback only.
import t from 'tap';
import dc from 'node:diagnostics_channel';
import { ProxyAgent, request as undiciRequest } from 'undici';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allRecords } from '../helpers/records.js';
import { RequestMaskPool, REQUEST_MASK_CHANNEL } from '../../src/stream/index.js';

const KEY = 'sk-proj-' + 'Zq8Lm3Nv7Bx2Cw9Rt4Yp6Hs1Jd5Gf0Kk2Wm7Qa3Ee9Ru';
const upstream = await startMockUpstream();
const pool = new RequestMaskPool({ workers: 1, threshold: 256 * 1024 });
const h = await startHarness({ upstreamCa: [upstream.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${upstream.port}`], requestMasker: pool });
t.teardown(async () => {
  await h.stop();
  await upstream.close();
});

const URL_CHAT = 'https://api.openai.com/v1/chat/completions';

function post(body: string): Promise<{ status: number; text: string }> {
  const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
  return undiciRequest(URL_CHAT, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body })
    .then(async (r) => ({ status: r.statusCode, text: await r.body.text() }))
    .finally(() => dispatcher.close());
}

/** Resolves when a worker starts masking a body of at least `bytes`. */
function workerStarted(bytes: number): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      const e = m as { phase: string; where: string; bytes: number };
      if (e.phase === 'started' && e.where === 'worker' && e.bytes >= bytes) {
        dc.unsubscribe(REQUEST_MASK_CHANNEL, on);
        resolve();
      }
    };
    dc.subscribe(REQUEST_MASK_CHANNEL, on);
  });
}

t.test('another client connects and is served while a large body is being masked', async (t) => {
  const filler = 'lorem ipsum dolor sit amet '.repeat(4000);
  const messages = Array.from({ length: 40 }, (_, i) => ({ role: 'user', content: `${filler} part ${i} ${KEY}` }));
  const large = JSON.stringify({ model: 'gpt-4.1-mini', messages });
  t.ok(large.length > 4 * 1024 * 1024, `large body: ${large.length} bytes`);
  const seenBefore = upstream.seen.length;

  const release = pool.hold();
  t.teardown(release);
  const started = workerStarted(large.length);
  let largeDone = false;
  const largeReply = post(large).then((r) => ((largeDone = true), r));
  await started;

  // The worker holds the large body. Another client: CONNECT, TLS, a small request, its answer.
  const small = await post(JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hello' }] }));
  t.equal(small.status, 200, 'the other client was served');
  t.match(small.text, /echo: hello/);

  t.notOk(largeDone, 'the large exchange is still being masked: no answer yet');
  t.equal(upstream.seen.length - seenBefore, 1, 'only the small request reached the upstream');
  const requestsRecorded = (await allRecords(h)).filter((r) => r.kind === 'request');
  t.equal(requestsRecorded.length, 1, 'only the small request is recorded');

  release();
  const done = await largeReply;
  t.equal(done.status, 200, 'the large exchange completes once masked');
  const sent = upstream.seen.at(-1)!;
  t.ok(sent.body.length > 4 * 1024 * 1024, 'the large body went upstream');
  t.notOk(sent.body.includes(KEY), 'masked before it went upstream');
  t.match(sent.body, /\[MASKED:openai-api-key#1\]/, 'numbered as on the calling thread');
  const recorded = (await allRecords(h)).filter((r) => r.kind === 'request');
  t.equal(recorded.length, 2);
  const body = recorded.map((r) => r.body?.toString('utf8') ?? '').find((b) => b.length > 4 * 1024 * 1024) ?? '';
  t.notOk(body.includes(KEY), 'recorded masked');
  t.equal(body, sent.body, 'the record holds exactly what was forwarded');
});
