// identity.by_source: runners that cannot authenticate to the proxy (Codex ≤ 0.144 sends no
// Proxy-Authorization on CONNECT) but have fixed addresses or their own network namespace are identified
// by the client address. Used only when no Proxy-Authorization is sent: a header that is sent is verified
// as usual (a bad one is refused, never downgraded to the address). Recorded with `via: source-address`.
import ipaddr from 'ipaddr.js';
import type { Identity } from './types.js';

export interface BySourceEntry {
  /** Addresses or CIDRs (IPv4 or IPv6) this identity covers. */
  source: string | string[];
  subject: string;
  groups?: string[];
}

interface CompiledEntry {
  ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  identity: Identity;
}

/** Parses "10.0.0.0/8", "127.0.0.2" or "::1" into a range; throws a message naming the value. */
export function parseSourceRange(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const s = text.trim();
  if (s.includes('/')) {
    if (!ipaddr.isValidCIDR(s)) throw new Error(`"${text}" is not an address or CIDR`);
    const [addr, bits] = ipaddr.parseCIDR(s);
    return [addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address() : addr, addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? bits - 96 : bits];
  }
  if (!ipaddr.isValid(s)) throw new Error(`"${text}" is not an address or CIDR`);
  const addr = ipaddr.process(s);
  return [addr, addr.kind() === 'ipv4' ? 32 : 128];
}

export class SourceIdentities {
  private readonly entries: CompiledEntry[];

  constructor(entries: readonly BySourceEntry[]) {
    this.entries = entries.map((e) => ({
      ranges: (Array.isArray(e.source) ? e.source : [e.source]).map(parseSourceRange),
      identity: Object.freeze({ kind: 'source', via: 'source-address', subject: e.subject, groups: [...(e.groups ?? [])], attributes: {}, expiresAt: null }) as Identity,
    }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The first entry whose ranges contain the address (IPv4-mapped IPv6 compared as IPv4), or null. */
  match(address: string | undefined): Identity | null {
    if (!address || !ipaddr.isValid(address)) return null;
    const addr = ipaddr.process(address);
    for (const e of this.entries) {
      for (const [range, bits] of e.ranges) {
        if (range.kind() === addr.kind() && addr.match(range as never, bits)) return e.identity;
      }
    }
    return null;
  }
}
