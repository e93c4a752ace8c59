// Secrets recognised by a marker inside them rather than a prefix. Microsoft Entra ID (Azure AD)
// client secrets have three characters, a digit and "Q~" before 31-34 more (gitleaks
// azure-ad-client-secret, learn.microsoft.com sit-defn-azure-ad-client-secret). The trigger is
// "Q~"; the four characters before it are kept unreleased by holdTail while a text ends in
// something that could still become such a start, so the whole secret can be masked.
import { classCount, looksFiller } from '../chars.js';
import { MORE, NO, type Rule, type Verdict } from '../rule.js';

const isHead = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 126 || c === 46;
const isBody = (c: number) => isHead(c) || c === 45;
const isDigit = (c: number) => c >= 48 && c <= 57;

/** gitleaks' boundary before the secret (start, whitespace, quote, `=`, `:`, `>`, `(`, `,`, `\`), or a \n escape. */
function startBoundary(text: string, s: number): boolean {
  if (s === 0) return true;
  const p = text[s - 1]!;
  if (' \t\r\n\'"`>=:(,)\\'.includes(p)) return true;
  return 'nrt'.includes(p) && s >= 2 && text[s - 2] === '\\';
}

/** What a secret's start can look like before its end has arrived. */
const TAIL = /^(?:[A-Za-z0-9_~.]{1,3}|[A-Za-z0-9_~.]{3}\d(?:Q(?:~[A-Za-z0-9_~.-]{0,34})?)?)$/;

export const azureAdSecretRule: Rule = {
  name: 'azure-ad-client-secret',
  description: 'Microsoft Entra ID (Azure AD) application client secret (…Q~…), with or without a key name',
  family: 'prefix',
  triggers: [{ lit: 'Q~', boundary: 'none' }],
  match(view, c): Verdict {
    const { text, final } = view;
    const s = c - 4;
    if (s < view.from || !isDigit(text.charCodeAt(c - 1))) return NO;
    for (let k = s; k < c - 1; k++) if (!isHead(text.charCodeAt(k))) return NO;
    if (!startBoundary(text, s)) return NO;
    let i = c + 2;
    while (i < text.length && i - c - 2 <= 34 && isBody(text.charCodeAt(i))) i++;
    if (i === text.length && !final) return MORE;
    const body = text.slice(c + 2, i);
    if (body.length < 31 || body.length > 34) return NO;
    if (classCount(body) < 2 || looksFiller(body)) return NO;
    return { t: 'hit', rule: 'azure-ad-client-secret', start: s, end: i, key: text.slice(s, i) };
  },
  holdTail(text: string): number {
    // the longest tail that could still become <3 chars><digit>Q~ after a boundary
    const n = text.length;
    for (let len = Math.min(41, n); len >= 1; len--) {
      const s = n - len;
      if (!startBoundary(text, s)) continue;
      if (TAIL.test(text.slice(s))) return s;
    }
    return n;
  },
};
