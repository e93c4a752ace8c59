// AWS event-stream framing: the codec against the AWS SDK's own (@smithy/eventstream-codec, which we did not
// write) in both directions, every header type, splits at every byte offset, and the frames it must refuse
// (CRC mismatches, oversize and malformed preludes, headers that run past their section, duplicates).
import t from 'tap';
import CRC32 from 'crc-32';
import { EventStreamCodec, Int64 } from '@smithy/eventstream-codec';
import { DEFAULT_MAX_MESSAGE_BYTES, EventStreamParser, decodeFrame, encodeMessage, type EventMessage } from '../../src/stream/eventstream.js';

const toUtf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
const fromUtf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const smithy = new EventStreamCodec(toUtf8, fromUtf8);

const UUID = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
const ALL_TYPES: EventMessage = {
  headers: [
    { name: 'true', value: { type: 'bool', value: true } },
    { name: 'false', value: { type: 'bool', value: false } },
    { name: 'byte', value: { type: 'byte', value: -7 } },
    { name: 'short', value: { type: 'short', value: -12345 } },
    { name: 'int', value: { type: 'int', value: 2_000_000_001 } },
    { name: 'long', value: { type: 'long', value: -9_007_199_254_740_993n } },
    { name: 'bytes', value: { type: 'bytes', value: Buffer.from([0, 255, 1, 254]) } },
    { name: ':event-type', value: { type: 'string', value: 'contentBlockDelta ünïcode' } },
    { name: 'timestamp', value: { type: 'timestamp', value: 1_764_787_200_123n } },
    { name: 'uuid', value: { type: 'uuid', value: UUID } },
  ],
  payload: Buffer.from('{"contentBlockIndex":0,"delta":{"text":"hé"}}'),
};

const chat = (i: number, text: string): EventMessage => ({
  headers: [
    { name: ':event-type', value: { type: 'string', value: 'contentBlockDelta' } },
    { name: ':content-type', value: { type: 'string', value: 'application/json' } },
    { name: ':message-type', value: { type: 'string', value: 'event' } },
  ],
  payload: Buffer.from(JSON.stringify({ contentBlockIndex: i, delta: { text }, p: 'abcdefghij' })),
});

function parseAll(pieces: Buffer[], max?: number): { messages: EventMessage[]; error: string | null; tail: Buffer } {
  const p = new EventStreamParser(max);
  const messages: EventMessage[] = [];
  for (const piece of pieces) messages.push(...p.push(piece));
  return { messages, error: p.error?.code ?? null, tail: p.end().tail };
}

/** Re-computes both CRCs of a frame after it was edited on purpose. */
function fixCrcs(frame: Buffer): Buffer {
  frame.writeUInt32BE(CRC32.buf(frame.subarray(0, 8)) >>> 0, 8);
  frame.writeUInt32BE(CRC32.buf(frame.subarray(0, frame.length - 4)) >>> 0, frame.length - 4);
  return frame;
}

t.test('every header type round-trips, and agrees with the AWS SDK codec both ways', async (t) => {
  const ours = encodeMessage(ALL_TYPES);
  const back = decodeFrame(ours);
  t.notOk(back instanceof Error);
  t.same(back, ALL_TYPES);

  const theirs = smithy.decode(ours);
  t.equal(toUtf8(theirs.body), ALL_TYPES.payload.toString());
  t.same(Object.keys(theirs.headers), ALL_TYPES.headers.map((h) => h.name), 'the SDK reads every header, in order');
  t.equal(theirs.headers['true']!.value, true);
  t.equal(theirs.headers['false']!.value, false);
  t.equal(theirs.headers['byte']!.value, -7);
  t.equal(theirs.headers['short']!.value, -12345);
  t.equal(theirs.headers['int']!.value, 2_000_000_001);
  t.equal(Buffer.from((theirs.headers['long']!.value as Int64).bytes).toString('hex'), bigintBytes(-9_007_199_254_740_993n), 'a long beyond double precision keeps its bytes');
  t.same(Buffer.from(theirs.headers['bytes']!.value as Uint8Array), Buffer.from([0, 255, 1, 254]));
  t.equal(theirs.headers[':event-type']!.value, 'contentBlockDelta ünïcode');
  t.equal((theirs.headers['timestamp']!.value as Date).getTime(), 1_764_787_200_123);
  t.equal(theirs.headers['uuid']!.value, '01234567-89ab-cdef-0123-456789abcdef');

  // the SDK encodes, we decode: identical bytes back out of our encoder
  const sdkFrame = Buffer.from(
    smithy.encode({
      headers: {
        ':event-type': { type: 'string', value: 'chunk' },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
        flag: { type: 'boolean', value: false },
        n: { type: 'long', value: Int64.fromNumber(-42) },
        when: { type: 'timestamp', value: new Date(1_764_787_200_123) },
        id: { type: 'uuid', value: '01234567-89ab-cdef-0123-456789abcdef' },
        raw: { type: 'binary', value: new Uint8Array([9, 8, 7]) },
        s: { type: 'short', value: 300 },
        b: { type: 'byte', value: 5 },
        i: { type: 'integer', value: -70000 },
      },
      body: fromUtf8('{"bytes":"eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0="}'),
    }),
  );
  const decoded = decodeFrame(sdkFrame);
  if (decoded instanceof Error) throw decoded;
  t.same(
    decoded.headers.map((h) => [h.name, h.value.type]),
    [[':event-type', 'string'], [':content-type', 'string'], [':message-type', 'string'], ['flag', 'bool'], ['n', 'long'], ['when', 'timestamp'], ['id', 'uuid'], ['raw', 'bytes'], ['s', 'short'], ['b', 'byte'], ['i', 'int']],
  );
  t.same(decoded.headers.find((h) => h.name === 'n')!.value, { type: 'long', value: -42n });
  t.same(decoded.headers.find((h) => h.name === 'when')!.value, { type: 'timestamp', value: 1_764_787_200_123n });
  t.same(encodeMessage(decoded), sdkFrame, 're-encoding what the SDK wrote gives the same bytes, CRCs included');
});

