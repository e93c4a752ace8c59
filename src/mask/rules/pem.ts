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
      } else if (ch === 32 || ch === 9 || (line === '' && (ch === 62 || ch === 35 || ch === 42 || ch === 59))) i++;
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
    const swallow: Swallow = { kind: 'pem', left: MAX_SWALLOW, state: 'mid' };
    return { t: 'hit', rule: 'private-key-pem', start: c, end: i, key: text.slice(c, i), swallow };
  },
};

const B64_LINE = /^[A-Za-z0-9+/=]*[ \t]*$/;
const HEADER_LINE = /^[A-Za-z][A-Za-z0-9-]*: /;
const END_LINE = /^-----END [A-Z0-9 ]*-----/;
/** Comment or quote markers that may start every line of a pasted key ("> ", "# ", " * ", "// "). */
const LINE_PREFIX = /^[>#*;/ \t]*/;
const MAX_LINE = 256;

/**
 * Consumes the rest of a committed PEM block from text[i], line by line: the rest of the current
 * base64 line, then whole lines that are base64, armor headers or empty, up to and including the
 * END line. A line that is none of these (prose after a truncated key) ends the block. A line is
 * judged once it is complete, so the swallow may wait at a line start (at most MAX_LINE chars).
 */
export function swallowPem(s: Extract<Swallow, { kind: 'pem' }>, text: string, i: number, final: boolean): { i: number; done: boolean } {
  const n = text.length;
  for (;;) {
    if (s.left <= 0) return { i, done: true };
    if (s.state === 'mid') {
      const i0 = i;
      while (i < n && isB64(text.charCodeAt(i))) i++;
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      s.left -= i - i0;
      if (i === n) return { i, done: final };
      const c = text[i];
      if (c !== '\n' && c !== '\r' && c !== '\\') return { i, done: true };
      s.state = 'term';
    } else if (s.state === 'term') {
      const c = text[i];
      if (c === '\n' || c === '\r') {
        i++;
        s.left--;
      } else {
        let j = i;
        while (j < n && text[j] === '\\') j++;
        if (j === n) return { i, done: final };
        const e = text[j];
        if (e !== 'n' && e !== 'r' && e !== 't') return { i, done: true };
        s.left -= j + 1 - i;
        i = j + 1;
      }
      s.state = 'start';
      if (i === n) return { i, done: final };
    } else {
      let j = i;
      while (j < n && j - i <= MAX_LINE) {
        const c = text.charCodeAt(j);
        if (c === 10 || c === 13 || c === 92) break;
        j++;
      }
      if (j - i > MAX_LINE) return { i, done: true };
      if (j === n && !final) return { i, done: false };
      const line = text.slice(i, j);
      const prefix = LINE_PREFIX.exec(line)![0].length;
      const body = line.slice(prefix);
      const end = END_LINE.exec(body);
      if (end) return { i: i + prefix + end[0].length, done: true };
      if (!B64_LINE.test(body) && !HEADER_LINE.test(body)) return { i, done: true };
      s.left -= j - i;
      i = j;
      if (i === n) return { i, done: true };
      s.state = 'term';
    }
  }
}
