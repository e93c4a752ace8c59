import * as zlib from 'node:zlib';
import t from 'tap';
import { createResponseProcessor } from '../../src/stream/index.js';
import { BodyDecoder, decodeBody, encodeBody, parseContentEncoding } from '../../src/stream/content-encoding.js';
import { FIXTURES, checkOutput, engine, exchange, fixture, randomChunks, run } from './helpers.js';

const encoders: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => zlib.gzipSync(b),
  br: (b) => zlib.brotliCompressSync(b),
  deflate: (b) => zlib.deflateSync(b),
  'deflate (raw, as some servers send it)': (b) => zlib.deflateRawSync(b),
};

t.test('decoder round trip for gzip, br, deflate in random chunkings', async (t) => {
  const src = Buffer.from(Array.from({ length: 3000 }, (_, i) => `line ${i} ✓ ${'x'.repeat(i % 50)}\n`).join(''));
  for (const [name, enc] of Object.entries(encoders)) {
    const coding = name.startsWith('deflate') ? 'deflate' : (name as 'gzip' | 'br');
    const body = enc(src);
    for (const seed of [1, 2, 3]) {
      const d = new BodyDecoder([coding]);
      const out: Buffer[] = [];
      for (const c of randomChunks(body, seed, seed === 1 ? 3 : 4000)) out.push(await d.write(c));
      out.push(await d.end());
      t.ok(Buffer.concat(out).equals(src), `${name}, seed ${seed}`);
    }
  }
  const chained = zlib.brotliCompressSync(zlib.gzipSync(src)); // "Content-Encoding: gzip, br"
  const d = new BodyDecoder(parseContentEncoding('gzip, br')!);
  const out = [await d.write(chained), await d.end()];
  t.ok(Buffer.concat(out).equals(src), 'stacked codings are undone in reverse order');
});

t.test('Content-Encoding parsing', async (t) => {
  t.same(parseContentEncoding(undefined), []);
  t.same(parseContentEncoding('identity'), []);
  t.same(parseContentEncoding('GZIP'), ['gzip']);
  t.same(parseContentEncoding('x-gzip, br'), ['gzip', 'br']);
  t.equal(parseContentEncoding('compress'), null, 'unknown coding: cannot decode');
});

t.test('request bodies: decode and re-encode with the same codings', async (t) => {
  const src = Buffer.from('{"messages":[{"role":"user","content":"hi"}]}');
  for (const codings of [['gzip'], ['br'], ['deflate'], ['gzip', 'br']] as const) {
    const c = [...codings];
    t.ok(decodeBody(encodeBody(src, c), c).equals(src), c.join(','));
  }
  t.throws(() => decodeBody(Buffer.from('not gzip'), ['gzip']));
});

t.test('encoded SSE responses: same masked output as identity, identity-encoded for the client', async (t) => {
  for (const name of ['openai-chat.sse', 'anthropic-tool-use.sse', 'gemini.sse', 'ollama-chat.ndjson']) {
    const plain = fixture(name);
    const base = await run(name, [plain]);
    for (const [encName, enc] of Object.entries(encoders)) {
      const coding = encName.startsWith('deflate') ? 'deflate' : encName;
      const body = enc(plain);
      for (const seed of [5, 6]) {
        const r = await run(name, randomChunks(body, seed, seed === 5 ? 9 : 300), {
          headers: { 'content-encoding': coding, 'content-length': String(body.length) },
        });
        t.ok(r.client.equals(base.client), `${name} ${encName} seed ${seed}: client output equals the identity run`);
        t.ok(r.record.equals(base.record), `${name} ${encName} seed ${seed}: record output equals the identity run`);
      }
    }
    t.same(checkOutput(name, base.client), []);
  }
});

t.test('headers: encoding and length dropped when the body is re-serialised, kept otherwise', async (t) => {
  const meta = FIXTURES['openai-chat.sse']!;
  const eng = engine();
  const headers = {
    'content-type': meta.contentType,
    'Content-Encoding': 'gzip',
    'content-length': '1234',
    'x-request-id': 'req_1',
    'set-cookie': ['a=1', 'b=2'],
    'x-absent': undefined,
  };
  const p = createResponseProcessor(exchange(meta), { status: 200, headers }, { client: eng.session(), record: eng.session() });
  t.same(p.headers, { 'content-type': meta.contentType, 'x-request-id': 'req_1', 'set-cookie': ['a=1', 'b=2'] });

  const raw = createResponseProcessor(exchange(meta), { status: 200, headers }, { client: null, record: eng.session() });
  t.same(raw.headers, { 'content-type': meta.contentType, 'Content-Encoding': 'gzip', 'content-length': '1234', 'x-request-id': 'req_1', 'set-cookie': ['a=1', 'b=2'] }, 'client masking off: raw bytes, headers untouched');
  const gz = zlib.gzipSync(fixture('openai-chat.sse'));
  const o1 = await raw.push(gz);
  const o2 = await raw.end();
  t.ok(Buffer.concat([o1.client, o2.client]).equals(gz), 'client gets the compressed bytes as they came');
  t.same(checkOutput('openai-chat.sse', Buffer.concat([o1.record, o2.record])), [], 'record is decoded and masked');
});

t.test('a corrupt or unsupported encoding does not crash', async (t) => {
  const meta = FIXTURES['openai-chat.sse']!;
  const eng = engine();
  const bad = createResponseProcessor(exchange(meta), { status: 200, headers: { 'content-type': meta.contentType, 'content-encoding': 'gzip' } }, { client: eng.session(), record: eng.session() });
  const gz = zlib.gzipSync(fixture('openai-chat.sse'));
  const good = gz.subarray(0, 2000);
  const o1 = await bad.push(good);
  const o2 = await bad.push(Buffer.from('garbage garbage garbage'));
  const o3 = await bad.end();
  const text = Buffer.concat([o1.client, o2.client, o3.client]).toString();
  t.match(text, /^data: /, 'what decoded before the corruption was passed on');
  t.notMatch(text, /garbage/);

  const unsupported = createResponseProcessor(exchange(meta), { status: 200, headers: { 'content-type': meta.contentType, 'content-encoding': 'compress' } }, { client: eng.session(), record: eng.session() });
  t.equal(unsupported.adapter, 'passthrough');
  const u1 = await unsupported.push(Buffer.from('abc'));
  const u2 = await unsupported.end();
  t.equal(Buffer.concat([u1.client, u2.client]).toString(), 'abc', 'client gets the bytes unmodified');
  t.equal(Buffer.concat([u1.record, u2.record]).length, 0, 'nothing undecodable (possibly holding a secret) is recorded');
});
