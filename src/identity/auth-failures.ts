// Failed authentication bookkeeping shared by the proxy path, token exchange and the admin API: one
// throttle per client address, one per credential id, a delay on slowed failures, one warning when a
// client or credential crosses into refusal (not one per attempt: an attack must not flood the log).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { FailureThrottle, type ThrottleOptions } from './auth-throttle.js';

/** Refusals that are the server's fault, not the caller's: never counted against anyone. */
const NOT_THE_CALLERS_FAULT = new Set(['credential store unavailable', 'issuer unavailable', 'issuer keys unavailable']);

export class AuthFailures {
  private readonly byAddress: FailureThrottle;
  private readonly byCredential: FailureThrottle;

  constructor(
    opts: ThrottleOptions | undefined,
    private readonly log: Logger | undefined,
    private readonly what: string,
  ) {
    this.byAddress = new FailureThrottle(opts);
    this.byCredential = new FailureThrottle(opts);
  }

  /**
   * Retry-After seconds when this client address is refused before any check, else null. A refused
   * attempt counts too: a client that keeps trying while refused stays refused.
   */
  blockedAddress(client: string | null): number | null {
    if (this.byAddress.blocked(client) === null) return null;
    return this.byAddress.fail(client).retryAfterSeconds;
  }

  /**
   * Counts a failure, waits the slow-down delay, and returns a Retry-After (seconds) when the answer
   * must be 429 instead of the failure itself.
   */
  async failed(client: string | null, credentialId: string | null, reason: string): Promise<number | null> {
    if (NOT_THE_CALLERS_FAULT.has(reason)) return null;
    const a = this.byAddress.fail(client);
    const c = this.byCredential.fail(credentialId);
    if (a.crossed) this.log?.warn({ client, reason, retryAfter: a.retryAfterSeconds }, `repeated failed ${this.what} authentication from one client: refused with 429 for now`);
    if (c.crossed) this.log?.warn({ credential: credentialId, client, reason, retryAfter: c.retryAfterSeconds }, `repeated failed ${this.what} authentication against one credential: failing attempts refused with 429 for now`);
    const delay = Math.max(a.delayMs, c.delayMs);
    if (delay > 0) await sleep(delay);
    return a.retryAfterSeconds ?? c.retryAfterSeconds;
  }
}
