// The bench client, in the bench process: undici for keep-alive traffic (an Agent dialling the mock
// directly, or a ProxyAgent tunnelling through a proxy with CONNECT), and a minimal raw client for
// "a new connection per request" (s5) so both paths run exactly the same client code.
import net from 'node:net';
import tls from 'node:tls';
import { Agent, ProxyAgent, buildConnector, type Dispatcher } from 'undici';
import { CHAT_PATH, readStamps, type MockRequest } from './mock-protocol.js';

export const ORIGIN = 'https://api.openai.com';
const HOST = 'api.openai.com';

export interface Target {
  name: string;
  /** A keep-alive dispatcher with up to `connections` connections to the (logical) origin. */
  dispatcher(connections: number): Dispatcher;
  /** One request on a brand-new connection (TCP [+ CONNECT] + full TLS handshake); resolves with its ms. */
  freshRequest(body: string): Promise<number>;
  /** pid of the proxy process, if any (for CPU time and RSS). */
  pid?: number;
}

/** The client talks to the mock itself: api.openai.com:443 dialled at 127.0.0.1:<port>, verified against the mock CA. */
export function directTarget(mockPort: number, mockCa: string): Target {
  return {
    name: 'direct',
    dispatcher(connections) {
      const connector = buildConnector({ ca: mockCa, rejectUnauthorized: true, maxCachedSessions: 0 });
      return new Agent({
        connections,
        pipelining: 1,
        connect: (opts, cb) => connector({ ...opts, hostname: '127.0.0.1', port: String(mockPort), servername: HOST }, cb),
      });
    },
    freshRequest: (body) => freshRequest({ port: mockPort, ca: mockCa, proxied: false }, body),
  };
}

/** The client goes through an HTTP CONNECT proxy (HTTPS_PROXY style) and trusts the proxy's CA. */
export function proxiedTarget(name: string, proxyPort: number, proxyCa: string, pid: number): Target {
  return {
    name,
    pid,
    dispatcher(connections) {
      return new ProxyAgent({ uri: `http://127.0.0.1:${proxyPort}`, requestTls: { ca: proxyCa, rejectUnauthorized: true, maxCachedSessions: 0 }, connections, pipelining: 1 });
    },
    freshRequest: (body) => freshRequest({ port: proxyPort, ca: proxyCa, proxied: true }, body),
  };
}

export function chatBody(r: MockRequest): string {
  return JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Write a retry helper in TypeScript.' }], ...r });
}

const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-not-a-real-key', accept: 'application/json' };

/** One JSON chat completion; resolves with its latency (ms) or throws on a non-200 answer. */
export async function jsonRequest(d: Dispatcher, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await d.request({ origin: ORIGIN, path: CHAT_PATH, method: 'POST', headers: HEADERS, body });
  const text = await res.body.text();
  if (res.statusCode !== 200 || !text.includes('"chat.completion"')) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  return performance.now() - t0;
}

export interface StreamResult {
  /** Per chunk: arrival − send time (ms), both CLOCK_MONOTONIC. */
  latencies: number[];
  /** Per chunk: its send time (ns, CLOCK_MONOTONIC) as stamped by the mock. */
  sent: bigint[];
  chunks: number;
  firstByteMs: number;
  totalMs: number;
}

/** One SSE stream; each stamped chunk's latency is measured when its bytes reach the client. */
export async function streamRequest(d: Dispatcher, chunks: number, intervalMs: number): Promise<StreamResult> {
  const t0 = performance.now();
  const res = await d.request({ origin: ORIGIN, path: CHAT_PATH, method: 'POST', headers: { ...HEADERS, accept: 'text/event-stream' }, body: chatBody({ stream: true, chunks, interval_ms: intervalMs }) });
  const firstByteMs = performance.now() - t0;
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
  const latencies: number[] = [];
  const sent: bigint[] = [];
  let carry: Buffer = Buffer.alloc(0);
  let done = false;
  for await (const data of res.body as AsyncIterable<Buffer>) {
    const now = process.hrtime.bigint();
    const r = readStamps(carry, data);
    carry = r.carry;
    for (const s of r.stamps) {
      sent.push(s);
      latencies.push(Number(now - s) / 1e6);
    }
    if (!done && data.includes('[DONE]')) done = true;
  }
  if (latencies.length !== chunks) throw new Error(`stream delivered ${latencies.length} of ${chunks} stamped chunks`);
  if (!done) throw new Error('stream ended without [DONE]');
  return { latencies, sent, chunks: latencies.length, firstByteMs, totalMs: performance.now() - t0 };
}

interface FreshOpts {
  port: number;
  ca: string;
  proxied: boolean;
}

/**
 * A request on a new connection, no TLS session resumption (a full handshake every time), `connection:
 * close`. Proxied: TCP to the proxy, CONNECT api.openai.com:443, then TLS inside the tunnel.
 */
function freshRequest(o: FreshOpts, body: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      tcp.destroy();
      reject(err);
    };
    const tcp = net.connect({ host: '127.0.0.1', port: o.port, noDelay: true });
    tcp.once('error', fail);
    const startTls = () => {
      const sock = tls.connect({ socket: tcp, servername: HOST, ca: o.ca, rejectUnauthorized: true, ALPNProtocols: ['http/1.1'] });
      sock.once('error', fail);
      sock.once('secureConnect', () => {
        sock.write(
          `POST ${CHAT_PATH} HTTP/1.1\r\nhost: ${HOST}\r\ncontent-type: application/json\r\nauthorization: ${HEADERS.authorization}\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
      });
      const parts: Buffer[] = [];
      sock.on('data', (d: Buffer) => parts.push(d));
      sock.once('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        if (!text.startsWith('HTTP/1.1 200') || !text.includes('"chat.completion"')) return fail(new Error(`fresh request failed: ${text.slice(0, 200)}`));
        settled = true;
        sock.destroy();
        resolve(performance.now() - t0);
      });
    };
    if (!o.proxied) {
      tcp.once('connect', startTls);
      return;
    }
    tcp.once('connect', () => tcp.write(`CONNECT ${HOST}:443 HTTP/1.1\r\nhost: ${HOST}:443\r\n\r\n`));
    let head = Buffer.alloc(0);
    const onHead = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      tcp.off('data', onHead);
      const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.[01] 200/.test(status)) return fail(new Error(`CONNECT refused: ${status}`));
      if (head.length > end + 4) tcp.unshift(head.subarray(end + 4));
      startTls();
    };
    tcp.on('data', onHead);
  });
}
