// Masking a request body in a worker thread gives byte for byte what masking it on the calling thread
// gives: same bytes, placeholders, numbering (carried across bodies of one session), findings, adapter and
// refusals, with engine options (placeholder template, custom rules, allow list) honoured in the worker.
// A session that numbers a placeholder while its body is in the worker is masked again on the calling
// thread, so numbers never cross.
import * as zlib from 'node:zlib';
import dc from 'node:diagnostics_channel';
import t, { type Test as Tap } from 'tap';
import { createMaskEngine, type MaskOptions } from '../../src/mask/index.js';
import { maskRequestBody, RequestMaskPool, REQUEST_MASK_CHANNEL, type ExchangeMeta, type RequestMaskResult } from '../../src/stream/index.js';

const KEY = 'sk-proj-' + 'Zq8Lm3Nv7Bx2Cw9Rt4Yp6Hs1Jd5Gf0Kk2Wm7Qa3Ee9Ru';
const GH = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const AWS = 'AKIA' + 'QX7R2M4N8B5V3C6Z';

function ex(path: string, headers: Record<string, string>): ExchangeMeta {
  return { method: 'POST', host: 'api.example.test', path, requestHeaders: headers };
}
const JSON_H = { 'content-type': 'application/json' };

/** Bodies in the order one connection would send them (numbers carry from one to the next). */
function bodies(): [ExchangeMeta, Buffer][] {
  const filler = 'lorem ipsum dolor sit amet '.repeat(40);
  const chat = (n: number) => JSON.stringify({ model: 'gpt-4.1', messages: Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', id: `m${i}`, content: `${filler} ${i % 3 === 0 ? KEY : i % 3 === 1 ? GH : AWS} ${filler}` })) });
  return [
    [ex('/v1/chat/completions', JSON_H), Buffer.from(chat(200))],
    // the same secrets again: the same placeholders; keys are masked too
    [ex('/v1/chat/completions', JSON_H), Buffer.from(JSON.stringify({ metadata: { [KEY]: 'v' }, messages: [{ role: 'user', content: `again ${GH}` }] }))],
    // duplicate keys: re-serialised
    [ex('/v1/messages', JSON_H), Buffer.from(`{"model":"m","messages":[{"role":"user","content":"${KEY}"}],"messages":[{"role":"user","content":"x ${AWS}"}]}`)],
    // gzip: decoded, masked, re-encoded
    [ex('/v1/chat/completions', { ...JSON_H, 'content-encoding': 'gzip' }), zlib.gzipSync(Buffer.from(chat(50)))],
    // plain text
    [ex('/upload', { 'content-type': 'text/plain' }), Buffer.from(`${filler}\nexport OPENAI_API_KEY=${KEY}\npassword = "hunter2-but-longer-Zx9"\n`.repeat(50))],
    // invalid JSON: refused with a provider-shaped 400
    [ex('/v1/chat/completions', JSON_H), Buffer.from('{"messages": [' + `"${KEY}",`.repeat(100) + ']')],
    // not UTF-8
    [ex('/upload', { 'content-type': 'application/octet-stream' }), Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(` ${GH} `.repeat(100))])],
    // nothing to mask
    [ex('/v1/chat/completions', JSON_H), Buffer.from(chat(0))],
  ];
}

function same(t: Tap, a: RequestMaskResult, b: RequestMaskResult, label: string): void {
  t.ok(a.body.equals(b.body), `${label}: same bytes`);
  t.equal(a.changed, b.changed, `${label}: same changed`);
  t.same(a.findings, b.findings, `${label}: same findings and placeholders`);
  t.equal(a.adapter, b.adapter, `${label}: same adapter`);
  t.same(a.refusal, b.refusal, `${label}: same refusal`);
}

