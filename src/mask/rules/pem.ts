// PEM / OpenSSH / PGP private key blocks, raw multi-line or with \n escapes inside JSON strings.
// The block is committed once the BEGIN line and 32 base64 characters of body are seen; the rest
// of the block, up to and including the END line, is swallowed as it arrives.
import { distinct } from '../chars.js';
import { MAX_SWALLOW, MORE, NO, type Rule, type Swallow, type Verdict } from '../rule.js';

const LIT = '-----BEGIN ';
const COMMIT = 32;
const MAX_HEAD = 1024;

const isB64 = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 61;
const isLabel = (c: number) => (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 32;

export const pemRule: Rule = {
  name: 'private-key-pem',
  description: 'PEM, OpenSSH or PGP private key block (raw or \\n-escaped inside JSON), incl. GCP service-account private_key',
  family: 'prefix',
  triggers: [{ lit: LIT, boundary: 'none' }],
  match(view, c): Verdict {
    const { text, final } = view;
    const n = text.length;
    const more = () => (final ? NO : MORE);
    // label: "RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK", …
    let i = c + LIT.length;
    while (i < n && i - c < 64 && isLabel(text.charCodeAt(i))) i++;
    if (i === n) return more();
    const label = text.slice(c + LIT.length, i).trimEnd();
    if (!/PRIVATE KEY(?: BLOCK)?$/.test(label)) return NO;
    for (let k = 0; k < 5; k++, i++) {
      if (i === n) return more();
      if (text[i] !== '-') return NO;
    }
    // body: lines of base64, optional "Header: value" lines, newlines raw or escaped
    let line = '';
    let inHeader = false;
    let b64 = '';
    while (b64.length < COMMIT) {
      if (i - c > MAX_HEAD) return NO;
      if (i === n) {
        if (!final) return MORE;
        // cut off by the end of the input
        return b64.length >= 8 ? { t: 'hit', rule: 'private-key-pem', start: c, end: i, key: text.slice(c, i) } : NO;
      }
      const ch = text.charCodeAt(i);
      if (ch === 10 || ch === 13) {
        line = '';
        inHeader = false;
        i++;
      } else if (ch === 92) {
        let j = i;
        while (j < n && text.charCodeAt(j) === 92) j++;
        if (j === n) return more();
        const e = text[j];
        if (e !== 'n' && e !== 'r' && e !== 't') return NO;
        if (e !== 't') {
          line = '';
          inHeader = false;
        }
        i = j + 1;
      } else if (ch === 32 || ch === 9) i++;
      else if (inHeader) i++;
      else if (ch === 58 && /^[A-Za-z][A-Za-z-]*$/.test(line)) {
        // "Proc-Type: 4,ENCRYPTED": the name was counted as body; take it back
        b64 = b64.slice(0, b64.length - line.replace(/-/g, '').length);
        inHeader = true;
        i++;
      } else if (ch === 45 && /^[A-Za-z]+(?:-[A-Za-z]+)*$/.test(line)) {
        line += '-';
        i++;
      } else if (isB64(ch)) {
        line += text[i];
        b64 += text[i];
        i++;
      } else return NO;
    }
    if (distinct(b64) < 10) return NO;
    const swallow: Swallow = { kind: 'pem', left: MAX_SWALLOW, tail: '', endSeen: false, dashes: 0 };
    return { t: 'hit', rule: 'private-key-pem', start: c, end: i, key: text.slice(c, i), swallow };
  },
};

const inPemBody = (c: number) => isB64(c) || c === 32 || c === 9 || c === 10 || c === 13 || c === 92 || c === 45 || c === 58 || c === 44 || c === 46;

/** Consumes the rest of a committed PEM block from text[i]; returns the new index and whether it ended. */
export function swallowPem(s: Extract<Swallow, { kind: 'pem' }>, text: string, i: number): { i: number; done: boolean } {
  const n = text.length;
  while (i < n && s.left > 0) {
    const ch = text.charCodeAt(i);
    if (s.endSeen) {
      if (ch === 45) {
        s.dashes++;
        i++;
        s.left--;
        if (s.dashes === 5) return { i, done: true };
        continue;
      }
      if (s.dashes > 0 || !isLabel(ch)) return { i, done: true };
      i++;
      s.left--;
      continue;
    }
    if (!inPemBody(ch)) return { i, done: true };
    if (ch === 92) {
      // only an escaped line break belongs to the block; never leave half an escape behind
      if (i + 1 === n) return { i, done: false };
      const e = text[i + 1];
      if (e !== 'n' && e !== 'r' && e !== 't' && e !== '\\') return { i, done: true };
    }
    s.tail = (s.tail + text[i]).slice(-9);
    if (s.tail === '-----END ') s.endSeen = true;
    i++;
    s.left--;
  }
  return { i, done: s.left <= 0 };
}
