// Bounded memory against a malicious client: the plain-HTTP path decides before reading a body, bodies are
// read under the per-request limit, a global budget refuses (503 + Retry-After) instead of buffering
// everyone's bodies at once, and an oversize header inside a tunnel gets 431. Loopback only.
import t from 'tap';
import net from 'node:net';
import http from 'node:http';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { connectTunnel, tlsOver, httpOver } from '../helpers/raw.js';
import { allRecords } from '../helpers/records.js';
import { DEFAULT_LIMITS } from '../../src/config/index.js';

const upstream = await startMockUpstream();
let onPremSeen = 0;
const onPrem = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    onPremSeen++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"done":true}');
  });
});
await new Promise<void>((r) => onPrem.listen(0, '127.0.0.1', r));
const onPremPort = (onPrem.address() as net.AddressInfo).port;

const MiB = 1024 * 1024;
const h = await startHarness({
  policy: 'egress: audit\nintercept: [api.openai.com, ollama.internal]\n',
  upstreamCa: [upstream.caFile],
  connectTo: [`api.openai.com:443:127.0.0.1:${upstream.port}`, `ollama.internal:11434:127.0.0.1:${onPremPort}`, `audit.internal:8080:127.0.0.1:${onPremPort}`],
  config: { limits: { ...DEFAULT_LIMITS, maxRequestBodyBytes: 3 * MiB, maxBufferedBytes: 7 * MiB, handshakeTimeoutMs: 5000, headersTimeoutMs: 5000, tunnelIdleTimeoutMs: 60_000, upstreamIdleTimeoutMs: 60_000 } },
});
t.teardown(async () => {
  await h.stop();
  await upstream.close();
  onPrem.close();
});

interface Sender {
  socket: net.Socket;
  /** Body bytes written so far. */
  sent: () => number;
  /** Resolves with the response text once the proxy answers (head and whatever body came). */
  answer: Promise<string>;
}

/** A client that declares `declared` bytes and writes the body lazily, 64 KiB at a time, as long as the proxy reads. */
function slowPost(url: string, declared: number, opts: { stallAfter?: number } = {}): Sender {
  const socket = net.connect(h.proxy.port, '127.0.0.1');
  let sent = 0;
  let answered = false;
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (/\r\n\r\n/.test(text)) {
        answered = true;
        setTimeout(() => resolve(text), 50);
      }
    });
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const pump = () => {
    while (!answered && sent < declared && sent < (opts.stallAfter ?? Infinity)) {
      const n = Math.min(chunk.length, declared - sent);
      sent += n;
      if (!socket.write(chunk.subarray(0, n))) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  socket.once('connect', () => {
    socket.write(`POST ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${declared}\r\n\r\n`);
    pump();
  });
  return { socket, sent: () => sent, answer };
}

t.test('plain HTTP to a refused target (SSRF) is answered before the body is read', async (t) => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  closed.close();
  const s = slowPost(`http://127.0.0.1:${port}/upload`, 400 * MiB);
  const text = await s.answer;
  s.socket.destroy();
  t.match(text, /^HTTP\/1\.1 403/);
  t.match(text, /proxy-status: wiretrail; error=destination_ip_prohibited/i);
  t.ok(s.sent() < 32 * MiB, `decided after ${s.sent()} of ${400 * MiB} body bytes (not after reading it all)`);
});

t.test('intercepted plain HTTP over the body limit gets 413 before the body is read', async (t) => {
  const s = slowPost('http://ollama.internal:11434/api/chat', 200 * MiB);
  const text = await s.answer;
  s.socket.destroy();
  t.match(text, /^HTTP\/1\.1 413/);
  t.ok(s.sent() < 32 * MiB, `refused after ${s.sent()} body bytes`);
});

t.test('the global budget refuses with 503 + Retry-After while others hold it, and recovers', async (t) => {
  const before = onPremSeen;
  // Two clients each hold a 3 MiB reservation (declared) and stall mid-body: 6 of 7 MiB in use.
  const a = slowPost('http://ollama.internal:11434/api/chat', 3 * MiB, { stallAfter: 1 * MiB });
  const b = slowPost('http://ollama.internal:11434/api/chat', 3 * MiB, { stallAfter: 1 * MiB });
  await new Promise((r) => setTimeout(r, 300));
  const c = slowPost('http://ollama.internal:11434/api/chat', 3 * MiB);
  const refused = await c.answer;
  c.socket.destroy();
  t.match(refused, /^HTTP\/1\.1 503/);
  t.match(refused, /retry-after: \d+/i);
  t.match(refused, /proxy-status: wiretrail; error=proxy_internal_response/i);
  // A small request from someone else still fits.
  const small = slowPost('http://ollama.internal:11434/api/chat', 1024);
  t.match(await small.answer, /^HTTP\/1\.1 200/, 'a small body is still served');
  small.socket.destroy();
  a.socket.destroy();
  b.socket.destroy();
  await new Promise((r) => setTimeout(r, 300));
  const again = slowPost('http://ollama.internal:11434/api/chat', 3 * MiB);
  t.match(await again.answer, /^HTTP\/1\.1 200/, 'the budget is returned when exchanges end');
  again.socket.destroy();
  t.equal(onPremSeen - before, 2);
  const overloads = (await allRecords(h)).filter((r) => r.meta.code === 'WT_ERR_OVERLOADED');
  t.ok(overloads.length >= 1, 'the refusal is recorded');
});

t.test('a 70 KB request header inside an intercepted tunnel gets 431 with Proxy-Status, logged once', async (t) => {
  const mark = h.logs.length;
  const { socket } = await connectTunnel(h.proxy.port, 'api.openai.com:443');
  const s = await tlsOver(socket, 'api.openai.com', h.caPem);
  const text = await httpOver(s, `GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
  t.match(text, /^HTTP\/1\.1 431/);
  t.match(text, /proxy-status: wiretrail; error=http_request_error/i);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(h.logs.slice(mark).filter((l) => /"msg":"refused"/.test(l) && /WT_ERR_HEADERS_TOO_LARGE/.test(l)).length, 1, 'one refusal line');
});
