// Held requests waiting for a human: the pending queue, decisions by identified approvers, timeouts,
// and window grants (an approval that also lets the same identity + rule through for a while).
// In memory by design: a held request is an open client connection, which a restart ends anyway;
// every hold and outcome is in the audit log.
import { randomBytes } from 'node:crypto';
import type { Identity } from '../identity/types.js';

/** Who acted on an approval: the admin token holder, or an authenticated person. */
export interface Approver {
  kind: 'admin' | 'oidc' | 'token';
  subject: string | null;
  email?: string;
  issuer?: string;
  groups: string[];
}

export interface PendingApproval {
  id: string;
  rule: string;
  host: string;
  method: string;
  path: string;
  identity: Identity;
  /** Rate-limit / window key of the requester (see identityKey). */
  identityKey: string;
  /** Masked excerpt of the prompt. */
  summary: string;
  session: string;
  createdAt: number;
  expiresAt: number;
  approvers: { groups: string[]; subjects: string[] };
  windowMs: number | null;
}

export type ApprovalOutcome =
  | { result: 'approved'; by: Approver; at: number; windowMs: number | null; windowUntil: number | null }
  | { result: 'denied'; by: Approver; at: number; reason: string | null }
  | { result: 'timeout'; at: number }
  | { result: 'cancelled'; at: number; reason: string };

export class ApprovalError extends Error {
  override readonly name = 'ApprovalError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** A stable key for "the same identity": issuer + subject, or the client address when anonymous. */
export function identityKey(identity: Identity, clientAddress: string): string {
  if (identity.kind === 'anonymous' || identity.subject === null) return `anonymous@${clientAddress}`;
  return `${identity.kind}:${identity.issuer ?? ''}:${identity.subject}`;
}

/**
 * A pending approval as an approver sees it (admin API list, webhook event): what was asked, by whom, for
 * which rule, until when. The path loses its query (it may carry data the prompt summary already masks).
 */
export function approvalView(p: PendingApproval): Record<string, unknown> {
  return {
    id: p.id,
    rule: p.rule,
    host: p.host,
    method: p.method,
    path: p.path.split('?')[0],
    identity: { kind: p.identity.kind, subject: p.identity.subject, email: p.identity.email ?? null, groups: p.identity.groups },
    summary: p.summary,
    createdAt: new Date(p.createdAt).toISOString(),
    expiresAt: new Date(p.expiresAt).toISOString(),
  };
}

export function approverLabel(a: Approver): string {
  return a.kind === 'admin' ? 'admin token' : (a.email ?? a.subject ?? 'unknown');
}

interface Entry {
  pending: PendingApproval;
  settle(o: ApprovalOutcome): void;
  timer: NodeJS.Timeout;
}

export interface ApprovalQueueOptions {
  maxPending: number;
  /** Called once per new pending approval (webhook delivery); must not throw or block. */
  onPending?: (p: PendingApproval) => void;
  now?: () => number;
}

export type HoldInput = Omit<PendingApproval, 'id' | 'createdAt' | 'expiresAt'> & { timeoutMs: number };

export class ApprovalQueue {
  private readonly pending = new Map<string, Entry>();
  /** `${rule}\0${identityKey}` -> grant. Expired grants are dropped when looked up or listed. */
  private readonly windows = new Map<string, { until: number; by: Approver; approvalId: string }>();
  private readonly now: () => number;

