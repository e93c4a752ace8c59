// Token rules: a literal prefix followed by a run of body characters ("ghp_" + 36 alphanumerics).
import { cls, isAlnum, looksFiller, randomBody, type CharTest } from '../chars.js';
import { MAX_SWALLOW, MORE, NO, startsAt, type Boundary, type Rule, type Verdict } from '../rule.js';

export interface TokenSpec {
  name: string;
  description: string;
  /** Prefix literals; the longest one that matches is used. */
  prefixes: string[];
  /** Body character class, e.g. 'A-Za-z0-9_-'. */
  body: string;
  min: number;
  max?: number;
  /**
   * Early commit: once this many body characters are seen (and pass commitCheck), the token is
   * masked at once and the rest of its body is swallowed as it arrives. For strong prefixes only.
   */
  commit?: number;
  /** Validates the whole body (or the committed head). Default: random-looking, ≥2 classes. */
  check?: (body: string) => boolean;
  boundary?: Boundary;
  /** Keep the prefix visible and mask only the body (URL paths such as Slack webhooks). */
  keepPrefix?: boolean;
  ci?: boolean;
  /** Characters that may not follow the token. Default: alphanumerics. */
  after?: CharTest;
  /**
   * Mask a token cut off by the end of the input (a stream that ended in an error) once it has
   * TRUNCATED_MIN body characters. Default: rules with early commit (strong prefixes).
   */
  truncated?: boolean;
}

/** Body characters a token cut off by the end of the input needs to be masked anyway. */
export const TRUNCATED_MIN = 4;

const defaultCheck = (b: string) => randomBody(b);
/** A cut-off body: anything but filler or lower-case words ("sk-learn" at the end of a file). */
const truncatedBody = (b: string) => !looksFiller(b) && !/^[a-z_-]+$/.test(b);

const isHexDigit = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/**
 * Characters of token body at text[i]: 1, or 3 for a URL-encoded body character (%2B, %3D in a
 * query string or form body), 0 at the end of the body, -1 for an escape cut off by the end.
 */
export function bodyStep(text: string, i: number, body: CharTest): number {
  const c = text.charCodeAt(i);
  if (body(c)) return 1;
  if (c !== 37) return 0;
  if (i + 2 >= text.length) return i + 1 < text.length && !isHexDigit(text.charCodeAt(i + 1)) ? 0 : -1;
  if (!isHexDigit(text.charCodeAt(i + 1)) || !isHexDigit(text.charCodeAt(i + 2))) return 0;
  return body(parseInt(text.slice(i + 1, i + 3), 16)) ? 3 : 0;
}

/** The swallow class of a committed token also takes the % of URL-encoded body characters. */
const withPercent = (body: CharTest): CharTest => (c) => body(c) || c === 37;

export function tokenRule(spec: TokenSpec): Rule {
  const body = cls(spec.body);
  const prefixes = [...spec.prefixes].map((p) => (spec.ci ? p.toLowerCase() : p)).sort((a, b) => b.length - a.length);
  const check = spec.check ?? defaultCheck;
  const after = spec.after ?? isAlnum;
  const max = spec.max ?? Infinity;
  const boundary = spec.boundary ?? 'word';
  const truncated = spec.truncated ?? spec.commit !== undefined;
  return {
    name: spec.name,
    description: spec.description,
    family: 'prefix',
    triggers: prefixes.map((lit) => ({ lit, ci: spec.ci ?? false, boundary })),
    match(view, c): Verdict {
      const { text, final } = view;
      const n = text.length;
      const lit = prefixes.find((l) => startsAt(text, c, l, spec.ci ?? false));
      if (lit === undefined) return NO;
      const p = c + lit.length;
      const cap = spec.commit ?? (max === Infinity ? MAX_SWALLOW : max + 1);
      let i = p;
      for (;;) {
        if (i >= n || i - p >= cap) break;
        const k = bodyStep(text, i, body);
        if (k < 0) return final ? NO : MORE; // a %XX escape cut off by the end of the chunk
        if (k === 0) break;
        i += k;
      }
      const run = i - p;
      const start = spec.keepPrefix ? p : c;
      if (spec.commit !== undefined && run >= spec.commit) {
        if (!check(text.slice(p, i))) return NO;
        return { t: 'hit', rule: spec.name, start, end: i, key: text.slice(start, i), swallow: { kind: 'class', test: withPercent(body), left: MAX_SWALLOW } };
      }
      if (run > max) return NO;
      if (i === n) {
        if (!final) return MORE;
        if (run < spec.min && truncated && run >= TRUNCATED_MIN && truncatedBody(text.slice(p, i)))
          return { t: 'hit', rule: spec.name, start, end: i, key: text.slice(start, i) };
      } else if (after(text.charCodeAt(i)) && !body(text.charCodeAt(i))) return NO;
      if (run < spec.min) return NO;
      if (!check(text.slice(p, i))) return NO;
      return { t: 'hit', rule: spec.name, start, end: i, key: text.slice(start, i) };
    },
  };
}
