// Resolves an upstream target once, applies --connect-to overrides and the SSRF guard.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { BlockedAddressError, isNonPublicAddress } from './address-guard.js';

/** curl's --connect-to: a connection for host:port goes to address:port; TLS still verifies `host`. */
export interface ConnectToRule {
  host: string;
  port: number;
  toHost: string;
  toPort: number;
}

export function parseConnectTo(value: string): ConnectToRule {
  // HOST:PORT:ADDR:PORT where ADDR may be a bracketed IPv6 literal.
  const m = /^([^:\s[\]]+):(\d{1,5}):(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(value);
  if (!m) throw new Error(`--connect-to: expected HOST:PORT:ADDR:PORT, got "${value}"`);
  const port = Number(m[2]);
  const toPort = Number(m[4]);
  if (port < 1 || port > 65535 || toPort < 1 || toPort > 65535) throw new Error(`--connect-to: port out of range in "${value}"`);
  return { host: m[1]!.toLowerCase(), port, toHost: m[3]!.replace(/^\[|\]$/g, ''), toPort };
}

export interface Resolved {
  address: string;
  port: number;
  family: 4 | 6;
  /** The rule that redirected this target, if any (an operator's explicit choice, exempt from the SSRF guard). */
  connectTo: ConnectToRule | null;
}

export interface ResolveOptions {
  connectTo: readonly ConnectToRule[];
  /** Whether the policy allows this host name to reach non-public addresses. */
  allowPrivate(host: string): boolean;
}

/**
 * Resolves `host` once. Every returned address is checked: if any resolved address is non-public and the
 * host is not allowed by name, the whole target is refused (a name that mixes public and private answers
 * is a rebinding attempt).
 */
export async function resolveTarget(host: string, port: number, opts: ResolveOptions): Promise<Resolved> {
  const rule = opts.connectTo.find((r) => r.host === host && r.port === port) ?? null;
  const name = rule ? rule.toHost : host;
  const toPort = rule ? rule.toPort : port;
  let addrs: { address: string; family: number }[];
  const literal = isIP(name);
  if (literal) addrs = [{ address: name, family: literal }];
  else {
    try {
      addrs = await lookup(name, { all: true, verbatim: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EDNS';
      throw Object.assign(new Error(`cannot resolve ${name}: ${code}`), { code });
    }
  }
  if (addrs.length === 0) throw Object.assign(new Error(`cannot resolve ${name}: no addresses`), { code: 'ENOTFOUND' });
  if (!rule && !opts.allowPrivate(host)) {
    const bad = addrs.find((a) => isNonPublicAddress(a.address));
    if (bad) throw new BlockedAddressError(host, bad.address);
  }
  const first = addrs[0]!;
  return { address: first.address, port: toPort, family: first.family === 6 ? 6 : 4, connectTo: rule };
}
