// Where OIDC keys may come from: HTTPS anywhere, plain HTTP only on loopback (a local IdP or a test
// issuer on the same host, where there is no network to tamper with).
import { isIP } from 'node:net';

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** Returns the parsed URL or throws an Error saying why it is not acceptable. */
export function requireSecureUrl(text: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`${what} is not a valid URL: ${text}`);
  }
  if (u.username || u.password) throw new Error(`${what} must not contain credentials`);
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return u;
  throw new Error(`${what} must use https (plain http is allowed only for loopback addresses): ${u.origin}`);
}
