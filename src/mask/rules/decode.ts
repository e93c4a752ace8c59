// Decoders for the common wrappings of a secret: base64 (Kubernetes Secret data, CI variables
// holding a key file, .dockerconfigjson) and \uXXXX escapes (serializers that escape every or
// some characters). The decoded form is scanned with the whole catalog (view.probe); when it holds
// a secret, the ENCODED span is masked, under the decoded secret's rule name. URL-encoding is read
// in place by the rules themselves (%XX inside token bodies, Bearer tokens and assignment values).
import { TOKEN_SPECS } from './tokens.js';
import { MAX_SWALLOW, MORE, NO, type Rule, type Verdict } from '../rule.js';

const isB64 = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 61 || c === 45 || c === 95;
/** Base64 characters read before deciding; a longer run commits on its head and swallows the rest. */
const B64_COMMIT = 256;
const MIN_B64 = 16;

/**
 * The base64 characters fully determined by `s` at the start of a base64 string: floor(8·len/6).
 * A base64 value that starts with "ghp_" starts with "Z2hwX", whatever follows.
 */
export function base64Stem(s: string): string {
  const b = Buffer.from(s).toString('base64');
  return b.slice(0, Math.floor((Buffer.byteLength(s) * 8) / 6));
}

/** Plain-text starts worth decoding: every token prefix, PEM blocks, JSON documents (key files). */
function base64Triggers(): string[] {
  const plain = new Set<string>(['-----BEGIN ', '{\n  "', '{\n    "', '{\r\n  "', '{"type":', '{"auths":', '{ "', 'eyJ', 'https://', 'http://']);
  for (const spec of TOKEN_SPECS) for (const p of spec.prefixes) if (p.length >= 3 && !spec.ci) plain.add(p);
  const stems = new Set<string>();
  for (const p of plain) {
    const s = base64Stem(p);
    if (s.length >= 4) stems.add(s);
  }
  return [...stems];
}

/** Mostly printable text (a decoded key file or token), not binary. */
function printable(s: string): boolean {
  let bad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffd) bad++;
  }
  return bad <= s.length / 50;
}

