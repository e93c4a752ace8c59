// A client refused while it is still sending its body (per-request limit: 413; global budget: 503) reads
// the refusal, not a connection reset: real clients (undici, node:http, curl, python requests) send a large body over the
// plain-HTTP forward path and inside an intercepted TLS tunnel, several times each. Before the lingering
// close, the proxy closed the socket with the rest of the body unread and the kernel answered with a
// reset that discarded the response. Loopback only.
import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import dc from 'node:diagnostics_channel';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { ProxyAgent, request as undiciRequest } from 'undici';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { connectTunnel, tlsOver } from '../helpers/raw.js';
import { BUDGET_CHANNEL } from '../../src/proxy/budget.js';
import { DEFAULT_LIMITS } from '../../src/config/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
// Bodies larger than loopback's socket buffers, so the client is still sending when the refusal comes.
const LIMIT = 8 * MiB;
const BUDGET = 12 * MiB;
const OVER = 12 * MiB;
const ROUNDS = 3;

const upstream = await startMockUpstream();
const onPrem = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('{"done":true}'));
});
await new Promise<void>((r) => onPrem.listen(0, '127.0.0.1', r));
const onPremPort = (onPrem.address() as net.AddressInfo).port;
const h = await startHarness({
  policy: 'egress: audit\nintercept: [api.openai.com, ollama.internal]\n',
  upstreamCa: [upstream.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${upstream.port}`, `ollama.internal:11434:127.0.0.1:${onPremPort}`],
  config: { limits: { ...DEFAULT_LIMITS, maxRequestBodyBytes: LIMIT, maxBufferedBytes: BUDGET, handshakeTimeoutMs: 5000, headersTimeoutMs: 5000, tunnelIdleTimeoutMs: 60_000, upstreamIdleTimeoutMs: 60_000 } },
});
t.teardown(async () => {
  await h.stop();
  await upstream.close();
  onPrem.close();
});

const PLAIN = 'http://ollama.internal:11434/api/chat';
const TLS = 'https://api.openai.com/v1/chat/completions';

interface Outcome {
  status: number | null;
  proxyStatus: string | null;
  retryAfter: string | null;
  error: string | null;
}

/**
 * The body as fast as the proxy takes it, 256 KiB per write: the refusal arrives while most of it is
 * still unsent and the client is in the middle of writing (where a reset makes it drop the unread answer).
 */
function body(total: number): Readable {
  const chunk = Buffer.alloc(256 * KiB, 0x61);
  let sent = 0;
  return new Readable({
    highWaterMark: chunk.length,
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      this.push(chunk.subarray(0, n));
    },
  });
}

async function viaUndici(url: string, size: number, declare: boolean): Promise<Outcome> {
  const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem }, proxyTunnel: url.startsWith('https:') });
  try {
    const res = await undiciRequest(url, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/octet-stream', ...(declare ? { 'content-length': String(size) } : {}) },
      body: body(size),
    });
    await res.body.text().catch(() => '');
    return { status: res.statusCode, proxyStatus: header(res.headers['proxy-status']), retryAfter: header(res.headers['retry-after']), error: null };
  } catch (err) {
    return { status: null, proxyStatus: null, retryAfter: null, error: describe(err) };
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}

/** node:http: absolute form to the proxy for http://, a CONNECT tunnel with TLS for https://. */
async function viaNodeHttp(url: string, size: number): Promise<Outcome> {
  const u = new URL(url);
  let tlsSocket: import('node:tls').TLSSocket | null = null;
  if (u.protocol === 'https:') {
    const tunnel = await connectTunnel(h.proxy.port, `${u.hostname}:443`);
    tlsSocket = await tlsOver(tunnel.socket, u.hostname, h.caPem);
  }
  return new Promise<Outcome>((resolve) => {
    const headers = { host: u.host, 'content-type': 'application/octet-stream', 'content-length': String(size) };
    const req = tlsSocket
      ? http.request({ method: 'POST', path: u.pathname, headers, createConnection: () => tlsSocket! })
      : http.request({ method: 'POST', host: '127.0.0.1', port: h.proxy.port, path: url, headers, agent: false });
    let settled = false;
    const done = (o: Outcome) => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve(o);
    };
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode ?? null, proxyStatus: header(res.headers['proxy-status']), retryAfter: header(res.headers['retry-after']), error: null }));
      res.on('error', (err) => done({ status: null, proxyStatus: null, retryAfter: null, error: describe(err) }));
    });
    req.on('error', (err) => done({ status: null, proxyStatus: null, retryAfter: null, error: describe(err) }));
    body(size).pipe(req);
  });
}

/** curl with its upload rate limited, through the proxy (HTTPS_PROXY semantics for https://). */
function viaCurl(url: string, size: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const args = ['-sS', '-o', '/dev/null', '-D', '-', '--proxy', h.proxyUrl, '--cacert', h.caPath, '--limit-rate', '32M', '-H', 'content-type: application/octet-stream', '--data-binary', '@-', url];
    const p = spawn('curl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdin.on('error', () => undefined);
    p.stdin.end(Buffer.alloc(size, 0x61));
    p.on('close', (code) => {
      const finals = [...out.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1])).filter((s) => s !== 100);
      const status = finals.length ? finals[finals.length - 1]! : null;
      const proxyStatus = /^proxy-status: (.*)$/im.exec(out)?.[1]?.trim() ?? null;
      const retryAfter = /^retry-after: (.*)$/im.exec(out)?.[1]?.trim() ?? null;
      resolve({ status, proxyStatus, retryAfter, error: status === null ? `curl exit ${code}: ${err.trim()}` : null });
    });
  });
}

// python requests (urllib3) sends the whole body before it reads a byte of the answer, as h11/httpx do:
// a reset mid-body costs it the answer whatever its timing.
const PYTHON = `
import sys, requests
url, proxy, ca, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
try:
    r = requests.post(url, data=b"a" * size, headers={"content-type": "application/octet-stream"}, proxies={"http": proxy, "https": proxy}, verify=ca, timeout=30)
    print(r.status_code)
    print(r.headers.get("proxy-status", ""))
    print(r.headers.get("retry-after", ""))
except Exception as e:
    print("ERROR " + type(e).__name__ + ": " + str(e)[:200])
`;

function viaPython(url: string, size: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const p = spawn(process.env.WT_PYTHON ?? 'python3', ['-c', PYTHON, url, h.proxyUrl, h.caPath, String(size)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_PROXY: '', no_proxy: '' } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.resume();
    p.on('close', (code) => {
      const [first = '', proxyStatus = '', retryAfter = ''] = out.split('\n');
      if (!/^\d{3}$/.test(first)) return resolve({ status: null, proxyStatus: null, retryAfter: null, error: first || `python exit ${code}` });
      resolve({ status: Number(first), proxyStatus: proxyStatus || null, retryAfter: retryAfter || null, error: null });
    });
  });
}

function header(v: string | string[] | undefined): string | null {
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  return `${e.code ?? e.cause?.code ?? ''} ${e.message}`.trim();
}

/**
 * Holds most of the global budget: declares LIMIT bytes (reserved up front) and stops after a few KiB,
 * so any other body of LIMIT bytes is refused with 503 while it stays.
 */
async function holdBudget(url: string): Promise<() => void> {
  const u = new URL(url);
  const head = `POST ${u.protocol === 'https:' ? u.pathname : url} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${LIMIT}\r\n\r\n`;
  let sock: net.Socket | import('node:tls').TLSSocket;
  if (u.protocol === 'https:') {
    const tunnel = await connectTunnel(h.proxy.port, `${u.hostname}:443`);
    sock = await tlsOver(tunnel.socket, u.hostname, h.caPem);
  } else {
    sock = net.connect(h.proxy.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
  }
  sock.on('error', () => undefined);
  // Reserved once the proxy reads the head: wait until its budget reports it (an event, not a sleep).
  const reserved = new Promise<void>((resolve) => {
    const on = (m: unknown) => {
      if ((m as { inUse: number }).inUse >= LIMIT) {
        dc.unsubscribe(BUDGET_CHANNEL, on);
        resolve();
      }
    };
    dc.subscribe(BUDGET_CHANNEL, on);
  });
  sock.write(head + 'a'.repeat(4 * KiB));
  await reserved;
  return () => sock.destroy();
}

function expectRefusal(t: Test, o: Outcome, status: number, label: string): void {
  t.equal(o.error, null, `${label}: no connection error`);
  t.equal(o.status, status, `${label}: status ${status}`);
  t.match(o.proxyStatus ?? '', /^wiretrail; error=/, `${label}: Proxy-Status`);
  if (status === 503) t.match(o.retryAfter ?? '', /^\d+$/, `${label}: Retry-After`);
}

for (const [where, url] of [['plain-HTTP forward', PLAIN], ['intercepted TLS tunnel', TLS]] as const) {
  t.test(`${where}: over the per-request limit (declared), every client reads the 413`, async (t) => {
    for (let i = 0; i < ROUNDS; i++) {
      expectRefusal(t, await viaUndici(url, OVER, true), 413, `undici #${i}`);
      expectRefusal(t, await viaNodeHttp(url, OVER), 413, `node:http #${i}`);
      expectRefusal(t, await viaCurl(url, OVER), 413, `curl #${i}`);
      expectRefusal(t, await viaPython(url, OVER), 413, `python requests #${i}`);
    }
  });

  t.test(`${where}: a chunked body refused once it passes the limit mid-read, undici reads the 413`, async (t) => {
    for (let i = 0; i < ROUNDS; i++) expectRefusal(t, await viaUndici(url, OVER, false), 413, `undici chunked #${i}`);
  });

  t.test(`${where}: refused by the global budget while another client holds it, every client reads the 503`, async (t) => {
    const release = await holdBudget(url);
    t.teardown(release);
    for (let i = 0; i < ROUNDS; i++) {
      expectRefusal(t, await viaUndici(url, LIMIT, true), 503, `undici #${i}`);
      expectRefusal(t, await viaNodeHttp(url, LIMIT), 503, `node:http #${i}`);
      expectRefusal(t, await viaCurl(url, LIMIT), 503, `curl #${i}`);
      expectRefusal(t, await viaPython(url, LIMIT), 503, `python requests #${i}`);
    }
  });
}
