// JSON Web Tokens: header.payload.signature, base64url. Committed once 16 signature characters are
// seen, so the placeholder identity covers the signature (two tokens of one issuer differ there).
import { cls } from '../chars.js';
import { MAX_SWALLOW, MORE, NO, type Rule, type Verdict } from '../rule.js';

const b64url = cls('A-Za-z0-9_-');
const SIG_COMMIT = 16;
const MAX_SEG = 8192;

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
    while (i < n && i - c < MAX_SEG && b64url(text.charCodeAt(i))) i++;
    if (i === n) return more();
    if (text[i] !== '.' || i - c < 10 || i - c >= MAX_SEG) return NO;
    if (!headerLooksJose(text.slice(c, i))) return NO;
    const p = i + 1;
    let j = p;
    while (j < n && j - p < MAX_SEG && b64url(text.charCodeAt(j))) j++;
    if (j === n) return j - p >= MAX_SEG ? NO : more();
    if (text[j] !== '.' || j - p < 10 || j - p >= MAX_SEG) return NO;
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
