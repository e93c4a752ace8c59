// HTTP authorization schemes: "Bearer <token>" and "Basic <base64 user:password>".
import { classCount, cls, entropy, hasExampleMarker, looksFiller, looksLikeName } from '../chars.js';
import { MAX_SWALLOW, MORE, NO, type Rule, type Verdict } from '../rule.js';

// RFC 6750's b64token plus what real tokens and secrets pasted as tokens contain (%, :, and the
// symbols of framework secret keys); the token ends at whitespace, a quote, a backslash, , or ;
const tokenChar = (c: number) => c > 32 && c < 127 && c !== 34 && c !== 39 && c !== 96 && c !== 92 && c !== 44 && c !== 59 && c !== 60 && c !== 62;
const b64Char = cls('A-Za-z0-9+/=');
const BEARER_COMMIT = 64;

function afterScheme(text: string, c: number, len: number, final: boolean): number | 'more' | 'no' {
  let i = c + len;
  const n = text.length;
  if (i === n) return final ? 'no' : 'more';
  if (text[i] !== ' ' && text[i] !== '\t') return 'no';
  while (i < n && (text[i] === ' ' || text[i] === '\t') && i - c - len < 4) i++;
  if (i === n) return final ? 'no' : 'more';
  return i;
}

export function bearerLooksSecret(v: string): boolean {
  return v.length >= 16 && classCount(v) >= 2 && !looksFiller(v) && !hasExampleMarker(v) && entropy(v) >= 3 && !looksLikeName(v);
}

export const bearerRule: Rule = {
  name: 'bearer-token',
  description: 'Bearer token after an Authorization scheme (Bearer <token>)',
  family: 'prefix',
  triggers: [{ lit: 'bearer', ci: true, boundary: 'word' }],
  match(view, c): Verdict {
    const { text, final } = view;
    const t0 = afterScheme(text, c, 6, final);
    if (t0 === 'more') return MORE;
    if (t0 === 'no') return NO;
    // a token of a known format gets its own rule
    const inner = view.prefixAt(t0);
    if (inner.t === 'more') return MORE;
    if (inner.t === 'hit') return NO;
    const n = text.length;
    let i = t0;
    while (i < n && i - t0 < BEARER_COMMIT && tokenChar(text.charCodeAt(i))) i++;
    const tok = text.slice(t0, i);
    if (i - t0 >= BEARER_COMMIT) {
      if (!bearerLooksSecret(tok)) return NO;
      return { t: 'hit', rule: 'bearer-token', start: t0, end: i, key: tok, swallow: { kind: 'class', test: tokenChar, left: MAX_SWALLOW } };
    }
    if (i === n && !final) return MORE;
    if (!bearerLooksSecret(tok)) return NO;
    return { t: 'hit', rule: 'bearer-token', start: t0, end: i, key: tok };
  },
};

export const basicRule: Rule = {
  name: 'basic-auth',
  description: 'HTTP Basic credentials (Basic <base64 of user:password>)',
  family: 'prefix',
  triggers: [{ lit: 'basic', ci: true, boundary: 'word' }],
  match(view, c): Verdict {
    const { text, final } = view;
    const t0 = afterScheme(text, c, 5, final);
    if (t0 === 'more') return MORE;
    if (t0 === 'no') return NO;
    const n = text.length;
    let i = t0;
    while (i < n && i - t0 <= 512 && b64Char(text.charCodeAt(i))) i++;
    if (i === n && !final) return i - t0 > 512 ? NO : MORE;
    const tok = text.slice(t0, i);
    if (tok.length < 8 || tok.length > 512 || /[A-Za-z0-9]/.test(text[i] ?? '')) return NO;
    const plain = Buffer.from(tok, 'base64').toString('latin1');
    const colon = plain.indexOf(':');
    if (!/^[\x20-\x7e]+$/.test(plain) || colon < 0 || colon === plain.length - 1) return NO;
    const pw = plain.slice(colon + 1);
    if (hasExampleMarker(pw) || /^(password|pass|secret)$/i.test(pw)) return NO;
    return { t: 'hit', rule: 'basic-auth', start: t0, end: i, key: tok };
  },
};
