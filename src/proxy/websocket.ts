// WebSocket interception on an intercepted host (Codex's Responses API transport, realtime APIs): the
// upgrade is routed by the CONNECT authority (inner.ts checked Host), forwarded upstream over verified TLS,
// and every message is recorded (time, direction, text or binary) before it moves on: fail closed, a
// message that cannot be recorded is not forwarded and both sides are closed with 1011.
// Framing is the `ws` library's. Text from upstream is masked by the same adapters as SSE (each message is
// one JSON event, so it goes through the response processor as one `data:` event and comes back out as
// the events the processor releases, secrets split across messages included); text to upstream is
// masked like a request body. Binary messages cannot be masked: recorded whole and forwarded as they are.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { JsonObject } from '../audit/types.js';
import { identityMeta } from '../identity/types.js';
import { StoreUnavailableError, UpgradeRefusedError, WiretrailError, statusOf } from '../errors/index.js';
import { SseParser, type ResponseProcessor } from '../stream/index.js';
import { forwardable, recordedHeaders } from './headers.js';
import { agentFromUserAgent } from './user-agent.js';
import type { Connections } from './connection.js';
import type { ProxyDeps, ProxyLimits } from './deps.js';
import type { ConnContext } from './session.js';

/** Largest single message either way (a Responses request carries the whole conversation). */
export const MAX_WS_MESSAGE_BYTES = 32 * 1024 * 1024;
/** Headers the `ws` client writes itself; the client's own values would break the upstream handshake. */
const WS_HANDSHAKE = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'host']);

type Direction = 'client' | 'upstream';

/** Upstream said no to the upgrade: its status and body are relayed to the client as they came. */
class UpstreamUpgradeRefused extends Error {
  constructor(readonly res: IncomingMessage) {
    super(`upstream answered the upgrade with ${res.statusCode}`);
  }
}

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** One intercepted WebSocket: handshake both ways, then two ordered, recorded, masked message pumps. */
export async function handleWebSocket(deps: ProxyDeps, limits: ProxyLimits, conns: Connections, ctx: ConnContext, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  ctx.requests++;
  const n = ctx.requests;
  const record = (kind: 'request' | 'response-head' | 'chunk' | 'response-end' | 'error', meta: JsonObject, body?: Buffer) =>
    conns.append(ctx, kind, { n, ...meta }, body);
  const path = req.url ?? '/';
  const started = Date.now();

  if (ctx.identity.kind !== 'anonymous') {
    const again = await deps.auth.recheck(ctx.identity);
    if (!again.ok) {
      await conns.refuse(ctx, { kind: 'raw', socket }, new UpgradeRefusedError(`proxy authentication failed: ${again.reason}`), { n });
      return;
    }
  }
  const settings = deps.policy.settingsFor(ctx.target.host);
  const sides = deps.policy.maskSides(ctx.target.host);
  const cred = deps.credentials.upstreamCredential(settings, ctx.identity, ctx.target.host);
  const headers = forwardable(req.headers) as Record<string, string | string[]>;
  for (const h of cred.strip) delete headers[h.toLowerCase()];
  for (const k of WS_HANDSHAKE) delete headers[k];
  const requestMeta: JsonObject = {
    method: 'GET',
    scheme: 'wss',
    host: ctx.target.host,
    port: ctx.target.port,
    path: ctx.mask.maskText(path).text,
    upgrade: 'websocket',
    headers: recordedHeaders(req.headers, ctx.mask),
    identity: identityMeta(ctx.identity),
    client: ctx.client.address,
    injected: Object.keys(cred.set).map((h) => h.toLowerCase()),
  };
  const agent = agentFromUserAgent(req.headers['user-agent']);
  if (agent) requestMeta.agent = { name: agent.name, version: agent.version };
  try {
    await record('request', requestMeta);
  } catch {
    await conns.refuse(ctx, { kind: 'raw', socket }, new StoreUnavailableError('the audit store cannot record this WebSocket; it was not forwarded'), { n });
    return;
  }
  for (const [k, v] of Object.entries(cred.set)) headers[k.toLowerCase()] = v;

  let upstream: WebSocket;
  try {
    upstream = await openUpstream(deps, ctx, path, headers, req.headers['sec-websocket-protocol']);
  } catch (err) {
    if (err instanceof UpstreamUpgradeRefused) {
      await relayRefusal(record, ctx, err.res, socket);
      return;
    }
    const ue = err instanceof WiretrailError ? err : new UpgradeRefusedError(`upstream WebSocket to ${ctx.target.host} failed: ${(err as Error).message}`);
    await conns.refuse(ctx, { kind: 'raw', socket }, ue, { n, meta: { phase: 'websocket-upstream' } });
    return;
  }
  await record('response-head', { status: 101, upgrade: 'websocket', protocol: upstream.protocol, ttfbMs: Date.now() - started });

  const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_WS_MESSAGE_BYTES, handleProtocols: () => upstream.protocol || false });
  const client = await new Promise<WebSocket>((resolve) => server.handleUpgrade(req, socket, head, resolve));
  (socket as Duplex & { setTimeout?: (ms: number, cb: () => void) => void }).setTimeout?.(limits.tunnelIdleTimeoutMs, () => socket.destroy());
  await pump(deps, ctx, record, req, sides, client, upstream, started);
}

