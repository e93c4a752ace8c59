// The proxy front door, assembled: one listening HTTP server that routes CONNECT sockets (connect.ts →
// tunnel.ts / intercept.ts) and absolute-form requests (forward.ts), plus the shared inner HTTP server for
// terminated TLS (inner.ts → exchange.ts). This file only wires servers and lifecycles together.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { BadRequestError, HeadersTooLargeError, InternalProxyError, RequestTimeoutError, type WiretrailError } from '../errors/index.js';
import { BufferBudget } from './budget.js';
import { Connections } from './connection.js';
import { CredentialWatch } from './credential-watch.js';
import { onConnect } from './connect.js';
import { onPlainRequest } from './forward.js';
import { checkInterval, createInnerServer, MAX_HEADER_BYTES } from './inner.js';
import type { InterceptEnv } from './intercept.js';
import type { ProxyDeps } from './deps.js';

export interface DrainResult {
  /** Exchanges still running when the grace period ended (their streams were ended as by shutdown). */
  cut: number;
}

/** How long exchanges stopped after the grace period get to record their end before sockets close. */
const STOP_SETTLE_MS = 5_000;

export interface ProxyServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
  /**
   * Graceful stop: accept nothing new, let in-flight exchanges finish for up to `graceMs`, then end the
   * rest cleanly (recorded as ended by shutdown), close every connection and wait for every session's
   * end record. The recorder stays open (the caller closes it, signing the final checkpoint).
   */
  drain(graceMs: number): Promise<DrainResult>;
  readonly server: http.Server;
}

/** What the outer parser's complaint means for the client. */
function outerParseError(err: NodeJS.ErrnoException): WiretrailError {
  if (err.code === 'HPE_HEADER_OVERFLOW') return new HeadersTooLargeError('request headers too large');
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new RequestTimeoutError('request timed out');
  return new BadRequestError(`malformed request (${err.code ?? 'parse error'})`);
}

export function createProxyServer(deps: ProxyDeps): ProxyServer {
  const limits = deps.limits;
  const conns = new Connections(deps.recorder, deps.logger, deps.mask);
  const budget = new BufferBudget(limits.maxBufferedBytes);
  const inner = createInnerServer(deps, limits, budget, conns);
  const env: InterceptEnv = { deps, limits, conns, budget, inner };
  const watch = new CredentialWatch(conns, deps.auth, deps.logger, limits.credentialRecheckMs);
  watch.start();

  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: limits.headersTimeoutMs, requestTimeout: 5 * 60_000, keepAliveTimeout: 30_000, connectionsCheckingInterval: checkInterval(limits) });
  server.on('connect', (req: IncomingMessage, socket: net.Socket, head: Buffer) => {
    onConnect(env, req, socket, head).catch((err: unknown) => {
      void conns.refuse(conns.of(socket) ?? null, { kind: 'raw', socket }, new InternalProxyError(`CONNECT handling failed: ${(err as Error).message}`, { cause: err }));
    });
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    onPlainRequest(env, req, res).catch((err: unknown) => {
      void conns.refuse(conns.of(req.socket) ?? null, { kind: 'http', res }, new InternalProxyError(`request handling failed: ${(err as Error).message}`, { cause: err }));
    });
  });
  server.on('connection', (socket: net.Socket) => conns.adopt(socket));
  const refused = new WeakSet<Duplex>(); // the parser may complain again about bytes after the first refusal
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (refused.has(socket)) return;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    refused.add(socket);
    void conns.refuse(null, { kind: 'raw', socket }, outerParseError(err));
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
    async drain(graceMs) {
      conns.draining = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      inner.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), graceMs)));
      const outcome = await Promise.race([conns.idle().then(() => 'idle' as const), expired]);
      clearTimeout(timer);
      let cut = 0;
      if (outcome === 'expired') {
        cut = conns.inflight().length;
        conns.stopping.abort();
        await Promise.race([conns.idle(), new Promise((r) => setTimeout(r, STOP_SETTLE_MS).unref())]);
      }
      // Left: idle keep-alive connections and blind tunnels. Closing them ends their sessions.
      for (const s of conns.open) s.destroy();
      server.closeAllConnections();
      inner.closeAllConnections();
      await stopped;
      await conns.ended(STOP_SETTLE_MS);
      return { cut };
    },
    async close() {
      await watch.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of conns.open) s.destroy();
        server.closeAllConnections();
      });
      inner.closeAllConnections();
      // Let session-end records queue before the recorder closes.
      await new Promise((r) => setImmediate(r));
    },
  };
}
