// Parsing of the CONNECT authority and absolute-form targets: the only routing input the proxy trusts.
import { isIP } from 'node:net';
import { normalizeHost } from '../policy/index.js';

export interface Authority {
  host: string; // normalised (lower-case, punycode, no trailing dot, IPv6 without brackets)
  port: number;
}

export class BadTargetError extends Error {
  override readonly name = 'BadTargetError';
}

function parsePort(raw: string | undefined, what: string): number {
  if (raw === undefined || raw === '') throw new BadTargetError(`${what}: missing port`);
  if (!/^\d{1,5}$/.test(raw)) throw new BadTargetError(`${what}: invalid port "${raw.slice(0, 16)}"`);
  const port = Number(raw);
  if (port < 1 || port > 65535) throw new BadTargetError(`${what}: port ${port} out of range 1-65535`);
  return port;
}

/** `CONNECT host:port` target: the port is mandatory (RFC 9110 §9.3.6). */
export function parseConnectAuthority(target: string | undefined): Authority {
  const t = (target ?? '').trim();
  if (!t) throw new BadTargetError('CONNECT: missing target');
  let hostPart: string;
  let portPart: string | undefined;
  if (t.startsWith('[')) {
    const end = t.indexOf(']');
    if (end < 0) throw new BadTargetError('CONNECT: unterminated IPv6 literal');
    hostPart = t.slice(1, end);
    const rest = t.slice(end + 1);
    if (rest && !rest.startsWith(':')) throw new BadTargetError('CONNECT: malformed target');
    portPart = rest ? rest.slice(1) : undefined;
    if (isIP(hostPart) !== 6) throw new BadTargetError('CONNECT: invalid IPv6 literal');
  } else {
    const i = t.lastIndexOf(':');
    if (i < 0) throw new BadTargetError('CONNECT: missing port (expected host:port)');
    hostPart = t.slice(0, i);
    portPart = t.slice(i + 1);
    if (hostPart.includes(':')) throw new BadTargetError('CONNECT: IPv6 literals must be in brackets');
  }
  const port = parsePort(portPart, 'CONNECT');
  const host = normalizeHost(hostPart);
  if (!host) throw new BadTargetError(`CONNECT: invalid host "${hostPart.slice(0, 64)}"`);
  return { host, port };
}

/** Host header value → authority, with the scheme's default port. Null when unparseable. */
export function parseHostHeader(value: string | undefined, defaultPort: number): Authority | null {
  if (!value) return null;
  try {
    const u = new URL(`http://${value}`);
    if (u.username || u.password || u.pathname !== '/' || u.search || u.hash) return null;
    const host = normalizeHost(u.hostname);
    if (!host) return null;
    return { host, port: u.port ? Number(u.port) : defaultPort };
  } catch {
    return null;
  }
}

/** Absolute-form request target of a plain-HTTP proxy request (`GET http://host:port/path`). */
export function parseAbsoluteTarget(url: string | undefined): (Authority & { path: string }) | null {
  if (!url || !/^http:\/\//i.test(url)) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BadTargetError('request target is not a valid URL');
  }
  if (u.username || u.password) throw new BadTargetError('credentials in the request URL are not allowed');
  const host = normalizeHost(u.hostname);
  if (!host) throw new BadTargetError(`invalid host "${u.hostname.slice(0, 64)}"`);
  const port = u.port ? parsePort(u.port, 'URL') : 80;
  return { host, port, path: `${u.pathname}${u.search}` };
}
