// JSON Web Tokens: header.payload.signature, base64url. Committed once 16 signature characters are
// seen, so the placeholder identity covers the signature (two tokens of one issuer differ there).
import { cls } from '../chars.js';
import { MAX_SWALLOW, MORE, NO, type Rule, type Verdict } from '../rule.js';

const b64url = cls('A-Za-z0-9_-');
const b64urlDot = cls('A-Za-z0-9_.-');
const SIG_COMMIT = 16;
/** JOSE headers are short; a longer first segment is not a JWT. */
const MAX_HEADER = 512;
/** Claims longer than this commit without waiting for the signature (bounds the hold-back). */
const MAX_CLAIMS = 2048;

function headerLooksJose(seg: string): boolean {
  try {
    const json = Buffer.from(seg, 'base64url').toString('latin1');
    return /^\{\s*"/.test(json) && /"(?:alg|typ|kid|enc|cty|x5t|jku)"/.test(json);
  } catch {
    return false;
  }
}

export const jwtRule: Rule = {
  name: 'jwt',
  description: 'JSON Web Token (eyJ….eyJ….signature)',
  family: 'prefix',
  triggers: [{ lit: 'eyJ', boundary: 'word' }],
  match(view, c): Verdict {
    const { text, final } = view;
    const n = text.length;
    const more = () => (final ? NO : MORE);
    let i = c;
    while (i < n && i - c < MAX_HEADER && b64url(text.charCodeAt(i))) i++;
    if (i - c >= MAX_HEADER) return NO;
    if (i === n) return more();
    if (text[i] !== '.' || i - c < 10) return NO;
    if (!headerLooksJose(text.slice(c, i))) return NO;
    const p = i + 1;
    let j = p;
    while (j < n && j - p < MAX_CLAIMS && b64url(text.charCodeAt(j))) j++;
    if (j - p >= MAX_CLAIMS) return { t: 'hit', rule: 'jwt', start: c, end: j, key: text.slice(c, j), swallow: { kind: 'class', test: b64urlDot, left: MAX_SWALLOW } };
    if (j === n) {
      if (!final) return MORE;
      // cut off by the end of the input: a header and the start of the claims
      return j - p >= 4 ? { t: 'hit', rule: 'jwt', start: c, end: j, key: text.slice(c, j) } : NO;
    }
    if (text[j] !== '.' || j - p < 10) return NO;
    const s = j + 1;
    let k = s;
    while (k < n && k - s < SIG_COMMIT && b64url(text.charCodeAt(k))) k++;
    if (k - s >= SIG_COMMIT) {
      return { t: 'hit', rule: 'jwt', start: c, end: k, key: text.slice(c, k), swallow: { kind: 'class', test: b64url, left: MAX_SWALLOW } };
    }
    if (k === n && !final) return MORE;
    // unsigned (alg "none") or short signature: the token ends here
    return { t: 'hit', rule: 'jwt', start: c, end: k, key: text.slice(c, k) };
  },
};
