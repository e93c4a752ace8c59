// Browser-facing defences every admin request passes before routing (one place, so a route added by
// any stage cannot forget them):
//  - Host must be a configured admin name (loopback names, the bind address, `admin_hosts`): a DNS
//    rebinding page reaches 127.0.0.1 under its own name and is refused before anything is read.
//  - State-changing methods need `Content-Type: application/json`: a cross-site page can only send
//    form or text/plain bodies without a CORS preflight, and preflights are never answered.
//  - A state-changing request with a foreign (or `null`) Origin is refused outright.
import { networkInterfaces } from 'node:os';
import type { IncomingMessage } from 'node:http';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface GuardRefusal {
  status: number;
  error: string;
}

/** Lower-cased host name of a Host header value without port and brackets; null when malformed. */
export function hostName(value: string | undefined): string | null {
  if (!value) return null;
  const v = value.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(v) ?? /^([^:[\]\s/@]+)(?::\d{1,5})?$/.exec(v);
  return m ? m[1]!.replace(/\.$/, '') : null;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '';

/**
 * The host names the admin API answers to: loopback names, the bind address (for a wildcard bind,
 * every local interface address) and the configured extra names.
 */
export function allowedHostNames(bindHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>([...LOOPBACK_NAMES, ...extra.map((h) => h.toLowerCase().replace(/\.$/, ''))]);
  const bind = bindHost.replace(/^\[|\]$/g, '').toLowerCase();
  if (isWildcard(bind)) {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address.toLowerCase());
  } else {
    names.add(bind);
  }
  return names;
}

/** Content-Type media type is application/json (parameters such as charset allowed). */
export function isJsonContentType(value: string | undefined): boolean {
  return (value ?? '').split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

function isFormContentType(value: string | undefined): boolean {
  return (value ?? '').split(';', 1)[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/** An Origin is ours when it is http(s) on one of the allowed host names. */
function sameSiteOrigin(origin: string, allowed: Set<string>): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  return allowed.has(u.hostname.replace(/^\[|\]$/g, '').toLowerCase());
}

/**
 * Checks one request; null when it may proceed to routing. `formPaths`: the web UI's login and
 * logout forms, the only state changes sent as HTML form posts; they must carry one of our Origins
 * (browsers always send Origin on form posts), so a cross-site form still cannot reach them.
 */
export function checkAdminRequest(req: IncomingMessage, allowed: Set<string>, formPaths: ReadonlySet<string> = new Set()): GuardRefusal | null {
  const host = hostName(req.headers.host);
  if (host === null || !allowed.has(host)) {
    return { status: 403, error: `Host ${JSON.stringify(req.headers.host ?? '')} is not an admin API name (allowed: ${[...allowed].slice(0, 8).join(', ')}; add names with admin_hosts)` };
  }
  if (SAFE_METHODS.has(req.method ?? 'GET')) return null;
  const origin = req.headers.origin;
  if (origin !== undefined && !sameSiteOrigin(origin, allowed)) {
    return { status: 403, error: `cross-origin request refused (Origin ${JSON.stringify(origin)})` };
  }
  const path = (req.url ?? '/').split('?', 1)[0]!;
  if (formPaths.has(path) && isFormContentType(req.headers['content-type'])) {
    return origin !== undefined ? null : { status: 403, error: 'a form post without an Origin header is refused' };
  }
  if (!isJsonContentType(req.headers['content-type'])) {
    return { status: 415, error: 'state-changing admin requests must be sent as Content-Type: application/json' };
  }
  return null;
}
