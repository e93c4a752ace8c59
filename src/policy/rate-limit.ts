// Per identity + rule request rate limits: a token bucket of `requests_per_minute` tokens refilled
// continuously. Lives in the policy stage (not the policy), so counters survive a reload.

export interface RateVerdict {
  ok: boolean;
  /** Seconds until one more request is allowed (when refused). */
  retryAfterSeconds: number;
  remaining: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token from the bucket of `key` (capacity `perMinute`); refuses when it is empty. */
  take(key: string, perMinute: number): RateVerdict {
    const t = this.now();
    const ratePerMs = perMinute / 60_000;
    let b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * ratePerMs);
      b.at = t;
      this.buckets.delete(key); // re-insert: Map order is the eviction order (least recently used first)
    } else {
      b = { tokens: perMinute, at: t };
      this.evictIfFull();
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, retryAfterSeconds: 0, remaining: Math.floor(b.tokens) };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1000)), remaining: 0 };
  }

  private evictIfFull(): void {
    // A forgotten bucket starts full again: evicting the least recently used key is the lenient error.
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
  }
}