async function compare(t: Tap, options: MaskOptions): Promise<void> {
  const engine = createMaskEngine(options);
  const inline = engine.session();
  const pooled = engine.session();
  const pool = new RequestMaskPool({ workers: 1, threshold: 0 });
  t.teardown(() => pool.close());
  const where: string[] = [];
  const seen = (m: unknown) => (m as { phase: string }).phase === 'done' && where.push((m as { where: string }).where);
  dc.subscribe(REQUEST_MASK_CHANNEL, seen);
  t.teardown(() => dc.unsubscribe(REQUEST_MASK_CHANNEL, seen));
  let masked = 0;
  for (const [i, [meta, body]] of bodies().entries()) {
    const want = maskRequestBody(meta, Buffer.from(body), inline);
    if (want.changed) masked++;
    const got = await pool.mask(meta, Buffer.from(body), pooled);
    same(t, got, want, `body ${i} (${meta.requestHeaders['content-type']})`);
  }
  t.ok(masked >= 5, `the bodies hold secrets (${masked} masked)`);
  t.ok(where.length > 0 && where.every((w) => w === 'worker'), 'every body was masked in the worker');
  // The numbering came back: the next secret gets the same number on both sessions.
  const next = `later ${'xoxb-' + '123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'} and ${KEY}`;
  t.same(pooled.maskText(next), inline.maskText(next), 'numbering carried on identically');
  t.equal(pooled.issued, inline.issued);
}

t.test('default engine: identical results, body after body', (t) => compare(t, {}));

t.test('engine options travel to the worker: placeholder template, custom rules, allow list', (t) =>
  compare(t, {
    placeholder: '<<{rule}:{n}>>',
    customRules: [{ name: 'hunter', regex: 'hunter2-[A-Za-z0-9-]+' }],
    allow: [AWS],
  }));

t.test('a placeholder numbered meanwhile on the session: masked again inline, numbers never cross', async (t) => {
  const engine = createMaskEngine();
  const inline = engine.session();
  const pooled = engine.session();
  const pool = new RequestMaskPool({ workers: 1, threshold: 0 });
  t.teardown(() => pool.close());
  const [meta, body] = bodies()[0]!;
  const release = pool.hold();
  const started = new Promise<void>((resolve) => {
    const on = (m: unknown) => {
      if ((m as { phase: string; where: string }).phase === 'started' && (m as { where: string }).where === 'worker') {
        dc.unsubscribe(REQUEST_MASK_CHANNEL, on);
        resolve();
      }
    };
    dc.subscribe(REQUEST_MASK_CHANNEL, on);
  });
  const pending = pool.mask(meta, Buffer.from(body), pooled);
  await started;
  // Another exchange of the same connection masks a new secret while the body is in the worker.
  const other = `response text with ${GH}`;
  const otherPooled = pooled.maskText(other);
  release();
  const got = await pending;
  const otherInline = inline.maskText(other);
  const want = maskRequestBody(meta, Buffer.from(body), inline);
  t.same(otherPooled, otherInline, 'the other exchange got #1');
  same(t, got, want, 'the body is numbered after it');
});

t.test('small bodies stay inline; a session without snapshots (a test double) stays inline', async (t) => {
  const pool = new RequestMaskPool({ workers: 1, threshold: 1024 });
  t.teardown(() => pool.close());
  const where: string[] = [];
  const seen = (m: unknown) => (m as { phase: string }).phase === 'done' && where.push((m as { where: string }).where);
  dc.subscribe(REQUEST_MASK_CHANNEL, seen);
  t.teardown(() => dc.unsubscribe(REQUEST_MASK_CHANNEL, seen));
  const s = createMaskEngine().session();
  await pool.mask(ex('/v1/chat/completions', JSON_H), Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: KEY }] })), s);
  const real = createMaskEngine().session();
  const double = { maskText: real.maskText.bind(real), stream: real.stream.bind(real) };
  const r = await pool.mask(ex('/upload', { 'content-type': 'text/plain' }), Buffer.from(`${KEY} `.repeat(100)), double);
  t.ok(r.changed);
  t.same(where, ['inline', 'inline']);
});
