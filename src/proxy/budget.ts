// A global budget for request bytes held in memory across all exchanges, so one tenant's concurrent large
// bodies cannot starve the others (issue 9: 12 concurrent 31 MiB bodies grew the proxy by 0.5–0.7 GiB and
// made another client wait 10 s). Bytes are reserved before they are buffered (the declared
// Content-Length up front, chunked bodies as they arrive); when the budget is spent the exchange is
// refused with 503 + Retry-After instead of queueing. The real footprint per buffered byte is ~3× (raw,
// decoded/masked copy, upstream write), so the budget bounds memory, it is not an exact figure.
import dc from 'node:diagnostics_channel';
import { OverloadedError } from '../errors/index.js';

export const RETRY_AFTER_SECONDS = 2;

/** Every change of the bytes held: `{ inUse, capacity }` (for gauges, and for tests to await a reservation). */
export const BUDGET_CHANNEL = 'wiretrail:proxy:budget';
const channel = dc.channel(BUDGET_CHANNEL);

export class BufferBudget {
  private used = 0;

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  /** A reservation that grows as a body is read; release() once the bytes are gone. */
  open(): BudgetLease {
    return new BudgetLease(this);
  }

  /** @internal */
  take(n: number): boolean {
    if (this.used + n > this.capacity) return false;
    this.used += n;
    this.publish();
    return true;
  }

  /** @internal */
  give(n: number): void {
    if (n <= 0) return;
    this.used = Math.max(0, this.used - n);
    this.publish();
  }

  private publish(): void {
    if (channel.hasSubscribers) channel.publish({ inUse: this.used, capacity: this.capacity });
  }
}

export class BudgetLease {
  private held = 0;

  constructor(private readonly budget: BufferBudget) {}

  /** Reserves `n` more bytes or throws OverloadedError (503, Retry-After). */
  reserve(n: number): void {
    if (n <= 0) return;
    if (!this.budget.take(n)) {
      throw new OverloadedError(`the proxy is holding ${this.budget.inUse} of ${this.budget.capacity} bytes of request bodies; retry shortly`, RETRY_AFTER_SECONDS);
    }
    this.held += n;
  }

  /** Reserves up to `total` bytes overall (a declared length already reserved is not counted twice). */
  reserveUpTo(total: number): void {
    if (total > this.held) this.reserve(total - this.held);
  }

  release(): void {
    this.budget.give(this.held);
    this.held = 0;
  }
}
