// Detects a client that sent its own real-looking API key, so teams can find runners that still hold
// keys. The finding is masked: header, scheme, a short prefix and the length, never the key.

const KEY_HEADER_RE = /^(authorization|api-key|x-api-key|x-goog-api-key|.*[-_]api[-_]?key)$/i;
const PLACEHOLDER_RE = /placeholder|dummy|fake|example|your[-_ ]?(api[-_ ]?)?key|change[-_ ]?me|not[-_ ]?a[-_ ]?real|redacted|wiretrail|x{4,}|\*{3,}|\.{3}|<[^>]*>|^\$\{|^none$|^null$|^empty$/i;

/** Most characters of a key shown: the prefix never exceeds 6 characters nor an eighth of the key. */
export const MAX_PREFIX_CHARS = 6;

function entropyPerChar(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Whether a header value looks like a real credential rather than a placeholder such as "sk-placeholder". */
export function looksLikeRealKey(value: string): boolean {
  const v = value.trim();
  if (v.length < 20 || /\s/.test(v)) return false;
  if (v.startsWith('wt_')) return false; // our own credential, not an upstream key
  if (PLACEHOLDER_RE.test(v)) return false;
  if (new Set(v).size < 10) return false;
  return entropyPerChar(v) >= 3.0;
}

export function maskKey(value: string): string {
  const n = Math.min(MAX_PREFIX_CHARS, Math.floor(value.length / 8));
  return `${value.slice(0, n)}…(${value.length} chars)`;
}

/**
 * A masked description of the first real-looking key the client sent in its own credential headers
 * (e.g. `authorization: Bearer sk-pro…(56 chars)`), or null. Proxy-Authorization is not looked at:
 * that is the caller's wiretrail credential.
 */
export function clientCredentialFinding(headers: Record<string, string | string[] | undefined>): string | null {
  const found: string[] = [];
  for (const [rawName, raw] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (raw === undefined || !KEY_HEADER_RE.test(name)) continue;
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      const m = /^\s*(bearer|basic|token|key)\s+(\S+)\s*$/i.exec(v);
      const scheme = m ? `${m[1]} ` : '';
      const secret = m ? m[2]! : v.trim();
      if (looksLikeRealKey(secret)) found.push(`${name}: ${scheme}${maskKey(secret)}`);
    }
  }
  return found.length ? found.join('; ') : null;
}
