// WebSocket interception: a `ws` client through CONNECT + wiretrail's TLS to a WebSocket upstream speaking the
// Responses API (the fake provider of the agent suite). Every message is recorded with time and direction,
// text is masked by the SSE adapters (a secret split across three messages included), binary is relayed
// untouched, the log verifies; a message that cannot be recorded is not forwarded.
import t from 'tap';
import tls from 'node:tls';
import { WebSocket } from 'ws';
import { connectTunnel } from '../helpers/raw.js';
import { StoreUnavailableError } from '../../src/audit/index.js';
import { startHarness } from '../helpers/harness.js';
import { allSessions } from '../helpers/records.js';
import { startFakeProvider, FAKE_SECRET, ANSWER_MARK } from '../agents/fake-provider.js';

const fake = await startFakeProvider(['api.openai.com']);
const h = await startHarness({ upstreamCa: [fake.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${fake.port}`] });
t.teardown(async () => {
  await h.stop();
  await fake.close();
});

/** A WebSocket to wss://api.openai.com/PATH through the proxy (CONNECT, then TLS trusting wiretrail's CA). */
async function openWs(path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const { socket, status } = await connectTunnel(h.proxy.port, 'api.openai.com:443');
  if (status !== 200) throw new Error(`CONNECT ${status}`);
  const tlsSocket = tls.connect({ socket, servername: 'api.openai.com', ca: h.caPem, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => tlsSocket.once('secureConnect', resolve).once('error', reject));
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://api.openai.com${path}`, { headers, createConnection: () => tlsSocket as never, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

t.test('Responses API over WebSocket: recorded both ways, masked across messages, binary untouched', async (t) => {
  const ws = await openWs('/v1/responses', { authorization: 'Bearer sk-client-ws-test', 'user-agent': 'codex_exec/0.171.0 (Debian 12.0.0; x86_64) dumb (codex_exec; 0.171.0)', 'openai-beta': 'responses_websockets=2026-02-06' });
  const events: Array<{ type: string; delta?: string }> = [];
  const binary: Buffer[] = [];
  const completed = new Promise<void>((resolve) => {
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        binary.push(data as Buffer);
        return;
      }
      const e = JSON.parse(data.toString());
      events.push(e);
      if (e.type === 'response.completed') resolve();
    });
  });
  ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-fake', input: [{ role: 'user', content: [{ type: 'input_text', text: `my key is ${FAKE_SECRET}` }] }] }));
  await completed;
  const blob = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
  const echoed = new Promise<void>((resolve) => ws.on('message', (_d, isBinary) => isBinary && resolve()));
  ws.send(blob, { binary: true });
  await echoed;
  ws.close(1000, 'bye');
  await new Promise((r) => ws.once('close', r));

  const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
  t.match(text, new RegExp(`^${ANSWER_MARK}: the deploy key is \\[MASKED:openai-api-key#\\d+\\] \\(done\\)\\.$`));
  const all = JSON.stringify(events);
  t.notOk(all.includes(FAKE_SECRET), 'the client never sees the secret');
  t.notOk(all.includes(FAKE_SECRET.slice(11, 30)), 'not even a piece of it');
  t.ok(events.some((e) => e.type === 'response.completed'));
  t.same(binary[0], blob, 'binary relayed untouched');

  // Give the session-end record its turn.
  await new Promise((r) => setTimeout(r, 300));
  const session = (await allSessions(h)).find((recs) => recs.some((r) => r.meta.upgrade === 'websocket'))!;
  t.ok(session, 'a session with the upgrade');
  const kinds = session.map((r) => r.kind);
  t.same(kinds.slice(0, 3), ['connect', 'request', 'response-head']);
  t.equal(session.find((r) => r.kind === 'response-head')!.meta.status, 101);
  t.same(session.find((r) => r.kind === 'request')!.meta.agent, { name: 'codex', version: '0.171.0' });
  const chunks = session.filter((r) => r.kind === 'chunk');
  const fromClient = chunks.filter((r) => r.meta.from === 'client');
  const fromUpstream = chunks.filter((r) => r.meta.from === 'upstream');
  t.equal(fromClient.length, 2, 'one text and one binary message from the client');
  t.equal(fromUpstream.length, 14, 'every upstream event (13) plus the binary echo');
  for (const c of chunks) t.type(c.meta.at, 'number');
  t.same(fromClient.map((c) => c.meta.ws), ['text', 'binary']);
  t.same(fromClient[1]!.body, blob, 'binary recorded whole');
  const recorded = chunks.map((c) => c.body?.toString('utf8') ?? '').join('\n');
  t.notOk(recorded.includes(FAKE_SECRET), 'the record holds no secret (either direction)');
  t.match(recorded, /\[MASKED:openai-api-key#\d+\]/);
  t.same(fromClient[0]!.meta.findings, ['openai-api-key'], 'the prompt secret was found');
  const end = session.find((r) => r.kind === 'response-end')!;
  t.match(end.meta, { ws: true, closedBy: 'client', closeCode: 1000, messages: { client: 2, upstream: 14 } });
  const reqHeaders = session.find((r) => r.kind === 'request')!.meta.headers as Record<string, string>;
  t.equal(reqHeaders.authorization, 'Bearer [REDACTED]');
  t.ok(fake.seen.some((s) => s.transport === 'websocket' && s.path === '/v1/responses'), 'the upstream saw the upgrade');
});

t.test('an upgrade whose Host does not name the CONNECT target is refused with 421', async (t) => {
  const err = await openWs('/v1/responses', { host: 'evil.example' }).catch((e: Error & { status?: number }) => e);
  t.equal((err as { status?: number }).status, 421, 'routing never follows the Host header');
});

t.test('fail closed: a message that cannot be recorded is not forwarded; both sides close with 1011', async (t) => {
  const rec = h.recorder;
  const original = rec.append.bind(rec);
  t.teardown(() => {
    rec.append = original;
  });
  const ws = await openWs('/v1/responses');
  const seenBefore = fake.seen.length;
  let upstreamChunks = 0;
  rec.append = async (input) => {
    // The first upstream message is recorded; the second cannot be.
    if (input.kind === 'chunk' && (input.meta as { from?: string }).from === 'upstream' && ++upstreamChunks >= 2) throw new StoreUnavailableError('injected: I/O error');
    return original(input);
  };
  const got: string[] = [];
  ws.on('message', (d) => got.push(d.toString()));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-fake', input: 'hi' }));
  t.equal(await closed, 1011, 'closed with 1011 (internal error)');
  t.equal(got.length, 1, 'only the recorded message reached the client');
  t.equal(JSON.parse(got[0]!).type, 'response.created');
  t.equal(fake.seen.length, seenBefore, 'no new upgrade upstream beyond this one');
});

t.test('the log verifies with WebSocket sessions in it', async (t) => {
  await h.recorder.drained();
  // The store is locked by the running harness: verification goes through the recorder itself.
  const report = await h.recorder.verify();
  t.equal(report.ok, true, JSON.stringify(report).slice(0, 500));
});
