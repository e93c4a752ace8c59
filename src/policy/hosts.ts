// Host names and host patterns: one normal form for both sides of every comparison.
import { domainToASCII } from 'node:url';
import { isIP } from 'node:net';

/** Lower-cases, strips one trailing dot, converts IDN to punycode; null when not a valid host. */
export function normalizeHost(raw: string): string | null {
  let h = raw.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (isIP(h)) return h.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.length === 0 || h.length > 253) return null;
  const ascii = domainToASCII(h);
  if (!ascii) return null;
  const labels = ascii.split('.');
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) return null;
    if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/.test(l)) return null;
  }
  return ascii;
}

export interface HostPattern {
  /** The pattern as normalised: `api.openai.com` or `*.openai.azure.com`. */
  text: string;
  exact: string | null;
  /** For `*.` patterns: the suffix including its leading dot, e.g. `.openai.azure.com`. */
  suffix: string | null;
}

/** Parses an exact host or a `*.suffix` wildcard; anything else (regex, inner `*`) is an error. */
export function parseHostPattern(raw: string): HostPattern {
  const p = raw.trim();
  if (p.startsWith('*.')) {
    const base = normalizeHost(p.slice(2));
    if (!base || base.includes('*') || isIP(base)) throw new Error(`invalid host pattern "${raw}"`);
    return { text: `*.${base}`, exact: null, suffix: `.${base}` };
  }
  if (p.includes('*')) throw new Error(`invalid host pattern "${raw}": only a leading "*." wildcard is allowed`);
  const h = normalizeHost(p);
  if (!h) throw new Error(`invalid host pattern "${raw}"`);
  return { text: h, exact: h, suffix: null };
}

/** A set of patterns; `*.example.com` matches sub.example.com and a.b.example.com, not example.com. */
export class HostSet {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  readonly patterns: HostPattern[];

  constructor(patterns: Iterable<string>) {
    this.patterns = [];
    for (const raw of patterns) {
      const p = parseHostPattern(raw);
      this.patterns.push(p);
      if (p.exact) this.exact.add(p.exact);
      else if (p.suffix) this.suffixes.push(p.suffix);
    }
  }

  /** `host` must already be normalised. Returns the matching pattern text or null. */
  match(host: string): string | null {
    if (this.exact.has(host)) return host;
    for (const s of this.suffixes) if (host.length > s.length && host.endsWith(s)) return `*${s}`;
    return null;
  }
}
