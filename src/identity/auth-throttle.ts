// Throttling of failed authentication, per client address and per credential id.
//   per address     after `freeFailures` failures the failure answers are slowed down (doubling delay up
//                   to `maxDelayMs`); beyond `blockAfter` every attempt from that address is refused with
//                   429 before any credential is checked, until enough failures have decayed.
//   per credential  failures against one credential (an expired or revoked wiretrail credential, an
//                   ID token's iss+sub, the admin token) are slowed and answered 429 beyond `blockAfter`,
//                   but only failing attempts: the right credential always passes, so failures from
//                   other addresses can never lock its owner out.
// Failures decay linearly (one forgiven per `decayMs`); entries live in a bounded LRU map so a flood
// of addresses costs at most `maxEntries` small objects (the oldest are forgotten first).
import { isIP } from 'node:net';

export interface ThrottleOptions {
  /** Failures answered at full speed. Default 5. */
  freeFailures?: number;
  /** Failures after which a key is refused (429). Default 20. */
  blockAfter?: number;
  /** One failure is forgiven per this many ms. Default 3000 (sustained: one attempt per 3 s). */
  decayMs?: number;
  /** Upper bound of the delay added to a failure answer. Default 2000 ms. */
  maxDelayMs?: number;
  /** Keys remembered per map. Default 10000. */
  maxEntries?: number;
}

interface Entry {
  score: number;
  at: number;
}

export interface FailureVerdict {
  /** Delay to apply before answering this failure. */
  delayMs: number;
  /** Set when the key is over the limit: refuse with 429 and this Retry-After. */
  retryAfterSeconds: number | null;
  /** True exactly when this failure crossed into the blocked state (log once, not per attempt). */
  crossed: boolean;
}

export class FailureThrottle {
  private readonly map = new Map<string, Entry>();
  private readonly free: number;
  private readonly block: number;
  private readonly decay: number;
  private readonly maxDelay: number;
  private readonly max: number;

  constructor(opts: ThrottleOptions = {}, private readonly now: () => number = Date.now) {
    this.free = opts.freeFailures ?? 5;
    this.block = opts.blockAfter ?? 20;
    this.decay = opts.decayMs ?? 3000;
    this.maxDelay = opts.maxDelayMs ?? 2000;
    this.max = opts.maxEntries ?? 10_000;
  }

  get size(): number {
    return this.map.size;
  }

  private score(key: string): number {
    const e = this.map.get(key);
    if (!e) return 0;
    return Math.max(0, e.score - (this.now() - e.at) / this.decay);
  }

  private retryAfter(score: number): number {
    return Math.max(1, Math.ceil(((score - this.block) * this.decay) / 1000));
  }

  /** Retry-After seconds when `key` is over the limit now, else null. Counts nothing. */
  blocked(key: string | null): number | null {
    if (key === null) return null;
    const s = this.score(key);
    return s >= this.block ? this.retryAfter(s) : null;
  }

  /** Counts one failure for `key`. */
  fail(key: string | null): FailureVerdict {
    if (key === null) return { delayMs: 0, retryAfterSeconds: null, crossed: false };
    const before = this.score(key);
    // Capped so a client that keeps hammering is refused for at most blockAfter × decayMs after it stops.
    const score = Math.min(before + 1, 2 * this.block);
    this.map.delete(key); // re-insert: Map order is the LRU order
    this.map.set(key, { score, at: this.now() });
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
    const over = score > this.block;
    return {
      delayMs: score <= this.free ? 0 : Math.min(this.maxDelay, 100 * 2 ** Math.min(score - this.free - 1, 10)),
      retryAfterSeconds: over ? this.retryAfter(score) : null,
      crossed: over && before <= this.block,
    };
  }
}

/**
 * The key for a client address: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by its /64, since one
 * host usually owns a whole /64 and would otherwise get 2^64 fresh budgets.
 */
export function addressKey(address: string | undefined | null): string | null {
  if (!address) return null;
  const a = address.toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return `ip:${mapped[1]}`;
  if (isIP(a) === 4) return `ip:${a}`;
  if (isIP(a) !== 6) return `ip:${a}`;
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = a.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = a.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `ip6:${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
