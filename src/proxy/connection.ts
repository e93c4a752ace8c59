// Per-connection bookkeeping shared by the CONNECT, intercept and plain-HTTP paths: a context per client
// socket (Symbol-free WeakMap, as mockttp keeps per-socket state apart), the one canonical decision line
// per connection (smokescreen's CANONICAL-PROXY-DECISION), and the one refusal path every stage uses.
import type { Duplex } from 'node:stream';
import type net from 'node:net';
import type { Logger } from 'pino';
import type { JsonObject, RecordKind, Recorder } from '../audit/types.js';
import type { Identity } from '../identity/types.js';
import { ShuttingDownError, StoreUnavailableError, type WiretrailError } from '../errors/index.js';
import { reply, type ReplyTarget } from './reply.js';
import { newSessionId, type ConnContext } from './session.js';
import type { MaskEngineLike } from './deps.js';
import { report } from '../metrics/events.js';

export const ANONYMOUS: Identity = Object.freeze({ kind: 'anonymous', subject: null, groups: [], attributes: {}, expiresAt: null }) as Identity;

export class Connections {
  /** Client socket (or its TLS wrapper) → its connection context. */
  private readonly contexts = new WeakMap<Duplex, ConnContext>();
  /** Every client socket still open, for close(). */
  readonly open = new Set<Duplex>();
  /** Open connections with their client socket, for closing them when their credential ends. */
  private readonly byContext = new Map<ConnContext, Duplex>();
  /** Set when a shutdown starts: responses say `Connection: close`, sessions end as ended by shutdown. */
  draining = false;
  /** Aborted when the shutdown grace period is over: running exchanges end their streams cleanly. */
  readonly stopping = new AbortController();
  /** Sessions opened and not yet ended (their end record written), so a shutdown can wait for them. */
  private readonly unended = new Set<ConnContext>();
  private onAllEnded: (() => void) | null = null;

  constructor(
    private readonly recorder: Recorder,
    private readonly logger: Logger,
    private readonly mask: MaskEngineLike,
  ) {}

  /** Tracks a client socket until it closes. */
  adopt(socket: Duplex): void {
    this.open.add(socket);
    report.connection(1);
    socket.once('close', () => {
      this.open.delete(socket);
      report.connection(-1);
    });
  }

  create(socket: net.Socket, host: string, port: number, scheme: 'https' | 'http', identity: Identity): ConnContext {
    const ctx: ConnContext = {
      session: newSessionId(),
      client: { address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 },
      target: { host, port },
      scheme,
      decision: { action: 'deny', reason: 'undecided', rule: null },
      identity,
      mask: this.mask.session(),
      startedAt: Date.now(),
      requests: 0,
      bytesFromClient: 0,
      bytesToClient: 0,
      ended: false,
      inflight: new Set(),
    };
    this.contexts.set(socket, ctx);
    this.byContext.set(ctx, socket);
    socket.once('close', () => this.byContext.delete(ctx));
    this.unended.add(ctx);
    return ctx;
  }

  /** Open connections and their client sockets. */
  live(): [ConnContext, Duplex][] {
    return [...this.byContext].filter(([ctx, socket]) => !ctx.ended && !socket.destroyed);
  }

  bind(socket: Duplex, ctx: ConnContext): void {
    this.contexts.set(socket, ctx);
  }

  of(socket: Duplex): ConnContext | undefined {
    return this.contexts.get(socket);
  }

  append(ctx: ConnContext, kind: RecordKind, meta: JsonObject, body?: Buffer): Promise<unknown> {
    return this.recorder.append({ session: ctx.session, kind, meta, ...(body && body.length ? { body } : {}) });
  }

  /** Records now and returns once the record is in the OS (no promise); throws StoreUnavailableError. */
  appendNow(ctx: ConnContext, kind: RecordKind, meta: JsonObject, body?: Buffer): void {
    this.recorder.appendSync({ session: ctx.session, kind, meta, ...(body && body.length ? { body } : {}) });
  }

