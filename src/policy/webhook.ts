// Webhook delivery of pending approvals: signed (HMAC-SHA256 over the exact body bytes, header
// X-Wiretrail-Signature-256: sha256=<hex>, as GitHub does), retried with exponential back-off and
// jitter, in the background: the request being held never waits for a delivery.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { approvalView, type PendingApproval } from './approvals.js';
import type { WebhookSpec } from './rules-schema.js';

export const SIGNATURE_HEADER = 'x-wiretrail-signature-256';

export interface WebhookOptions {
  spec: WebhookSpec;
  /** Base URL of the admin API / UI for the approve/deny links. */
  publicUrl: string | null;
  logger?: Logger;
  /** First retry delay; doubles per attempt (capped at 5 minutes), with ±20% jitter. */
  retryBaseMs?: number;
  attemptTimeoutMs?: number;
  /** Deliveries waiting or in flight; beyond this the oldest is dropped with a log line. */
  maxQueued?: number;
}

/** A literal secret, or one read from `${env:NAME}` / `${file:/path}` (trimmed); throws naming the source, never the value. */
export function resolveSecret(spec: string): string {
  const env = /^\$\{env:([^}]+)\}$/.exec(spec);
  if (env) {
    const v = process.env[env[1]!];
    if (!v) throw new Error(`approvals.webhook.secret: environment variable ${env[1]} is not set`);
    return v;
  }
  const file = /^\$\{file:([^}]+)\}$/.exec(spec);
  if (file) {
    try {
      const v = readFileSync(file[1]!, 'utf8').trim();
      if (v) return v;
    } catch (err) {
      throw new Error(`approvals.webhook.secret: cannot read ${file[1]}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    throw new Error(`approvals.webhook.secret: ${file[1]} is empty`);
  }
  return spec;
}

export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function links(base: string | null, id: string): Record<string, string> | null {
  if (!base) return null;
  const b = base.replace(/\/+$/, '');
  return {
    ui: `${b}/ui/approvals#${encodeURIComponent(id)}`,
    approve: `${b}/v1/approvals/${encodeURIComponent(id)}/approve`,
    deny: `${b}/v1/approvals/${encodeURIComponent(id)}/deny`,
  };
}

/** The JSON event (format: wiretrail). */
export function approvalEvent(p: PendingApproval, publicUrl: string | null, deliveryId: string): Record<string, unknown> {
  return {
    event: 'approval.pending',
    delivery: deliveryId,
    sentAt: new Date().toISOString(),
    approval: approvalView(p),
    links: links(publicUrl, p.id),
  };
}

/** A Slack incoming-webhook body: `text` (fallback) and Block Kit blocks. */
export function slackBody(p: PendingApproval, publicUrl: string | null): Record<string, unknown> {
  const who = p.identity.email ?? p.identity.subject ?? 'anonymous';
  const l = links(publicUrl, p.id);
  const text = `wiretrail: approval needed (rule ${p.rule}) for ${who} → ${p.host}${p.path.split('?')[0]}. Expires ${new Date(p.expiresAt).toISOString()}. Id ${p.id}`;
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*Approval needed* — rule \`${p.rule}\`\n*Who:* ${who}\n*Where:* ${p.method} ${p.host}${p.path.split('?')[0]}\n*Expires:* ${new Date(p.expiresAt).toISOString()}` } },
    { type: 'section', text: { type: 'mrkdwn', text: '```' + p.summary.replace(/```/g, "'''") + '```' } },
  ];
  if (l) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${l.ui}|Open in wiretrail> · \`wiretrail approvals approve ${p.id}\` · \`wiretrail approvals deny ${p.id}\`` }] });
  return { text, blocks };
}

export class WebhookNotifier {
  private queued = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  private readonly secret: string | null;

  constructor(private readonly opts: WebhookOptions) {
    this.secret = opts.spec.secret ? resolveSecret(opts.spec.secret) : null;
  }

  /** Starts delivering `p` in the background; returns at once. */
  notify(p: PendingApproval): void {
    if (this.closed) return;
    const max = this.opts.maxQueued ?? 1000;
    if (this.queued >= max) {
      this.opts.logger?.warn({ approval: p.id, queued: this.queued }, 'approval webhook backlog full: this notification is dropped (the approval is still listed)');
      return;
    }
    const deliveryId = randomUUID();
    const payload = this.opts.spec.format === 'slack' ? slackBody(p, this.opts.publicUrl) : approvalEvent(p, this.opts.publicUrl, deliveryId);
    this.queued++;
    this.attempt(p.id, deliveryId, JSON.stringify(payload), 1);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private attempt(approvalId: string, deliveryId: string, body: string, n: number): void {
    void this.send(deliveryId, body).then((err) => {
      if (err === null) {
        this.queued--;
        return;
      }
      const { max_attempts } = this.opts.spec;
      if (n >= max_attempts || this.closed) {
        this.queued--;
        this.opts.logger?.error({ approval: approvalId, attempts: n, err }, 'approval webhook delivery failed; giving up');
        return;
      }
      const base = Math.min((this.opts.retryBaseMs ?? 1000) * 2 ** (n - 1), 300_000);
      const delay = Math.round(base * (0.8 + Math.random() * 0.4));
      this.opts.logger?.warn({ approval: approvalId, attempt: n, retryInMs: delay, err }, 'approval webhook delivery failed; retrying');
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.attempt(approvalId, deliveryId, body, n + 1);
      }, delay);
      t.unref();
      this.timers.add(t);
    });
  }

  /** One POST; resolves to null on a 2xx, else a one-line reason (never the secret). */
  private async send(deliveryId: string, body: string): Promise<string | null> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'wiretrail-webhook',
      'x-wiretrail-event': 'approval.pending',
      'x-wiretrail-delivery': deliveryId,
    };
    if (this.secret) headers[SIGNATURE_HEADER] = signBody(this.secret, body);
    try {
      const res = await fetch(this.opts.spec.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.opts.attemptTimeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return e.cause?.code ?? e.cause?.message ?? e.message;
    }
  }
}
