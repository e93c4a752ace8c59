// Proxy-Authorization parsing. Clients configured only through HTTPS_PROXY=http://USER:TOKEN@host
// send `Basic base64(USER:TOKEN)`: the token is the password and the user part is free (`oidc`, `wt`…).
// When the password is empty (http://TOKEN@host) the user part is taken as the token.

export type ParsedProxyAuth = { ok: true; token: string } | { ok: false; reason: string };

const MAX_HEADER_CHARS = 24 * 1024;

export function parseProxyAuthorization(header: string): ParsedProxyAuth {
  if (header.length > MAX_HEADER_CHARS) return { ok: false, reason: 'malformed credentials' };
  const m = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(header);
  if (!m) return { ok: false, reason: 'malformed credentials' };
  const scheme = m[1]!.toLowerCase();
  const value = m[2]!;
  if (scheme === 'bearer') return { ok: true, token: value };
  if (scheme !== 'basic') return { ok: false, reason: 'unsupported authorization scheme' };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return { ok: false, reason: 'malformed credentials' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  const token = password || user;
  if (!token || /[\s\x00-\x1f]/.test(token)) return { ok: false, reason: 'malformed credentials' };
  return { ok: true, token };
}
