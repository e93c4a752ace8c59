// Host names and host patterns: one normal form for both sides of every comparison.
//
// Pattern syntax (intercept, tunnel, allow_private, hosts:, rules' match.hosts):
// - `api.openai.com`: that host only.
// - `*.openai.azure.com`: a leading whole label `*.` stands for one or more labels (a.openai.azure.com,
//   a.b.openai.azure.com), never the bare suffix.
// - `*-aiplatform.googleapis.com`, `bedrock-runtime.*.amazonaws.com`: a `*` inside any other label matches
//   a run of letters, digits, `-` and `_` within that one label (possibly none), never a dot: the pattern
//   and the host have the same number of labels. The two rightmost labels (the registrable part, e.g.
//   `googleapis.com`) must be literal, so a pattern can never reach into someone else's domain.
// Both sides are lower-cased, stripped of one trailing dot and compared as punycode. A wildcard never
// matches an IP address.
import { domainToASCII } from 'node:url';
import { isIP } from 'node:net';
import { globMatch } from './glob.js';

const LABEL = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;
const WILD_LABEL = /^[a-z0-9_*-]+$/;

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
    if (!LABEL.test(l)) return null;
  }
  return ascii;
}

export interface HostPattern {
  /** The pattern as normalised: `api.openai.com`, `*.openai.azure.com` or `*-aiplatform.googleapis.com`. */
  text: string;
  exact: string | null;
  /** For `*.` patterns without any other `*`: the suffix including its leading dot, e.g. `.openai.azure.com`. */
  suffix: string | null;
  /**
   * For patterns with a `*` inside a label: the labels after any leading `*.`, each literal or a label glob,
   * and whether a leading `*.` asks for one or more labels in front.
   */
  labels: { parts: string[]; anyPrefix: boolean } | null;
}

/** How specific a pattern is, for merging `hosts:` settings: exact entries win over infix, infix over `*.`. */
export function specificity(p: HostPattern): number {
  if (p.exact) return 2;
  return p.labels && !p.labels.anyPrefix ? 1 : 0;
}

function invalid(raw: string, why?: string): Error {
  return new Error(`invalid host pattern "${raw}"${why ? `: ${why}` : ''}`);
}

/** One literal label in punycode (a lone label, so "2" stays a label and is not read as an IPv4 address). */
function normalizeLabel(raw: string, l: string): string {
  const n = LABEL.test(l) ? l : domainToASCII(l);
  if (!n || n.length > 63 || !LABEL.test(n)) throw invalid(raw, `label "${l}" is not a valid host label`);
  return n;
}

/** Normalises the labels of a pattern that has a `*` inside some label; throws on anything else. */
function parseInfix(raw: string, rest: string, anyPrefix: boolean): HostPattern {
  let body = rest.toLowerCase();
  if (body.endsWith('.')) body = body.slice(0, -1);
  const labels = body.split('.');
  if (labels.length < 3) throw invalid(raw, 'a "*" inside a label needs two literal labels to its right (e.g. "*-aiplatform.googleapis.com")');
  const parts = labels.map((l, i) => {
    if (!l.includes('*')) return normalizeLabel(raw, l);
    if (i >= labels.length - 2) throw invalid(raw, 'the two rightmost labels must be literal (no "*")');
    if (!WILD_LABEL.test(l) || l.length > 63) throw invalid(raw, `label "${l}": a "*" label may only hold letters, digits, "-", "_" and "*"`);
    if (l.includes('**')) throw invalid(raw, `label "${l}": "**" is not allowed (a "*" never crosses a dot)`);
    return l;
  });
  return { text: `${anyPrefix ? '*.' : ''}${parts.join('.')}`, exact: null, suffix: null, labels: { parts, anyPrefix } };
}

/** Parses an exact host, a `*.suffix` wildcard, or a pattern with `*` inside labels; anything else is an error. */
export function parseHostPattern(raw: string): HostPattern {
  const p = raw.trim();
  const anyPrefix = p.startsWith('*.');
  const rest = anyPrefix ? p.slice(2) : p;
  if (rest.includes('*')) return parseInfix(raw, rest, anyPrefix);
  if (anyPrefix) {
    const base = normalizeHost(rest);
    if (!base || isIP(base)) throw invalid(raw);
    return { text: `*.${base}`, exact: null, suffix: `.${base}`, labels: null };
  }
  const h = normalizeHost(p);
  if (!h) throw invalid(raw);
  return { text: h, exact: h, suffix: null, labels: null };
}

/** One host label against one pattern label: literal equality, or a glob matched against a valid label only (so `*` eats label characters, never `.`, `/`, `@`…). */
function labelMatches(pattern: string, label: string): boolean {
  if (!pattern.includes('*')) return pattern === label;
  return LABEL.test(label) && globMatch(pattern, label);
}

/** Whether a normalised, non-IP host matches a pattern with `*` inside labels. */
function labelsMatch(p: { parts: string[]; anyPrefix: boolean }, host: string): boolean {
  const labels = host.split('.');
  const extra = labels.length - p.parts.length;
  if (p.anyPrefix ? extra < 1 : extra !== 0) return false;
  for (let i = 0; i < p.parts.length; i++) if (!labelMatches(p.parts[i]!, labels[extra + i]!)) return false;
  return true;
}

/** A set of patterns; `*.example.com` matches sub.example.com and a.b.example.com, not example.com. */
export class HostSet {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly infix: HostPattern[] = [];
  readonly patterns: HostPattern[];

  constructor(patterns: Iterable<string>) {
    this.patterns = [];
    for (const raw of patterns) {
      const p = parseHostPattern(raw);
      this.patterns.push(p);
      if (p.exact) this.exact.add(p.exact);
      else if (p.suffix) this.suffixes.push(p.suffix);
      else this.infix.push(p);
    }
  }

  /** `host` must already be normalised. Returns the matching pattern text or null. */
  match(host: string): string | null {
    if (this.exact.has(host)) return host;
    if (isIP(host)) return null;
    for (const p of this.infix) if (labelsMatch(p.labels!, host)) return p.text;
    for (const s of this.suffixes) if (host.length > s.length && host.endsWith(s)) return `*${s}`;
    return null;
  }
}
