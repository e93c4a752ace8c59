// Ingest that lags, seen through the proxy (issue 11): while LevelDB does not keep up, recorded bytes
// wait in memory and in the segments; past audit.max_ingest_lag_bytes new intercepted work gets 503
// with Retry-After (new exchanges in an open tunnel and new CONNECTs alike), the backlog stays
// bounded, readers still see every record, and requests succeed again once ingest catches up.
import t from 'tap';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { startMockUpstream, openaiHandler } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { connectTunnel } from '../helpers/raw.js';
import { STORE_RETRY_AFTER_SECONDS } from '../../src/errors/index.js';

const LIMIT = 256 * 1024;
const mock = await startMockUpstream({ handler: openaiHandler() });
const h = await startHarness({
  upstreamCa: [mock.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`],
  config: { audit: { checkpointIntervalMs: 200, maxIngestLagBytes: LIMIT } },
});
const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
t.teardown(async () => {
  await dispatcher.close();
  await h.stop();
  await mock.close();
});

// A ~16 KiB prompt: each exchange records it in the request body and echoes it in the answer.
const prompt = (i: number) => `request ${i} ` + 'lorem ipsum '.repeat(1400);
const ask = (i: number) =>
  undiciFetch('https://api.openai.com/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: prompt(i) }] }),
    dispatcher,
  });

/** LevelDB stops taking batches until `open()`: the injectable slow store (what a stalled disk looks like to the ingester). */
function stallStore() {
  const store = h.recorder.store as unknown as { batch: (...a: unknown[]) => Promise<void> };
  const batch = store.batch;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let stalled = 0;
  store.batch = (...a: unknown[]) => {
    stalled++;
    return gate.then(() => batch.apply(store, a));
  };
  return {
    get stalled() {
      return stalled;
    },
    open() {
      store.batch = batch;
      open();
    },
  };
}

function segmentFolderBytes(): number {
  const dir = join(h.dataDir, 'segments');
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

t.test('lagging ingest: 503 with Retry-After, bounded backlog, readers see all, recovery', async (t) => {
  const first = await ask(-1);
  t.equal(first.status, 200);
  await first.text();
  await h.recorder.drained();
  const stall = stallStore();

  // Keep asking until the proxy pushes back; every answer before that was recorded and delivered.
  const answered: number[] = [];
  let refused: Awaited<ReturnType<typeof ask>> | null = null;
  for (let i = 0; i < 200 && !refused; i++) {
    const r = await ask(i);
    if (r.status === 200) {
      t.match(await r.text(), `echo: request ${i} `);
      answered.push(i);
    } else refused = r;
  }
  t.ok(refused, `a request is refused once ingest lags (after ${answered.length} answered)`);
  t.ok(stall.stalled > 0, 'the ingester was waiting on the stalled store meanwhile');
  t.equal(refused!.status, 503);
  t.equal(refused!.headers.get('retry-after'), String(STORE_RETRY_AFTER_SECONDS), 'Retry-After says when to come back');
  t.match(await refused!.text(), /audit store cannot record/);
  t.equal(h.recorder.status, 'backlogged');
  t.ok(answered.length >= 4, 'the limit let several 16 KiB exchanges through before it turned');

  // A new tunnel is refused at CONNECT too, with the same hint.
  const tunnel = await connectTunnel(h.proxy.port, 'api.openai.com:443');
  t.equal(tunnel.status, 503, 'a new CONNECT to an intercepted host is refused');
  t.match(tunnel.head, new RegExp(`retry-after: ${STORE_RETRY_AFTER_SECONDS}`, 'i'));
  tunnel.socket.destroy();

  // Memory and the segment folder stay bounded by the limit (twice it is the hard stop).
  const lag = h.recorder.ingestLagBytes;
  t.ok(lag > LIMIT && lag <= 2 * LIMIT, `held for ingest: ${lag} bytes (limit ${LIMIT})`);
  t.ok(segmentFolderBytes() <= 2 * LIMIT + 64 * 1024, `segments hold ${segmentFolderBytes()} bytes`);

  // Readers see every record although LevelDB holds none of those exchanges yet.
  const sessions = await h.recorder.listSessions({});
  const recs = (await Promise.all(sessions.map((s) => h.recorder.readSession(s.session)))).flat();
  const requests = recs.filter((r) => r.kind === 'request').map((r) => Buffer.from(r.body ?? Buffer.alloc(0)).toString('utf8'));
  for (const i of answered) t.ok(requests.some((b) => b.includes(`request ${i} `)), `request ${i} is readable`);
  t.equal(recs.filter((r) => r.kind === 'response-end').length, answered.length + 1, 'every answered exchange has its response-end');

  // LevelDB catches up: requests are accepted again.
  stall.open();
  await h.recorder.drained();
  t.equal(h.recorder.status, 'writable', 'writable again once ingest caught up');
  t.equal(h.recorder.ingestLagBytes, 0);
  const again = await ask(1000);
  t.equal(again.status, 200, 'a request succeeds after recovery');
  t.match(await again.text(), 'echo: request 1000 ');
  const v = await h.recorder.verify();
  t.equal(v.ok, true, v.problem?.message ?? 'the log verifies');
});
