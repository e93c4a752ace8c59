// Character classes as 128-entry lookup tables (rule bodies are ASCII), plus small text tests
// the rules share. Kept allocation-free on the hot path.

export type CharTest = (code: number) => boolean;

/** Builds a test from a class spec such as 'A-Za-z0-9_-' (ranges and literal characters). */
export function cls(spec: string): CharTest {
  const table = new Uint8Array(128);
  for (let i = 0; i < spec.length; i++) {
    const a = spec.charCodeAt(i);
    if (spec[i + 1] === '-' && i + 2 < spec.length) {
      const b = spec.charCodeAt(i + 2);
      for (let c = a; c <= b; c++) table[c] = 1;
      i += 2;
    } else table[a] = 1;
  }
  return (code) => code < 128 && table[code] === 1;
}

export const isAlnum = cls('A-Za-z0-9');
export const isUpper = (c: number) => c >= 65 && c <= 90;
export const isLower = (c: number) => c >= 97 && c <= 122;
export const isDigit = (c: number) => c >= 48 && c <= 57;
export const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
export const isIdent = cls('A-Za-z0-9_.-');

/** Number of character classes present among upper, lower, digit. */
export function classCount(s: string): number {
  let u = 0,
    l = 0,
    d = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isUpper(c)) u = 1;
    else if (isLower(c)) l = 1;
    else if (isDigit(c)) d = 1;
  }
  return u + l + d;
}

const seen = new Uint8Array(128);
/** Number of distinct characters (ASCII counted exactly, the rest approximately by code unit). */
export function distinct(s: string): number {
  let k = 0;
  let other: Set<number> | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) {
      if (!seen[c]) (seen[c] = 1), k++;
    } else (other ??= new Set()).add(c);
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) seen[c] = 0;
  }
  return k + (other?.size ?? 0);
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  if (!s.length) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

// Visible markers of documentation filler that no generated key contains by chance.
const FILLER = /x{4}|\*{3}|\.{3}|…|#{4}|<|>|\$\{|\{\{|your|0{6}/i;

/** True when a candidate body looks like filler rather than random key material. */
export function looksFiller(s: string): boolean {
  return FILLER.test(s) || distinct(s) < Math.min(6, Math.ceil(s.length / 3));
}

/** Strong-prefix body check: random-looking, at least two character classes. */
export function randomBody(s: string, minClasses = 2): boolean {
  return !looksFiller(s) && classCount(s) >= minClasses;
}

/**
 * Markers of documented example or template values, applied only by the keyword-anchored rules
 * (generic assignments, AWS secret, Azure key …). Prefix rules do not use them: a key with a
 * strong prefix is masked even when it ends in EXAMPLE (see README: AKIAIOSFODNN7EXAMPLE).
 */
const EXAMPLE_MARKERS =
  /example|\*{3}|\.{3}|…|your[-_]?|<[^>]*>|\$\{|\{\{|%\(|%s\b|^\$|placeholder|changeme|change[-_]me|replace[-_]?me|redacted|dummy|sample|insert[-_]|todo|^\{.*\}$|\[masked|fixme/i;

export function hasExampleMarker(v: string): boolean {
  // xxx / XXX filler, case-sensitive: random key material has "xxX" now and then
  return EXAMPLE_MARKERS.test(v) || /xxx|XXX/.test(v);
}

/** Words used as stand-ins for a value in docs and configs. */
const PLACEHOLDER_WORDS = new Set([
  'password', 'passwd', 'pass', 'pwd', 'secret', 'token', 'apikey', 'api_key', 'api-key', 'key',
  'null', 'none', 'nil', 'undefined', 'true', 'false', 'yes', 'no', 'empty', 'required', 'optional',
  'string', 'hidden', 'masked', 'test', 'testing', 'default', 'value', 'admin', 'root', 'user',
  'username', 'guest', 'foo', 'bar', 'baz', 'foobar', 'qwerty', 'letmein', 'secret123',
  'password1', 'password123', 'x-oauth-basic', 'x-access-token', 'oauth2', 'bearer', 'basic',
  'env', 'environment', 'os.environ', 'process.env', 'getenv', 'str', 'int', 'bool', 'any',
]);

export function isPlaceholderWord(v: string): boolean {
  return PLACEHOLDER_WORDS.has(v.toLowerCase());
}

/**
 * A value that reads like a name or version ("gpt-4o-mini", "my-app-secret-v2", "ModelLoader")
 * rather than key material: every segment is a lower-case, Capitalised, PascalCase or upper-case
 * word, a number, or a short mix such as "v2".
 */
export function looksLikeName(v: string): boolean {
  const segs = v.split(/[-_./:@ ]+/).filter(Boolean);
  if (!segs.length) return true;
  return segs.every(
    (s) =>
      s.length <= 3 ||
      /^\d+$/.test(s) ||
      /^[a-z]+\d{0,2}$/.test(s) ||
      /^(?:[A-Z][a-z]+)+\d{0,2}$/.test(s) ||
      /^[a-z]+(?:[A-Z][a-z]{2,})+\d{0,2}$/.test(s) ||
      /^[A-Z]{1,8}(?:[A-Z][a-z]+)*$/.test(s),
  );
}

const WORD = /[A-Z]{2,}(?=[A-Z][a-z]|[0-9_$]|$)|[A-Z]?[a-z]+|[0-9]+|[A-Z]|[_$]+/g;

/**
 * An identifier made of words (azureADTokenProvider, BetaAuthResponse, DEFAULT_TIMEOUT_MS): its
 * letter words are mostly 3+ letters and it has few acronyms. Random key material splits into
 * many one- and two-letter pieces instead.
 */
export function looksLikeIdentifier(v: string): boolean {
  if (!/^[A-Za-z_$][\w$]*$/.test(v)) return false;
  let short = 0;
  let words = 0;
  let digits = 0;
  for (const w of v.match(WORD) ?? []) {
    if (/^[_$]+$/.test(w)) continue;
    if (/^\d+$/.test(w)) {
      digits++;
      continue;
    }
    words++;
    if (w.length < 3) short++;
  }
  return words > 0 && digits <= 1 && short <= Math.max(1, Math.floor(words / 4));
}

/**
 * Stricter than looksLikeIdentifier, for quoted values: camelCase, PascalCase or snake_case words
 * of 3+ letters (customErrorKey, MySuperSecretValue), at most two acronyms, digits only at the end.
 */
export function looksLikeWords(v: string): boolean {
  if (!/^[A-Za-z][A-Za-z_]*\d{0,2}$/.test(v)) return false;
  let acronyms = 0;
  for (const w of v.replace(/\d+$/, '').match(WORD) ?? []) {
    if (/^_+$/.test(w)) continue;
    if (w.length < 3) return false;
    if (/^[A-Z]+$/.test(w) && ++acronyms > 2) return false;
  }
  return true;
}

/** Unquoted code that refers to a value instead of containing it. */
export function looksLikeReference(value: string): boolean {
  const v = value.startsWith('!') ? value.slice(1) : value; // !flag, !obj.prop
  return (
    (/^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+$/.test(v) && v.split(/\??\./).every((s) => s.length <= 32 && (s.length <= 12 || looksLikeIdentifier(s)))) || // process.env.X, self.password, opts?.key (not <14>.atlasv1.<random>)
    /^[A-Z][A-Z0-9_]*$/.test(v) || // ENV_NAME
    (/^[a-z_][a-z_]*$/.test(v) && (v.includes('_') || v.length <= 12)) || // snake or short lower identifier
    /^[a-z]+(?:[A-Z][a-z]+)+$/.test(v) // camelCase identifier
  );
}
