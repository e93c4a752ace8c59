// The policy's hook in the proxy's exchange path, run after the request body is read and before
// anything is recorded or sent upstream: allow (with the record level), refuse in the provider's own
// error shape (deny, rate limit, approval denied or timed out), or hold for a human's approval.
// Every decision is recorded in the exchange's session: matched rules, holds, approvals (who, when),
// denials, timeouts and window grants.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { JsonObject, RecordKind } from '../audit/types.js';
import type { Identity } from '../identity/types.js';
import type { Policy } from './policy.js';
import type { PolicyStage } from './stage.js';
import type { Verdict } from './gate.js';
import { ApprovalError, approverLabel, type Approver } from './approvals.js';
import { refusal, refusalMessage, sseRefusal, type Refusal, type Provider, type RefusalKind } from './refusal.js';

export interface GateInput {
  /** The policy this exchange took at its start (a reload does not change it under the request). */
  policy: Policy;
  session: string;
  host: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  identity: Identity;
  clientAddress: string;
  res: ServerResponse;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  record(kind: RecordKind, meta: JsonObject): Promise<unknown>;
  /** Masks text for the approval summary with the connection's mask session. */
  maskText(text: string): string;
}

export type GateOutcome =
  | { admit: true; record: 'full' | 'metadata'; decision: JsonObject; streamStarted: boolean }
  | { admit: false; code: string };

export interface RequestGate {
  admit(input: GateInput): Promise<GateOutcome>;
}

const CODES: Record<RefusalKind, string> = { denied: 'WT_ERR_POLICY_DENIED', rate_limited: 'WT_ERR_RATE_LIMITED', unavailable: 'WT_ERR_APPROVALS_FULL' };

function approverMeta(a: Approver): JsonObject {
  const m: JsonObject = { kind: a.kind, subject: a.subject, groups: [...a.groups] };
  if (a.email) m.email = a.email;
  if (a.issuer) m.issuer = a.issuer;
  return m;
}

export function createRequestGate(stage: PolicyStage, logger: Logger): RequestGate {
  /** Records the refusal (kind deny), then answers it; a held stream gets it as an SSE error event. */
  async function refuse(i: GateInput, r: Refusal, kind: RefusalKind, provider: Provider, message: string, meta: JsonObject): Promise<GateOutcome> {
    const code = CODES[kind];
    try {
      await i.record('deny', { ...meta, status: r.status, code, reason: message });
    } catch (err) {
      logger.error({ session: i.session, err: (err as Error).message }, 'policy refusal not recorded');
    }
    logger.warn({ session: i.session, host: i.host, rule: meta.rule ?? null, status: r.status, code, reason: message }, 'refused by policy');
    if (i.res.headersSent) {
      if (!i.res.destroyed) i.res.end(sseRefusal(provider, kind, message));
    } else {
      i.res.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(r.body) });
      i.res.end(r.body);
    }
    return { admit: false, code };
  }

  async function hold(i: GateInput, v: Verdict & { action: 'require_approval' }): Promise<GateOutcome> {
    const rule = v.rule;
    let h;
    try {
      h = stage.approvals.hold({
        rule: rule.name, host: i.host, method: i.method, path: i.path, identity: i.identity, identityKey: v.identityKey,
        summary: i.maskText(v.prompt?.excerpt ?? ''), session: i.session,
        approvers: rule.approval!.approvers, windowMs: rule.approval!.windowMs, timeoutMs: rule.approval!.timeoutMs,
      });
    } catch (err) {
      if (!(err instanceof ApprovalError)) throw err;
      const message = refusalMessage(err.message, rule.name);
      return refuse(i, refusal(v.provider, 'unavailable', message, { 'retry-after': '30' }), 'unavailable', v.provider, message, v.meta);
    }
    const id = h.pending.id;
    try {
      await i.record('policy', { ...v.meta, event: 'hold', approval: id, expiresAt: h.pending.expiresAt, timeoutMs: rule.approval!.timeoutMs, stream: v.wantsStream });
    } catch (err) {
      h.cancel('the hold could not be recorded');
      throw err; // fail closed: the exchange answers 503
    }
    logger.info({ session: i.session, host: i.host, rule: rule.name, approval: id }, 'request held for approval');
    let keepAlive: NodeJS.Timeout | null = null;
    if (v.wantsStream) {
      // Headers now, so the client's read timeout sees bytes; SSE comments are ignored by every SDK parser.
      i.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-wiretrail-approval': id });
      i.res.write(`: wiretrail: waiting for approval ${id} (rule ${rule.name})\n\n`);
      keepAlive = setInterval(() => i.res.write(': wiretrail: still waiting for approval\n\n'), stage.keepAliveMs);
    }
    const onAbort = () => h.cancel('client disconnected');
    i.signal.addEventListener('abort', onAbort, { once: true });
    if (i.signal.aborted) onAbort();
    const o = await h.outcome;
    i.signal.removeEventListener('abort', onAbort);
    if (keepAlive) clearInterval(keepAlive);
    const base = { rule: rule.name, approval: id };
    switch (o.result) {
      case 'approved': {
        await i.record('policy', { ...base, event: 'approved', by: approverMeta(o.by), at: o.at, windowUntil: o.windowUntil });
        if (o.windowUntil !== null) {
          await i.record('policy', { ...base, event: 'window-grant', by: approverMeta(o.by), at: o.at, until: o.windowUntil, identity: v.identityKey });
        }
        logger.info({ session: i.session, rule: rule.name, approval: id, by: approverLabel(o.by) }, 'request approved');
        return { admit: true, record: v.record, decision: { ...v.meta, event: 'approved', approval: id, by: approverMeta(o.by) }, streamStarted: v.wantsStream };
      }
      case 'denied': {
        const message = refusalMessage(`approval denied by ${approverLabel(o.by)}${o.reason ? `: ${o.reason}` : ''}`, rule.name);
        return refuse(i, refusal(v.provider, 'denied', message), 'denied', v.provider, message, { ...base, event: 'approval-denied', by: approverMeta(o.by), at: o.at, approverReason: o.reason });
      }
      case 'timeout': {
        const message = refusalMessage('approval timed out', rule.name);
        return refuse(i, refusal(v.provider, 'denied', message), 'denied', v.provider, message, { ...base, event: 'approval-timeout', at: o.at });
      }
      default: {
        await i.record('policy', { ...base, event: 'approval-cancelled', at: o.at, reason: o.reason }).catch(() => undefined);
        i.res.destroy();
        return { admit: false, code: 'WT_ERR_CLIENT_GONE' };
      }
    }
  }

  return {
    async admit(i) {
      const v = stage.decide(i.policy, { host: i.host, method: i.method, path: i.path, headers: i.headers, body: i.body, identity: i.identity, clientAddress: i.clientAddress });
      switch (v.action) {
        case 'allow':
          return { admit: true, record: v.record, decision: v.meta, streamStarted: false };
        case 'deny':
          return refuse(i, v.refusal, 'denied', v.provider, v.message, v.meta);
        case 'rate_limited':
          return refuse(i, v.refusal, 'rate_limited', v.provider, v.message, v.meta);
        case 'require_approval':
          return hold(i, v);
      }
    },
  };
}