  /** Runs an exchange so the session's end waits for its last records. */
  async track(ctx: ConnContext, p: Promise<void>): Promise<void> {
    ctx.inflight.add(p);
    try {
      await p;
    } finally {
      ctx.inflight.delete(p);
    }
  }

  /** Exchanges in flight on every open connection. */
  inflight(): Promise<void>[] {
    const out: Promise<void>[] = [];
    for (const s of this.open) for (const p of this.of(s)?.inflight ?? []) out.push(p);
    return out;
  }

  /** Resolves once no exchange is in flight (new ones may start while waiting: waits for them too). */
  async idle(): Promise<void> {
    for (let pending = this.inflight(); pending.length; pending = this.inflight()) await Promise.allSettled(pending);
  }

  /** Resolves once every session has written its end record, or after `maxMs`. */
  ended(maxMs: number): Promise<void> {
    if (!this.unended.size) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.onAllEnded = done;
    });
  }

  /** A ShuttingDownError for an exchange the grace period cut short. */
  shutdownError(): ShuttingDownError {
    return new ShuttingDownError('wiretrail is shutting down: the stream was ended after the shutdown grace period');
  }

  /** The one decision line per connection, and the session's closing record. */
  finish(ctx: ConnContext, extra: Record<string, unknown> = {}): Promise<void> {
    if (ctx.ended) return Promise.resolve();
    ctx.ended = true;
    return this.writeEnd(ctx, extra).finally(() => {
      this.unended.delete(ctx);
      if (!this.unended.size) this.onAllEnded?.();
    });
  }

  private async writeEnd(ctx: ConnContext, extra: Record<string, unknown>): Promise<void> {
    // Exchanges still writing their last records (client abort) come before the session's end.
    await Promise.allSettled([...ctx.inflight]);
    this.logger.info(
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
        ...(ctx.refusal ? { refusal: ctx.refusal } : {}),
        ...extra,
        ...(this.draining ? { endedBy: 'shutdown' } : {}),
      },
      'connection',
    );
    try {
      await this.recorder.endSession(ctx.session, { requests: ctx.requests, ...(this.draining ? { endedBy: 'shutdown' } : {}) });
    } catch (err) {
      this.logger.error({ session: ctx.session, err: (err as Error).message }, 'could not close audit session');
    }
  }

  /**
   * The one refusal path: record the refusal (when there is a session and the store can take it), reply
   * with status + Proxy-Status, and log once. A refusal that ends the connection is logged on the
   * connection's canonical line (finish); one inside a living connection gets its own `refused` line.
   */
  async refuse(ctx: ConnContext | null, to: ReplyTarget, err: WiretrailError, opts: { meta?: JsonObject; n?: number; endsConnection?: boolean } = {}): Promise<void> {
    const fields = { status: err.status, code: err.code, reason: err.message.split('\n')[0]! };
    let recorded: boolean | 'no-session' = 'no-session';
    if (ctx && !ctx.ended) {
      ctx.error = err.code;
      ctx.refusal = fields;
      recorded = await this.recordRefusal(ctx, err, opts);
    }
    reply(to, err);
    const line = { ...(ctx ? { session: ctx.session, host: ctx.target.host, client: ctx.client.address } : {}), ...fields, recorded };
    if (ctx && opts.endsConnection) {
      await this.finish(ctx);
      return;
    }
    if (err.status >= 500) this.logger.error(line, 'refused');
    else this.logger.warn(line, 'refused');
  }

  private async recordRefusal(ctx: ConnContext, err: WiretrailError, opts: { meta?: JsonObject; n?: number }): Promise<boolean> {
    // The store itself failed: recording the refusal would fail the same way.
    if (err instanceof StoreUnavailableError) return false;
    const meta: JsonObject = { ...(opts.n !== undefined ? { n: opts.n } : {}), ...opts.meta, reason: err.message, status: err.status, code: err.code };
    try {
      await this.append(ctx, err.recordKind, meta);
      return true;
    } catch (e) {
      // Deliberate: the client still gets its answer; the gap is logged (the store's own failure is loud).
      this.logger.error({ session: ctx.session, code: err.code, err: (e as Error).message }, 'refusal not recorded');
      return false;
    }
  }
}
