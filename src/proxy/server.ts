// The proxy front door: CONNECT (intercept or tunnel) and absolute-form plain-HTTP requests.
// Routing uses the CONNECT authority only; the inner Host header and SNI must agree with it.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { identityMeta, type Identity } from '../identity/types.js';
import type { JsonObject, RecordKind } from '../audit/types.js';
import { normalizeHost } from '../policy/index.js';
import { describeUpstreamError } from '../upstream/index.js';
import { BadTargetError, parseAbsoluteTarget, parseConnectAuthority, parseHostHeader } from './authority.js';
import { handleExchange, sendError } from './exchange.js';
import { forwardable } from './headers.js';
import { newSessionId, type ConnContext } from './session.js';
import { DEFAULT_LIMITS, type ProxyDeps, type ProxyLimits } from './deps.js';

const PROXY_AUTHENTICATE = 'Basic realm="wiretrail", Bearer realm="wiretrail"';
const MAX_HEADER_BYTES = 32 * 1024;

export interface ProxyServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
  readonly server: http.Server;
}

/** Writes a raw HTTP/1.1 response on a socket that left the HTTP parser (after CONNECT). */
function rawReply(socket: Duplex, status: number, reason: string, message: string, extra: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = message ? `wiretrail: ${message}\n` : '';
  const head = [`HTTP/1.1 ${status} ${reason}`, 'connection: close', 'content-type: text/plain; charset=utf-8', `content-length: ${Buffer.byteLength(body)}`];
  for (const [k, v] of Object.entries(extra)) head.push(`${k}: ${v}`);
  socket.end(head.join('\r\n') + '\r\n\r\n' + body);
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 501: 'Not Implemented', 403: 'Forbidden', 407: 'Proxy Authentication Required', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** Hints for TLS clients that reject our leaf: they do not trust the wiretrail CA yet. */
function trustHint(err: NodeJS.ErrnoException): string | null {
  const c = `${err.code ?? ''} ${err.message}`;
  if (/UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|unknown ca|certificate unknown|bad certificate/i.test(c))
    return 'the client does not trust the wiretrail CA: point it at the CA (see `wiretrail env`)';
  return null;
}

export function createProxyServer(deps: ProxyDeps): ProxyServer {
  const limits: ProxyLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const { logger, recorder, policy, auth } = deps;
  const contexts = new WeakMap<Duplex, ConnContext>();
  const open = new Set<Duplex>();

  const append = (ctx: ConnContext, kind: RecordKind, meta: JsonObject) =>
    recorder.append({ session: ctx.session, kind, meta });

  const newContext = (socket: net.Socket, host: string, port: number, scheme: 'https' | 'http', identity: Identity): ConnContext => ({
    session: newSessionId(),
    client: { address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 },
    target: { host, port },
    scheme,
    decision: { action: 'deny', reason: 'undecided', rule: null },
    identity,
    mask: deps.mask.session(),
    startedAt: Date.now(),
    requests: 0,
    bytesFromClient: 0,
    bytesToClient: 0,
    ended: false,
    inflight: new Set(),
  });

  /** The one decision line per connection, and the session's closing record. */
  const finish = async (ctx: ConnContext, extra: Record<string, unknown> = {}) => {
    if (ctx.ended) return;
    ctx.ended = true;
    // Exchanges still writing their last records (client abort) come before the session's end.
    await Promise.allSettled([...ctx.inflight]);
    logger.info(
      {
        session: ctx.session,
        client: ctx.client.address,
        host: ctx.target.host,
        port: ctx.target.port,
        decision: ctx.decision.action,
        reason: ctx.decision.reason,
        identity: ctx.identity.subject,
        requests: ctx.requests,
        bytesIn: ctx.bytesFromClient,
        bytesOut: ctx.bytesToClient,
        durationMs: Date.now() - ctx.startedAt,
        ...(ctx.error ? { error: ctx.error } : {}),
        ...extra,
      },
      'connection',
    );
    try {
      await recorder.endSession(ctx.session, { requests: ctx.requests });
    } catch (err) {
      logger.error({ session: ctx.session, err: (err as Error).message }, 'could not close audit session');
    }
  };

  const track = async (ctx: ConnContext, p: Promise<void>) => {
    ctx.inflight.add(p);
    try {
      await p;
    } finally {
      ctx.inflight.delete(p);
    }
  };

  // Intercepted HTTP/1.1 inside TLS: one shared parser for every terminated connection (as mockttp does).
  // connectionsCheckingInterval: how often header/request timeouts are enforced (Node's default is 30 s).
  const checkEvery = Math.max(250, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2)));
  const inner = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 5 * 60_000, headersTimeout: limits.headersTimeoutMs, keepAliveTimeout: 60_000, connectionsCheckingInterval: checkEvery });
  inner.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const ctx = contexts.get(req.socket);
    if (!ctx) {
      sendError(res, 500, 'lost connection context');
      return;
    }
    void onInnerRequest(ctx, req, res);
  });
  inner.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const ctx = contexts.get(socket);
    if (ctx && err.code !== 'ECONNRESET') {
      ctx.error = `bad-request:${err.code ?? 'parse'}`;
      void append(ctx, 'error', { phase: 'inner-parse', reason: `malformed HTTP request inside TLS: ${err.code ?? err.message}` }).catch(() => undefined);
    }
    rawReply(socket, err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400, err.code === 'HPE_HEADER_OVERFLOW' ? 'Request Header Fields Too Large' : 'Bad Request', 'malformed request');
  });

  // WebSocket (e.g. a realtime API) inside an intercepted tunnel cannot be parsed or masked yet: refuse clearly
  // rather than let it through unrecorded.
  inner.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const ctx = contexts.get(req.socket) ?? contexts.get(socket);
    const reason = `protocol upgrade to "${String(req.headers.upgrade ?? '').slice(0, 40)}" is not supported on intercepted hosts`;
    if (ctx) {
      ctx.error = 'upgrade-refused';
      void append(ctx, 'deny', { reason, status: 501, path: ctx.mask.maskText(req.url ?? '').text, identity: identityMeta(ctx.identity) }).catch(() => undefined);
    }
    rawReply(socket, 501, 'Not Implemented', reason);
  });

  async function onInnerRequest(ctx: ConnContext, req: IncomingMessage, res: ServerResponse) {
    const hostHeader = parseHostHeader(req.headers.host, 443);
    if (!hostHeader || hostHeader.host !== ctx.target.host || hostHeader.port !== ctx.target.port) {
      // A client (or malware) asking a trusted tunnel for another host: never route by Host.
      const reason = `Host header "${String(req.headers.host ?? '').slice(0, 100)}" does not match the CONNECT target ${ctx.target.host}:${ctx.target.port}`;
      ctx.error = 'host-mismatch';
      logger.warn({ session: ctx.session, host: ctx.target.host }, 'host header mismatch refused');
      await append(ctx, 'deny', { reason, status: 421, identity: identityMeta(ctx.identity) }).catch(() => undefined);
      res.setHeader('connection', 'close');
      sendError(res, 421, reason);
      return;
    }
    const path = req.url ?? '/';
    if (!path.startsWith('/')) {
      sendError(res, 400, 'request target inside TLS must be origin-form (/path)');
      return;
    }
    await track(ctx, handleExchange(deps, limits, ctx, req, res, { scheme: 'https', host: ctx.target.host, port: ctx.target.port, path }));
  }

  async function authenticate(req: IncomingMessage): Promise<{ ok: true; identity: Identity } | { ok: false; reason: string }> {
    const header = req.headers['proxy-authorization'];
    return auth.authenticate(Array.isArray(header) ? header[0] : header);
  }

  // ---- CONNECT ----
  async function onConnect(req: IncomingMessage, socket: net.Socket, head: Buffer) {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    let target;
    try {
      target = parseConnectAuthority(req.url);
    } catch (err) {
      logger.warn({ client: socket.remoteAddress, err: (err as Error).message }, 'malformed CONNECT');
      rawReply(socket, 400, 'Bad Request', (err as Error).message);
      return;
    }
    const authOutcome = await authenticate(req);
    const identity = authOutcome.ok ? authOutcome.identity : { kind: 'anonymous', subject: null, groups: [], attributes: {}, expiresAt: null } as Identity;
    const ctx = newContext(socket, target.host, target.port, 'https', identity);
    if (!authOutcome.ok) {
      ctx.decision = { action: 'deny', reason: `authentication: ${authOutcome.reason}`, rule: null };
      await append(ctx, 'deny', { phase: 'connect', reason: ctx.decision.reason, status: 407, target: `${target.host}:${target.port}`, client: ctx.client.address }).catch(() => undefined);
      rawReply(socket, 407, REASONS[407]!, `proxy authentication required: ${authOutcome.reason}`, { 'proxy-authenticate': PROXY_AUTHENTICATE });
      await finish(ctx);
      return;
    }
    ctx.decision = policy.decide(target.host);
    const connectMeta: JsonObject = {
      target: `${target.host}:${target.port}`,
      client: ctx.client.address,
      clientPort: ctx.client.port,
      decision: ctx.decision.action,
      reason: ctx.decision.reason,
      rule: ctx.decision.rule,
      identity: identityMeta(identity),
    };
    if (ctx.decision.action === 'deny') {
      await append(ctx, 'deny', { ...connectMeta, status: 403 }).catch(() => undefined);
      rawReply(socket, 403, 'Forbidden', ctx.decision.reason);
      await finish(ctx);
      return;
    }
    if (ctx.decision.action === 'tunnel') return tunnel(ctx, socket, head, connectMeta);
    return intercept(ctx, socket, head, connectMeta);
  }

  async function tunnel(ctx: ConnContext, socket: net.Socket, head: Buffer, meta: JsonObject) {
    let up: net.Socket;
    try {
      const r = await deps.upstream.connectRaw(ctx.target.host, ctx.target.port);
      up = r.socket;
      meta.address = r.resolved.address;
    } catch (err) {
      const ue = describeUpstreamError(err, ctx.target.host);
      ctx.error = ue.code;
      await append(ctx, ue.status === 403 ? 'deny' : 'error', { ...meta, phase: 'tunnel-connect', reason: ue.message, status: ue.status }).catch(() => undefined);
      rawReply(socket, ue.status, REASONS[ue.status] ?? 'Bad Gateway', ue.message);
      await finish(ctx);
      return;
    }
    // Tunnels are logged; recording is best effort (fail-closed applies to intercepted traffic).
    await append(ctx, 'tunnel', { ...meta, phase: 'open' }).catch((err) => logger.warn({ session: ctx.session, err: (err as Error).message }, 'tunnel not recorded'));
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) up.write(head);
    socket.setTimeout(limits.tunnelIdleTimeoutMs, () => socket.destroy());
    socket.pipe(up);
    up.pipe(socket);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      socket.destroy();
      up.destroy();
      ctx.bytesFromClient = up.bytesWritten;
      ctx.bytesToClient = up.bytesRead;
      await append(ctx, 'tunnel', { phase: 'close', bytesUp: ctx.bytesFromClient, bytesDown: ctx.bytesToClient, durationMs: Date.now() - ctx.startedAt }).catch(() => undefined);
      await finish(ctx);
    };
    socket.on('close', close);
    up.on('close', close);
    up.on('error', (err) => {
      ctx.error = (err as NodeJS.ErrnoException).code ?? 'upstream-error';
    });
  }

  async function intercept(ctx: ConnContext, socket: net.Socket, head: Buffer, meta: JsonObject) {
    if (!recorder.writable) {
      ctx.error = 'store-unavailable';
      logger.error({ session: ctx.session, host: ctx.target.host }, 'audit store unavailable: refusing interception (fail closed)');
      rawReply(socket, 503, REASONS[503]!, 'the audit store cannot record this connection; it was not forwarded');
      await finish(ctx);
      return;
    }
    try {
      await append(ctx, 'connect', meta);
    } catch (err) {
      ctx.error = 'store-unavailable';
      logger.error({ session: ctx.session, err: (err as Error).message }, 'AUDIT STORE FAILED: refusing interception (fail closed)');
      rawReply(socket, 503, REASONS[503]!, 'the audit store cannot record this connection; it was not forwarded');
      await finish(ctx);
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    // Slow or silent clients: the handshake must complete in time.
    socket.setTimeout(limits.handshakeTimeoutMs, () => {
      ctx.error = 'handshake-timeout';
      socket.destroy();
    });
    socket.once('close', () => {
      ctx.bytesFromClient = socket.bytesRead;
      ctx.bytesToClient = socket.bytesWritten;
      void finish(ctx);
    });
    const first = head.length ? head : await new Promise<Buffer | null>((resolve) => {
      socket.once('data', (d: Buffer) => resolve(d));
      socket.once('close', () => resolve(null));
    });
    if (!first) return;
    socket.pause();
    if (first[0] !== 0x16) {
      // Not a TLS ClientHello: refuse clearly rather than guessing.
      const reason = 'client sent non-TLS bytes after CONNECT to an intercepted host (expected a TLS ClientHello)';
      ctx.error = 'not-tls';
      await append(ctx, 'error', { phase: 'handshake', reason }).catch(() => undefined);
      rawReply(socket, 400, 'Bad Request', reason);
      return;
    }
    socket.unshift(first);

    let sniMismatch: string | null = null;
    let leafContext: tls.SecureContext;
    try {
      leafContext = deps.ca.contextFor(ctx.target.host);
    } catch (err) {
      const reason = `cannot issue a certificate for ${ctx.target.host}: ${(err as Error).message}`;
      ctx.error = 'leaf-issuance';
      logger.error({ session: ctx.session, host: ctx.target.host }, reason);
      await append(ctx, 'error', { phase: 'handshake', reason }).catch(() => undefined);
      socket.destroy();
      return;
    }
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      ALPNProtocols: ['http/1.1'],
      secureContext: leafContext,
      SNICallback: (servername, cb) => {
        const sni = normalizeHost(servername);
        if (sni !== ctx.target.host) {
          sniMismatch = servername.slice(0, 255);
          cb(new Error('SNI does not match the CONNECT target'));
          return;
        }
        cb(null, leafContext);
      },
    });
    contexts.set(tlsSocket, ctx);
    tlsSocket.on('error', async (err: NodeJS.ErrnoException) => {
      if (handshakeDone) return; // post-handshake errors belong to the HTTP layer
      if (sniMismatch !== null) {
        const reason = `TLS SNI "${sniMismatch}" does not match the CONNECT target ${ctx.target.host}`;
        ctx.error = 'sni-mismatch';
        logger.warn({ session: ctx.session, host: ctx.target.host }, 'SNI mismatch refused');
        await append(ctx, 'deny', { phase: 'handshake', reason, identity: identityMeta(ctx.identity) }).catch(() => undefined);
      } else if (!handshakeDone) {
        const hint = trustHint(err);
        ctx.error = hint ? 'client-distrusts-ca' : `tls:${err.code ?? 'error'}`;
        const reason = hint ?? `TLS handshake with the client failed: ${err.code ?? err.message}`;
        logger.warn({ session: ctx.session, host: ctx.target.host, code: err.code }, reason);
        await append(ctx, 'error', { phase: 'handshake', reason }).catch(() => undefined);
      }
      socket.destroy();
    });
    let handshakeDone = false;
    tlsSocket.once('secure', () => {
      handshakeDone = true;
      socket.setTimeout(0);
      tlsSocket.setNoDelay(true);
      inner.emit('connection', tlsSocket);
    });
  }

  // ---- absolute-form plain HTTP (on-prem LLMs such as Ollama on http) ----
  const plainContexts = new WeakMap<net.Socket, ConnContext>();
  async function onPlainRequest(req: IncomingMessage, res: ServerResponse) {
    let target;
    try {
      target = parseAbsoluteTarget(req.url);
    } catch (err) {
      sendError(res, 400, (err as Error).message);
      return;
    }
    if (!target) {
      sendError(res, 400, 'this is a forward proxy: use absolute-form http:// URLs or CONNECT (set HTTPS_PROXY / HTTP_PROXY)');
      return;
    }
    const socket = req.socket;
    const authOutcome = await authenticate(req);
    let ctx = plainContexts.get(socket);
    if (!ctx) {
      ctx = newContext(socket, target.host, target.port, 'http', authOutcome.ok ? authOutcome.identity : ({ kind: 'anonymous', subject: null, groups: [], attributes: {}, expiresAt: null } as Identity));
      plainContexts.set(socket, ctx);
      const c = ctx;
      socket.once('close', () => {
        c.bytesFromClient = socket.bytesRead;
        c.bytesToClient = socket.bytesWritten;
        void finish(c);
      });
    }
    ctx.target = { host: target.host, port: target.port };
    if (!authOutcome.ok) {
      await append(ctx, 'deny', { reason: `authentication: ${authOutcome.reason}`, status: 407, target: `${target.host}:${target.port}` }).catch(() => undefined);
      sendError(res, 407, `proxy authentication required: ${authOutcome.reason}`, { 'proxy-authenticate': PROXY_AUTHENTICATE });
      return;
    }
    ctx.identity = authOutcome.identity;
    ctx.decision = policy.decide(target.host);
    const meta: JsonObject = { target: `${target.host}:${target.port}`, client: ctx.client.address, decision: ctx.decision.action, reason: ctx.decision.reason, rule: ctx.decision.rule, identity: identityMeta(ctx.identity), scheme: 'http' };
    if (ctx.decision.action === 'deny') {
      await append(ctx, 'deny', { ...meta, status: 403 }).catch(() => undefined);
      sendError(res, 403, ctx.decision.reason);
      return;
    }
    if (ctx.decision.action === 'intercept') {
      try {
        await append(ctx, 'connect', meta);
      } catch {
        sendError(res, 503, 'the audit store cannot record this exchange; it was not forwarded');
        return;
      }
      await track(ctx, handleExchange(deps, limits, ctx, req, res, { scheme: 'http', host: target.host, port: target.port, path: target.path }));
      return;
    }
    // Not intercepted: forwarded as is and logged (audit mode) without recording bodies.
    await append(ctx, 'tunnel', { ...meta, phase: 'http-forward', method: req.method ?? 'GET' }).catch(() => undefined);
    const headers = forwardable(req.headers);
    headers.host = target.port === 80 ? target.host : `${target.host}:${target.port}`;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    try {
      const parts: Buffer[] = [];
      for await (const c of req as AsyncIterable<Buffer>) parts.push(c);
      const up = await deps.upstream.request({ scheme: 'http', host: target.host, port: target.port, method: req.method ?? 'GET', path: target.path, headers, body: Buffer.concat(parts), signal: abort.signal });
      res.writeHead(up.statusCode ?? 502, forwardable(up.headers));
      up.pipe(res);
    } catch (err) {
      const ue = describeUpstreamError(err, target.host);
      sendError(res, ue.status, ue.message);
    }
  }

  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: limits.headersTimeoutMs, requestTimeout: 5 * 60_000, keepAliveTimeout: 30_000, connectionsCheckingInterval: checkEvery });
  server.on('connect', (req: IncomingMessage, socket: net.Socket, head: Buffer) => {
    onConnect(req, socket, head).catch((err) => {
      logger.error({ err: (err as Error).message }, 'CONNECT handling failed');
      rawReply(socket, 502, 'Bad Gateway', 'internal error');
    });
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    onPlainRequest(req, res).catch((err) => {
      logger.error({ err: (err as Error).message }, 'request handling failed');
      sendError(res, 502, 'internal error');
    });
  });
  server.on('connection', (socket: net.Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const text = code === 431 ? 'Request Header Fields Too Large' : code === 408 ? 'Request Timeout' : 'Bad Request';
    logger.warn({ client: (socket as net.Socket).remoteAddress, code: err.code }, 'malformed or incomplete proxy request');
    rawReply(socket, code, text, code === 431 ? 'request headers too large' : code === 408 ? 'request timed out' : `malformed request (${err.code ?? 'parse error'})`);
  });

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
        server.closeAllConnections();
      });
      inner.closeAllConnections();
      // Let session-end records queue before the recorder closes.
      await new Promise((r) => setImmediate(r));
    },
  };
}
