import t from 'tap';
import { NdjsonParser, SseParser, serializeEvent, serializeItem, type SseItem } from '../../src/stream/index.js';
import { FIXTURES, fixture, rng } from './helpers.js';

/** Parses `input` fed in the given pieces; returns every item including end(). */
function parse(pieces: Array<string | Uint8Array>): { items: SseItem[]; tail: string } {
  const p = new SseParser();
  const items: SseItem[] = [];
  for (const piece of pieces) items.push(...p.push(piece));
  const end = p.end();
  return { items: [...items, ...end.items], tail: end.tail };
}

const events = (items: SseItem[]) => items.flatMap((i) => (i.kind === 'event' ? [i.event] : []));

t.test('fields, defaults and dispatch rules', async (t) => {
  const { items } = parse([
    ': comment\n',
    'event: add\ndata: 1\nid: 7\n\n',
    'data: second\n\n', // event type resets, last event id persists
    'data\ndata:\ndata\n\n', // three empty data lines
    'data:no-space\ndata:  two-spaces\n\n',
    'id\n\n', // id only: no event, id becomes ""
    'retry: 1500\nretry: 1x\n\n',
    'data : ignored (field name has a space)\nfoo: bar\n\n',
    'id: a\u0000b\ndata: nul id ignored\n\n',
  ]);
  const ev = events(items);
  t.same(ev[0], { event: 'add', data: '1', id: '7', lastEventId: '7' });
  t.same(ev[1], { event: '', data: 'second', lastEventId: '7' });
  t.same(ev[2]!.data, '\n\n', 'empty data lines join with LF, the last LF removed');
  t.same(ev[3]!.data, 'no-space\n two-spaces', 'only one leading space is stripped');
  t.same(ev[4], { event: '', data: 'nul id ignored', lastEventId: '' }, 'an id with NUL is ignored; the bare id reset it to ""');
  t.equal(ev.length, 5);
  t.same(items.filter((i) => i.kind === 'retry'), [{ kind: 'retry', ms: 1500 }], 'only a digits-only retry counts');
  t.same(items.filter((i) => i.kind === 'comment'), [{ kind: 'comment', text: ' comment' }]);
  t.same(items.filter((i) => i.kind === 'id'), [{ kind: 'id', id: '' }], 'an id-only block is reported (it changes the last event id)');
});

t.test('CR, LF and CRLF line endings, including CR at the end of one read and LF at the start of the next', async (t) => {
  const want = ['a', 'b', 'c', 'd'];
  for (const pieces of [
    ['data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\r\n'],
    ['data: a\r', '\n\r', '\ndata: b\r', '\rdata: c\n', '\ndata: d\r\n\r', '\n'],
    ['data: a\r', '\n', '\r', '\n', 'data: b\r', '\r', 'data: c\n', '\n', 'data: d\r', '\n', '\r', '\n'],
  ]) {
    const ev = events(parse(pieces).items);
    t.same(
      ev.map((e) => e.data),
      want,
      JSON.stringify(pieces),
    );
  }
  // a CR then LF in the next read is one line end, not an empty line (which would dispatch early)
  const ev = events(parse(['data: x\r', '\ndata: y\r\n\r\n']).items);
  t.same(ev.map((e) => e.data), ['x\ny']);
});

t.test('BOM: one leading BOM is stripped, even split across reads; a later one is data', async (t) => {
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('data: a\n\n')]);
  for (let k = 0; k <= body.length; k++) {
    const ev = events(parse([body.subarray(0, k), body.subarray(k)]).items);
    t.same(ev.map((e) => e.data), ['a'], `split at ${k}`);
  }
  const ev = events(parse([Buffer.from('data: a\n\n\ufeffdata: b\n\n')]).items);
  t.same(ev.map((e) => e.data), ['a'], 'a BOM later in the stream makes an unknown field name');
});