  constructor(private opts: ApprovalQueueOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** New settings from a reloaded policy (pending requests keep theirs). */
  configure(opts: Partial<ApprovalQueueOptions>): void {
    this.opts = { ...this.opts, ...opts };
  }

  /** Holds a request; the promise settles on approve, deny, timeout or cancel (client gone). */
  hold(input: HoldInput): { pending: PendingApproval; outcome: Promise<ApprovalOutcome>; cancel(reason: string): void } {
    if (this.pending.size >= this.opts.maxPending) {
      throw new ApprovalError(`too many requests are waiting for approval (${this.opts.maxPending})`, 429);
    }
    const createdAt = this.now();
    const { timeoutMs, ...rest } = input;
    const pending: PendingApproval = { ...rest, id: `apr_${randomBytes(9).toString('base64url')}`, createdAt, expiresAt: createdAt + timeoutMs };
    let settle!: (o: ApprovalOutcome) => void;
    const outcome = new Promise<ApprovalOutcome>((resolve) => {
      settle = resolve;
    });
    const timer = setTimeout(() => this.finish(pending.id, { result: 'timeout', at: this.now() }), timeoutMs);
    timer.unref();
    this.pending.set(pending.id, { pending, settle, timer });
    try {
      this.opts.onPending?.(pending);
    } catch {
      /* delivery is best effort and never blocks the decision path */
    }
    return { pending, outcome, cancel: (reason) => this.finish(pending.id, { result: 'cancelled', at: this.now(), reason }) };
  }

  list(): PendingApproval[] {
    return [...this.pending.values()].map((e) => e.pending).sort((a, b) => a.createdAt - b.createdAt);
  }

  get(id: string): PendingApproval | null {
    return this.pending.get(id)?.pending ?? null;
  }

  /** Whether `who` may decide on `p`: admin token always; others by the rule's approvers, never their own request. */
  checkApprover(p: PendingApproval, who: Approver): void {
    if (who.kind === 'admin') return;
    const self =
      (who.subject !== null && p.identity.subject !== null && who.subject === p.identity.subject && (who.issuer ?? '') === (p.identity.issuer ?? '')) ||
      (who.email !== undefined && p.identity.email !== undefined && who.email.toLowerCase() === p.identity.email.toLowerCase());
    if (self) throw new ApprovalError('nobody approves their own request', 403);
    const byGroup = who.groups.some((g) => p.approvers.groups.includes(g));
    const bySubject = who.subject !== null && p.approvers.subjects.includes(who.subject);
    if (!byGroup && !bySubject) throw new ApprovalError(`not an approver for rule ${p.rule}`, 403);
  }

  approve(id: string, who: Approver, windowMs?: number | null): ApprovalOutcome & { result: 'approved' } {
    const p = this.mustGet(id);
    this.checkApprover(p, who);
    const at = this.now();
    const w = windowMs === undefined ? p.windowMs : windowMs;
    const windowUntil = w ? at + w : null;
    if (windowUntil !== null) this.pruneWindows(at);
    if (windowUntil !== null) this.windows.set(`${p.rule}\0${p.identityKey}`, { until: windowUntil, by: who, approvalId: p.id });
    const out = { result: 'approved' as const, by: who, at, windowMs: w ?? null, windowUntil };
    this.finish(id, out);
    return out;
  }

  deny(id: string, who: Approver, reason: string | null): ApprovalOutcome & { result: 'denied' } {
    const p = this.mustGet(id);
    this.checkApprover(p, who);
    const out = { result: 'denied' as const, by: who, at: this.now(), reason };
    this.finish(id, out);
    return out;
  }

  /** An unexpired window grant for this rule and identity, if any. */
  windowFor(rule: string, key: string): { until: number; by: Approver; approvalId: string } | null {
    const k = `${rule}\0${key}`;
    const g = this.windows.get(k);
    if (!g) return null;
    if (g.until <= this.now()) {
      this.windows.delete(k);
      return null;
    }
    return g;
  }

  /** Ends every hold (shutdown). */
  close(reason = 'wiretrail is shutting down'): void {
    for (const id of [...this.pending.keys()]) this.finish(id, { result: 'cancelled', at: this.now(), reason });
  }

  private pruneWindows(now: number): void {
    if (this.windows.size < 10_000) return;
    for (const [k, g] of this.windows) if (g.until <= now) this.windows.delete(k);
  }

  private mustGet(id: string): PendingApproval {
    const e = this.pending.get(id);
    if (!e) throw new ApprovalError(`no pending approval ${id} (already decided, timed out or never existed)`, 404);
    return e.pending;
  }

  private finish(id: string, o: ApprovalOutcome): void {
    const e = this.pending.get(id);
    if (!e) return;
    this.pending.delete(id);
    clearTimeout(e.timer);
    e.settle(o);
  }
}