function openUpstream(deps: ProxyDeps, ctx: ConnContext, path: string, headers: Record<string, string | string[]>, protocols: string | string[] | undefined): Promise<WebSocket> {
  return deps.upstream.connectTls(ctx.target.host, ctx.target.port).then(
    (tlsSocket) =>
      new Promise<WebSocket>((resolve, reject) => {
        const port = ctx.target.port === 443 ? '' : `:${ctx.target.port}`;
        const list = typeof protocols === 'string' ? protocols.split(',').map((s) => s.trim()).filter(Boolean) : [];
        const ws = new WebSocket(`wss://${ctx.target.host}${port}${path}`, list, {
          headers,
          perMessageDeflate: false,
          maxPayload: MAX_WS_MESSAGE_BYTES,
          // The socket is already connected and verified (SSRF-checked address, SNI = CONNECT host).
          createConnection: () => tlsSocket as never,
          handshakeTimeout: 15_000,
        });
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_r, res) => reject(new UpstreamUpgradeRefused(res)));
        ws.once('error', reject);
      }),
  );
}

/** The upstream refused the upgrade (401, 404, 426…): record and relay its answer, bounded. */
async function relayRefusal(record: (k: 'response-head' | 'response-end', m: JsonObject, b?: Buffer) => Promise<unknown>, ctx: ConnContext, res: IncomingMessage, socket: Duplex): Promise<void> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    size += c.length;
    if (size <= 64 * 1024) parts.push(c);
  }
  const body = Buffer.concat(parts);
  const masked = Buffer.from(ctx.mask.maskText(body.toString('utf8')).text, 'utf8');
  await record('response-head', { status: res.statusCode ?? 502, upgrade: 'refused', headers: recordedHeaders(res.headers, ctx.mask) }, masked).catch(() => undefined);
  const head = [`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}`, 'connection: close', `content-length: ${masked.length}`];
  const type = res.headers['content-type'];
  if (type) head.push(`content-type: ${type}`);
  if (!socket.destroyed) socket.end(Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n'), masked]));
}

type Recorder = (kind: 'chunk' | 'response-end' | 'error', meta: JsonObject, body?: Buffer) => Promise<unknown>;

