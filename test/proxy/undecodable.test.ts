// Fail closed on Content-Encoding: a malicious upstream (unknown coding, zstd where Node lacks it, a gzip
// label on bytes that are not gzip, gzip that turns to garbage mid-stream) and a malicious client (the
// same on the request side). Nothing undecoded reaches the other side; every byte the client gets is in
// a committed chunk record.
import t from 'tap';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { startMockUpstream, chunkLine, type Handler } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allSessions } from '../helpers/records.js';
import type { StoredRecord } from '../../src/audit/index.js';

const SSE = Array.from({ length: 40 }, (_, i) => chunkLine(`word${i} `, i)).join('') + 'data: [DONE]\n\n';
const hasZstd = typeof (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

const routes: Record<string, Handler> = {
  '/v1/chat/completions': (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(SSE);
  },
  '/x-custom': (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'x-custom' });
    res.end('sk-proj-' + 'A'.repeat(40) + ' opaque bytes the proxy cannot read');
  },
  '/zstd-label': (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'zstd' });
    res.end(hasZstd ? (zlib as unknown as { zstdCompressSync: (b: Buffer) => Buffer }).zstdCompressSync(Buffer.from('zstd body ok')) : Buffer.from('not really zstd'));
  },
  '/gzip-lie': (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
    res.end('this body is not gzip at all, it is 166 bytes of plain text that a lying upstream labelled gzip so the proxy could not decode it ................');
  },
  '/gzip-corrupt-midstream': async (_req, _body, res) => {
    const gz = zlib.gzipSync(Buffer.from(SSE));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
    res.write(gz.subarray(0, Math.floor(gz.length / 2)));
    await new Promise((r) => setTimeout(r, 50));
    res.end(Buffer.alloc(300, 0x41)); // garbage where the rest of the deflate stream should be
  },
  '/gzip-ok': (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
    res.end(zlib.gzipSync(Buffer.from(SSE)));
  },
};

const upstream = await startMockUpstream({
  handler: (req, body, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const r = routes[path.replace(/^\/v1\/chat\/completions(?=\/)/, '')];
    if (r) return r(req, body, res);
    res.writeHead(404);
    res.end();
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

function curl(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('curl', ['-sS', '--max-time', '20', '--proxy', h.proxyUrl, '--cacert', h.caPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr }));
  });
}

/** Records of the newest session that saw a request for `path`. */
async function sessionFor(path: string): Promise<StoredRecord[]> {
  const all = await allSessions(h);
  const s = all.filter((recs) => recs.some((r) => r.kind === 'request' && r.meta.path === path) || recs.some((r) => r.kind === 'deny' && String(r.meta.reason).includes('Content-Encoding')));
  return s.at(-1) ?? [];
}

const chunkBytes = (recs: StoredRecord[]) => Buffer.concat(recs.filter((r) => r.kind === 'chunk').map((r) => r.body ?? Buffer.alloc(0)));

