// The per-request decision: rules, window grants, rate limits -> one Verdict the proxy acts on.
// The policy object is passed in (taken once at the start of the exchange), so a reload never
// changes the rules under a request that is already being decided.
import type { JsonObject } from '../audit/types.js';
import type { Identity } from '../identity/types.js';
import type { Policy } from './policy.js';
import type { CompiledRule } from './rules.js';
import { readPrompt, type PromptView } from './prompt.js';
import { identityKey, type ApprovalQueue } from './approvals.js';
import type { RateLimiter } from './rate-limit.js';
import { providerOf, refusal, refusalMessage, type Provider, type Refusal } from './refusal.js';

export interface RequestFacts {
  host: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw request body as the client sent it (any Content-Encoding). */
  body: Buffer;
  identity: Identity;
  clientAddress: string;
}

interface VerdictBase {
  rule: CompiledRule | null;
  provider: Provider;
  /** What goes into the audit log for this decision (always recorded). */
  meta: JsonObject;
  identityKey: string;
  prompt: PromptView | null;
}

export type Verdict =
  | (VerdictBase & { action: 'allow'; record: 'full' | 'metadata' })
  | (VerdictBase & { action: 'deny'; refusal: Refusal; message: string })
  | (VerdictBase & { action: 'rate_limited'; refusal: Refusal; message: string; retryAfterSeconds: number })
  | (VerdictBase & { action: 'require_approval'; rule: CompiledRule; record: 'full' | 'metadata'; wantsStream: boolean });

/** Whether the client asked for a streamed answer that can carry SSE comments while it waits. */
export function wantsSse(facts: RequestFacts, provider: Provider, streamFlag: boolean): boolean {
  if (provider === 'ollama') return false; // NDJSON: no comment syntax
  const accept = String(facts.headers.accept ?? '');
  if (/text\/event-stream/i.test(accept)) return true;
  if (provider === 'gemini') return /:streamGenerateContent/.test(facts.path) && /[?&]alt=sse(&|$)/.test(facts.path);
  return streamFlag;
}

function streamFlagOf(body: Buffer): boolean {
  // Cheap check before a parse: most non-streaming bodies never say "stream".
  if (!body.includes('"stream"')) return false;
  try {
    return (JSON.parse(body.toString('utf8')) as { stream?: unknown }).stream === true;
  } catch {
    return false;
  }
}

export function decide(policy: Policy, facts: RequestFacts, approvals: ApprovalQueue, limiter: RateLimiter): Verdict {
  let prompt: PromptView | null = null;
  const readOnce = () => (prompt ??= readPrompt(facts.body, facts.headers, facts.path));
  const ev = policy.rules.evaluate({ host: facts.host, method: facts.method, path: facts.path, identity: facts.identity, prompt: readOnce });
  const provider = providerOf(facts.host, facts.path);
  const key = identityKey(facts.identity, facts.clientAddress);
  const rule = ev.rule;
  const base = { rule, provider, identityKey: key };
  const meta: JsonObject = { event: 'decision', rule: rule?.name ?? null, action: rule?.action ?? 'allow', why: ev.why };
  if (!rule) return { ...base, prompt, action: 'allow', record: 'full', meta };

  if (rule.requestsPerMinute !== null && rule.action !== 'deny') {
    const r = limiter.take(`${rule.name}\0${key}`, rule.requestsPerMinute);
    if (!r.ok) {
      const message = refusalMessage(`rate limit of ${rule.requestsPerMinute} requests per minute exceeded; retry in ${r.retryAfterSeconds}s`, rule.name);
      return {
        ...base,
        prompt,
        action: 'rate_limited',
        message,
        retryAfterSeconds: r.retryAfterSeconds,
        refusal: refusal(provider, 'rate_limited', message, { 'retry-after': String(r.retryAfterSeconds) }),
        meta: { ...meta, action: 'rate_limited', limit: rule.requestsPerMinute, retryAfter: r.retryAfterSeconds },
      };
    }
  }
  if (rule.action === 'deny') {
    const message = refusalMessage(rule.reason, rule.name);
    return { ...base, prompt, action: 'deny', message, refusal: refusal(provider, 'denied', message), meta: { ...meta, reason: rule.reason } };
  }
  if (rule.action === 'require_approval') {
    const grant = approvals.windowFor(rule.name, key);
    if (grant) {
      return {
        ...base,
        prompt,
        action: 'allow',
        record: rule.record,
        meta: { ...meta, action: 'allow', event: 'window-allow', approval: grant.approvalId, windowUntil: grant.until, grantedBy: grant.by.kind === 'admin' ? 'admin token' : (grant.by.subject ?? 'unknown') },
      };
    }
    const wantsStream = wantsSse(facts, provider, streamFlagOf(facts.body));
    return { ...base, prompt, action: 'require_approval', rule, record: rule.record, wantsStream, meta: { ...meta, reason: rule.reason } };
  }
  return { ...base, prompt, action: 'allow', record: rule.record, meta };
}