/** Two ordered pumps; the first failure (recording above all) closes both sides. */
function pump(deps: ProxyDeps, ctx: ConnContext, record: Recorder, req: IncomingMessage, sides: { request: boolean; response: boolean }, client: WebSocket, upstream: WebSocket, started: number): Promise<void> {
  const ex = { method: 'POST', host: ctx.target.host, path: (req.url ?? '/').split('?')[0]!, requestHeaders: req.headers };
  const down = new DownstreamMasker(deps.stream.createResponseProcessor(ex, { status: 200, headers: { 'content-type': 'text/event-stream' } }, { client: sides.response ? ctx.mask : null, record: ctx.mask }));
  const counts = { client: 0, upstream: 0 };
  let i = 0;
  let chain = Promise.resolve();
  let closing = false;
  return new Promise<void>((done) => {
    const closeBoth = (code: number, reason: string) => {
      if (closing) return;
      closing = true;
      for (const ws of [client, upstream]) {
        if (ws.readyState === WebSocket.OPEN) ws.close(code, reason.slice(0, 120));
        else if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      }
    };
    const fail = (err: unknown) => {
      const store = err instanceof StoreUnavailableError || statusOf(err) === 503;
      deps.logger.error({ session: ctx.session, host: ctx.target.host, err: (err as Error).message }, store ? 'AUDIT STORE FAILED: WebSocket closed (fail closed)' : 'WebSocket relay failed');
      ctx.error = store ? 'store-unavailable' : 'websocket-error';
      closeBoth(1011, store ? 'wiretrail: the audit store cannot record this message' : 'wiretrail: relay error');
    };
    // Each message is recorded, then forwarded, strictly in arrival order across both directions.
    const enqueue = (from: Direction, data: RawData, isBinary: boolean) => {
      const bytes = toBuffer(data);
      chain = chain.then(async () => {
        if (closing) return;
        const to = from === 'client' ? upstream : client;
        const at = Date.now();
        counts[from]++;
        if (isBinary) {
          await record('chunk', { at, i: ++i, ws: 'binary', from, bytes: bytes.length }, bytes);
          if (to.readyState === WebSocket.OPEN) to.send(bytes, { binary: true });
          return;
        }
        if (from === 'client') {
          const m = deps.stream.maskRequestBody(ex, bytes, ctx.mask);
          await record('chunk', { at, i: ++i, ws: 'text', from, bytes: bytes.length, findings: m.findings.map((f) => f.rule) }, m.body);
          if (to.readyState === WebSocket.OPEN) to.send(sides.request ? m.body : bytes, { binary: false });
          return;
        }
        const out = await down.push(bytes);
        await record('chunk', { at, i: ++i, ws: 'text', from, bytes: bytes.length }, out.record);
        for (const msg of out.client) if (to.readyState === WebSocket.OPEN) to.send(msg, { binary: false });
      }).catch(fail);
    };
    client.on('message', (d, b) => enqueue('client', d, b));
    upstream.on('message', (d, b) => enqueue('upstream', d, b));
    let ended = false;
    const onClose = (side: Direction) => (code: number, reason: Buffer) => {
      chain = chain.then(async () => {
        if (ended) return;
        ended = true;
        // Whatever the masker still holds is released (masked) before the other side closes.
        const rest = down.abort();
        if (rest.record.length) await record('chunk', { at: Date.now(), i: ++i, ws: 'text', from: 'upstream', partial: true }, rest.record).catch(fail);
        for (const msg of rest.client) if (client.readyState === WebSocket.OPEN) client.send(msg, { binary: false });
        await record('response-end', { ws: true, closedBy: side, closeCode: code, reason: ctx.mask.maskText(reason.toString('utf8')).text, messages: counts, durationMs: Date.now() - started, findings: down.findings }).catch(fail);
        closeBoth(validCloseCode(code), reason.toString('utf8'));
        done();
      });
    };
    client.once('close', onClose('client'));
    upstream.once('close', onClose('upstream'));
    client.on('error', () => undefined);
    upstream.on('error', (err) => {
      ctx.error = 'upstream-websocket-error';
      deps.logger.warn({ session: ctx.session, host: ctx.target.host, err: err.message }, 'upstream WebSocket error');
    });
  });
}

/** Close codes an endpoint may send (1005/1006/1015 are only ever reported, never sent). */
function validCloseCode(code: number): number {
  if ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)) return code;
  return 1000;
}

function toBuffer(d: RawData): Buffer {
  if (Buffer.isBuffer(d)) return d;
  if (Array.isArray(d)) return Buffer.concat(d);
  return Buffer.from(d);
}

/**
 * Upstream text messages through the SSE response processor: each message goes in as one `data:` event;
 * the events the processor releases come back out as messages (it may hold text back while a secret could
 * still be completing in the next message, exactly as for SSE deltas).
 */
class DownstreamMasker {
  private readonly parser = new SseParser();
  constructor(private readonly processor: ResponseProcessor) {}

  get findings(): string[] {
    return this.processor.findings.map((f) => f.rule);
  }

  async push(message: Buffer): Promise<{ client: string[]; record: Buffer }> {
    const text = message.toString('utf8');
    // An SSE data field cannot hold a bare CR; a message with line breaks is framed one data line per line.
    const framed = text.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join('') + '\n';
    const out = await this.processor.push(Buffer.from(framed, 'utf8'));
    return { client: this.messages(out.client), record: out.record };
  }

  abort(): { client: string[]; record: Buffer } {
    const out = this.processor.abort();
    return { client: this.messages(out.client), record: out.record };
  }

  private messages(sse: Buffer): string[] {
    if (!sse.length) return [];
    const out: string[] = [];
    for (const item of this.parser.push(sse)) if (item.kind === 'event') out.push(item.event.data);
    return out;
  }
}