t.test('a UTF-8 character split between reads', async (t) => {
  const body = Buffer.from('data: ✓ 𝄞 é\n\n');
  for (let k = 0; k <= body.length; k++) {
    const ev = events(parse([body.subarray(0, k), body.subarray(k)]).items);
    t.equal(ev[0]?.data, '✓ 𝄞 é', `split at ${k}`);
  }
  const bytes = [...body].map((b) => Uint8Array.of(b));
  t.equal(events(parse(bytes).items)[0]?.data, '✓ 𝄞 é', 'one byte at a time');
});

t.test('an unterminated last block is not dispatched; its text is handed back', async (t) => {
  const { items, tail } = parse(['data: done\n\ndata: partial\nevent: x\n', 'data: more']);
  t.same(events(items).map((e) => e.data), ['done']);
  t.match(tail, /data: partial/);
  t.match(tail, /data: more$/);
});

t.test('serializer round trip: what is written parses back to the same events', async (t) => {
  const r = rng(7);
  const samples = ['', 'x', 'multi\nline', 'cr\rlf\r\nmix', ' leading space', 'data: looks like a field', '✓ unicode', ':colon'];
  const written: Array<{ event?: string; data: string; id?: string }> = [];
  let wire = serializeItem({ kind: 'comment', text: ' hello' }) + serializeItem({ kind: 'retry', ms: 10 });
  for (let i = 0; i < 50; i++) {
    const ev: { event?: string; data: string; id?: string } = { data: samples[Math.floor(r() * samples.length)]! };
    if (r() < 0.5) ev.event = 'e' + i;
    if (r() < 0.3) ev.id = 'id' + i;
    written.push(ev);
    wire += serializeEvent(ev);
  }
  const back = events(parse([wire]).items);
  t.equal(back.length, written.length);
  written.forEach((w, i) => {
    const b = back[i]!;
    t.equal(b.data, w.data.replace(/\r\n|\r/g, '\n'), `data ${i}`);
    t.equal(b.event, w.event ?? '');
    if (w.id !== undefined) t.equal(b.id, w.id);
  });
});

t.test('every fixture parses to the same items when split at a line end or inside a character, and byte by byte', async (t) => {
  // (every split point of every fixture is covered end to end by the splits-*.test.ts sweeps)
  const same = (a: SseItem[], b: SseItem[]) => a.length === b.length && a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]));
  for (const name of Object.keys(FIXTURES)) {
    if (name.endsWith('.ndjson')) continue;
    const body = fixture(name);
    const base = parse([body]).items;
    const bad: number[] = [];
    let tried = 0;
    for (let k = 0; k <= body.length; k++) {
      const a = body[k - 1];
      const b = body[k];
      const interesting = a === 13 || a === 10 || b === 13 || b === 10 || (a ?? 0) >= 0x80 || (b ?? 0) >= 0x80 || k % 97 === 0;
      if (!interesting) continue;
      tried++;
      if (!same(parse([body.subarray(0, k), body.subarray(k)]).items, base)) bad.push(k);
    }
    t.same(bad.slice(0, 5), [], `${name}: ${tried} splits`);
    const bytes: Uint8Array[] = [];
    for (let i = 0; i < body.length; i++) bytes.push(body.subarray(i, i + 1));
    t.ok(same(parse(bytes).items, base), `${name}: byte by byte`);
  }
  const edge = events(parse([fixture('sse-edge-cases.sse')]).items);
  t.equal(edge.length, 9, 'sse-edge-cases: 9 events, the unterminated last one dropped');
  t.equal(edge[5]!.data, '', 'the bare `data` line dispatches an empty event');
  t.equal(edge[2]!.event, 'message');
  t.equal(edge[0]!.id, 'evt-1');
});

t.test('NDJSON: lines split anywhere, CRLF, blank lines, unterminated last line', async (t) => {
  const body = Buffer.from('{"a":"✓"}\r\n\n{"b":2}\n{"c":3}');
  const want = ['{"a":"✓"}', '{"b":2}', '{"c":3}'];
  for (let k = 0; k <= body.length; k++) {
    const p = new NdjsonParser();
    const got = [...p.push(body.subarray(0, k)), ...p.push(body.subarray(k)), ...p.end()];
    t.same(got, want, `split at ${k}`);
  }
});
