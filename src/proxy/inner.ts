// Request handling for intercepted HTTP/1.1 inside terminated TLS: one shared parser for every intercepted
// connection (as mockttp does), fed by intercept.ts with emit('connection'). Routing never uses the Host
// header: it must name the CONNECT authority or the request is refused.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { JsonObject } from '../audit/types.js';
import { identityMeta } from '../identity/types.js';
import { BadRequestError, HeadersTooLargeError, InternalProxyError, MisdirectedRequestError, UpgradeRefusedError } from '../errors/index.js';
import { parseHostHeader } from './authority.js';
import { handleExchange } from './exchange.js';
import { handleWebSocket, isWebSocketUpgrade } from './websocket.js';
import type { BufferBudget } from './budget.js';
import type { Connections } from './connection.js';
import type { ProxyDeps, ProxyLimits } from './deps.js';
import type { ConnContext } from './session.js';

export const MAX_HEADER_BYTES = 32 * 1024;

/** How often Node enforces header/request timeouts (its default is 30 s, far above ours). */
export function checkInterval(limits: ProxyLimits): number {
  return Math.max(250, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2)));
}

export function createInnerServer(deps: ProxyDeps, limits: ProxyLimits, budget: BufferBudget, conns: Connections): http.Server {
  const inner = http.createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout: 5 * 60_000,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: 60_000,
    connectionsCheckingInterval: checkInterval(limits),
  });
  inner.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const ctx = conns.of(req.socket);
    if (!ctx) {
      void conns.refuse(null, { kind: 'http', res }, new InternalProxyError('lost connection context'));
      return;
    }
    void onInnerRequest(deps, limits, budget, conns, ctx, req, res);
  });
  // The parser reports again for bytes still arriving after the refusal: one refusal per socket.
  const refused = new WeakSet<Duplex>();
  inner.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const ctx = conns.of(socket) ?? null;
    if (refused.has(socket)) return; // the first refusal's reply is on its way and will close the socket
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const refusal = err.code === 'HPE_HEADER_OVERFLOW'
      ? new HeadersTooLargeError(`request headers inside TLS exceed ${MAX_HEADER_BYTES} bytes`)
      : new BadRequestError(`malformed HTTP request inside TLS: ${err.code ?? 'parse error'}`);
    refused.add(socket);
    void conns.refuse(ctx, { kind: 'raw', socket }, refusal, { meta: { phase: 'inner-parse' } });
  });
  // WebSocket upgrades are intercepted (websocket.ts); any other protocol upgrade cannot be parsed or masked:
  // refused clearly rather than let through unrecorded.
  inner.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const ctx = conns.of(req.socket) ?? conns.of(socket) ?? null;
    if (ctx && isWebSocketUpgrade(req)) {
      void onInnerUpgrade(deps, limits, conns, ctx, req, socket, head);
      return;
    }
    const err = new UpgradeRefusedError(`protocol upgrade to "${String(req.headers.upgrade ?? '').slice(0, 40)}" is not supported on intercepted hosts`);
    const meta: JsonObject = ctx ? { path: ctx.mask.maskText(req.url ?? '').text, identity: identityMeta(ctx.identity) } : {};
    void conns.refuse(ctx, { kind: 'raw', socket }, err, { meta });
  });
  return inner;
}

/** The Host check of onInnerRequest, then the WebSocket path; a refusal here is a raw HTTP answer. */
async function onInnerUpgrade(deps: ProxyDeps, limits: ProxyLimits, conns: Connections, ctx: ConnContext, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const hostHeader = parseHostHeader(req.headers.host, 443);
  if (!hostHeader || hostHeader.host !== ctx.target.host || hostHeader.port !== ctx.target.port) {
    const reason = `Host header "${String(req.headers.host ?? '').slice(0, 100)}" does not match the CONNECT target ${ctx.target.host}:${ctx.target.port}`;
    await conns.refuse(ctx, { kind: 'raw', socket }, new MisdirectedRequestError(reason), { meta: { identity: identityMeta(ctx.identity) } });
    return;
  }
  if (!(req.url ?? '').startsWith('/')) {
    await conns.refuse(ctx, { kind: 'raw', socket }, new BadRequestError('request target inside TLS must be origin-form (/path)'));
    return;
  }
  const ws = handleWebSocket(deps, limits, conns, ctx, req, socket, head).catch((err: Error) => {
    // Unexpected (the expected failures are refusals inside handleWebSocket): nothing is forwarded any more.
    deps.logger.error({ session: ctx.session, host: ctx.target.host, err: err.message }, 'WebSocket handling failed');
    ctx.error = 'websocket-error';
    socket.destroy();
  });
  await conns.track(ctx, ws);
}

async function onInnerRequest(deps: ProxyDeps, limits: ProxyLimits, budget: BufferBudget, conns: Connections, ctx: ConnContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const hostHeader = parseHostHeader(req.headers.host, 443);
  if (!hostHeader || hostHeader.host !== ctx.target.host || hostHeader.port !== ctx.target.port) {
    // A client (or malware) asking a trusted tunnel for another host: never route by Host.
    const reason = `Host header "${String(req.headers.host ?? '').slice(0, 100)}" does not match the CONNECT target ${ctx.target.host}:${ctx.target.port}`;
    res.setHeader('connection', 'close');
    await conns.refuse(ctx, { kind: 'http', res }, new MisdirectedRequestError(reason), { meta: { identity: identityMeta(ctx.identity) } });
    return;
  }
  const path = req.url ?? '/';
  if (!path.startsWith('/')) {
    await conns.refuse(ctx, { kind: 'http', res }, new BadRequestError('request target inside TLS must be origin-form (/path)'));
    return;
  }
  await conns.track(ctx, handleExchange(deps, limits, budget, conns, ctx, req, res, { scheme: 'https', host: ctx.target.host, port: ctx.target.port, path }));
}