function decodeBase64(run: string): string {
  const clean = run.replace(/=+$/, '');
  const usable = clean.length - (clean.length % 4 === 1 ? 1 : 0);
  return Buffer.from(clean.slice(0, usable).replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
}

export const base64Rule: Rule = {
  name: 'base64-encoded-secret',
  description: 'A secret inside base64 (Kubernetes Secret data, base64 key files in CI variables): the encoded value is masked',
  family: 'prefix',
  triggers: base64Triggers().map((lit) => ({ lit, boundary: 'word' as const })),
  match(view, c): Verdict {
    const { text, final } = view;
    const n = text.length;
    let i = c;
    while (i < n && i - c < B64_COMMIT && isB64(text.charCodeAt(i))) i++;
    const committing = i - c >= B64_COMMIT;
    if (i === n && !final && !committing) return MORE;
    if (i - c < MIN_B64) return NO;
    // a cut-off run decodes only its whole quanta
    const run = text.slice(c, committing ? c + B64_COMMIT : i);
    const decoded = decodeBase64(run);
    if (!printable(decoded)) return NO;
    const hit = view.probe(decoded)[0];
    if (!hit) return NO;
    const rule = hit.rule;
    if (committing) return { t: 'hit', rule, start: c, end: i, key: run, swallow: { kind: 'class', test: isB64, left: MAX_SWALLOW } };
    return { t: 'hit', rule, start: c, end: i, key: run };
  },
};

/** Standard base64 (Kubernetes Secret data, `base64` output): what a value may hold. */
const isStdB64 = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
/** Shortest value worth decoding (15 bytes): shorter ones hold no secret of interest. */
const MIN_VALUE_B64 = 20;
/** How far back the key of a value may start (within the scanner's lookbehind). */
const MAX_KEY = 64;
/**
 * `key` (YAML, optionally quoted) or `NAME` / `export NAME` (env) at a line start: after a
 * newline or a `\n` escape seen within MAX_KEY characters (never the start of the text, which
 * in a stream may be the middle of a line).
 */
const YAML_KEY = /(?:\n|\\n|\\r)[ \t]*(?:- )?["']?[A-Za-z0-9_.-]{1,48}["']?$/;
const ENV_NAME = /(?:\n|\\n|\\r)[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** Whether a value ends at text[i]: the end of a line (also a `\n` escape), or its closing quote. */
function valueEnds(text: string, i: number, quote: string): boolean {
  const ch = text[i]!;
  if (quote) return ch === quote;
  return ch === '\n' || ch === '\r' || ch === '\\' || ch === ' ' || ch === '\t';
}

/**
 * A base64 value of a key at a line start (`token: <b64>` under a Kubernetes Secret's `data:`,
 * `CREDS_B64=<b64>` in a CI file), whatever it encodes: decoded and scanned with the whole
 * catalog, so that a secret without a prefix (an Entra ID client secret, a MaxMind key) is found
 * in its encoded form. The decode itself is a strong filter: text that is not base64 of
 * printable text (an identifier, a hash, an image) is never scanned.
 */
export const base64ValueRule: Rule = {
  name: 'base64-encoded-secret',
  description: 'A base64 value of a YAML key or environment variable (Kubernetes Secret data) that decodes to a secret',
  family: 'prefix',
  triggers: [
    { lit: ': ', boundary: 'none' },
    { lit: '=', boundary: 'none' },
  ],
  match(view, c): Verdict {
    const { text, final } = view;
    const n = text.length;
    const op = text[c] === '=' ? 1 : 2;
    // cheap tests first: '=' and ': ' are everywhere in code
    const k = text.charCodeAt(c - 1);
    if (!(isStdB64(k) || k === 95 || k === 34 || k === 39 || k === 46 || k === 45)) return NO;
    const f = text.charCodeAt(c + op);
    if (c + op < n && !(isStdB64(f) || f === 34 || f === 39)) return NO;
    const before = text.slice(Math.max(0, c - MAX_KEY), c);
    if (!(op === 2 ? YAML_KEY : ENV_NAME).test(before)) return NO;
    let v = c + op;
    if (v >= n) return final ? NO : MORE;
    const quote = text[v] === '"' || text[v] === "'" ? text[v]! : '';
    if (quote) v++;
    let i = v;
    while (i < n && i - v < B64_COMMIT && isStdB64(text.charCodeAt(i))) i++;
    const committing = i - v >= B64_COMMIT;
    let e = i;
    if (!committing) {
      while (e < n && e - i < 2 && text.charCodeAt(e) === 61) e++;
      if (e === n && !final) return MORE;
      if (e < n && !valueEnds(text, e, quote)) return NO;
      if (e - v < MIN_VALUE_B64 || (e - v) % 4 !== 0) return NO;
    }
    const run = text.slice(v, committing ? v + B64_COMMIT : e);
    const decoded = decodeBase64(run);
    if (!printable(decoded) || !/[!-~]{8}/.test(decoded)) return NO;
    const hit = view.probe(decoded)[0];
    if (!hit) return NO;
    if (committing) return { t: 'hit', rule: hit.rule, start: v, end: i, key: run, swallow: { kind: 'class', test: isB64, left: MAX_SWALLOW } };
    return { t: 'hit', rule: hit.rule, start: v, end: e, key: run };
  },
};

const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
/** Characters that may sit between escapes in a partly escaped value (Go escapes only <, >, &). */
const plainInRun = (c: number) => c > 32 && c !== 34 && c !== 39 && c !== 92 && c !== 96 && c !== 127;
const MAX_ESCAPED = 4096;

export const unicodeEscapeRule: Rule = {
  name: 'unicode-escaped-secret',
  description: 'A secret written with \\uXXXX escapes (also escaped again inside JSON strings): the escaped value is masked',
  family: 'prefix',
  // one backslash, or escaped again inside a JSON string (2), or twice (4)
  triggers: ['\\u', '\\\\u', '\\\\\\u', '\\\\\\\\u'].map((lit) => ({ lit, boundary: 'none' as const })),
  match(view, c): Verdict {
    const { text, final } = view;
    const n = text.length;
    // inside a longer escape: the position of its first backslash decides
    if (c > 0 && text.charCodeAt(c - 1) === 92) return NO;
    let b = 0;
    while (c + b < n && text.charCodeAt(c + b) === 92) b++;
    const unit = b + 5; // \uXXXX or \\uXXXX
    let i = c;
    let decoded = '';
    let escapes = 0;
    let cut = false;
    while (i < n && i - c < MAX_ESCAPED) {
      if (text.charCodeAt(i) === 92) {
        let k = i;
        while (k < n && k - i < b && text.charCodeAt(k) === 92) k++;
        if (k === n) {
          cut = true;
          break;
        }
        if (k - i !== b || text[k] !== 'u') break;
        let h = k + 1;
        while (h < n && h - k <= 4 && isHex(text.charCodeAt(h))) h++;
        if (h - k - 1 < 4) {
          cut = h === n;
          break;
        }
        decoded += String.fromCharCode(parseInt(text.slice(k + 1, k + 5), 16));
        escapes++;
        i += unit;
      } else if (plainInRun(text.charCodeAt(i))) {
        decoded += text[i];
        i++;
      } else break;
    }
    if (i - c >= MAX_ESCAPED) return NO;
    if ((cut || i === n) && !final) return MORE; // the run (or an escape) may go on
    if (escapes < 4) return NO;
    // the key before the value, so that keyword rules can judge it ("TOKEN":"\u0067…")
    const line = text.lastIndexOf('\n', c - 1) + 1;
    const before = text.slice(Math.max(line, c - 64), c);
    const after = text.slice(i, i + b);
    const hits = view.probe(before + decoded + after);
    const hit = hits.find((h) => h.start >= before.length && h.start < before.length + decoded.length);
    if (!hit) return NO;
    return { t: 'hit', rule: hit.rule, start: c, end: i, key: text.slice(c, i) };
  },
};
