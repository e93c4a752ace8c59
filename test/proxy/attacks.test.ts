// Attacks and bad input: every one refused with a clear answer and recorded, never a crash.
import t from 'tap';
import net from 'node:net';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { rawExchange, connectTunnel, tlsOver, httpOver } from '../helpers/raw.js';
import { allRecords } from '../helpers/records.js';
import { DEFAULT_LIMITS } from '../../src/config/index.js';

const trusted = await startMockUpstream();
const untrusted = await startMockUpstream({ hosts: ['api.anthropic.com'] });
// A server-speaks-first TCP service (like SMTP/SSH) for the blind tunnel.
const banner = net.createServer((s) => {
  s.write('220 banner.test ready\r\n');
  s.on('data', (d) => s.write(`echo:${d.toString()}`));
});
await new Promise<void>((r) => banner.listen(0, '127.0.0.1', r));
const bannerPort = (banner.address() as net.AddressInfo).port;
// A plain-HTTP on-prem LLM (Ollama-like).
const ollama = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  res.end('{"model":"llama3","message":{"role":"assistant","content":"hi"},"done":true}\n');
});
await new Promise<void>((r) => ollama.listen(0, '127.0.0.1', r));
const ollamaPort = (ollama.address() as net.AddressInfo).port;

const h = await startHarness({
  policy: 'egress: audit\nintercept: [api.openai.com, api.anthropic.com, ollama.internal]\n',
  upstreamCa: [trusted.caFile],
  connectTo: [
    `api.openai.com:443:127.0.0.1:${trusted.port}`,
    `api.anthropic.com:443:127.0.0.1:${untrusted.port}`,
    `banner.test:7000:127.0.0.1:${bannerPort}`,
    `ollama.internal:11434:127.0.0.1:${ollamaPort}`,
  ],
  config: { limits: { ...DEFAULT_LIMITS, maxRequestBodyBytes: 1 << 20, handshakeTimeoutMs: 1500, headersTimeoutMs: 1000, tunnelIdleTimeoutMs: 60_000, upstreamIdleTimeoutMs: 60_000 } },
});
const port = h.proxy.port;
t.teardown(async () => {
  await h.stop();
  await trusted.close();
  await untrusted.close();
  banner.close();
  ollama.close();
});

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('curl', ['-sS', '--max-time', '20', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

t.test('inner Host header naming another host is refused with 421 and recorded', async (t) => {
  const r = await curl(['--proxy', h.proxyUrl, '--cacert', h.caPath, '-H', 'Host: evil.example', '-w', '%{http_code}', 'https://api.openai.com/v1/models']);
  t.match(r.stdout, /421$/);
  t.match(r.stdout, /does not match the CONNECT target/);
  t.equal(trusted.seen.length, 0, 'nothing reached the upstream');
  const denies = (await allRecords(h)).filter((x) => x.kind === 'deny' && /Host header/.test(String(x.meta.reason)));
  t.equal(denies.length, 1);
});

t.test('TLS SNI naming another host is refused and recorded', async (t) => {
  const { socket, status } = await connectTunnel(port, 'api.openai.com:443');
  t.equal(status, 200);
  await t.rejects(tlsOver(socket, 'evil.example', h.caPem));
  await new Promise((r) => setTimeout(r, 200));
  const denies = (await allRecords(h)).filter((x) => x.kind === 'deny' && /SNI/.test(String(x.meta.reason)));
  t.equal(denies.length, 1);
});

t.test('CONNECT to private addresses is refused (SSRF guard) and recorded', async (t) => {
  for (const target of [`127.0.0.1:${trusted.port}`, `localhost:${trusted.port}`, '169.254.169.254:80', '[::1]:22', '10.0.0.1:443']) {
    const { status, head, socket } = await connectTunnel(port, target);
    socket.destroy();
    t.equal(status, 403, `${target}: ${head.split('\r\n')[0]}`);
  }
  const denies = (await allRecords(h)).filter((x) => x.kind === 'deny' && /non-public address/.test(String(x.meta.reason)));
  t.ok(denies.length >= 5);
});

t.test('upstream with an untrusted certificate: 502 with a clear reason', async (t) => {
  const r = await curl(['--proxy', h.proxyUrl, '--cacert', h.caPath, '-w', '\n%{http_code}', 'https://api.anthropic.com/v1/messages']);
  t.match(r.stdout, /502$/);
  t.match(r.stdout, /upstream TLS certificate of api\.anthropic\.com is not trusted/);
  t.equal(untrusted.seen.length, 0);
  const errs = (await allRecords(h)).filter((x) => x.kind === 'error' && /not trusted/.test(String(x.meta.reason)));
  t.equal(errs.length, 1);
});

t.test('malformed CONNECT requests get 400 and the proxy keeps serving', async (t) => {
  for (const [req, re] of [
    ['CONNECT api.openai.com HTTP/1.1\r\n\r\n', /missing port/],
    ['CONNECT api.openai.com:0 HTTP/1.1\r\n\r\n', /out of range/],
    ['CONNECT api.openai.com:70000 HTTP/1.1\r\n\r\n', /out of range/],
    ['CONNECT api.openai.com:https HTTP/1.1\r\n\r\n', /invalid port/],
    ['CONNECT :443 HTTP/1.1\r\n\r\n', /invalid host/],
    ['CONNECT bad_host!:443 HTTP/1.1\r\n\r\n', /invalid host/],
    ['HELLO WORLD\r\n\r\n', /400/],
    ['GET /not-absolute HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /forward proxy/],
  ] as const) {
    const r = await rawExchange(port, req);
    t.match(r.text, /^HTTP\/1\.1 400/, JSON.stringify(req));
    t.match(r.text, re);
  }
  const r = await curl(['--proxy', h.proxyUrl, '--cacert', h.caPath, 'https://api.openai.com/v1/models', '-o', '/dev/null', '-w', '%{http_code}']);
  t.equal(r.stdout, '404', 'still serving after bad input');
});

t.test('oversize headers get 431', async (t) => {
  const r = await rawExchange(port, `CONNECT api.openai.com:443 HTTP/1.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
  t.match(r.text, /^HTTP\/1\.1 431/);
});

t.test('a client that sends nothing is timed out', async (t) => {
  const r = await rawExchange(port, '', 15_000);
  t.ok(r.closed, 'proxy closed the idle connection');
  const half = await rawExchange(port, 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: a', 15_000);
  t.ok(half.closed, 'proxy closed the half-sent request');
  const { socket, status } = await connectTunnel(port, 'api.openai.com:443');
  t.equal(status, 200);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 15_000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  t.ok(closed, 'silent client after CONNECT is closed by the handshake timeout');
});

t.test('non-TLS bytes after CONNECT to an intercepted host', async (t) => {
  const { socket, status } = await connectTunnel(port, 'api.openai.com:443');
  t.equal(status, 200);
  const text = await httpOver(socket, 'GET / HTTP/1.1\r\nHost: api.openai.com\r\n\r\n');
  t.match(text, /^HTTP\/1\.1 400/);
  t.match(text, /non-TLS bytes/);
});

t.test('a TLS client that does not trust the CA is detected and logged with a hint', async (t) => {
  const r = await curl(['--proxy', h.proxyUrl, 'https://api.openai.com/v1/models']);
  t.not(r.code, 0);
  await new Promise((r) => setTimeout(r, 300));
  t.ok(h.logs.some((l) => /does not trust the wiretrail CA/.test(l)), 'hint logged');
  const errs = (await allRecords(h)).filter((x) => x.kind === 'error' && /does not trust/.test(String(x.meta.reason)));
  t.ok(errs.length >= 1);
});

t.test('tunnel mode passes opaque bytes, server speaks first', async (t) => {
  const { socket, status } = await connectTunnel(port, 'banner.test:7000');
  t.equal(status, 200);
  const got = await new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('220 banner.test ready') && !text.includes('echo:')) socket.write('\x00\xffbinary');
      if (text.includes('echo:')) resolve(text);
    });
    socket.resume();
  });
  socket.destroy();
  t.match(got, /^220 banner\.test ready\r\necho:\x00/);
  await new Promise((r) => setTimeout(r, 200));
  const tunnels = (await allRecords(h)).filter((x) => x.kind === 'tunnel' && x.meta.target === 'banner.test:7000');
  t.ok(tunnels.length >= 1, 'tunnel logged in the store');
});

t.test('absolute-form plain HTTP to an intercepted on-prem host is recorded', async (t) => {
  const r = await curl(['-x', h.proxyUrl, '-d', '{"model":"llama3","messages":[{"role":"user","content":"hi"}]}', `http://ollama.internal:11434/api/chat`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /"done":true/);
  const reqs = (await allRecords(h)).filter((x) => x.kind === 'request' && x.meta.host === 'ollama.internal');
  t.equal(reqs.length, 1);
  t.equal(reqs[0]!.meta.scheme, 'http');
});

t.test('enforce mode refuses unlisted hosts with 403 and a one-line reason', async (t) => {
  const e = await startHarness({ policy: 'egress: enforce\ntunnel: [banner.test]\n', connectTo: [`banner.test:7000:127.0.0.1:${bannerPort}`] });
  t.teardown(() => e.stop());
  const r = await rawExchange(e.proxy.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  t.match(r.text, /^HTTP\/1\.1 403/);
  t.match(r.text, /egress to example\.com is not allowed by policy/);
  const ok = await connectTunnel(e.proxy.port, 'banner.test:7000');
  t.equal(ok.status, 200, 'tunnel entry allowed');
  ok.socket.destroy();
});

t.test('a non-WebSocket upgrade inside an intercepted tunnel is refused with 501 and recorded (WebSocket: websocket.test.ts)', async (t) => {
  const { socket, status } = await connectTunnel(port, 'api.openai.com:443');
  t.equal(status, 200);
  const tlsSock = await tlsOver(socket, 'api.openai.com', h.caPem);
  const text = await httpOver(tlsSock, 'GET /v1/realtime HTTP/1.1\r\nHost: api.openai.com\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n');
  t.match(text, /^HTTP\/1\.1 501/);
  t.match(text, /not supported on intercepted hosts/);
  await new Promise((r) => setTimeout(r, 200));
  const denies = (await allRecords(h)).filter((x) => x.kind === 'deny' && x.meta.status === 501);
  t.equal(denies.length, 1);
});

t.test('a chunked request body is forwarded with an exact Content-Length', async (t) => {
  const before = trusted.seen.length;
  const r = await curl(['--proxy', h.proxyUrl, '--cacert', h.caPath, '-H', 'Transfer-Encoding: chunked', '-H', 'content-type: application/json', '--data-binary', '{"messages":[{"role":"user","content":"chunked"}]}', 'https://api.openai.com/v1/chat/completions']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /echo: chunked/);
  const seen = trusted.seen[before]!;
  t.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)));
  t.equal(seen.headers['transfer-encoding'], undefined);
});
