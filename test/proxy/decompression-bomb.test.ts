// Decompression bombs from both sides: a few KB of gzip/brotli that expand to hundreds of MB. The
// request side is bounded by max_request_body_bytes after decoding (413, nothing forwarded); a
// response chunk that decodes past the per-chunk bound is refused (502), nothing undecoded forwarded;
// what the proxy holds or sends never follows the bomb (RSS figures belong in bench/, not here).
import t from 'tap';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allSessions } from '../helpers/records.js';
import { MAX_DECODED_PER_CHUNK, decodeBody, DecodedTooLargeError } from '../../src/stream/content-encoding.js';

const BOMB_BYTES = 256 * 1024 * 1024;
const gzBomb = zlib.gzipSync(Buffer.alloc(BOMB_BYTES), { level: 9 });
const brBomb = zlib.brotliCompressSync(Buffer.alloc(BOMB_BYTES));

const upstream = await startMockUpstream({
  handler: (req, _body, res) => {
    const br = (req.url ?? '').includes('br-bomb');
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': br ? 'br' : 'gzip' });
    res.end(br ? brBomb : gzBomb);
  },
});
const h = await startHarness({
  policy: 'egress: audit\nintercept: [api.openai.com]\n',
  upstreamCa: [upstream.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${upstream.port}`],
});
t.teardown(async () => {
  await h.stop();
  await upstream.close();
});

function curl(args: string[], stdin?: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn('curl', ['-sS', '-D', '-', '-o', '/dev/null', '--max-time', '60', '--proxy', h.proxyUrl, '--cacert', h.caPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stdin.end(stdin ?? Buffer.alloc(0));
    p.on('close', () => resolve(Buffer.concat(out).toString('latin1')));
  });
}

t.test('whole-body decode is bounded (unit)', async (t) => {
  for (const [bomb, coding] of [[gzBomb, 'gzip'], [brBomb, 'br']] as const) {
    let caught: unknown = null;
    try {
      decodeBody(bomb, [coding], 1 << 20);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof DecodedTooLargeError, `${coding}: refused past the bound`);
  }
  t.equal(decodeBody(zlib.gzipSync(Buffer.from('ok')), ['gzip'], 1 << 20).toString(), 'ok');
});

t.test('a gzip-bomb request body is refused with 413 and never forwarded', async (t) => {
  const before = upstream.seen.length;
  const text = await curl(['-H', 'content-encoding: gzip', '-H', 'content-type: application/json', '--data-binary', '@-', 'https://api.openai.com/v1/chat/completions'], gzBomb);
  t.match(text, /^HTTP\/1\.1 413/m);
  t.match(text, /proxy-status: wiretrail; error=http_request_error/i);
  t.equal(upstream.seen.length, before, 'nothing reached the upstream');
  const denies = (await allSessions(h)).flat().filter((r) => r.kind === 'deny' && r.meta.code === 'WT_ERR_BODY_TOO_LARGE');
  t.ok(denies.length >= 1, 'the refusal is recorded');
});

// Brotli packs 256 MiB of zeros into a few hundred bytes: one network chunk would expand into all of
// it. The decoder holds at most MAX_DECODED_PER_CHUNK of output at a time and then cuts the stream, so
// the client's download (and what the proxy holds) stays bounded.
t.test('a brotli-bomb response is cut once its decoded output passes the bound', async (t) => {
  t.ok(brBomb.length < 16 * 1024, `the bomb fits one TLS record (${brBomb.length} bytes)`);
  const size = await new Promise<number>((resolve) => {
    const p = spawn('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download}', '--max-time', '60', '--proxy', h.proxyUrl, '--cacert', h.caPath, 'https://api.openai.com/v1/models/br-bomb'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.on('close', () => resolve(Number(out) || 0));
  });
  t.ok(size <= 2 * MAX_DECODED_PER_CHUNK, `the client got at most two bounded pieces (${size} bytes of 256 MiB)`);
});