const show = (m: EventMessage[]) => JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

function flip(b: Buffer, i: number, mask: number): void {
  b[i] = b[i]! ^ mask;
}

function bigintBytes(v: bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b.toString('hex');
}

t.test('a stream split at every byte offset (and byte by byte) parses to the same messages', async (t) => {
  const msgs = [ALL_TYPES, chat(0, 'Hello '), chat(0, 'sk-proj-FAKE'), { headers: [], payload: Buffer.alloc(0) }, chat(1, 'world')];
  const stream = Buffer.concat(msgs.map(encodeMessage));
  const whole = parseAll([stream]);
  t.equal(whole.error, null);
  t.same(whole.messages, msgs);
  t.equal(whole.tail.length, 0);
  let same = 0;
  for (let i = 0; i <= stream.length; i++) {
    const r = parseAll([stream.subarray(0, i), stream.subarray(i)]);
    if (r.error === null && r.tail.length === 0 && show(r.messages) === show(whole.messages)) same++;
    else t.fail(`split at ${i} differs`);
  }
  t.equal(same, stream.length + 1, `all ${stream.length + 1} two-piece splits agree`);
  for (let i = 0; i < stream.length - 2; i += 7) {
    for (const j of [i + 1, i + 2, i + 13]) {
      if (j >= stream.length) continue;
      const r = parseAll([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
      if (show(r.messages) !== show(whole.messages)) t.fail(`split at ${i}/${j} differs`);
    }
  }
  const bytes = parseAll([...stream].map((b) => Buffer.from([b])));
  t.same(bytes.messages, msgs, 'byte by byte');
  const cut = parseAll([stream.subarray(0, stream.length - 5)]);
  t.equal(cut.messages.length, msgs.length - 1, 'a stream cut inside its last message: the complete ones');
  t.equal(cut.error, null);
  t.equal(cut.tail.length, encodeMessage(msgs.at(-1)!).length - 5, 'the unfinished message is handed back by end()');
});

t.test('CRC mismatches end the stream: the messages before it, nothing after, the bad bytes in the tail', async (t) => {
  const good = encodeMessage(chat(0, 'before'));
  const after = encodeMessage(chat(0, 'after'));

  const badPrelude = encodeMessage(chat(0, 'x'));
  flip(badPrelude, 8, 1);
  let r = parseAll([Buffer.concat([good, badPrelude, after])]);
  t.equal(r.error, 'WT_ERR_EVENTSTREAM_CRC');
  t.equal(r.messages.length, 1);
  t.match(r.messages[0]!.payload.toString(), /"before"/);
  t.same(r.tail, badPrelude.subarray(0, 12), 'the tail is the bad prelude: nothing past it is read');

  const badLength = encodeMessage(chat(0, 'x'));
  badLength.writeUInt32BE(badLength.length + 1, 0); // length changed, prelude CRC not: caught by the CRC
  t.equal(parseAll([badLength]).error, 'WT_ERR_EVENTSTREAM_CRC');

  const badBody = encodeMessage(chat(0, 'a secret-ish text'));
  flip(badBody, badBody.length - 10, 0x20);
  r = parseAll([Buffer.concat([good, badBody, after])]);
  t.equal(r.error, 'WT_ERR_EVENTSTREAM_CRC');
  t.equal(r.messages.length, 1, 'the corrupted message is not delivered');
  t.same(r.tail, badBody, 'the tail is the bad frame, not what follows it');

  const badCrc = encodeMessage(chat(0, 'x'));
  flip(badCrc, badCrc.length - 1, 0xff);
  t.equal(parseAll([badCrc]).error, 'WT_ERR_EVENTSTREAM_CRC');

  const p = new EventStreamParser();
  p.push(badCrc);
  t.same(p.push(good), [], 'every push after the error returns nothing');
});

t.test('oversize and malformed preludes are refused before the message is buffered', async (t) => {
  const huge = Buffer.alloc(12);
  huge.writeUInt32BE(0xfffffff0, 0);
  huge.writeUInt32BE(0, 4);
  huge.writeUInt32BE(CRC32.buf(huge.subarray(0, 8)) >>> 0, 8);
  const p = new EventStreamParser();
  t.same(p.push(huge), []);
  t.equal(p.error?.code, 'WT_ERR_UPSTREAM_EVENT_TOO_LARGE', 'a 4 GiB announcement fails at its prelude');
  t.match(p.error!.message, new RegExp(`exceeds ${DEFAULT_MAX_MESSAGE_BYTES}`));

  const small = encodeMessage(chat(0, 'x'.repeat(200)));
  t.equal(parseAll([small], 100).error, 'WT_ERR_UPSTREAM_EVENT_TOO_LARGE', 'the cap is configurable');
  t.equal(parseAll([small], small.length).error, null, 'a message exactly at the cap passes');

  const tooShort = Buffer.alloc(16);
  tooShort.writeUInt32BE(15, 0);
  t.equal(parseAll([fixCrcs(tooShort)]).error, 'WT_ERR_EVENTSTREAM_FRAME', 'total length below 16');

  const headersOver = encodeMessage(chat(0, 'x'));
  headersOver.writeUInt32BE(headersOver.length - 15, 4);
  t.equal(parseAll([fixCrcs(headersOver)]).error, 'WT_ERR_EVENTSTREAM_FRAME', 'headers length past the message');
});

t.test('headers that run past their section, repeat, or carry an unknown type are refused', async (t) => {
  // a header name whose length runs into the payload: CRCs fine, the headers section is not
  const m = encodeMessage({ headers: [{ name: 'ab', value: { type: 'bool', value: true } }], payload: Buffer.from('{"x":"payload bytes"}') });
  const overrun = Buffer.from(m);
  overrun[12] = 40; // name length 40 in a 4-byte headers section
  t.equal(parseAll([fixCrcs(overrun)]).error, 'WT_ERR_EVENTSTREAM_FRAME');

  const strOver = encodeMessage({ headers: [{ name: 's', value: { type: 'string', value: 'abc' } }], payload: Buffer.from('payload') });
  strOver.writeUInt16BE(200, 12 + 1 + 1 + 1); // string length past the section
  t.equal(parseAll([fixCrcs(strOver)]).error, 'WT_ERR_EVENTSTREAM_FRAME');

  const dup = encodeMessage({
    headers: [
      { name: ':event-type', value: { type: 'string', value: 'chunk' } },
      { name: ':event-type', value: { type: 'string', value: 'other' } },
    ],
    payload: Buffer.alloc(0),
  });
  const r = parseAll([dup]);
  t.equal(r.error, 'WT_ERR_EVENTSTREAM_FRAME', 'a repeated header name is ambiguous (the SDK keeps the last)');

  const unknown = encodeMessage({ headers: [{ name: 'x', value: { type: 'bool', value: true } }], payload: Buffer.alloc(0) });
  unknown[12 + 1 + 1] = 10;
  t.equal(parseAll([fixCrcs(unknown)]).error, 'WT_ERR_EVENTSTREAM_FRAME');

  const badUtf8 = encodeMessage({ headers: [{ name: 's', value: { type: 'string', value: 'ab' } }], payload: Buffer.alloc(0) });
  badUtf8[12 + 1 + 1 + 1 + 2] = 0xff;
  t.equal(parseAll([fixCrcs(badUtf8)]).error, 'WT_ERR_EVENTSTREAM_FRAME', 'a string header that is not UTF-8');
});

t.test('the encoder refuses what the format cannot carry', async (t) => {
  t.throws(() => encodeMessage({ headers: [{ name: 'x'.repeat(256), value: { type: 'bool', value: true } }], payload: Buffer.alloc(0) }), RangeError);
  t.throws(() => encodeMessage({ headers: [{ name: 's', value: { type: 'string', value: 'x'.repeat(70000) } }], payload: Buffer.alloc(0) }), RangeError);
  t.throws(() => encodeMessage({ headers: [{ name: 'u', value: { type: 'uuid', value: Buffer.alloc(3) } }], payload: Buffer.alloc(0) }), RangeError);
});
