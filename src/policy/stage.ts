// The running policy: the current Policy behind one reference, swapped atomically on reload (SIGHUP
// or a change of the file). A bad file is refused with one log line and the old policy stays in
// force; requests already being decided keep the Policy object they took at their start.
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Policy } from './policy.js';
import { ApprovalQueue, type PendingApproval } from './approvals.js';
import { RateLimiter } from './rate-limit.js';
import { WebhookNotifier } from './webhook.js';
import { decide, type RequestFacts, type Verdict } from './gate.js';

export interface ReloadResult {
  ok: boolean;
  /** One line: what was refused and why, or what changed. */
  message: string;
  changed: boolean;
}

export interface PolicyStageOptions {
  file: string;
  logger: Logger;
  /** Initial policy (already loaded by the caller); read from `file` when omitted. */
  policy?: Policy;
  /** Base URL of the admin API for approval links (the policy's approvals.public_url wins). */
  adminUrl?: string | null;
  /** Webhook retry base (tests shorten it). */
  webhookRetryBaseMs?: number;
  /** Debounce of file-change reloads (editors write in several steps). */
  watchDebounceMs?: number;
}

/** Sections that are read once at start; a reload that changes them says so. */
const RESTART_SECTIONS = ['auth', 'oidc', 'tokens', 'mask'] as const;

export class PolicyStage {
  private policy: Policy;
  private digest: string;
  readonly approvals: ApprovalQueue;
  readonly limiter = new RateLimiter();
  private webhook: WebhookNotifier | null;
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  readonly file: string;

  constructor(private opts: PolicyStageOptions) {
    this.file = resolve(opts.file);
    const text = readFileSync(this.file, 'utf8');
    this.policy = opts.policy ?? Policy.fromYaml(text, opts.file);
    this.digest = createHash('sha256').update(text).digest('hex');
    this.approvals = new ApprovalQueue({
      maxPending: this.policy.doc.approvals?.max_pending ?? 1000,
      onPending: (p) => this.notify(p),
    });
    this.webhook = this.webhookFor(this.policy);
  }

  /** Interval of SSE comment keep-alives while a streaming request is held (policy approvals.keepalive). */
  get keepAliveMs(): number {
    return this.policy.doc.approvals?.keepalive ?? 15_000;
  }

  /** The policy in force now. Take it once per request and keep using that object. */
  current(): Policy {
    return this.policy;
  }

  /** Decides one request against `policy` (the one the exchange started with). */
  decide(policy: Policy, facts: RequestFacts): Verdict {
    return decide(policy, facts, this.approvals, this.limiter);
  }

  /** Re-reads the file; validates fully before swapping. Never throws. */
  reload(reason = 'reload'): ReloadResult {
    let text: string;
    let next: Policy;
    let webhook: WebhookNotifier | null;
    try {
      text = readFileSync(this.file, 'utf8');
      next = Policy.fromYaml(text, this.opts.file);
      webhook = this.webhookFor(next);
    } catch (err) {
      const message = `policy reload refused (${reason}): ${(err as Error).message.split('\n')[0]}; the previous policy stays in force`;
      this.opts.logger.error({ policy: this.file }, message);
      return { ok: false, message, changed: false };
    }
    const digest = createHash('sha256').update(text).digest('hex');
    if (digest === this.digest) {
      webhook?.close();
      return { ok: true, message: 'policy unchanged', changed: false };
    }
    const prev = this.policy;
    this.policy = next;
    this.digest = digest;
    this.approvals.configure({ maxPending: next.doc.approvals?.max_pending ?? 1000 });
    this.webhook?.close();
    this.webhook = webhook;
    const restart = RESTART_SECTIONS.filter((k) => JSON.stringify(prev.doc[k]) !== JSON.stringify(next.doc[k]));
    const message = `policy reloaded (${reason}): ${next.rules.size} rules` + (restart.length ? `; changes to ${restart.join(', ')} take effect at the next restart` : '');
    this.opts.logger.info({ policy: this.file, sha256: digest }, message);
    return { ok: true, message, changed: true };
  }

  /** The admin API address, for approve/deny links in webhook notifications. */
  setAdminUrl(url: string): void {
    this.opts.adminUrl = url;
    this.webhook?.close();
    this.webhook = this.webhookFor(this.policy);
  }

  /** Reloads when the file changes (directory watch: editors replace files by rename). */
  watch(): void {
    if (this.watcher) return;
    const name = basename(this.file);
    try {
      this.watcher = watch(dirname(this.file), { persistent: false }, (_event, changed) => {
        if (changed !== null && changed !== name) return;
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => {
          this.debounce = null;
          this.reload('file changed');
        }, this.opts.watchDebounceMs ?? 200);
        this.debounce.unref();
      });
      this.watcher.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'policy file watch stopped; SIGHUP still reloads'));
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'cannot watch the policy file; SIGHUP still reloads');
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.debounce) clearTimeout(this.debounce);
    this.webhook?.close();
    this.approvals.close();
  }

  /** The notifier for a policy's webhook (resolving its secret; throws when it cannot be read). */
  private webhookFor(policy: Policy): WebhookNotifier | null {
    const spec = policy.doc.approvals?.webhook;
    if (!spec) return null;
    return new WebhookNotifier({
      spec,
      publicUrl: policy.doc.approvals?.public_url ?? this.opts.adminUrl ?? null,
      logger: this.opts.logger,
      ...(this.opts.webhookRetryBaseMs ? { retryBaseMs: this.opts.webhookRetryBaseMs } : {}),
    });
  }

  private notify(p: PendingApproval): void {
    this.webhook?.notify(p);
  }
}
