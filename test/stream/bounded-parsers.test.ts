// Every buffer in the stream stage has a bound: an upstream that never ends an SSE event or an
// NDJSON line cannot grow the proxy; the stream is treated as broken, what was seen is recorded
// masked, and the client gets a cleanly ended stream of complete events.
import t from 'tap';
import { createResponseProcessor, EventTooLargeError, NdjsonParser, SseParser, type ExchangeMeta } from '../../src/stream/index.js';
import { engine } from './helpers.js';

const KEY = 'sk-proj-' + 'Zq8Lm3Nv7Bx2Cw9Rt4Yp6Hs1Jd5Gf0Kk2Wm7Qa3Ee9Ru';

t.test('SSE parser: an event over the cap stops the parser, complete events before it are kept', async (t) => {
  const p = new SseParser(1000);
  const items = p.push('data: one\n\n' + 'data: ' + 'x'.repeat(600));
  t.equal(items.length, 1, 'the complete event');
  t.equal(p.error, null);
  t.same(p.push('y'.repeat(300) + '\ndata: '), [], 'still under the cap');
  t.same(p.push('z'.repeat(5000)), []);
  t.type(p.error, EventTooLargeError);
  t.same(p.push('\n\ndata: later\n\n'), [], 'nothing after the break');
  const { tail } = p.end();
  t.ok(tail.length <= 1000 + 20, `tail bounded (${tail.length})`);
  t.ok(tail.startsWith('data: xxx'), 'tail shows what was seen');
});

t.test('SSE parser: a never-ending line is bounded however it is split', async (t) => {
  const p = new SseParser(4096);
  for (let i = 0; i < 1000 && !p.error; i++) p.push('a'.repeat(97));
  t.type(p.error, EventTooLargeError);
  t.ok(p.end().tail.length <= 4096);
});

t.test('SSE parser: comments and many small events never add up to the cap', async (t) => {
  const p = new SseParser(100);
  let n = 0;
  for (let i = 0; i < 200; i++) n += p.push(`: keep-alive ${i}\nevent: e\ndata: ${i}\n\n`).length;
  t.equal(p.error, null);
  t.equal(n, 400);
});

t.test('NDJSON reader: a line over the cap stops it; lines before it are kept', async (t) => {
  const p = new NdjsonParser(1000);
  t.same(p.push('{"a":1}\n' + 'b'.repeat(900)), ['{"a":1}']);
  t.same(p.push('c'.repeat(900)), []);
  t.type(p.error, EventTooLargeError);
  t.same(p.push('\n{"later":1}\n'), []);
  t.same(p.end(), []);
  t.ok(p.tail().length <= 1000);
  const q = new NdjsonParser(50);
  let lines = 0;
  for (let i = 0; i < 100; i++) lines += q.push(`{"i":${i}}\n`).length;
  t.equal(lines, 100, 'many short lines are fine');
  t.equal(q.error, null);
});

function processor(path: string, type: string, maxEventSize: number) {
  const ex: ExchangeMeta = { method: 'POST', host: 'api.openai.com', path, requestHeaders: {} };
  const s = engine().session();
  return createResponseProcessor(ex, { status: 200, headers: { 'content-type': type } }, { client: s, record: s }, { maxEventSize });
}

t.test('processor: an oversize SSE event breaks the stream cleanly; held text released, partial recorded masked', async (t) => {
  const p = processor('/v1/chat/completions', 'text/event-stream', 2048);
  const chunk = (c: string) => `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":${JSON.stringify(c)}}}]}\n\n`;
  const a = await p.push(Buffer.from(chunk('Your key is ') + chunk(KEY.slice(0, 20))));
  t.equal(p.broken, null);
  const b = await p.push(Buffer.from(`data: {"choices":[{"delta":{"content":"${KEY} ` + 'q'.repeat(4000)));
  t.match(p.broken, { code: 'WT_ERR_UPSTREAM_EVENT_TOO_LARGE' });
  const more = await p.push(Buffer.from('r'.repeat(10000) + '"}}]}\n\n'));
  t.equal(more.client.length + more.record.length, 0, 'nothing after the break');
  const client = Buffer.concat([a.client, b.client]).toString();
  const record = Buffer.concat([a.record, b.record]).toString();
  t.notOk(client.includes(KEY.slice(0, 10)) || record.includes(KEY.slice(0, 10)), 'no key anywhere');
  const events = new SseParser().push(client);
  t.ok(events.every((e) => e.kind !== 'event' || JSON.parse(e.event.data)), 'client got only complete JSON events');
  t.match(client, /:wiretrail: stream ended: an upstream event exceeded 2048/);
  t.match(record, /qqqq/, 'record keeps what was seen of the oversize event');
  t.ok(record.length < 2048 + 2000, 'record bounded');
});

t.test('processor: an oversize NDJSON line breaks the stream', async (t) => {
  const p = processor('/api/chat', 'application/x-ndjson', 1000);
  const a = await p.push(Buffer.from('{"model":"m","message":{"role":"assistant","content":"hi"},"done":false}\n{"model":"m","message":{"content":"' + 'x'.repeat(3000)));
  t.match(p.broken, { code: 'WT_ERR_UPSTREAM_EVENT_TOO_LARGE' });
  t.match(a.client.toString(), /"hi"/);
  t.notMatch(a.client.toString(), /xxxx/, 'the partial line never reaches the client');
  t.match(a.record.toString(), /xxxx/);
  const e = await p.end();
  t.equal(e.client.length + e.record.length, 0);
});
