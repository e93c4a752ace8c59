// CONNECT routing: parse the authority, authenticate, ask the policy, then refuse, tunnel blindly, or
// hand the socket to interception. Routing uses the CONNECT authority only.
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import type { JsonObject } from '../audit/types.js';
import { identityMeta, type AuthOutcome } from '../identity/types.js';
import { AuthThrottledError, BadRequestError, PolicyDeniedError, ProxyAuthError, type WiretrailError } from '../errors/index.js';
import { parseConnectAuthority } from './authority.js';
import { ANONYMOUS } from './connection.js';
import { PROXY_AUTHENTICATE } from './exchange.js';
import { intercept, type InterceptEnv } from './intercept.js';
import { tunnel } from './tunnel.js';
import { report } from '../metrics/events.js';

export async function onConnect(env: InterceptEnv, req: IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
  const { deps, conns } = env;
  conns.adopt(socket);
  // Errors after this point are handled by the paths below; a reset client must not crash the process.
  socket.on('error', () => undefined);
  let target;
  try {
    target = parseConnectAuthority(req.url);
  } catch (err) {
    await conns.refuse(null, { kind: 'raw', socket }, new BadRequestError((err as Error).message, { cause: err }));
    return;
  }
  const authOutcome = await deps.auth.authenticate(proxyAuthorization(req), { clientAddress: socket.remoteAddress ?? null });
  const ctx = conns.create(socket, target.host, target.port, 'https', authOutcome.ok ? authOutcome.identity : ANONYMOUS);
  const raw = { kind: 'raw' as const, socket };
  if (!authOutcome.ok) {
    ctx.decision = { action: 'deny', reason: `authentication: ${authOutcome.reason}`, rule: null };
    const err = authRefusal(authOutcome);
    await conns.refuse(ctx, raw, err, { endsConnection: true, meta: { phase: 'connect', target: `${target.host}:${target.port}`, client: ctx.client.address } });
    return;
  }
  ctx.decision = deps.policy.decide(target.host);
  report.policyDecision(ctx.decision.action, ctx.decision.rule);
  const connectMeta: JsonObject = {
    target: `${target.host}:${target.port}`,
    client: ctx.client.address,
    clientPort: ctx.client.port,
    decision: ctx.decision.action,
    reason: ctx.decision.reason,
    rule: ctx.decision.rule,
    identity: identityMeta(ctx.identity),
  };
  if (ctx.decision.action === 'deny') {
    await conns.refuse(ctx, raw, new PolicyDeniedError(ctx.decision.reason), { endsConnection: true, meta: connectMeta });
    return;
  }
  if (ctx.decision.action === 'tunnel') return tunnel(env, ctx, socket, head, connectMeta);
  return intercept(env, ctx, socket, head, connectMeta);
}

/** 407 with the challenge, or 429 + Retry-After when the identity stage throttles repeated failures. */
export function authRefusal(outcome: Extract<AuthOutcome, { ok: false }>): WiretrailError {
  if (outcome.retryAfterSeconds !== undefined) return new AuthThrottledError(`proxy authentication refused: ${outcome.reason}`, outcome.retryAfterSeconds);
  return new ProxyAuthError(`proxy authentication required: ${outcome.reason}`, { headers: { 'proxy-authenticate': PROXY_AUTHENTICATE } });
}

export function proxyAuthorization(req: IncomingMessage): string | undefined {
  const header = req.headers['proxy-authorization'];
  return Array.isArray(header) ? header[0] : header;
}
