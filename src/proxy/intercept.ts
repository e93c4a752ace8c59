// Socket routing for intercepted CONNECT tunnels: wait for the ClientHello, terminate TLS with a leaf for
// the CONNECT authority (SNI must agree), then hand the TLS socket to the shared inner HTTP server.
// Request handling lives in inner.ts / exchange.ts; this file only decides what happens to the socket.
import type net from 'node:net';
import tls from 'node:tls';
import type http from 'node:http';
import type { JsonObject } from '../audit/types.js';
import { identityMeta } from '../identity/types.js';
import { normalizeHost } from '../policy/index.js';
import { BadRequestError, InternalProxyError, MisdirectedRequestError, StoreUnavailableError } from '../errors/index.js';
import type { BufferBudget } from './budget.js';
import type { Connections } from './connection.js';
import type { ProxyDeps, ProxyLimits } from './deps.js';
import type { ConnContext } from './session.js';

/** Hints for TLS clients that reject our leaf: they do not trust the wiretrail CA yet. */
export const TRUST_HINT = 'the client does not trust the wiretrail CA: point it at the CA (see `wiretrail env`)';

function alertSaysDistrust(err: NodeJS.ErrnoException): boolean {
  if (err.code === 'ECLIENTCLOSED') return true; // silent close mid-handshake: how Node/undici reject a leaf
  const c = `${err.code ?? ''} ${err.message}`;
  return /UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|unknown ca|certificate unknown|bad certificate/i.test(c);
}

export interface InterceptEnv {
  deps: ProxyDeps;
  limits: ProxyLimits;
  conns: Connections;
  budget: BufferBudget;
  inner: http.Server;
}

const STORE_DOWN = 'the audit store cannot record this connection; it was not forwarded';

export async function intercept(env: InterceptEnv, ctx: ConnContext, socket: net.Socket, head: Buffer, meta: JsonObject): Promise<void> {
  const { deps, conns } = env;
  const raw = { kind: 'raw' as const, socket };
  if (!deps.recorder.writable) {
    deps.logger.error({ session: ctx.session, host: ctx.target.host }, 'audit store unavailable: refusing interception (fail closed)');
    await conns.refuse(ctx, raw, new StoreUnavailableError(STORE_DOWN), { endsConnection: true });
    return;
  }
  try {
    await conns.append(ctx, 'connect', meta);
  } catch (err) {
    deps.logger.error({ session: ctx.session, err: (err as Error).message }, 'AUDIT STORE FAILED: refusing interception (fail closed)');
    await conns.refuse(ctx, raw, new StoreUnavailableError(STORE_DOWN, { cause: err }), { endsConnection: true });
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  // Slow or silent clients: the handshake must complete in time.
  socket.setTimeout(env.limits.handshakeTimeoutMs, () => {
    ctx.error = 'handshake-timeout';
    socket.destroy();
  });
  socket.once('close', () => {
    ctx.bytesFromClient = socket.bytesRead;
    ctx.bytesToClient = socket.bytesWritten;
    void conns.finish(ctx);
  });
  const first = head.length ? head : await firstBytes(socket);
  if (!first) return;
  socket.pause();
  if (first[0] !== 0x16) {
    // Not a TLS ClientHello: refuse clearly rather than guessing.
    const err = new BadRequestError('client sent non-TLS bytes after CONNECT to an intercepted host (expected a TLS ClientHello)');
    await conns.refuse(ctx, raw, err, { meta: { phase: 'handshake' } });
    return;
  }
  socket.unshift(first);
  let leafContext: tls.SecureContext;
  try {
    leafContext = deps.ca.contextFor(ctx.target.host);
  } catch (err) {
    const e = new InternalProxyError(`cannot issue a certificate for ${ctx.target.host}: ${(err as Error).message}`, { cause: err });
    // No HTTP reply is possible inside a TLS handshake: record and log, then drop the socket.
    await conns.refuse(ctx, { kind: 'drop', socket }, e, { meta: { phase: 'handshake' } });
    return;
  }
  terminateTls(env, ctx, socket, leafContext);
}

function firstBytes(socket: net.Socket): Promise<Buffer | null> {
  return new Promise<Buffer | null>((resolve) => {
    socket.once('data', (d: Buffer) => resolve(d));
    socket.once('close', () => resolve(null));
  });
}

function terminateTls(env: InterceptEnv, ctx: ConnContext, socket: net.Socket, leafContext: tls.SecureContext): void {
  const { conns } = env;
  let sniMismatch: string | null = null;
  let handshakeDone = false;
  const tlsSocket = new tls.TLSSocket(socket, {
    isServer: true,
    ALPNProtocols: ['http/1.1'],
    secureContext: leafContext,
    SNICallback: (servername, cb) => {
      if (normalizeHost(servername) !== ctx.target.host) {
        sniMismatch = servername.slice(0, 255);
        cb(new Error('SNI does not match the CONNECT target'));
        return;
      }
      cb(null, leafContext);
    },
  });
  conns.bind(tlsSocket, ctx);
  tlsSocket.on('error', (err: NodeJS.ErrnoException) => {
    if (handshakeDone) return; // post-handshake errors belong to the HTTP layer
    void handshakeFailed(env, ctx, socket, err, sniMismatch);
  });
  // Node and undici clients that reject our leaf close without a TLS alert: the socket just ends (a
  // half-open close, so 'end' and not 'close'). Treat an end before the handshake completed as the
  // client giving up on our certificate: hint, free the socket now instead of at the handshake timeout.
  tlsSocket.once('end', () => {
    if (handshakeDone) return;
    void handshakeFailed(env, ctx, socket, Object.assign(new Error('client closed the connection during the TLS handshake without an alert'), { code: 'ECLIENTCLOSED' }), sniMismatch);
  });
  tlsSocket.once('secure', () => {
    handshakeDone = true;
    socket.setTimeout(0);
    tlsSocket.setNoDelay(true);
    env.inner.emit('connection', tlsSocket);
  });
}

const reported = new WeakSet<ConnContext>();

async function handshakeFailed(env: InterceptEnv, ctx: ConnContext, socket: net.Socket, err: NodeJS.ErrnoException, sniMismatch: string | null): Promise<void> {
  const { deps, conns } = env;
  if (reported.has(ctx)) return; // an alert and the close that follows it are one failure
  reported.add(ctx);
  const to = { kind: 'drop' as const, socket };
  if (sniMismatch !== null) {
    const reason = `TLS SNI "${sniMismatch}" does not match the CONNECT target ${ctx.target.host}`;
    await conns.refuse(ctx, to, new MisdirectedRequestError(reason), { meta: { phase: 'handshake', identity: identityMeta(ctx.identity) } });
  } else {
    const hint = alertSaysDistrust(err);
    ctx.error = hint ? 'client-distrusts-ca' : `tls:${err.code ?? 'error'}`;
    const reason = hint ? TRUST_HINT : `TLS handshake with the client failed: ${err.code ?? err.message}`;
    deps.logger.warn({ session: ctx.session, host: ctx.target.host, code: err.code }, reason);
    try {
      await conns.append(ctx, 'error', { phase: 'handshake', reason });
    } catch (e) {
      deps.logger.error({ session: ctx.session, err: (e as Error).message }, 'handshake failure not recorded');
    }
  }
  socket.destroy();
}
