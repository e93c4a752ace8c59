// The request line and headers, masked for the upstream as the body is: a secret in a query string
// (`?debug=sk-proj-…`) or in a non-credential header (`x-note: ghp_…`) reaches the model's provider
// like a prompt does. Credentials meant for the provider are left alone (the proxy strips or
// injects them by policy): the Authorization-like headers the caller names, and the query
// parameters providers take keys in (Gemini's `key`, `access_token`…), which the record redacts.
import type { Finding, MaskSession } from './types.js';

/** Query parameters that carry the caller's credential for the provider (compared lower-case). */
export const CREDENTIAL_QUERY_PARAMS: ReadonlySet<string> = new Set(['key', 'api_key', 'api-key', 'apikey', 'access_token', 'x-goog-api-key']);

export interface MaskedTarget {
  /** What to send upstream: every path segment and non-credential query value masked. */
  path: string;
  /** What to record: the same, with credential parameters' values `[REDACTED]`. */
  recordPath: string;
  changed: boolean;
  findings: Finding[];
}

/** Masks one URL component (percent-decoded for the masker, re-encoded only when it changed). */
function maskComponent(raw: string, session: MaskSession, findings: Finding[]): string {
  if (raw.length < 8) return raw;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    decoded = raw; // a lone `%`: the masker sees the raw text
  }
  const m = session.maskText(decoded);
  if (m.text === decoded) return raw;
  findings.push(...m.findings);
  return encodeURIComponent(m.text);
}

/** Masks the origin-form request target (path and query; a fragment is never sent). */
export function maskRequestTarget(target: string, session: MaskSession): MaskedTarget {
  const findings: Finding[] = [];
  const q = target.indexOf('?');
  const pathname = q < 0 ? target : target.slice(0, q);
  const path = pathname
    .split('/')
    .map((seg) => maskComponent(seg, session, findings))
    .join('/');
  if (q < 0) return { path, recordPath: path, changed: path !== pathname, findings };
  const up: string[] = [];
  const rec: string[] = [];
  for (const pair of target.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = maskComponent(rawName, session, findings);
    if (eq < 0) {
      up.push(name);
      rec.push(name);
      continue;
    }
    const rawValue = pair.slice(eq + 1);
    if (CREDENTIAL_QUERY_PARAMS.has(safeDecode(rawName).toLowerCase())) {
      up.push(`${name}=${rawValue}`);
      rec.push(`${name}=${rawValue === '' ? '' : '[REDACTED]'}`);
      continue;
    }
    const v = `${name}=${maskComponent(rawValue, session, findings)}`;
    up.push(v);
    rec.push(v);
  }
  const out = `${path}?${up.join('&')}`;
  return { path: out, recordPath: `${path}?${rec.join('&')}`, changed: out !== target, findings };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * Masks header values for the upstream, except the headers `keep` names (credentials the proxy
 * handles, framing headers). Returns a new object; the input is untouched.
 */
export function maskRequestHeaders(headers: Headers, session: MaskSession, keep: (name: string) => boolean): { headers: Headers; findings: Finding[] } {
  const findings: Finding[] = [];
  const out: Headers = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || keep(k.toLowerCase())) {
      out[k] = v;
      continue;
    }
    const one = (s: string): string => {
      const m = session.maskText(s);
      if (m.findings.length) findings.push(...m.findings);
      return m.text;
    };
    out[k] = Array.isArray(v) ? v.map(one) : one(v);
  }
  return { headers: out, findings };
}