for (const [path, label] of [['/x-custom', 'an unknown coding'], ['/gzip-lie', 'gzip on a body that is not gzip'], ...(hasZstd ? [] : [['/zstd-label', 'zstd on a Node without zstd']])] as const) {
  t.test(`a response with ${label} is refused with 502 and a reason; nothing of it reaches the client`, async (t) => {
    const r = await curl(['-D', '-', path === '/x-custom' ? `https://api.openai.com${path}` : `https://api.openai.com${path}`]);
    const text = r.stdout.toString('latin1');
    t.match(text, /^HTTP\/1\.1 502/m);
    t.match(text, /proxy-status: wiretrail; error=http_response_content_coding; details="/i);
    t.notMatch(text, /sk-proj-|opaque bytes|labelled gzip|not really zstd/, 'no upstream body byte reached the client');
    const recs = await sessionFor(path);
    t.equal(chunkBytes(recs).length, 0, 'nothing undecodable recorded as a chunk');
    const err = recs.find((x) => x.kind === 'error' && x.meta.status === 502);
    t.ok(err, 'the refusal is recorded');
    t.match(String(err?.meta.code), /WT_ERR_UNDECODABLE_RESPONSE/);
  });
}

if (hasZstd) {
  t.test('zstd is decoded where Node has it', async (t) => {
    const r = await curl([`https://api.openai.com/zstd-label`]);
    t.equal(r.stdout.toString(), 'zstd body ok');
  });
}

t.test('gzip that turns to garbage mid-stream: the client gets only recorded bytes, then a cut', async (t) => {
  const r = await curl(['--compressed', '-H', 'content-type: application/json', '--data-binary', '{"stream":true,"messages":[]}', 'https://api.openai.com/v1/chat/completions/gzip-corrupt-midstream']);
  t.not(r.code, 0, 'curl sees the stream cut');
  const recs = await sessionFor('/v1/chat/completions/gzip-corrupt-midstream');
  const recorded = chunkBytes(recs).toString('utf8');
  const got = r.stdout.toString('utf8');
  t.ok(got.length > 0, 'the decoded first half was streamed');
  t.ok(recorded.startsWith(got), 'every byte the client received is in a committed chunk record');
  t.notMatch(got, /AAAA/, 'no garbage forwarded');
  const err = recs.find((x) => x.kind === 'error' && x.meta.phase === 'response-body');
  t.match(String(err?.meta.code), /WT_ERR_UNDECODABLE_RESPONSE/, JSON.stringify(recs.map((r) => [r.kind, r.meta])));
});

t.test('a valid gzip stream is decoded, masked, recorded and streamed identity-encoded', async (t) => {
  const r = await curl(['-D', '-', '-H', 'content-type: application/json', '--data-binary', '{"stream":true,"messages":[]}', 'https://api.openai.com/v1/chat/completions/gzip-ok']);
  const text = r.stdout.toString('utf8');
  t.match(text, /^HTTP\/1\.1 200 OK/m);
  t.notMatch(text, /content-encoding/i, 'the client gets the decoded body');
  t.match(text, /word39/);
  const recs = await sessionFor('/v1/chat/completions/gzip-ok');
  t.match(chunkBytes(recs).toString(), /word39/);
});

t.test('the Accept-Encoding sent upstream names only codings wiretrail decodes', async (t) => {
  const before = upstream.seen.length;
  await curl(['-H', 'accept-encoding: x-custom, gzip;q=0.5, *', 'https://api.openai.com/v1/chat/completions', '--data-binary', '{}', '-H', 'content-type: application/json']);
  t.equal(upstream.seen[before]?.headers['accept-encoding'], 'gzip;q=0.5');
  await curl(['-H', 'accept-encoding: x-custom', 'https://api.openai.com/v1/chat/completions', '--data-binary', '{}', '-H', 'content-type: application/json']);
  t.equal(upstream.seen[before + 1]?.headers['accept-encoding'], 'identity');
});

t.test('a request body the proxy cannot decode is refused with 400 and never forwarded', async (t) => {
  for (const [enc, body] of [['x-custom', 'sk-proj-' + 'B'.repeat(40)], ['gzip', 'sk-proj-' + 'C'.repeat(40) + ' not gzip']] as const) {
    const before = upstream.seen.length;
    const r = await curl(['-D', '-', '-H', `content-encoding: ${enc}`, '-H', 'content-type: application/json', '--data-binary', body, 'https://api.openai.com/v1/chat/completions']);
    const text = r.stdout.toString('latin1');
    t.match(text, /^HTTP\/1\.1 400/m, enc);
    t.match(text, /proxy-status: wiretrail; error=http_request_error; details=/i);
    t.equal(upstream.seen.length, before, `${enc}: nothing reached the upstream`);
  }
  const all = (await allSessions(h)).flat();
  t.notOk(all.some((r) => (r.body ?? Buffer.alloc(0)).toString('latin1').includes('sk-proj-B') || (r.body ?? Buffer.alloc(0)).toString('latin1').includes('sk-proj-C')), 'the raw bodies are not in the log');
  t.ok(all.filter((r) => r.kind === 'deny' && r.meta.code === 'WT_ERR_UNDECODABLE_REQUEST').length >= 2, 'refusals recorded');
});

t.test('a gzip request body is decoded, masked and forwarded identity-encoded', async (t) => {
  const before = upstream.seen.length;
  const gz = zlib.gzipSync(Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: 'key sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc' }] })));
  const p = spawn('curl', ['-sS', '--max-time', '20', '--proxy', h.proxyUrl, '--cacert', h.caPath, '-H', 'content-encoding: gzip', '-H', 'content-type: application/json', '--data-binary', '@-', 'https://api.openai.com/v1/chat/completions'], { stdio: ['pipe', 'pipe', 'pipe'] });
  p.stdin.end(gz);
  await new Promise((r) => p.on('close', r));
  const seen = upstream.seen[before]!;
  t.ok(seen, 'forwarded');
  t.equal(seen.headers['content-encoding'], undefined);
  t.notMatch(seen.body, /FAKEt3stK3y0nly/, 'masked before it left');
  t.match(seen.body, /MASKED/);
});
