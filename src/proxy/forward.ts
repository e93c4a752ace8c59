// Absolute-form plain HTTP (`GET http://host/…`, on-prem LLMs such as Ollama): authenticate, decide
// (policy, then the SSRF guard by resolving the target) BEFORE reading any body byte, then either run a
// recorded exchange (intercepted hosts) or stream the body straight through (audit-mode forwards).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonObject } from '../audit/types.js';
import { identityMeta } from '../identity/types.js';
import { describeUpstreamError } from '../upstream/index.js';
import { BadRequestError, ClientGoneError, PolicyDeniedError, StoreUnavailableError } from '../errors/index.js';
import { parseAbsoluteTarget } from './authority.js';
import { ANONYMOUS } from './connection.js';
import { authRefusal, proxyAuthorization } from './connect.js';
import { handleExchange } from './exchange.js';
import { forwardable } from './headers.js';
import type { InterceptEnv } from './intercept.js';
import type { ConnContext } from './session.js';
import { report } from '../metrics/events.js';

const NOT_A_SERVER = 'this is a forward proxy: use absolute-form http:// URLs or CONNECT (set HTTPS_PROXY / HTTP_PROXY)';

export async function onPlainRequest(env: InterceptEnv, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { deps, conns } = env;
  const http = { kind: 'http' as const, res };
  let target;
  try {
    target = parseAbsoluteTarget(req.url);
  } catch (err) {
    await conns.refuse(null, http, new BadRequestError((err as Error).message, { cause: err }));
    return;
  }
  if (!target) {
    await conns.refuse(null, http, new BadRequestError(NOT_A_SERVER));
    return;
  }
  const authOutcome = await deps.auth.authenticate(proxyAuthorization(req), { clientAddress: req.socket.remoteAddress ?? null });
  const ctx = contextFor(env, req, target.host, target.port);
  ctx.target = { host: target.host, port: target.port };
  if (!authOutcome.ok) {
    const err = authRefusal(authOutcome);
    await conns.refuse(ctx, http, err, { meta: { target: `${target.host}:${target.port}` } });
    return;
  }
  ctx.identity = authOutcome.identity;
  ctx.decision = deps.policy.decide(target.host);
  report.policyDecision(ctx.decision.action, ctx.decision.rule);
  const meta: JsonObject = { target: `${target.host}:${target.port}`, client: ctx.client.address, decision: ctx.decision.action, reason: ctx.decision.reason, rule: ctx.decision.rule, identity: identityMeta(ctx.identity), scheme: 'http' };
  if (ctx.decision.action === 'deny') {
    await conns.refuse(ctx, http, new PolicyDeniedError(ctx.decision.reason), { meta });
    return;
  }
  if (ctx.decision.action === 'intercept') {
    try {
      await conns.append(ctx, 'connect', meta);
    } catch (err) {
      await conns.refuse(ctx, http, new StoreUnavailableError('the audit store cannot record this exchange; it was not forwarded', { cause: err }));
      return;
    }
    await conns.track(ctx, handleExchange(deps, env.limits, env.budget, conns, ctx, req, res, { scheme: 'http', host: target.host, port: target.port, path: target.path }));
    return;
  }
  await forwardUnrecorded(env, ctx, req, res, { ...target, meta });
}

/** One context per client socket (keep-alive requests share the session). */
function contextFor(env: InterceptEnv, req: IncomingMessage, host: string, port: number): ConnContext {
  const socket = req.socket;
  const known = env.conns.of(socket);
  if (known) return known;
  const ctx = env.conns.create(socket, host, port, 'http', ANONYMOUS);
  socket.once('close', () => {
    ctx.bytesFromClient = socket.bytesRead;
    ctx.bytesToClient = socket.bytesWritten;
    void env.conns.finish(ctx);
  });
  return ctx;
}

/**
 * Not intercepted: forwarded as is and logged (audit mode) without recording bodies. The SSRF guard runs
 * before the first body byte is read, and the body streams through (never buffered whole).
 */
async function forwardUnrecorded(env: InterceptEnv, ctx: ConnContext, req: IncomingMessage, res: ServerResponse, target: { host: string; port: number; path: string; meta: JsonObject }): Promise<void> {
  const { deps, conns } = env;
  const http = { kind: 'http' as const, res };
  try {
    await deps.upstream.resolve(target.host, target.port);
  } catch (err) {
    await conns.refuse(ctx, http, describeUpstreamError(err, target.host), { meta: { ...target.meta, phase: 'http-forward' } });
    return;
  }
  try {
    await conns.append(ctx, 'tunnel', { ...target.meta, phase: 'http-forward', method: req.method ?? 'GET' });
  } catch (err) {
    deps.logger.warn({ session: ctx.session, err: (err as Error).message }, 'plain-HTTP forward not recorded');
  }
  const headers = forwardable(req.headers);
  headers.host = target.port === 80 ? target.host : `${target.host}:${target.port}`;
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  try {
    const up = await deps.upstream.request({ scheme: 'http', host: target.host, port: target.port, method: req.method ?? 'GET', path: target.path, headers, body: req, signal: abort.signal });
    res.writeHead(up.statusCode ?? 502, forwardable(up.headers));
    up.pipe(res);
  } catch (err) {
    if (abort.signal.aborted) {
      ctx.error = new ClientGoneError('').code;
      res.destroy();
      return;
    }
    await conns.refuse(ctx, http, describeUpstreamError(err, target.host), { meta: { phase: 'http-forward' } });
  }
}
