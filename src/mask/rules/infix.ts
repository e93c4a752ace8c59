// Secrets recognised by a marker inside them or at their end rather than by a prefix: Microsoft
// Entra ID client secrets (`abc8Q~…`), Terraform Cloud tokens (`<14>.atlasv1.<…>`), MaxMind
// license keys (`<6>_<29>_mmk`). The trigger is the marker; the secret starts a fixed number of
// characters before it (the head). Two things keep the head from being released before the
// marker arrives:
//   - holdTail: while the text ends in something that could still become such a secret (after a
//     boundary: the head, the marker, the body up to its length), that tail is held, and no
//     trigger inside it is judged yet. Text that cannot (a word of the wrong shape, a space)
//     passes at once.
//   - a verdict that still waits is 'more' from the head's start, not from the marker.
import { classCount, cls, looksFiller, type CharTest } from '../chars.js';
import { MAX_SWALLOW, NO, type Rule, type Verdict } from '../rule.js';

export interface AnchoredSpec {
  name: string;
  description: string;
  /** What precedes the marker, as [character class, count] parts: a fixed length. */
  head: [string, number][];
  /** The trigger literal (case-sensitive). */
  marker: string;
  /** What follows the marker; absent for a suffix marker (the secret ends with it). */
  body?: { cls: string; min: number; max: number; commit?: number };
  /** Characters that may not follow the secret (default: alphanumerics and the body class). */
  after?: CharTest;
  /** Validates the whole secret (or the committed head). */
  check?: (secret: string) => boolean;
  /** The marker alone is distinctive: when no head stands before it, mask from the marker. */
  strongMarker?: boolean;
}

const isWord = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/**
 * gitleaks' boundary before an anchored secret (start, whitespace, quote, `=`, `:`, `>`, `(`,
 * `,`, `\`, `;`, `/`, `[`, `{`, `|`), or a `\n`-style escape inside a JSON string.
 */
export function anchorBoundary(text: string, s: number): boolean {
  if (s === 0) return true;
  const p = text.charCodeAt(s - 1);
  if (isBoundaryChar(p)) return true;
  return (p === 110 || p === 114 || p === 116) && s >= 2 && text.charCodeAt(s - 2) === 92;
}
const isBoundaryChar = cls(' \t\r\n\'"`>=:(,)\\;/[{|');

export function anchoredRule(spec: AnchoredSpec): Rule {
  const pos: CharTest[] = [];
  for (const [c, k] of spec.head) for (let j = 0; j < k; j++) pos.push(cls(c));
  const headLen = pos.length;
  const ml = spec.marker.length;
  for (const ch of spec.marker) {
    const code = ch.charCodeAt(0);
    pos.push((c) => c === code);
  }
  const body = spec.body ? cls(spec.body.cls) : null;
  // any character the secret may hold, to find where a tail that could be one begins
  const parts = [...spec.head.map((h) => cls(h[0])), cls(spec.marker), ...(body ? [body] : [])];
  const union = (c: number) => parts.some((p) => p(c));
  // the longest text still undecided: head, marker, and the body up to its commit or its max
  const undecided = headLen + ml + (spec.body ? (spec.body.commit ?? spec.body.max) : 0);
  const after = spec.after ?? ((c: number) => isWord(c) || (body !== null && body(c)));
  const check = spec.check ?? (() => true);

  /** text[s..e) reads as the first e-s characters of head + marker + body. */
  const fits = (text: string, s: number, e: number) => {
    for (let k = s; k < e; k++) if (!(pos[k - s] ?? body!)(text.charCodeAt(k))) return false;
    return true;
  };

  function hit(text: string, s: number, e: number, swallow: boolean): Verdict {
    const key = text.slice(s, e);
    if (!swallow) return { t: 'hit', rule: spec.name, start: s, end: e, key };
    return { t: 'hit', rule: spec.name, start: s, end: e, key, swallow: { kind: 'class', test: body!, left: MAX_SWALLOW } };
  }

  return {
    name: spec.name,
    description: spec.description,
    family: 'prefix',
    triggers: [{ lit: spec.marker, boundary: 'none' }],
    match(view, c): Verdict {
      const { text, final } = view;
      const n = text.length;
      const s0 = c - headLen;
      const headed = s0 >= view.from && anchorBoundary(text, s0) && fits(text, s0, c);
      if (!headed && !spec.strongMarker) return NO;
      const s = headed ? s0 : c;
      // what the verdict waits for is held from the secret's start, not from the marker
      const more: Verdict = { t: 'more', from: s };
      let e = c + ml;
      if (body) {
        const cap = spec.body!.commit ?? spec.body!.max + 1;
        while (e < n && e - c - ml < cap && body(text.charCodeAt(e))) e++;
        const run = e - c - ml;
        if (spec.body!.commit !== undefined && run >= spec.body!.commit) return check(text.slice(s, e)) ? hit(text, s, e, true) : NO;
        if (e === n && !final) return more;
        if (run < spec.body!.min || run > spec.body!.max) return NO;
      } else if (e === n && !final) return more;
      if (e < n && after(text.charCodeAt(e))) return NO;
      return check(text.slice(s, e)) ? hit(text, s, e, false) : NO;
    },
    holdTail(text: string): number {
      // the earliest start, after a boundary, of a tail that could still become such a secret
      // (the head before its marker has arrived, or a secret waiting for its end)
      const n = text.length;
      const lo = Math.max(0, n - undecided);
      let r = n;
      while (r > lo && union(text.charCodeAt(r - 1))) r--;
      for (let s = r; s < n; s++) {
        if (anchorBoundary(text, s) && fits(text, s, n)) return s;
      }
      return n;
    },
  };
}

const randomish = (minClasses: number) => (s: string) => classCount(s) >= minClasses && !looksFiller(s);

export const ANCHORED_SPECS: AnchoredSpec[] = [
  {
    // gitleaks azure-ad-client-secret, learn.microsoft.com sit-defn-azure-ad-client-secret
    name: 'azure-ad-client-secret',
    description: 'Microsoft Entra ID (Azure AD) application client secret (…Q~…), with or without a key name',
    head: [['A-Za-z0-9_~.', 3], ['0-9', 1]],
    marker: 'Q~',
    body: { cls: 'A-Za-z0-9_~.-', min: 31, max: 34 },
    check: (s) => randomish(2)(s.slice(6)),
  },
  {
    // gitleaks hashicorp-tf-api-token, trufflehog terraformcloudpersonaltoken
    name: 'terraform-cloud-token',
    description: 'Terraform Cloud / Enterprise API token (<14>.atlasv1.<60-70>)',
    head: [['A-Za-z0-9', 14]],
    marker: '.atlasv1.',
    body: { cls: 'A-Za-z0-9_=-', min: 60, max: 70, commit: 24 },
    check: (s) => randomish(2)(s.slice(s.indexOf('.atlasv1.') + 9)),
    strongMarker: true,
  },
  {
    // gitleaks maxmind-license-key
    name: 'maxmind-license-key',
    description: 'MaxMind GeoIP license key (<6>_<29>_mmk)',
    head: [['A-Za-z0-9', 6], ['_', 1], ['A-Za-z0-9', 29]],
    marker: '_mmk',
    check: (s) => randomish(2)(s.slice(7, 36)),
  },
];

export const anchoredRules = (): Rule[] => ANCHORED_SPECS.map(anchoredRule);
